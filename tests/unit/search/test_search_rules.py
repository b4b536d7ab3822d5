"""Pure rules of the name search: folding, the grams a name is indexed under, ranking."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chengxin.search.rules import (
    contains,
    fold,
    gram_token,
    is_ascii_free,
    match_all,
    name_gram_frame,
    name_grams,
    name_tokens,
    query_bigrams,
    rank_key,
)

# Names as departments submit them: Chinese, Latin in either case and width, digits, brackets, spaces.
NAME_CHARS = st.sampled_from(list("常州市科技有限公司华恒集团（）()ＡＢＣabcXYZ１２3 　%_'\"-·")) | st.characters(
    codec="utf-8", exclude_categories=("Cs",))
NAMES = st.text(NAME_CHARS, min_size=1, max_size=40)


def test_fold_ignores_ascii_case_and_full_width_forms_only() -> None:
    assert fold("常州ＡＢＣ（集团）Co.，Ltd　１号") == "常州abc(集团)co.,ltd 1号"
    assert fold("ÄÖÜ É ß") == "ÄÖÜ É ß"  # not ASCII: kept as is
    assert fold("科技") == "科技"


def test_grams_are_bigrams_and_the_last_character() -> None:
    assert name_grams("常州科技") == {"常州", "州科", "科技", "技"}
    assert name_grams("ＡＢa") == {"ab", "ba", "a"}
    assert name_grams("华") == {"华"}
    assert name_grams("") == set()
    assert query_bigrams("有限有限") == ["有限", "限有"]


def test_tokens_are_the_hex_of_the_grams_and_of_each_folded_character() -> None:
    assert gram_token("科技") == "e7a791e68a80" and gram_token("a ") == "6120"
    assert set(name_tokens("ＡＢ科").split()) == {"6162", "62e7a791", "e7a791", "61", "62"}
    assert name_tokens("") == ""
    assert match_all(["科技", "a"]) == '"e7a791e68a80" "61"'


@given(name=NAMES)
def test_name_tokens_are_the_tokens_of_the_grams_and_the_characters(name: str) -> None:
    """The fast form (characters' tokens joined) is the definition: every gram and every folded character,
    each as ``gram_token``, nothing else — what migration 0031's triggers store too."""
    tokens = name_tokens(name).split()
    assert len(tokens) == len(set(tokens))
    assert set(tokens) == {gram_token(g) for g in name_grams(name) | set(fold(name))}


@given(names=st.lists(NAMES | st.just(""), max_size=12))
def test_the_gram_frame_holds_each_name_s_grams_once_in_the_index_order(names: list[str]) -> None:
    """The columnar form a bulk ingest writes (PostgreSQL) is ``name_grams`` of every name, each (gram, id) once,
    sorted as the ``"C"``-collated index sorts: by the gram's code points (its UTF-8 bytes), then the id."""
    ids = [1000 - 7 * n for n in range(len(names))]  # not in the names' order: the sort is by gram, then id
    frame = name_gram_frame(ids, names)
    rows = list(zip(frame["gram"].to_list(), frame["subject_id"].to_list(), strict=True))
    assert sorted(rows) == sorted({(gram, i) for i, name in zip(ids, names, strict=True) for gram in name_grams(name)})
    assert rows == sorted(rows, key=lambda row: (row[0].encode(), row[1]))


@given(name=NAMES, data=st.data())
def test_every_substring_is_found_by_its_grams(name: str, data: st.DataObject) -> None:
    """What makes the index complete: a folded substring's bigrams (or, for one character, a gram
    starting with it) are always among the name's grams."""
    i = data.draw(st.integers(0, len(name) - 1))
    j = data.draw(st.integers(i + 1, len(name)))
    q = fold(name[i:j])
    assert len(fold(name)) == len(name) and contains(name, q)
    grams = name_grams(name)
    if len(q) == 1:
        assert any(g.startswith(q) for g in grams)
    else:
        assert set(query_bigrams(q)) <= grams


@given(name=NAMES, q=st.text(NAME_CHARS, min_size=1, max_size=6))
def test_ascii_free_queries_match_the_name_as_stored(name: str, q: str) -> None:
    """The database checks an ASCII-free query against the stored (unfolded) name."""
    folded = fold(q)
    if is_ascii_free(folded):
        assert contains(name, folded) == (folded in name)


def test_ranking_exact_then_prefix_then_shorter() -> None:
    names = ["常州科技有限公司", "科技", "科技园", "ABC科技", "大科技"]
    ranked = sorted(names, key=lambda n: rank_key(n, 0, fold("科技")))
    assert ranked == ["科技", "科技园", "大科技", "ABC科技", "常州科技有限公司"]
    assert rank_key("ＡＢＣ", 1, "abc")[0] == 0  # exact, whatever the width and case
