"""Who sees what of a credit file, through the API and the portal: the public, departments, the person;
the display period at its boundary day; the query log and its append-only guarantee."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import exc, select, text

from chengxin.core.audit import Actor
from chengxin.core.db import utcnow
from chengxin.core.errors import DomainError
from chengxin.disclosure import service
from chengxin.disclosure.models import QueryLog
from chengxin.notices import service as notices
from chengxin.platform import Platform
from chengxin.records.models import Record
from chengxin.records.service import ApiRow, find_record_id, ingest, revoke_record
from chengxin.workdays.service import work_calendar
from factories import ric_for, uscc_for, valid_row

INGEST_DAY = dt.date(2026, 11, 25)
PENALTY_DAY = "2025-11-25"  # 2025.1 general penalty: displayed until 2026-11-24, gone on 2026-11-25
LAST_DAY, END_DAY = dt.date(2026, 11, 24), dt.date(2026, 11, 25)
HTML = {"accept": "text/html,application/xhtml+xml"}


def _submit(platform: Platform, item: str, dept: str, rows: list[dict[str, Any]]) -> None:
    actor = Actor(kind="api_key", name="k", department_code=dept)
    receipt = ingest(platform.db, [ApiRow(i, r) for i, r in enumerate(rows, start=1)], catalog=platform.catalog,
                     keyring=platform.keyring, department=dept, item_code=item, actor=actor, channel="api",
                     today=INGEST_DAY)
    assert receipt.rejected == 0, receipt.rejections


def _row(platform: Platform, item: str, n: int, day: str, *, person: bool = False, **kw: Any) -> dict[str, Any]:
    version = platform.catalog.version_on(item, dt.date.fromisoformat(day))
    assert version is not None
    return valid_row(version, n, person=person, decision_date=day, **kw)


@pytest.fixture()
def world(platform: Platform) -> dict[str, int]:
    """Organisation 1: a penalty at its boundary, a commendation, a revoked penalty, an authorized-only
    arrears record. Person 5: a penalty (not public for persons) and physician information (public).
    Person 6: only a penalty."""
    _submit(platform, "admin_penalty", "samr", [
        _row(platform, "admin_penalty", 1, PENALTY_DAY, source_id="PEN-1", severity="general"),
        _row(platform, "admin_penalty", 1, PENALTY_DAY, source_id="PEN-REVOKED", severity="general"),
        _row(platform, "admin_penalty", 5, PENALTY_DAY, person=True, source_id="PEN-P5", severity="general"),
        _row(platform, "admin_penalty", 6, PENALTY_DAY, person=True, source_id="PEN-P6", severity="serious"),
        _row(platform, "admin_penalty", 2, PENALTY_DAY, source_id="PEN-ORG2", severity="general"),
    ])
    _submit(platform, "commendation", "credit_office", [_row(platform, "commendation", 1, "2020-05-04",
                                                             source_id="COM-1")])
    with platform.db.write() as s:  # 信用告知 first: without one a notice-required record is held (issue #4 §4)
        notices.issue_notice(s, platform.catalog, platform.keyring, work_calendar(s), item_code="housing_fund_arrears",
                             actor=Actor(kind="api_key", name="k", department_code="fund"), uscc=uscc_for(1),
                             subject_name="常州测试1有限公司", facts="欠缴住房公积金", obligation="补缴",
                             source_id="FUND-1", today=dt.date(2026, 6, 1), now=utcnow())
    _submit(platform, "housing_fund_arrears", "fund", [_row(platform, "housing_fund_arrears", 1, "2026-06-01",
                                                            source_id="FUND-1")])
    _submit(platform, "occ_physician", "health", [_row(platform, "occ_physician", 5, "2015-09-01", person=True,
                                                       source_id="DOC-5")])
    with platform.db.read() as s:
        revoked = find_record_id(s, "samr", "PEN-REVOKED")
    revoke_record(platform.db, keyring=platform.keyring, record_id=revoked, reason="复议撤销",
                  actor=Actor(kind="staff", name="office", role="credit_office"))
    with platform.db.read() as s:
        subject = dict(s.execute(select(Record.source_id, Record.subject_id)).all())
    return {"org": subject["PEN-1"], "org2": subject["PEN-ORG2"], "p5": subject["PEN-P5"], "p6": subject["PEN-P6"]}


def _on(monkeypatch: pytest.MonkeyPatch, day: dt.date) -> None:
    import chengxin.api.disclosure as api
    import chengxin.web.disclosure_pages as pages

    monkeypatch.setattr(api, "today_cn", lambda: day)
    monkeypatch.setattr(pages, "today_cn", lambda: day)


def _sources(body: dict[str, Any]) -> set[str]:
    return {i["item_code"] + ":" + i["category"] for i in body["items"]}


def test_the_public_sees_displayed_public_records_of_an_organisation(
    client: TestClient, world: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _on(monkeypatch, LAST_DAY)
    r = client.get(f"/api/v1/public/subjects/{world['org']}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["audience"] == "public" and body["display_id"] == uscc_for(1)
    # The revoked penalty and the authorized-only arrears record are not public.
    assert sorted(i["item_code"] for i in body["items"]) == ["admin_penalty", "commendation"]
    penalty = next(i for i in body["items"] if i["item_code"] == "admin_penalty")
    assert penalty["display_ends_on"] == "2026-11-25" and penalty["department_name_zh"]
    assert penalty["status"] == "active" and penalty["displayed"] is True
    labels = {f["label_zh"] for f in penalty["fields"]}
    assert {"行政处罚决定书文号", "处罚类别"} <= labels
    kind = next(f["value"] for f in penalty["fields"] if f["code"] == "penalty_type")
    assert kind == "通报批评"  # an enum is shown by its Chinese label, not its code
    praise = next(i for i in body["items"] if i["item_code"] == "commendation")
    assert praise["display_ends_on"] is None and praise["category"] == "positive"
    assert client.get("/api/v1/public/subjects", params={"uscc": uscc_for(1)}).json() == body


def test_a_penalty_is_not_shown_on_the_day_its_display_ends(
    client: TestClient, world: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _on(monkeypatch, END_DAY)
    body = client.get(f"/api/v1/public/subjects/{world['org']}").json()
    assert [i["item_code"] for i in body["items"]] == ["commendation"]


def test_a_persons_penalty_is_not_public_but_key_occupation_information_is(
    client: TestClient, world: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _on(monkeypatch, LAST_DAY)
    body = client.get(f"/api/v1/public/subjects/{world['p5']}").json()
    assert [i["item_code"] for i in body["items"]] == ["occ_physician"]
    assert body["display_name"] == "张*" and "********" in body["display_id"]
    assert ric_for(5) not in str(body)
    by_ric = client.get("/api/v1/public/subjects", params={"ric": ric_for(5)})
    assert by_ric.status_code == 200 and by_ric.json()["subject_id"] == world["p5"]


def test_a_person_without_public_information_is_not_found(
    client: TestClient, world: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _on(monkeypatch, LAST_DAY)
    for r in (client.get(f"/api/v1/public/subjects/{world['p6']}"),
              client.get("/api/v1/public/subjects", params={"ric": ric_for(6)}),
              client.get("/api/v1/public/subjects", params={"uscc": uscc_for(77)}),
              client.get("/api/v1/public/subjects/999999")):
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "subject.not_found" and "未找到" in r.json()["error"]["message"]
    assert client.get(f"/api/v1/public/subjects/{2**64}").status_code == 422
    assert client.get(f"/subjects/{2**64}", headers=HTML).status_code == 404
    bad = client.get("/api/v1/public/subjects", params={"uscc": "91320400ABCDEFGH12"})
    assert bad.status_code == 400 and set(bad.json()["error"]) == {"code", "message", "message_en", "field"}


def test_a_subject_without_records_has_an_empty_file_or_none_for_the_public(
    client: TestClient, platform: Platform, make_api_key: Callable[[str], str],
) -> None:
    """The subject and its records come in one statement (an outer join): a subject without a single record
    is still found — an empty file for an organisation and for a department; a person, for the public, has
    no public file at all; an unknown id is 404 for everyone."""
    from chengxin.catalog.model import SubjectKind
    from chengxin.subjects.service import ensure_subject

    with platform.db.write() as s:
        org = ensure_subject(s, platform.keyring, ric=None, uscc=uscc_for(41), name="常州无记录有限公司",
                             allowed=frozenset(SubjectKind))
        person = ensure_subject(s, platform.keyring, ric=ric_for(42), uscc=None, name="王无录",
                                allowed=frozenset(SubjectKind))
    body = client.get(f"/api/v1/public/subjects/{org}").json()
    assert (body["subject_id"], body["display_id"], body["items"]) == (org, uscc_for(41), [])
    assert client.get(f"/api/v1/public/subjects/{person}").status_code == 404
    key = {"x-api-key": make_api_key("hrss")}
    gov = client.get(f"/api/v1/gov/subjects/{person}/file", params={"purpose": "职称评审"}, headers=key)
    assert gov.status_code == 200, gov.text
    assert gov.json()["items"] == [] and gov.json()["kind"] == "person" and ric_for(42) not in gov.text
    unknown = client.get("/api/v1/gov/subjects/999999/file", params={"purpose": "职称评审"}, headers=key)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "subject.not_found"
    with platform.db.read() as s:  # the empty read is logged; the unknown subject's is not (nothing was read)
        assert s.execute(select(QueryLog.subject_id)).scalars().all() == [person]
        own = service.own_file(s, platform.catalog, platform.keyring, person, END_DAY)
    assert own.items == () and own.display_name == "王无录"


def test_government_reads_what_sharing_allows_and_is_logged_with_its_purpose(
    client: TestClient, platform: Platform, world: dict[str, int], monkeypatch: pytest.MonkeyPatch,
    make_user: Callable[..., str], make_api_key: Callable[[str], str],
) -> None:
    _on(monkeypatch, LAST_DAY)
    office = {"authorization": f"Bearer {make_user('credit_office')}"}
    r = client.get(f"/api/v1/gov/subjects/{world['org']}/file", params={"purpose": "招投标信用核查"}, headers=office)
    assert r.status_code == 200, r.text
    assert sorted(i["item_code"] for i in r.json()["items"]) == ["admin_penalty", "commendation",
                                                                  "housing_fund_arrears"]
    key = {"x-api-key": make_api_key("hrss")}
    r = client.get(f"/api/v1/gov/subjects/{world['p5']}/file", params={"purpose": "职称评审"}, headers=key)
    assert r.status_code == 200 and sorted(i["item_code"] for i in r.json()["items"]) == [
        "admin_penalty", "occ_physician"]
    assert ric_for(5) not in r.text
    _on(monkeypatch, END_DAY)  # expired for the government too
    r = client.get(f"/api/v1/gov/subjects/{world['org']}/file", params={"purpose": "复核"}, headers=key)
    assert "admin_penalty" not in {i["item_code"] for i in r.json()["items"]}

    with platform.db.read() as s:
        logged = s.execute(select(QueryLog).order_by(QueryLog.id)).scalars().all()
        own = service.own_file(s, platform.catalog, platform.keyring, world["p5"], LAST_DAY)
    assert [(q.subject_id, q.purpose, q.reader_kind, q.reader_department) for q in logged] == [
        (world["org"], "招投标信用核查", "staff", None),
        (world["p5"], "职称评审", "api_key", "hrss"),
        (world["org"], "复核", "api_key", "hrss"),
    ]
    # The person sees who read their file, when and why.
    [entry] = own.query_log
    assert entry.purpose == "职称评审" and "人力资源" in entry.reader and entry.basis.startswith("政务共享")


def test_government_reads_need_a_purpose_and_a_credential(
    client: TestClient, platform: Platform, world: dict[str, int], make_api_key: Callable[[str], str]
) -> None:
    key = {"x-api-key": make_api_key("samr")}
    url = f"/api/v1/gov/subjects/{world['p5']}/file"
    for params in ({}, {"purpose": ""}, {"purpose": "   "}):
        r = client.get(url, params=params, headers=key)
        assert r.status_code == 422, params
        assert r.json()["error"]["field"] == "purpose"
    assert client.get(url, params={"purpose": "核查"}).status_code == 401
    with platform.db.read() as s:
        assert s.execute(select(QueryLog)).first() is None


def test_the_person_sees_everything_held_with_status(platform: Platform, world: dict[str, int]) -> None:
    with platform.db.read() as s:
        own = service.own_file(s, platform.catalog, platform.keyring, world["p5"], END_DAY)
        org = service.own_file(s, platform.catalog, platform.keyring, world["org"], END_DAY)
    assert own.display_id == ric_for(5) and own.display_name == "张三"
    assert {(i.item_code, i.displayed) for i in own.items} == {("admin_penalty", False), ("occ_physician", True)}
    statuses = {i.record_id: (i.status, i.version, i.displayed) for i in org.items}
    assert ("revoked", 2, False) in statuses.values()
    revoked = next(i for i in org.items if i.status == "revoked")
    assert [(c.version, c.change, c.status, c.reason) for c in revoked.history] == [
        (1, "create", "active", None), (2, "revoke", "revoked", "复议撤销")]
    assert len(org.items) == 4


def test_the_query_log_cannot_be_changed_or_deleted(platform: Platform, world: dict[str, int]) -> None:
    with platform.db.write() as s:
        service.log_query(s, subject_id=world["p5"], reader_kind="staff", reader_name="office", purpose="核查",
                          basis="政务共享", channel="api")
    for statement in ("UPDATE query_log SET purpose = '篡改'", "DELETE FROM query_log"):
        with pytest.raises(exc.DBAPIError, match="append-only"), platform.db.engine.begin() as conn:
            conn.execute(text(statement))
    if platform.db.dialect == "postgresql":
        with pytest.raises(exc.DBAPIError, match="append-only"), platform.db.engine.begin() as conn:
            conn.execute(text("TRUNCATE query_log"))
    with platform.db.read() as s:
        assert [q.purpose for q in s.execute(select(QueryLog)).scalars()] == ["核查"]


def test_the_public_page_groups_records_and_hides_what_is_not_displayed(
    client: TestClient, world: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _on(monkeypatch, LAST_DAY)
    page = client.get(f"/subjects/{world['org']}", headers=HTML)
    assert page.status_code == 200, page.text
    html = page.text
    for text_ in ("基础信息", "良好信息", "失信信息", "长期公示", "2026-11-25", "常州市市场监督管理局", uscc_for(1)):
        assert text_ in html, text_
    assert html.count('id="record-') == 2  # the revoked penalty and the authorized-only record are not shown
    person = client.get(f"/subjects/{world['p5']}", headers=HTML).text
    assert "张*" in person and ric_for(5) not in person and "行政处罚" not in person
    _on(monkeypatch, END_DAY)  # organisation 2's only record has left display: a clear empty state
    empty = client.get(f"/subjects/{world['org2']}", headers=HTML)
    assert empty.status_code == 200 and "暂无公示中的信用信息" in empty.text and 'id="record-' not in empty.text
    missing = client.get(f"/subjects/{world['p6']}", headers=HTML)
    assert missing.status_code == 404 and "未找到" in missing.text


def test_citizen_ids_inside_records_are_shown_masked(
    client: TestClient, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    _submit(platform, "dishonest_debtor", "court", [
        _row(platform, "dishonest_debtor", 3, "2026-06-01", source_id="DEBT-3", legal_representative_ric=ric_for(42))])
    with platform.db.read() as s:
        subject_id = s.execute(select(Record.subject_id).where(Record.source_id == "DEBT-3")).scalar_one()
    _on(monkeypatch, LAST_DAY)
    body = client.get(f"/api/v1/public/subjects/{subject_id}").json()
    [line] = [f for i in body["items"] for f in i["fields"] if f["code"] == "legal_representative_ric"]
    assert line["value"] == ric_for(42)[:6] + "********" + ric_for(42)[-4:]
    assert ric_for(42) not in str(body)


def test_the_file_endpoints_answer_the_bytes_of_the_documented_model(
    client: TestClient, platform: Platform, world: dict[str, int], monkeypatch: pytest.MonkeyPatch,
    make_api_key: Callable[[str], str],
) -> None:
    """The file is serialised straight from the dataclasses (orjson): it must stay exactly what
    ``CreditFileOut`` documents — same fields, same order, same formats (dates, UTC times with Z)."""
    from dataclasses import fields

    from chengxin.api import disclosure as api
    from chengxin.disclosure import model

    for dataclass_, pydantic_model in ((model.CreditFile, api.CreditFileOut), (model.FileItem, api.FileItemOut),
                                       (model.FieldLine, api.FieldLineOut), (model.RecordChange, api.RecordChangeOut),
                                       (model.QueryLogEntry, api.QueryLogEntryOut), (model.FilePage, api.FilePageOut)):
        assert [f.name for f in fields(dataclass_)] == list(pydantic_model.model_fields), dataclass_.__name__
    _on(monkeypatch, LAST_DAY)
    key = {"x-api-key": make_api_key("hrss")}
    gov = client.get(f"/api/v1/gov/subjects/{world['p5']}/file", params={"purpose": "职称评审"}, headers=key)
    public = client.get(f"/api/v1/public/subjects/{world['org']}")
    assert gov.headers["content-type"] == public.headers["content-type"] == "application/json"
    with platform.db.read() as s:
        files = {
            "public": service.public_file(s, platform.catalog, world["org"], LAST_DAY, window=(0, 100)),
            "gov": service.government_read(s, platform.catalog, world["p5"],
                                           Actor(kind="api_key", name="k", department_code="hrss"), "职称评审",
                                           LAST_DAY, window=(0, 100)),
            "whole": service.public_file(s, platform.catalog, world["org"], LAST_DAY),
            # history (UTC times) and the query log: every field type the model has
            "own": service.own_file(s, platform.catalog, platform.keyring, world["p5"], LAST_DAY),
            "own org": service.own_file(s, platform.catalog, platform.keyring, world["org"], LAST_DAY),
        }
    assert files["own"].query_log and any(i.history for i in files["own org"].items)
    assert public.json()["page"] == {"offset": 0, "limit": 100, "total": 2, "next_offset": None}
    assert public.content == api.CreditFileOut.model_validate(files["public"]).model_dump_json().encode()
    assert gov.content == api.CreditFileOut.model_validate(files["gov"]).model_dump_json().encode()
    for name, file in files.items():
        assert api.credit_file_response(file).body == api.CreditFileOut.model_validate(file).model_dump_json().encode(), \
            name


def test_a_government_file_leaves_only_once_its_read_is_logged(
    client: TestClient, platform: Platform, world: dict[str, int], monkeypatch: pytest.MonkeyPatch,
    make_api_key: Callable[[str], str],
) -> None:
    """The API reads the file first (no write lock held while it is assembled), then commits the query-log
    row in a short transaction of its own, and answers only after that: a read that cannot be logged is
    not answered."""
    _on(monkeypatch, LAST_DAY)
    actor = Actor(kind="api_key", name="k", department_code="samr")
    with platform.db.read() as s:
        file = service.government_read(s, platform.catalog, world["org"], actor, "核查", LAST_DAY)
        assert file.items and s.execute(select(QueryLog)).first() is None  # reading alone logs nothing
    with pytest.raises(DomainError):
        with platform.db.read() as s:
            service.government_read(s, platform.catalog, world["org"], actor, "  ", LAST_DAY)

    async def refuse(*_args: Any, **_kw: Any) -> None:
        raise RuntimeError("query log unavailable")

    key = {"x-api-key": make_api_key("samr")}
    url = f"/api/v1/gov/subjects/{world['org']}/file"
    monkeypatch.setattr(service, "commit_government_read_log", refuse)
    failed = TestClient(client.app, raise_server_exceptions=False).get(url, params={"purpose": "核查"}, headers=key)
    assert failed.status_code == 500 and "items" not in failed.json()
    monkeypatch.undo()
    _on(monkeypatch, LAST_DAY)
    ok = client.get(url, params={"purpose": "核查"}, headers=key)
    assert ok.status_code == 200 and ok.json()["items"]
    with platform.db.read() as s:
        [logged] = s.execute(select(QueryLog)).scalars().all()
    assert (logged.subject_id, logged.purpose, logged.reader_department) == (world["org"], "核查", "samr")
    assert logged.detail == {"audience": "government", "items": len(ok.json()["items"]), "offset": 0,
                             "total": ok.json()["page"]["total"]}


@pytest.fixture()
def long_file(platform: Platform) -> int:
    """Organisation 9 with 23 public penalties on 23 different days, and 2 revoked ones among them."""
    rows = [_row(platform, "admin_penalty", 9, (dt.date(2026, 1, 1) + dt.timedelta(days=n)).isoformat(),
                 source_id=f"LONG-{n}", severity="general") for n in range(25)]
    _submit(platform, "admin_penalty", "samr", rows)
    office = Actor(kind="staff", name="office", role="credit_office")
    with platform.db.read() as s:
        revoked = [find_record_id(s, "samr", f"LONG-{n}") for n in (3, 17)]
        subject_id = s.execute(select(Record.subject_id).where(Record.source_id == "LONG-0")).scalar_one()
    for record_id in revoked:
        revoke_record(platform.db, keyring=platform.keyring, record_id=record_id, reason="复议撤销", actor=office)
    return int(subject_id)


@pytest.mark.parametrize(("offset", "limit"), [(0, 1), (0, 10), (10, 10), (20, 10), (21, 2), (22, 5), (23, 5),
                                               (0, 1000), (500, 3)])
def test_a_file_page_is_its_slice_of_the_whole_file_newest_first(
    platform: Platform, long_file: int, offset: int, limit: int
) -> None:
    """Paging skips only items the audience sees: revoked records are not counted, so pages never come
    out short or overlapping, whatever the window. Fields are read with the first offset + limit rows; items
    further down (hidden records before them: (10, 10), (21, 2)) get theirs by a second read, the same."""
    actor = Actor(kind="api_key", name="k", department_code="samr")
    with platform.db.read() as s:
        whole = service.public_file(s, platform.catalog, long_file, LAST_DAY)
        page = service.public_file(s, platform.catalog, long_file, LAST_DAY, window=(offset, limit))
        gov_whole = service.government_read(s, platform.catalog, long_file, actor, "核查", LAST_DAY)
        gov_page = service.government_read(s, platform.catalog, long_file, actor, "核查", LAST_DAY,
                                           window=(offset, limit))
    assert len(whole.items) == 23 and whole.page is None
    dates = [i.decision_date for i in whole.items]
    assert dates == sorted(dates, reverse=True)
    assert page.items == whole.items[offset:offset + limit]
    assert gov_page.items == gov_whole.items[offset:offset + limit]
    assert page.page is not None and (page.page.offset, page.page.limit, page.page.total) == (offset, limit, 23)
    assert page.page.next_offset == (offset + limit if offset + limit < 23 else None)


def test_the_api_pages_a_long_file_and_logs_each_government_page(
    client: TestClient, platform: Platform, long_file: int, monkeypatch: pytest.MonkeyPatch,
    make_api_key: Callable[[str], str],
) -> None:
    _on(monkeypatch, LAST_DAY)
    url = f"/api/v1/public/subjects/{long_file}"
    first = client.get(url).json()
    assert len(first["items"]) == 23 and first["page"] == {"offset": 0, "limit": 100, "total": 23,
                                                           "next_offset": None}
    seen: list[int] = []
    offset: int | None = 0
    while offset is not None:  # a client follows next_offset to the end
        body = client.get(url, params={"offset": offset, "limit": 10}).json()
        seen += [i["record_id"] for i in body["items"]]
        offset = body["page"]["next_offset"]
    assert seen == [i["record_id"] for i in first["items"]]
    assert client.get(url, params={"offset": 40}).json()["items"] == []  # past the end: empty, not an error
    for bad in ({"limit": 0}, {"limit": 1001}, {"offset": -1}, {"offset": 10**10}):
        r = client.get(url, params=bad)
        assert r.status_code == 422, bad
        assert r.json()["error"]["field"] in ("limit", "offset")
    key = {"x-api-key": make_api_key("samr")}
    gov = client.get(f"/api/v1/gov/subjects/{long_file}/file", params={"purpose": "核查", "offset": 20, "limit": 10},
                     headers=key)
    assert gov.status_code == 200 and len(gov.json()["items"]) == 3
    with platform.db.read() as s:
        [logged] = s.execute(select(QueryLog)).scalars().all()
    assert logged.detail == {"audience": "government", "items": 3, "offset": 20, "total": 23}


def test_a_person_with_public_items_beyond_the_page_is_still_found(
    client: TestClient, world: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether a person's public file exists depends on all their public items, not on the page asked for."""
    _on(monkeypatch, LAST_DAY)
    r = client.get(f"/api/v1/public/subjects/{world['p5']}", params={"offset": 5})
    assert r.status_code == 200 and r.json()["items"] == [] and r.json()["page"]["total"] == 1
