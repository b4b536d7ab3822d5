"""Pure rules of the public name search: folding, the grams a name is indexed under, ranking.

No database here. Migrations 0008 (PostgreSQL) and 0031 (SQLite) compute the same grams in SQL
(triggers on ``subject``); tests/unit/search/test_search_rules.py and the property tests of
tests/api/test_search_api.py keep both sides equal.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

# Full-width ASCII forms (U+FF01–U+FF5E) → ASCII, ideographic space → space, then ASCII A–Z → a–z.
# Nothing else changes, and every character maps to exactly one character, so positions (and the
# length) of a folded name are those of the name: a folded substring is a substring folded.
_FOLD = str.maketrans(
    {chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)}
    | {chr(c): chr(c - 0xFEE0).lower() for c in range(0xFF01, 0xFF5F)}
    | {"\u3000": " "}
)


def fold(text: str) -> str:
    """The form names and queries are compared in (ASCII case and full-width forms ignored)."""
    return text.translate(_FOLD)


def name_grams(name: str) -> set[str]:
    """The grams an organisation's name is indexed under: every two adjacent characters of the
    folded name, and its last character alone. A name contains a text of two or more characters
    only if it has all the text's bigrams; it contains a character ``c`` exactly when one of its
    grams starts with ``c``."""
    folded = fold(name)
    return {folded[i : i + 2] for i in range(len(folded))}


def name_gram_frame(subject_ids: list[int], names: list[str]) -> pl.DataFrame:
    """:func:`name_grams` of many organisations at once, as rows ``(gram, subject_id)`` in the order of
    PostgreSQL's index (``gram`` in code point order — its ``"C"`` collation's, the UTF-8 bytes' — then id), each
    pair once. Computed in columns: a bulk ingest cuts ~2.3 million grams for 140,000 new organisations, which
    per name in Python cost ~2.5 s of the writer's CPU (bench/RESULTS.md, ingest, session 20)."""
    frame = pl.DataFrame({"subject_id": subject_ids, "name": [fold(name) for name in names]},
                         schema={"subject_id": pl.Int64, "name": pl.String})
    grams = (frame.with_columns(at=pl.int_ranges(0, pl.col("name").str.len_chars()))
             .explode("at")
             .drop_nulls("at")  # an empty name has no grams (explode leaves it one null position)
             .select(gram=pl.col("name").str.slice(pl.col("at"), 2), subject_id=pl.col("subject_id"))
             .sort("gram", "subject_id"))
    repeated = (pl.col("gram") == pl.col("gram").shift(1)) & (pl.col("subject_id") == pl.col("subject_id").shift(1))
    return grams.filter(~repeated.fill_null(False))


def gram_token(gram: str) -> str:
    """A gram or a character as an FTS5 token in SQLite's name index (migration 0031): its UTF-8 bytes in hex,
    so the ``ascii`` tokenizer never splits or folds it (a gram may hold a space or punctuation)."""
    return gram.encode().hex()


class _CharTokens(dict[str, str]):
    """``gram_token`` of single characters, each computed once (a name is cut into its characters' tokens)."""

    def __missing__(self, char: str) -> str:
        if len(self) >= 100_000:  # bounded, whatever a hostile file holds
            self.clear()
        token = self[char] = char.encode().hex()
        return token


_CHAR_TOKENS = _CharTokens()


def name_tokens(name: str) -> str:
    """What SQLite's name index holds for an organisation, space-separated: the tokens of its grams and of
    each character of its folded name — so a one-character query reads one list, not the lists of every
    bigram starting with that character (a merge of half the index for a common one: p99 42 ms against
    4 ms; bench/RESULTS.md, search, session 16). A bigram's token is its two characters' tokens joined
    (UTF-8 encodes a text character by character); the last character's gram is its own token."""
    chars = [_CHAR_TOKENS[char] for char in fold(name)]
    tokens = set(chars)
    tokens.update(map(str.__add__, chars, chars[1:]))
    return " ".join(tokens)


def match_all(grams: Iterable[str]) -> str:
    """An FTS5 query for the names holding every one of ``grams`` (bigrams, or one character)."""
    return " ".join(f'"{gram_token(gram)}"' for gram in grams)


def counted(subject_id: int) -> bool:
    """Whether a subject is in the sample the gram counts are kept over: one in eight, by a hash of
    its id (migration 0008 ``_counted``). The counts only choose where a search starts reading; a
    sample keeps them cheap to maintain. (PostgreSQL only: SQLite's FTS5 index needs no counts.)"""
    return ((subject_id * 40503) >> 8) & 7 == 0


def query_bigrams(folded_query: str) -> list[str]:
    """The distinct bigrams of a folded query of two or more characters, in order of appearance."""
    return list(dict.fromkeys(folded_query[i : i + 2] for i in range(len(folded_query) - 1)))


def contains(name: str, folded_query: str) -> bool:
    return folded_query in fold(name)


def rank_key(display_name: str, subject_id: int, folded_query: str) -> tuple[int, int, str, int]:
    """Exact name first, then names starting with the query, then the others; shorter names first,
    then by name, then by id (a total order: pages never overlap)."""
    name = fold(display_name)
    tier = 0 if name == folded_query else 1 if name.startswith(folded_query) else 2
    return tier, len(display_name), display_name, subject_id


def is_ascii_free(text: str) -> bool:
    """True when ``text`` has no ASCII character: then (folded) it occurs in a folded name exactly
    where it occurs in the name itself, so the database can check the match without folding."""
    return all(ord(ch) > 127 for ch in text)


def dedupe(ids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(ids))
