"""信用告知 end to end, through HTTP on the real database: a notice holds its record until the day
after the response period (boundary days, across National Day); a record submitted without a notice
is held with a warning until one is issued; the subject replies and the department withdraws or
records; who may see and do what; the staff console's lines; the expiry job; the portal pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chengxin.core.audit import Actor
from chengxin.core.db import utcnow
from chengxin.core.workflow import case_history
from chengxin.notices import rules
from chengxin.notices import service as notices
from chengxin.notices.models import CreditNotice
from chengxin.platform import Platform
from chengxin.records.models import Record
from chengxin.records.service import ApiRow, find_record_id, ingest, revoke_record
from chengxin.workdays.service import work_calendar
from factories import ric_for, uscc_for, valid_row

ISSUED = dt.date(2026, 9, 28)  # Monday before National Day: 5 working days end on Sat 10-10 (a worked day)
DUE, SHOWN = dt.date(2026, 10, 10), dt.date(2026, 10, 11)
DECIDED = "2026-09-01"
PASSWORD = "correct horse battery"
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# -- helpers --------------------------------------------------------------------------------------


def _on(monkeypatch: pytest.MonkeyPatch, day: dt.date) -> None:
    """Every adapter's "today" (the notice API and pages, the public file)."""
    import chengxin.api.disclosure as disclosure_api
    import chengxin.api.notices as notices_api
    import chengxin.web.disclosure_pages as disclosure_pages
    import chengxin.web.notice_pages as notice_pages
    import chengxin.web.people_pages as people_pages

    for module in (notices_api, notice_pages, disclosure_api, disclosure_pages, people_pages):
        monkeypatch.setattr(module, "today_cn", lambda: day)


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _row(platform: Platform, item: str, n: int, source_id: str, *, person: bool = False, **kw: Any) -> dict[str, Any]:
    version = platform.catalog.version_on(item, dt.date.fromisoformat(DECIDED))
    assert version is not None
    return valid_row(version, n, person=person, decision_date=DECIDED, source_id=source_id, **kw)


def _submit(platform: Platform, item: str, dept: str, rows: list[dict[str, Any]], today: dt.date = ISSUED) -> Any:
    receipt = ingest(platform.db, [ApiRow(i, r) for i, r in enumerate(rows, start=1)], catalog=platform.catalog,
                     keyring=platform.keyring, department=dept, item_code=item,
                     actor=Actor(kind="api_key", name="k", department_code=dept), channel="api", today=today)
    assert receipt.rejected == 0, receipt.rejections
    return receipt


def _notice_body(n: int = 1, *, source_id: str | None = "TAX-1", person: bool = False, **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "item": "tax_arrears", "subject_name": "张三" if person else f"常州测试{n}有限公司",
        "facts": "经查，截至2026年9月，欠缴增值税未缴。", "obligation": "于告知期满前补缴欠税及滞纳金",
        "amount": "12345.60", "source_id": source_id, **kw}
    body["ric" if person else "uscc"] = ric_for(n) if person else uscc_for(n)
    return body


def _issue(client: TestClient, headers: dict[str, str], **kw: Any) -> dict[str, Any]:
    r = client.post("/api/v1/notices", json=_notice_body(**kw), headers=headers)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def _public_items(client: TestClient, subject_id: int) -> list[str]:
    r = client.get(f"/api/v1/public/subjects/{subject_id}")
    if r.status_code == 404:
        return []
    return [i["item_code"] for i in r.json()["items"]]


def _person(client: TestClient, n: int) -> dict[str, str]:
    """Register person n (the notice made them a subject) and sign in on the person API."""
    assert client.post("/me/register", data={"ric": ric_for(n), "name": "张三", "password": PASSWORD},
                       follow_redirects=False).status_code == 303
    r = client.post("/api/v1/me/sessions", json={"ric": ric_for(n), "password": PASSWORD})
    assert r.status_code == 201, r.text
    return _bearer(r.json()["token"])


@pytest.fixture()
def tax(make_user: Callable[..., str]) -> dict[str, str]:
    return _bearer(make_user("clerk", "tax"))


