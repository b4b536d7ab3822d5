"""Public subject search (信用主体查询): API, portal page, and the service under arbitrary input."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chengxin.catalog.model import SubjectKind
from chengxin.core.errors import DomainError
from chengxin.core.identifiers import make_ric, make_uscc
from chengxin.platform import Platform
from chengxin.search import service as search_service
from chengxin.search.rules import fold, rank_key
from chengxin.search.service import clean_query, search_subjects
from chengxin.subjects.rules import SubjectKey
from tests_support import add_subjects, empty_all_tables, index_in_sync, org

URL = "/api/v1/public/search"
HTML = {"accept": "text/html,application/xhtml+xml"}
TECH = "常州某某科技有限公司"
TECH_USCC = make_uscc("9", "1", "320400", "MA1X2Y3K")
PERSON_RIC = make_ric("320402", dt.date(1988, 3, 4), 123)
PERSON_NAME = "张科技明"  # a person whose (encrypted) name contains the organisations' query


@pytest.fixture()
def seeded(platform: Platform) -> Platform:
    add_subjects(platform, [
        SubjectKey(SubjectKind.ORGANIZATION, TECH_USCC, TECH),
        org(1, "科技"),
        org(2, "科技园物业管理有限公司"),
        org(3, "江苏常州天宁建设工程有限公司"),
        org(4, "常州100%_纯净水有限公司"),
        org(5, "ACME Trading (Changzhou) Co., Ltd."),
        SubjectKey(SubjectKind.PERSON, PERSON_RIC, PERSON_NAME),
    ])
    return platform


def names(body: dict) -> list[str]:
    return [r["display_name"] for r in body["results"]]


def test_chinese_substring_finds_the_company(client: TestClient, seeded: Platform) -> None:
    body = client.get(URL, params={"q": "某某科技"}).json()
    assert names(body) == [TECH]
    hit = body["results"][0]
    assert hit["kind"] == "organization" and hit["display_id"] == TECH_USCC
    assert hit["url"] == f"/subjects/{hit['id']}"


def test_two_character_query_is_a_substring_search_ranked_exact_then_prefix(
    client: TestClient, seeded: Platform
) -> None:
    body = client.get(URL, params={"q": "科技"}).json()
    assert names(body) == ["科技", "科技园物业管理有限公司", TECH]  # exact, prefix, then the others
    assert body["total_estimate"] == 3 and not body["capped"]
    assert names(client.get(URL, params={"q": "宁"}).json()) == ["江苏常州天宁建设工程有限公司"]


def test_uscc_exact_and_prefix(client: TestClient, seeded: Platform) -> None:
    body = client.get(URL, params={"q": TECH_USCC.lower()}).json()
    assert body["mode"] == "uscc" and names(body) == [TECH]
    body = client.get(URL, params={"q": TECH_USCC[:12]}).json()
    assert body["mode"] == "uscc_prefix" and TECH in names(body)


def test_latin_names_case_insensitive_and_wildcards_are_literal(client: TestClient, seeded: Platform) -> None:
    assert names(client.get(URL, params={"q": "acme trading"}).json()) == ["ACME Trading (Changzhou) Co., Ltd."]
    assert names(client.get(URL, params={"q": "100%_"}).json()) == ["常州100%_纯净水有限公司"]
    assert names(client.get(URL, params={"q": "%"}).json()) == ["常州100%_纯净水有限公司"]
    assert names(client.get(URL, params={"q": "%_"}).json()) == ["常州100%_纯净水有限公司"]


def test_persons_are_never_found_by_name(client: TestClient, seeded: Platform) -> None:
    for q in ("张科技明", "张*明", "张", "科技明"):
        assert all(r["kind"] == "organization" for r in client.get(URL, params={"q": q}).json()["results"])
    assert client.get(URL, params={"q": "张科技明"}).json()["results"] == []


def test_person_by_citizen_id_is_not_revealed_without_public_information(
    client: TestClient, seeded: Platform
) -> None:
    body = client.get(URL, params={"q": PERSON_RIC}).json()
    assert body["mode"] == "ric" and body["results"] == [] and body["total_estimate"] == 0
    # The same answer as for an ID nobody holds: the search does not reveal that the person exists.
    other = client.get(URL, params={"q": make_ric("320402", dt.date(1990, 1, 1), 5)}).json()
    assert {k: v for k, v in other.items() if k != "query"} == {k: v for k, v in body.items() if k != "query"}


def test_person_by_citizen_id_is_found_masked_when_public(
    client: TestClient, seeded: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chengxin.disclosure import service as disclosure

    monkeypatch.setattr(disclosure, "public_file", lambda *_a, **_k: object())  # "has public items"
    body = client.get(URL, params={"q": PERSON_RIC}).json()
    assert [(r["kind"], r["display_name"]) for r in body["results"]] == [("person", "张**明")]
    assert body["results"][0]["display_id"] != PERSON_RIC and "*" in body["results"][0]["display_id"]
    assert client.get(URL, params={"q": "张科技明"}).json()["results"] == []  # still never by name


def test_pagination(client: TestClient, platform: Platform) -> None:
    add_subjects(platform, [org(100 + n, f"常州分页测试{n:02d}号贸易有限公司") for n in range(45)])
    pages = [client.get(URL, params={"q": "分页测试", "page": p}).json() for p in (1, 2, 3, 4)]
    assert [len(p["results"]) for p in pages] == [20, 20, 5, 0]
    assert all(p["total_estimate"] == 45 for p in pages)
    seen = [r["id"] for p in pages for r in p["results"]]
    assert len(set(seen)) == 45
    assert names(pages[0])[0] == "常州分页测试00号贸易有限公司"


@pytest.mark.parametrize("q", ["", "   ", "\u3000"])
def test_empty_query(client: TestClient, q: str) -> None:
    r = client.get(URL, params={"q": q})
    assert r.status_code == 400 and r.json()["error"]["code"] == "search.empty"


def test_too_long_query(client: TestClient) -> None:
    r = client.get(URL, params={"q": "科" * 51})
    assert r.status_code == 400 and r.json()["error"]["code"] == "search.too_long"
    assert client.get(URL, params={"q": "科" * 50}).status_code == 200


@pytest.mark.parametrize("q", [
    '"', "'", '" OR 1=1 --', "NEAR(a b)", "a*", "^科技", "科技 AND 有限", "(", ")", "\\", "%%", "_%_", ":",
    "col:科技", "'; DROP TABLE subject; --", "\x00科技", "科\x00技", "😀😀😀", "\ud7ff", "１２３",
    "-", "+", "{科技}", "科技\"有限", "AND", "OR NOT",
])
def test_weird_input_never_500(client: TestClient, seeded: Platform, q: str) -> None:
    r = client.get(URL, params={"q": q})
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        assert r.json()["error"]["code"].startswith("search.")


def test_bad_page_is_a_validation_error(client: TestClient) -> None:
    assert client.get(URL, params={"q": "科技", "page": 0}).status_code == 422
    assert client.get(URL, params={"q": "科技", "page": "x"}).status_code == 422


def test_portal_search_page(client: TestClient, seeded: Platform) -> None:
    r = client.get("/search", params={"q": "科技"}, headers=HTML)
    assert r.status_code == 200
    assert TECH in r.text and '/subjects/' in r.text and 'href="/catalog"' in r.text
    assert client.get("/search", headers=HTML).status_code == 200
    r = client.get("/search", params={"q": "科" * 60}, headers=HTML)
    assert r.status_code == 400 and "50" in r.text
    home = client.get("/", headers=HTML).text
    assert 'action="/search"' in home and "企业名称或统一社会信用代码" in home and 'href="/catalog"' in home


def test_index_follows_renames_and_deletes(seeded: Platform) -> None:
    from sqlalchemy import text

    index_in_sync(seeded)
    with seeded.db.write() as session:
        session.execute(text("UPDATE subject SET display_name = '常州改名后的新材料有限公司' WHERE display_name = :n"),
                        {"n": TECH})
    index_in_sync(seeded)
    with seeded.db.read() as session:
        assert [h.display_name for h in search_subjects(session, "新材料").results] == ["常州改名后的新材料有限公司"]
        assert search_subjects(session, "某某科技").results == []
        assert search_subjects(session, "某某").results == []
    with seeded.db.write() as session:
        session.execute(text("DELETE FROM subject WHERE display_name = '常州改名后的新材料有限公司'"))
    index_in_sync(seeded)
    with seeded.db.read() as session:
        assert search_subjects(session, "新材料").results == []
        assert search_subjects(session, "材").results == []


def test_index_follows_changes_of_kind_and_id(seeded: Platform) -> None:
    from sqlalchemy import text

    with seeded.db.write() as session:  # an organisation becomes a person: no longer found by name
        session.execute(text("UPDATE subject SET kind = 'person' WHERE display_name = '科技园物业管理有限公司'"))
    index_in_sync(seeded)
    with seeded.db.read() as session:
        assert search_subjects(session, "物业").results == []
    with seeded.db.write() as session:
        session.execute(text("UPDATE subject SET kind = 'organization' WHERE display_name = '科技园物业管理有限公司'"))
        session.execute(text("UPDATE subject SET id = id + 1000000 WHERE display_name = :n"), {"n": TECH})
        session.execute(text("UPDATE subject SET display_name = display_name"))  # no change: nothing to do
    index_in_sync(seeded)
    with seeded.db.read() as session:
        assert [h.display_name for h in search_subjects(session, "物业").results] == ["科技园物业管理有限公司"]
        assert [h.id for h in search_subjects(session, "某某科技").results] == [
            h.id for h in search_subjects(session, TECH_USCC).results]
    empty_all_tables(seeded.db)  # TRUNCATE … CASCADE on PostgreSQL, DELETE on SQLite
    index_in_sync(seeded)


@pytest.mark.sqlite_only
def test_raw_sqlite_writes_keep_the_index(seeded: Platform) -> None:
    """The triggers are plain SQL: a database opened with the sqlite3 module (no application
    function registered) accepts writes and keeps the index."""
    assert seeded.db.dialect == "sqlite"
    import sqlite3

    path = seeded.db.engine.url.database
    assert path
    raw = sqlite3.connect(path)
    try:
        raw.execute("INSERT INTO subject (id, kind, lookup_index, display_id, display_name, created_at) "
                    "VALUES (900000001, 'organization', zeroblob(32), 'X', '溧阳直接写入食品厂', '2026-01-01 00:00:00')")
        raw.execute("UPDATE subject SET display_name = '溧阳直接改名食品厂' WHERE id = 900000001")
        raw.commit()
    finally:
        raw.close()
    index_in_sync(seeded)
    with seeded.db.read() as session:
        assert [h.display_name for h in search_subjects(session, "直接改名").results] == ["溧阳直接改名食品厂"]
        assert search_subjects(session, "直接写入").results == []


def test_width_and_ascii_case_do_not_matter(client: TestClient, platform: Platform) -> None:
    add_subjects(platform, [org(10, "常州ＡＢＣ（集团）有限公司"), org(11, "常州XYZ(集团)有限公司"),
                            org(12, "合伙企业（有限合伙）")])
    for q in ("abc(集团)", "ＡＢＣ（集团）", "Abc（集团", "c（"):
        assert names(client.get(URL, params={"q": q}).json()) == ["常州ＡＢＣ（集团）有限公司"], q
    for q in ("xyz（集团）", "ｘｙｚ(集团)"):
        assert names(client.get(URL, params={"q": q}).json()) == ["常州XYZ(集团)有限公司"], q
    body = client.get(URL, params={"q": "合伙企业（有限合伙）"}).json()  # the full name, as written
    assert names(body) == ["合伙企业（有限合伙）"]
    assert names(client.get(URL, params={"q": "(集团)"}).json()) == ["常州XYZ(集团)有限公司", "常州ＡＢＣ（集团）有限公司"]


def test_one_character_query_finds_first_middle_and_last_characters(client: TestClient, platform: Platform) -> None:
    add_subjects(platform, [org(20, "溧阳某某厂"), org(21, "厂"), org(22, "金坛厂区物业有限公司"), org(23, "天宁食品")])
    body = client.get(URL, params={"q": "厂"}).json()
    assert names(body) == ["厂", "溧阳某某厂", "金坛厂区物业有限公司"] and not body["capped"]
    assert names(client.get(URL, params={"q": "品"}).json()) == ["天宁食品"]
    assert names(client.get(URL, params={"q": "溧"}).json()) == ["溧阳某某厂"]
    assert client.get(URL, params={"q": "鑫"}).json()["results"] == []


def test_capped_search_still_ranks_the_exact_name_first(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_service, "CANDIDATES", 5)
    monkeypatch.setattr(search_service, "SHORT_CANDIDATES", 3)
    add_subjects(platform, [org(30 + n, f"常州第{n}科技有限公司") for n in range(12)])
    add_subjects(platform, [org(50, "科技")])  # the newest: beyond the cap in index order
    with platform.db.read() as session:
        page = search_subjects(session, "科技", limit=100)
        assert page.capped and page.results[0].display_name == "科技"
        assert 5 <= page.total_estimate <= 6 and all("科技" in h.display_name for h in page.results)
        page = search_subjects(session, "技有限", limit=100)
        assert page.capped and page.total_estimate == 5
        page = search_subjects(session, "司", limit=100)
        assert page.capped and page.total_estimate == 3 and all(h.display_name.endswith("司") for h in page.results)
        page = search_subjects(session, "第11科技", limit=100)
        assert not page.capped and [h.display_name for h in page.results] == ["常州第11科技有限公司"]


# Names as departments write them: Chinese, Latin of both widths and cases, digits, brackets, spaces,
# quotes, SQL wildcards — or made of a handful of characters, so that names share most of their bigrams
# without holding the query (what the index alone cannot tell apart).
ALPHABETS = (list("常州市江苏科技有限公司华恒泰金鑫集团建设工程厂（）()ＡＢＣabcXYZ１２3 %_'\"·"), list("有限公司科"),
             list("aAＡb　 "))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_search_returns_exactly_the_names_holding_any_substring(platform: Platform, data: st.DataObject) -> None:
    """On the real database: after creating organisations through the ingest's path and renaming
    some behind its back, a random substring of a random name finds that subject — and the search
    returns exactly the organisations whose folded name holds the query, ranked."""
    from hypothesis import assume
    from sqlalchemy import text

    name_text = st.text(st.sampled_from(data.draw(st.sampled_from(ALPHABETS))), min_size=1, max_size=24)
    names_ = data.draw(st.lists(name_text, min_size=1, max_size=25))
    renames = data.draw(st.lists(st.tuples(st.integers(0, len(names_) - 1), name_text), max_size=3))
    with platform.db.write() as session:  # the previous example's subjects (through the delete triggers)
        session.execute(text("DELETE FROM subject"))
    add_subjects(platform, [org(n, name) for n, name in enumerate(names_)])
    with platform.db.write() as session:
        for n, new_name in renames:
            session.execute(text("UPDATE subject SET display_name = :name WHERE display_id = :uscc"),
                            {"name": new_name, "uscc": org(n, "").identifier})
    index_in_sync(platform)
    with platform.db.read() as session:
        orgs = {int(i): name for i, name in session.execute(
            text("SELECT id, display_name FROM subject WHERE kind = 'organization'"))}
    target = data.draw(st.sampled_from(sorted(orgs)))
    name = orgs[target]
    start = data.draw(st.integers(0, len(name) - 1))
    piece = name[start : data.draw(st.integers(start + 1, len(name)))]
    try:
        q = clean_query(piece)
    except DomainError:
        assume(False)
        raise
    folded = fold(q)
    found: list[int] = []
    with platform.db.read() as session:
        while True:
            page = search_subjects(session, q, limit=100, offset=len(found))
            assume(page.mode == "name")  # not a USCC-looking query
            if not page.results:
                break
            found += [h.id for h in page.results]
    expected = sorted((i for i, n in orgs.items() if folded in fold(n)), key=lambda i: rank_key(orgs[i], i, folded))
    assert found == expected
    if folded in fold(name):
        assert target in found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.text(max_size=60) | st.text(alphabet='"*^():%_\\-+ ANDORNEAR科技有限公司', max_size=12))
def test_any_text_is_answered_or_refused_with_a_domain_error(seeded: Platform, q: str) -> None:
    with seeded.db.read() as session:
        try:
            page = search_subjects(session, q, keyring=seeded.keyring)
        except DomainError as exc:
            assert exc.code in ("search.empty", "search.too_long")
        else:
            assert all(h.kind == "organization" for h in page.results)


_FOLD_EDGES = "@AZ[`az{" + "".join(chr(c) for c in (0xFF00, 0xFF01, 0xFF21, 0xFF3A, 0xFF41, 0xFF5E, 0xFF5F, 0x2FFF, 0x3000,
                                                     0x3001, 0xE000))


@pytest.mark.postgresql_only
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.text(st.sampled_from(_FOLD_EDGES + "常州科技有限公司 ")
                              | st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=24),
                      min_size=1, max_size=30))
def test_the_servers_fold_is_the_search_fold(platform: Platform, names: list[str]) -> None:
    """``subject_name_fold`` (migration 0027: names with nothing to fold skip the translation) folds every name
    as ``search.rules.fold`` does — at the edges of the folded ranges too."""
    from sqlalchemy import text

    names = [*names, _FOLD_EDGES, "".join(chr(c) for c in range(0x20, 0x7F)),
             "".join(chr(c) for c in range(0xFF01, 0xFF5F))]
    with platform.db.read() as session:
        folded = session.execute(text("SELECT subject_name_fold(n) FROM unnest(CAST(:names AS text[])) AS n"),
                                 {"names": names}).scalars().all()
    assert folded == [fold(n) for n in names]


def test_an_ingest_indexes_its_new_organisations_before_it_commits(seeded: Platform) -> None:
    """The bulk path (PostgreSQL: the trigger deferred, the batch's new organisations indexed in one statement
    at its end, migration 0027) leaves the index as the triggers would — across chunks, beside organisations
    the batch names but did not create — and indexes by trigger again once the batch is over."""
    from sqlalchemy import text
    from tests.factories import valid_row

    from chengxin.core.audit import Actor
    from chengxin.records.service import ApiRow, ingest

    version = seeded.catalog.version_on("admin_penalty", dt.date(2025, 9, 1))
    assert version is not None
    names = ["常州ＡＢＣ新能源有限公司", "Changzhou Ｗidget Co.", "常州天宁区第七食品厂", TECH]
    rows = [valid_row(version, n, subject_name=name, **({"uscc": TECH_USCC} if name == TECH else {}))
            for n, name in enumerate(names, start=500)]
    receipt = ingest(seeded.db, [ApiRow(i, r) for i, r in enumerate(rows, start=1)], catalog=seeded.catalog,
                     keyring=seeded.keyring, department="samr", item_code="admin_penalty",
                     actor=Actor(kind="api_key", name="k", department_code="samr"), channel="api",
                     today=dt.date(2026, 11, 25), chunk_rows=2)
    assert receipt.accepted == 4 and receipt.rejected == 0, receipt.rejections
    index_in_sync(seeded)
    with seeded.db.read() as session:
        assert [h.display_name for h in search_subjects(session, "abc新能").results] == ["常州ＡＢＣ新能源有限公司"]
        assert [h.display_name for h in search_subjects(session, "widget").results] == ["Changzhou Ｗidget Co."]
    add_subjects(seeded, [org(77, "常州批次之后有限公司")])  # a later transaction: the trigger indexes it
    index_in_sync(seeded)
    with seeded.db.read() as session:
        assert session.execute(text("SELECT count(*) FROM subject WHERE display_name = '常州批次之后有限公司'")).scalar() == 1
        assert [h.display_name for h in search_subjects(session, "批次之后").results] == ["常州批次之后有限公司"]