@pytest.fixture()
def office(make_user: Callable[..., str]) -> dict[str, str]:
    return _bearer(make_user("credit_office", "credit_office"))


# -- the hold -------------------------------------------------------------------------------------


def test_a_notice_holds_its_record_until_the_day_after_the_period(
    client: TestClient, platform: Platform, tax: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _on(monkeypatch, ISSUED)
    notice = _issue(client, tax)
    assert notice["notice_no"].startswith("XYGZ20260928") and notice["state"] == "issued"
    assert notice["response_due"] == DUE.isoformat() and notice["due_estimated"] is False
    assert notice["record_id"] is None and notice["display_from"] == SHOWN.isoformat()
    # The department submits the record the next day: no warning, it waits for the period.
    receipt = _submit(platform, "tax_arrears", "tax", [_row(platform, "tax_arrears", 1, "TAX-1")],
                      today=ISSUED + dt.timedelta(days=1))
    assert receipt.warnings == []
    with platform.db.read() as s:
        record = s.get_one(Record, find_record_id(s, "tax", "TAX-1"))
        assert record.display_from == SHOWN
        assert s.scalar(select(CreditNotice.record_id)) == record.id
    for day, shown in ((ISSUED, False), (DUE - dt.timedelta(days=1), False), (DUE, False), (SHOWN, True),
                       (SHOWN + dt.timedelta(days=30), True)):
        _on(monkeypatch, day)
        assert ("tax_arrears" in _public_items(client, record.subject_id)) is shown, day
    # The department's view names the covered record and when it is shown.
    _on(monkeypatch, SHOWN)
    detail = client.get(f"/api/v1/notices/{notice['id']}", headers=tax).json()
    assert detail["record_source_id"] == "TAX-1" and detail["display_from"] == SHOWN.isoformat()
    assert [h["action"] for h in detail["history"]] == ["issue"]
    assert detail["actions"] == ["record", "withdraw"]  # the period is over: the department decides


def test_a_record_without_a_notice_is_held_with_a_warning_until_one_is_issued(
    client: TestClient, platform: Platform, tax: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    receipt = _submit(platform, "tax_arrears", "tax", [_row(platform, "tax_arrears", 2, "TAX-2"),
                                                       _row(platform, "tax_arrears", 3, "TAX-3")])
    [warning] = receipt.warnings
    assert warning.code == "notice.required" and "须先发出信用告知，暂不公示" in warning.message
    assert "TAX-2" in warning.message and warning.field == "source_id"
    with platform.db.read() as s:
        held = {r.source_id: r for r in s.scalars(select(Record))}
    assert {r.display_from for r in held.values()} == {rules.HELD}
    _on(monkeypatch, dt.date(2030, 1, 1))  # held: never shown, however late
    assert _public_items(client, held["TAX-2"].subject_id) == []
    # The stored receipt (portal, API) keeps the warning.
    batch = client.get(f"/api/v1/records/batches/{receipt.batch_id}", headers=tax).json()
    assert [w["code"] for w in batch["warnings"]] == ["notice.required"]
    # A notice for TAX-2 covers it: its period runs from the notice.
    _on(monkeypatch, ISSUED)
    notice = _issue(client, tax, n=2, source_id="TAX-2")
    assert notice["record_source_id"] == "TAX-2" and notice["display_from"] == SHOWN.isoformat()
    with platform.db.read() as s:
        assert s.get_one(Record, held["TAX-2"].id).display_from == SHOWN
        assert s.get_one(Record, held["TAX-3"].id).display_from == rules.HELD
    _on(monkeypatch, SHOWN)
    assert _public_items(client, held["TAX-2"].subject_id) == ["tax_arrears"]
    assert _public_items(client, held["TAX-3"].subject_id) == []


def test_matching_by_subject_and_item_when_the_notice_names_no_source(
    client: TestClient, platform: Platform, tax: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _on(monkeypatch, ISSUED)
    first = _issue(client, tax, n=4, source_id=None)
    second = _issue(client, tax, n=4, source_id=None)
    other = _issue(client, tax, n=5, source_id="TAX-5")
    # Two records of subject 4 and one of subject 5 under another source id: oldest notice first,
    # one record per notice; a notice naming a source id covers only that record.
    receipt = _submit(platform, "tax_arrears", "tax", [_row(platform, "tax_arrears", 4, "A"),
                                                       _row(platform, "tax_arrears", 4, "B"),
                                                       _row(platform, "tax_arrears", 5, "NOT-TAX-5")])
    assert [w.code for w in receipt.warnings] == ["notice.required"] and "NOT-TAX-5" in receipt.warnings[0].message
    with platform.db.read() as s:
        covered = {row.id: row.record_id for row in s.execute(select(CreditNotice.id, CreditNotice.record_id))}
        a, b = find_record_id(s, "tax", "A"), find_record_id(s, "tax", "B")
    assert covered == {first["id"]: a, second["id"]: b, other["id"]: None}


def test_the_subject_replies_and_the_department_withdraws_without_a_record(
    client: TestClient, platform: Platform, tax: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _on(monkeypatch, ISSUED)
    notice = _issue(client, tax, n=7, person=True, source_id=None)
    me = _person(client, 7)
    mine = client.get("/api/v1/me/notices", headers=me).json()
    assert [n["id"] for n in mine] == [notice["id"]] and mine[0]["actions"] == ["respond", "settle"]
    assert "tax" not in str(mine[0]["history"])  # the subject sees roles, not staff accounts
    _on(monkeypatch, DUE)  # the last day still counts
    r = client.post(f"/api/v1/me/notices/{notice['id']}/respond", headers=me,
                    data={"text": "该税款已于9月30日缴清，附完税证明。"}, files={"files": ("完税证明.pdf", PDF, "application/pdf")})
    assert r.status_code == 200, r.text
    replied = r.json()
    assert replied["state"] == "responded" and replied["reply"].startswith("该税款") and replied["display_from"] is None
    [attachment] = replied["attachments"]
    assert attachment["filename"] == "完税证明.pdf" and attachment["mime"] == "application/pdf"
    assert replied["decide_due"] == "2026-10-16"  # 5 working days after the reply (policy notice.decide_working_days)
    # The department reads the file (audited) and withdraws: no record will be displayed.
    got = client.get(f"/api/v1/notices/{notice['id']}/attachments/{attachment['id']}", headers=tax)
    assert got.status_code == 200 and got.content == PDF and "filename*=UTF-8''" in got.headers["content-disposition"]
    _on(monkeypatch, SHOWN)
    r = client.post(f"/api/v1/notices/{notice['id']}/withdraw", json={"reason": "采纳陈述申辩：已足额缴纳"}, headers=tax)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "withdrawn" and r.json()["closed_on"] == SHOWN.isoformat()
    again = client.post(f"/api/v1/notices/{notice['id']}/withdraw", json={"reason": "x"}, headers=tax)
    assert again.status_code == 409 and again.json()["error"]["code"] == "workflow.invalid_transition"
    # A record submitted later is no longer covered: held with a warning.
    receipt = _submit(platform, "tax_arrears", "tax", [_row(platform, "tax_arrears", 7, "TAX-7", person=True)],
                      today=SHOWN)
    assert [w.code for w in receipt.warnings] == ["notice.required"]
    with platform.db.read() as s:
        history = case_history(s, "notice", notice["id"])
    assert [(e.action, e.role, e.reason) for e in history] == [
        ("issue", "department", None), ("respond", "subject", "该税款已于9月30日缴清，附完税证明。"),
        ("withdraw", "department", "采纳陈述申辩：已足额缴纳")]


def test_a_reply_holds_the_record_until_the_department_records_with_its_opinion(
    client: TestClient, platform: Platform, tax: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _on(monkeypatch, ISSUED)
    notice = _issue(client, tax, n=8, person=True, source_id="TAX-8")
    _submit(platform, "tax_arrears", "tax", [_row(platform, "tax_arrears", 8, "TAX-8", person=True)])
    me = _person(client, 8)
    r = client.post(f"/api/v1/me/notices/{notice['id']}/settle", headers=me, data={"text": "已缴清"})
    assert r.status_code == 200 and r.json()["state"] == "settled"
    with platform.db.read() as s:
        record_id = find_record_id(s, "tax", "TAX-8")
        assert s.get_one(Record, record_id).display_from == rules.HELD
    _on(monkeypatch, dt.date(2026, 10, 20))
    refused = client.post(f"/api/v1/notices/{notice['id']}/record", json={}, headers=tax)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "notice.opinion_required"
    r = client.post(f"/api/v1/notices/{notice['id']}/record", json={"opinion": "经核实仍欠缴滞纳金，不予采纳"},
                    headers=tax)
    assert r.status_code == 200 and r.json()["state"] == "recorded"
    assert r.json()["display_from"] == "2026-10-20"  # weighed after the period: shown from the decision day
    with platform.db.read() as s:
        assert s.get_one(Record, record_id).display_from == dt.date(2026, 10, 20)


def test_refused_transitions_over_the_api(
    client: TestClient, platform: Platform, tax: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _on(monkeypatch, ISSUED)
    notice = _issue(client, tax, n=9, person=True, source_id="TAX-9")
    me = _person(client, 9)
    # Recording before the period has run: refused (the subject may still reply).
    early = client.post(f"/api/v1/notices/{notice['id']}/record", json={}, headers=tax)
    assert early.status_code == 409 and "不能决定记入" in early.json()["error"]["message"]
    # A reply needs its text.
    empty = client.post(f"/api/v1/me/notices/{notice['id']}/respond", headers=me, data={"text": "  "})
    assert empty.status_code == 400 and empty.json()["error"]["field"] == "text"
    bad_file = client.post(f"/api/v1/me/notices/{notice['id']}/respond", headers=me,
                           data={"text": "见附件"}, files={"files": ("a.pdf", b"MZ not a pdf", "application/pdf")})
    assert bad_file.status_code == 400 and bad_file.json()["error"]["code"] == "attachment.bad_type"
    # After the last day, a late reply is refused: the notice has expired (job or no job).
    _on(monkeypatch, SHOWN)
    late = client.post(f"/api/v1/me/notices/{notice['id']}/respond", headers=me, data={"text": "迟到的申辩"})
    assert late.status_code == 409 and "期满未回复" in late.json()["error"]["message"]
    # A covered, active record must be revoked before the notice is withdrawn.
    _submit(platform, "tax_arrears", "tax", [_row(platform, "tax_arrears", 9, "TAX-9", person=True)])
    blocked = client.post(f"/api/v1/notices/{notice['id']}/withdraw", json={"reason": "撤回"}, headers=tax)
    assert blocked.status_code == 409 and blocked.json()["error"]["code"] == "notice.record_active"
    with platform.db.read() as s:
        record_id = find_record_id(s, "tax", "TAX-9")
    revoke_record(platform.db, keyring=platform.keyring, record_id=record_id, reason="告知后核实有误",
                  actor=Actor(kind="staff", name="c", role="clerk", department_code="tax"))
    r = client.post(f"/api/v1/notices/{notice['id']}/withdraw", json={"reason": "核实有误"}, headers=tax)
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"
    with platform.db.read() as s:
        assert [e.action for e in case_history(s, "notice", notice["id"])] == ["issue", "expire", "withdraw"]


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"item": "admin_penalty"}, 400, "notice.not_required"),
    ({"item": "housing_fund_arrears"}, 403, "notice.item_not_allowed"),
    ({"item": "no_such_item"}, 404, "item.unknown"),
    ({"uscc": "91320400ABCDEFGH12"}, 400, "uscc.organization_code"),
    ({"facts": " "}, 400, "form.required"),
    ({"amount": "-1"}, 422, "request.invalid"),
])
def test_issuing_is_checked(client: TestClient, tax: dict[str, str], body: dict[str, Any], status: int,
                            code: str) -> None:
    r = client.post("/api/v1/notices", json={**_notice_body(), **body}, headers=tax)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"].startswith(code.split(".")[0]) and r.json()["error"]["message"]
    if status != 422:
        assert r.json()["error"]["code"] == code


def test_a_persons_name_must_match_the_register(client: TestClient, tax: dict[str, str]) -> None:
    _issue(client, tax, n=10, person=True, source_id=None)
    r = client.post("/api/v1/notices", json=_notice_body(10, person=True, source_id=None, subject_name="李四"),
                    headers=tax)
    assert r.status_code == 400 and r.json()["error"]["code"] == "subject.name_mismatch"


# -- who may see and do what ------------------------------------------------------------------------


def test_permissions(
    client: TestClient, platform: Platform, tax: dict[str, str], office: dict[str, str],
    make_user: Callable[..., str], make_api_key: Callable[[str], str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    _on(monkeypatch, ISSUED)
    key = {"x-api-key": make_api_key("tax")}
    notice = _issue(client, key, n=11, person=True, source_id=None)  # a department API key may issue
    other_clerk = _bearer(make_user("clerk", "samr"))
    other_key = {"x-api-key": make_api_key("fund")}
    url = f"/api/v1/notices/{notice['id']}"
    assert client.get(url).status_code == 401
    for headers in (other_clerk, other_key):
        r = client.get(url, headers=headers)
        assert r.status_code == 403 and r.json()["error"]["code"] == "notice.other_department"
        assert client.post(f"{url}/withdraw", json={"reason": "x"}, headers=headers).status_code == 403
        assert client.get("/api/v1/notices", headers=headers).json()["total"] == 0
    # Another department cannot issue this item; the credit office cannot issue at all.
    assert client.post("/api/v1/notices", json=_notice_body(12), headers=other_clerk).status_code == 403
    r = client.post("/api/v1/notices", json=_notice_body(12), headers=office)
    assert r.status_code == 403 and r.json()["error"]["code"] == "notice.department_only"
    # The credit office reads every notice but the decision is the department's.
    assert client.get(url, headers=office).status_code == 200
    assert client.get("/api/v1/notices", headers=office).json()["total"] == 1
    assert client.get(url, headers=office).json()["actions"] == []
    r = client.post(f"{url}/withdraw", json={"reason": "x"}, headers=office)
    assert r.status_code == 403 and r.json()["error"]["code"] == "workflow.role_not_allowed"
    assert client.get(url, headers=tax).status_code == 200
    # A person sees their own notices only: another's is not found (not even confirmed to exist).
    _issue(client, tax, n=12, person=True, source_id=None)
    stranger = _person(client, 12)
    assert client.get(f"/api/v1/me/notices/{notice['id']}", headers=stranger).status_code == 404
    r = client.post(f"/api/v1/me/notices/{notice['id']}/respond", headers=stranger, data={"text": "冒名申辩"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "notice.not_found"
    assert [n["subject"]["display_id"] for n in client.get("/api/v1/me/notices", headers=stranger).json()] == [
        ric_for(12)[:6] + "********" + ric_for(12)[-4:]]
    # Staff tokens are not person tokens, and person tokens are not staff tokens.
    assert client.get("/api/v1/me/notices", headers=tax).status_code == 401
    assert client.get(url, headers=stranger).status_code == 401


def test_an_organisation_replies_through_its_representative(
    client: TestClient, platform: Platform, tax: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chengxin.people.models import PersonAccount
    from chengxin.people.orgs import link_organisation

    _on(monkeypatch, ISSUED)
    notice = _issue(client, tax, n=13, source_id=None)  # to organisation 13
    _issue(client, tax, n=14, person=True, source_id=None)  # makes person 14 a subject
    me = _person(client, 14)
    assert client.get(f"/api/v1/me/notices/{notice['id']}", headers=me).status_code == 404
    with platform.db.write() as s:
        account = s.scalars(select(PersonAccount)).one()
        link_organisation(s, platform.keyring, account_id=account.id, uscc=uscc_for(13), basis="授权委托书 2026-01",
                          actor=Actor(kind="staff", name="office", role="credit_office"), now=utcnow())
    assert client.get(f"/api/v1/me/notices/{notice['id']}", headers=me).status_code == 200
    r = client.post(f"/api/v1/me/notices/{notice['id']}/respond", headers=me, data={"text": "我公司对欠税金额有异议"})
    assert r.status_code == 200 and r.json()["state"] == "responded"


# -- the console and the job -----------------------------------------------------------------------


def test_console_lines_and_the_expiry_job(
    client: TestClient, platform: Platform, tax: dict[str, str], make_user: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _on(monkeypatch, ISSUED)
    waiting = _issue(client, tax, n=15, source_id=None)
    _issue(client, tax, n=16, source_id=None)
    _on(monkeypatch, ISSUED + dt.timedelta(days=2))
    _issue(client, _bearer(make_user("clerk", "tax")), n=17, source_id=None)
    with platform.db.read() as s:
        calendar = work_calendar(s)
        lines = notices.console_counts(s, calendar, dt.date(2026, 10, 9), "tax")
        city = notices.console_counts(s, calendar, dt.date(2026, 10, 9), None)
        other = notices.console_counts(s, calendar, dt.date(2026, 10, 9), "samr")
    reply, decide = lines
    assert (reply.open, reply.due_soon, reply.overdue) == (3, 2, 0)  # two end on 10-10, one on 10-13
    assert reply.link.startswith("/dept/notices")
    assert (decide.open, decide.due_soon, decide.overdue) == (0, 0, 0)
    assert [line.label_zh for line in city][2:] == ["诚信约谈（待约谈或待定结果）", "投诉·待答复"]
    assert (other[0].open, other[1].open) == (0, 0) and len(other) == 2
    # After the period, without the job: the two lapsed notices await the department, not overdue yet.
    with platform.db.read() as s:
        reply, decide = notices.console_counts(s, work_calendar(s), dt.date(2026, 10, 12), "tax")[:2]
    assert (reply.open, decide.open, decide.overdue) == (1, 2, 0)
    # The job marks them (once: running it again changes nothing).
    with platform.db.write() as s:
        assert notices.expire_notices(s, work_calendar(s), today=dt.date(2026, 10, 12), now=utcnow()) == 2
    with platform.db.write() as s:
        assert notices.expire_notices(s, work_calendar(s), today=dt.date(2026, 10, 12), now=utcnow()) == 0
        notice = s.get_one(CreditNotice, waiting["id"])
        assert notice.state == "expired" and notice.decide_due == dt.date(2026, 10, 16)  # 10-10 + 5 working days
    with platform.db.read() as s:
        reply, decide = notices.console_counts(s, work_calendar(s), dt.date(2026, 10, 20), "tax")[:2]
    assert (decide.open, decide.due_soon, decide.overdue) == (3, 1, 2)  # the third lapsed on 10-13: due 10-20
    listed = client.get("/api/v1/notices", params={"queue": "awaiting_decision"}, headers=tax).json()
    assert listed["total"] == 2


def test_the_cli_job(platform: Platform, client: TestClient, tax: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                     database_url: str, key_dir: Any) -> None:
    from typer.testing import CliRunner

    from chengxin.cli.main import app

    _on(monkeypatch, ISSUED)
    _issue(client, tax, n=18, source_id=None)
    monkeypatch.setenv("CHENGXIN_DATABASE_URL", database_url)
    monkeypatch.setenv("CHENGXIN_KEY_DIR", str(key_dir))
    from chengxin.core.settings import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["notices", "expire", "--today", "2026-10-12"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "1 件信用告知期满未回复" in result.output
    with platform.db.read() as s:
        assert s.scalars(select(CreditNotice.state)).one() == "expired"


# -- the portal -------------------------------------------------------------------------------------


def _login(client: TestClient, make_user: Callable[..., str], role: str, dept: str | None) -> str:
    """Sign a staff member in on the portal; the CSRF token of their session."""
    from chengxin.accounts.models import StaffSession

    token = make_user(role, dept)
    client.cookies.set("cx_session", token)
    page = client.get("/dept/notices")
    assert page.status_code == 200, page.text
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None and StaffSession is not None
    return found.group(1)


def test_portal_issue_with_errors_kept_then_detail_and_decision(
    client: TestClient, platform: Platform, make_user: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _on(monkeypatch, ISSUED)
    csrf = _login(client, make_user, "clerk", "tax")
    form = client.get("/dept/notices/new")
    assert form.status_code == 200 and "欠税信息" in form.text and "5 个工作日" in form.text
    data = {"csrf_token": csrf, "item": "tax_arrears", "kind": "uscc", "identifier": uscc_for(19),
            "subject_name": "常州测试19有限公司", "facts": "欠缴城市维护建设税", "obligation": "补缴", "amount": "abc",
            "source_id": "TAX-19"}
    bad = client.post("/dept/notices", data=data)
    assert bad.status_code == 400 and "涉及金额不是有效数值" in bad.text
    assert "欠缴城市维护建设税" in bad.text and uscc_for(19) in bad.text  # what was typed is kept
    assert client.post("/dept/notices", data={**data, "csrf_token": "forged", "amount": ""}).status_code == 403
    done = client.post("/dept/notices", data={**data, "amount": "100"}, follow_redirects=False)
    assert done.status_code == 303
    page = client.get(done.headers["location"])
    assert page.status_code == 200 and "信用告知已发出" in page.text and "2026-10-10" in page.text
    notice_id = int(done.headers["location"].split("/")[-1].split("?")[0])
    assert "撤回告知" in page.text and f"/dept/notices/{notice_id}/record" not in page.text  # the period runs
    listing = client.get("/dept/notices?queue=awaiting_reply")
    assert "常州测试19有限公司" in listing.text and 'data-state="issued"' in listing.text
    _on(monkeypatch, SHOWN)
    decided = client.post(f"/dept/notices/{notice_id}/record", data={"csrf_token": csrf, "text": ""},
                          follow_redirects=False)
    assert decided.status_code == 303
    assert 'data-state="recorded"' in client.get(f"/dept/notices/{notice_id}").text
    # The credit office sees every department's notices, but issues none.
    client.cookies.set("cx_session", make_user("credit_office", "credit_office"))
    office_list = client.get("/dept/notices")
    assert office_list.status_code == 200 and "发出单位" in office_list.text and "常州测试19有限公司" in office_list.text
    assert 'href="/dept/notices/new"' not in office_list.text
    assert client.get("/dept/notices/new").status_code == 403
    assert client.get("/dept/notices?queue=bogus").status_code == 400


def test_portal_the_person_sees_and_answers_the_notice_on_me(
    client: TestClient, platform: Platform, tax: dict[str, str], make_user: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import re

    _on(monkeypatch, ISSUED)
    notice = _issue(client, tax, n=20, person=True, source_id=None)
    assert client.post("/me/register", data={"ric": ric_for(20), "name": "张三", "password": PASSWORD},
                       follow_redirects=False).status_code == 303
    assert client.post("/me/login", data={"ric": ric_for(20), "password": PASSWORD},
                       follow_redirects=False).status_code == 303
    me = client.get("/me")
    assert me.status_code == 200 and notice["notice_no"] in me.text and "查看并回复" in me.text
    page = client.get(f"/me/notices/{notice['id']}")
    assert page.status_code == 200 and "陈述申辩" in page.text and "2026-10-10" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    empty = client.post(f"/me/notices/{notice['id']}/respond", data={"csrf_token": csrf.group(1), "text": ""})
    assert empty.status_code == 400 and "请填写陈述申辩意见" in empty.text
    forged = client.post(f"/me/notices/{notice['id']}/respond", data={"csrf_token": "x", "text": "申辩"})
    assert forged.status_code == 403
    done = client.post(f"/me/notices/{notice['id']}/respond", data={"csrf_token": csrf.group(1), "text": "金额有误"},
                       files={"files": ("凭证.pdf", PDF, "application/pdf")}, follow_redirects=False)
    assert done.status_code == 303
    page = client.get(done.headers["location"])
    assert 'data-state="responded"' in page.text and "凭证.pdf" in page.text and "金额有误" in page.text
    # Another person's notice is a 404 page.
    other = _issue(client, tax, n=21, person=True, source_id=None)
    assert client.get(f"/me/notices/{other['id']}").status_code == 404
    # The department of another city office does not see it on the portal either.
    client.cookies.set("cx_session", make_user("clerk", "samr"))
    assert client.get(f"/dept/notices/{notice['id']}").status_code == 403
