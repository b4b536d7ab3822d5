"""投诉 end to end, through HTTP: a person complains about how their objection or repair was handled
(the case referenced by type and number, checked against the case history), the credit office
answers within the published period, the person closes or withdraws; refusals; the published
process on /complaints; the statistics per month and outcome; the console line."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chengxin.core import workflow as wf
from chengxin.core.audit import Actor
from chengxin.core.db import utcnow
from chengxin.notices import service as notices
from chengxin.notices.models import Complaint
from chengxin.platform import Platform
from chengxin.records.models import Record
from chengxin.workdays.service import work_calendar
from factories import person_row, ric_for, submit_rows

TODAY = dt.date(2026, 9, 28)
DUE = dt.date(2026, 10, 16)  # 10 working days across National Day (10-10, a Saturday, worked)
PASSWORD = "correct horse battery"
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _on(monkeypatch: pytest.MonkeyPatch, day: dt.date) -> None:
    import chengxin.api.notices as api
    import chengxin.web.notice_pages as pages

    for module in (api, pages):
        monkeypatch.setattr(module, "today_cn", lambda: day)


def _case(platform: Platform, case_type: str, case_id: int, subject_id: int | None) -> None:
    """A case of another feature (objections, repair), as its history shows it: one opening event."""
    workflow = wf.Workflow(case_type, {"filed": "已提交"}, (wf.Transition("file", "提交", frozenset(), "filed",
                                                                          frozenset({wf.SUBJECT})),), "filed")
    with platform.db.write() as s:
        wf.record_transition(s, workflow, case_id=case_id, state=None, action="file", role=wf.SUBJECT,
                             actor=Actor(kind="person", name="x"), now=utcnow(), subject_id=subject_id)


@pytest.fixture()
def world(platform: Platform, client: TestClient) -> dict[str, Any]:
    submit_rows(platform, "admin_penalty", "samr", [
        person_row(platform, "admin_penalty", n, dt.date(2026, 9, 1), source_id=f"P{n}", severity="general")
        for n in (5, 6)], TODAY)
    with platform.db.read() as s:
        subjects = {r.source_id: r.subject_id for r in s.scalars(select(Record))}
    _case(platform, "objection", 101, subjects["P5"])
    _case(platform, "repair", 202, subjects["P5"])
    _case(platform, "objection", 303, subjects["P6"])
    _case(platform, "repair", 404, None)  # a case whose trail names no subject
    tokens = {}
    for n in (5, 6):
        assert client.post("/me/register", data={"ric": ric_for(n), "name": "张三", "password": PASSWORD},
                           follow_redirects=False).status_code == 303
        tokens[n] = _bearer(client.post("/api/v1/me/sessions", json={"ric": ric_for(n), "password": PASSWORD})
                            .json()["token"])
    return {"p5": tokens[5], "p6": tokens[6], "subjects": subjects}


@pytest.fixture()
def office(make_user: Callable[..., str]) -> dict[str, str]:
    return _bearer(make_user("credit_office", "credit_office"))


def _file(client: TestClient, headers: dict[str, str], case_type: str = "objection", case_id: Any = 101,
          **kw: Any) -> Any:
    return client.post("/api/v1/me/complaints", headers=headers,
                       data={"case_type": case_type, "case_id": str(case_id), "content": "部门超期未答复我的异议", **kw})


def test_complaint_answered_then_closed(
    client: TestClient, platform: Platform, world: dict[str, Any], office: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _on(monkeypatch, TODAY)
    r = client.post("/api/v1/me/complaints", headers=world["p5"],
                    data={"case_type": "objection", "case_id": "101", "content": "部门超期未答复我的异议"},
                    files={"files": ("截图.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image/png")})
    assert r.status_code == 201, r.text
    complaint = r.json()
    assert complaint["state"] == "received" and complaint["answer_due"] == DUE.isoformat()
    assert complaint["case_type_zh"] == "异议" and complaint["actions"] == ["withdraw"]
    assert len(complaint["attachments"]) == 1
    url = f"/api/v1/office/complaints/{complaint['id']}"
    listed = client.get("/api/v1/office/complaints", headers=office).json()
    assert listed["total"] == 1 and listed["items"][0]["due_state"] == "ok"
    got = client.get(f"{url}/attachments/{complaint['attachments'][0]['id']}", headers=office)
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    bad = client.post(f"{url}/answer", headers=office, json={"outcome": "maybe", "answer": "……"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "outcome"
    _on(monkeypatch, dt.date(2026, 10, 9))
    r = client.post(f"{url}/answer", headers=office,
                    json={"outcome": "upheld", "answer": "经核查，市场监管局超期 2 个工作日答复，已督促整改并通报。"})
    assert r.status_code == 200 and r.json()["state"] == "answered" and r.json()["outcome_zh"] == "投诉成立"
    again = client.post(f"{url}/answer", headers=office, json={"outcome": "upheld", "answer": "再答"})
    assert again.status_code == 409
    # The person reads the answer and closes; withdrawing is no longer possible.
    mine = client.get(f"/api/v1/me/complaints/{complaint['id']}", headers=world["p5"]).json()
    assert mine["answer"].startswith("经核查") and mine["actions"] == ["close"]
    late = client.post(f"/api/v1/me/complaints/{complaint['id']}/withdraw", headers=world["p5"], json={})
    assert late.status_code == 409
    r = client.post(f"/api/v1/me/complaints/{complaint['id']}/close", headers=world["p5"])
    assert r.status_code == 200 and r.json()["state"] == "closed"
    assert [h["action"] for h in r.json()["history"]] == ["file", "answer", "close"]


def test_withdrawn_and_the_person_only_sees_their_own(
    client: TestClient, world: dict[str, Any], office: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _on(monkeypatch, TODAY)
    complaint = _file(client, world["p5"], "repair", 202).json()
    assert client.get(f"/api/v1/me/complaints/{complaint['id']}", headers=world["p6"]).status_code == 404
    assert client.post(f"/api/v1/me/complaints/{complaint['id']}/withdraw", headers=world["p6"],
                       json={}).status_code == 404
    assert client.get("/api/v1/me/complaints", headers=world["p6"]).json() == []
    r = client.post(f"/api/v1/me/complaints/{complaint['id']}/withdraw", headers=world["p5"],
                    json={"reason": "问题已解决"})
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"
    answer = client.post(f"/api/v1/office/complaints/{complaint['id']}/answer", headers=office,
                         json={"outcome": "not_upheld", "answer": "x"})
    assert answer.status_code == 409


@pytest.mark.parametrize(("case_type", "case_id", "status", "code"), [
    ("objection", 303, 404, "complaint.case_not_found"),  # person 6's objection
    ("objection", 9999, 404, "complaint.case_not_found"),  # no such case
    ("repair", 101, 404, "complaint.case_not_found"),  # a number of the other kind
    ("appeal", 101, 400, "complaint.case_type"),
    ("objection", "abc", 400, "complaint.case_id"),
    ("objection", 0, 404, "complaint.case_not_found"),
])
def test_the_case_must_be_the_complainants(client: TestClient, world: dict[str, Any], case_type: str,
                                           case_id: Any, status: int, code: str) -> None:
    r = _file(client, world["p5"], case_type, case_id)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code and r.json()["error"]["message"]


def test_a_case_whose_trail_names_no_subject_is_the_persons_own(client: TestClient, world: dict[str, Any]) -> None:
    r = _file(client, world["p6"], "repair", 404)
    assert r.status_code == 201 and r.json()["subject"]["id"] == world["subjects"]["P6"]
    empty = _file(client, world["p6"], "repair", 404, content=" ")
    assert empty.status_code == 400 and empty.json()["error"]["field"] == "content"


def test_only_the_credit_office_answers(
    client: TestClient, world: dict[str, Any], make_user: Callable[..., str], make_api_key: Callable[[str], str]
) -> None:
    complaint = _file(client, world["p5"]).json()
    url = f"/api/v1/office/complaints/{complaint['id']}"
    for headers, status in (({}, 401), (_bearer(make_user("clerk", "samr")), 403),
                            ({"x-api-key": make_api_key("samr")}, 403), (world["p5"], 401)):
        assert client.get(url, headers=headers).status_code == status
        assert client.post(f"{url}/answer", headers=headers, json={"outcome": "upheld", "answer": "x"}).status_code \
            == status
        assert client.get("/api/v1/office/complaints/stats", headers=headers).status_code == status


def test_statistics_per_month_and_outcome(
    client: TestClient, platform: Platform, world: dict[str, Any], office: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _on(monkeypatch, dt.date(2026, 9, 28))
    first = _file(client, world["p5"]).json()
    second = _file(client, world["p5"], "repair", 202).json()
    _on(monkeypatch, dt.date(2026, 10, 12))
    third = _file(client, world["p6"], "objection", 303).json()
    _file(client, world["p6"], "objection", 303)
    client.post(f"/api/v1/office/complaints/{first['id']}/answer", headers=office,
                json={"outcome": "upheld", "answer": "成立"})
    _on(monkeypatch, dt.date(2026, 10, 30))  # after second's deadline (10-16)
    client.post(f"/api/v1/office/complaints/{second['id']}/answer", headers=office,
                json={"outcome": "not_upheld", "answer": "不成立"})
    client.post(f"/api/v1/me/complaints/{third['id']}/withdraw", headers=world["p6"], json={})
    stats = client.get("/api/v1/office/complaints/stats", headers=office).json()
    months = {m["month"]: m for m in stats["months"]}
    assert list(months) == ["2026-10", "2026-09"]
    assert months["2026-09"]["received"] == 2 and months["2026-09"]["by_outcome"] == {"upheld": 1, "not_upheld": 1}
    assert months["2026-09"]["answered_late"] == 1
    assert months["2026-10"]["received"] == 2 and months["2026-10"]["withdrawn"] == 1 and months["2026-10"]["open"] == 1
    assert stats["totals"]["received"] == 4 and stats["overdue_now"] == 1  # the fourth: due 10-26, unanswered
    with platform.db.read() as s:
        line = notices.console_counts(s, work_calendar(s), dt.date(2026, 10, 30), None)[3]
        assert s.scalar(select(Complaint.answer_due).where(Complaint.state == "received")) == dt.date(2026, 10, 26)
    assert (line.label_zh, line.open, line.overdue, line.link) == ("投诉·待答复", 1, 1, "/office/complaints")
    # The office's page shows the same block.
    client.cookies.set("cx_session", make_office_cookie(platform))
    page = client.get("/office/complaints")
    assert page.status_code == 200 and 'data-month="2026-09"' in page.text and "1 件投诉已超过答复期限未答复" in page.text


def make_office_cookie(platform: Platform) -> str:
    from chengxin.accounts.service import Role, create_user, open_session
    from chengxin.core.audit import SYSTEM

    with platform.db.write() as s:
        user = create_user(s, username="office_stats", password="correct horse battery", role=Role.CREDIT_OFFICE,
                           display_name="信用办", department_code="credit_office", actor=SYSTEM)
        return open_session(s, user, hours=1).token


def test_the_published_process_and_the_portal_form(
    client: TestClient, world: dict[str, Any], make_user: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _on(monkeypatch, TODAY)
    process = client.get("/api/v1/complaints/process").json()
    assert process["answer_working_days"] == 10 and "12345" in process["contact"]
    assert process["case_types"] == {"objection": "异议", "repair": "信用修复"}
    public = client.get("/complaints")
    assert public.status_code == 200 and "12345" in public.text and 'id="answer-days">10<' in public.text
    assert "登录个人中心" in public.text and 'action="/complaints"' not in public.text
    assert client.post("/me/login", data={"ric": ric_for(5), "password": PASSWORD},
                       follow_redirects=False).status_code == 303
    page = client.get("/complaints")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None and 'action="/complaints"' in page.text
    data = {"csrf_token": csrf.group(1), "case_type": "objection", "case_id": "303", "content": "投诉内容要保留"}
    bad = client.post("/complaints", data=data)
    assert bad.status_code == 404 and "未找到您的该项办理事项" in bad.text and "投诉内容要保留" in bad.text
    assert client.post("/complaints", data={**data, "csrf_token": "x", "case_id": "101"}).status_code == 403
    done = client.post("/complaints", data={**data, "case_id": "101"}, follow_redirects=False)
    assert done.status_code == 303
    mine = client.get(done.headers["location"])
    assert "投诉已受理" in mine.text and DUE.isoformat() in mine.text and 'data-state="received"' in mine.text
    complaint_id = int(done.headers["location"].split("/")[-1].split("?")[0])
    assert f"/me/complaints/{complaint_id}" in client.get("/me").text
    withdrawn = client.post(f"/me/complaints/{complaint_id}/withdraw", data={"csrf_token": csrf.group(1)},
                            follow_redirects=False)
    assert withdrawn.status_code == 303
    assert 'data-state="withdrawn"' in client.get(f"/me/complaints/{complaint_id}").text
    # The office answers on its page (a withdrawn complaint offers nothing to do).
    client.cookies.set("cx_session", make_user("credit_office", "credit_office"))
    detail = client.get(f"/office/complaints/{complaint_id}")
    assert detail.status_code == 200 and "答复投诉" not in detail.text
    client.cookies.set("cx_session", make_user("clerk", "samr"))
    assert client.get("/office/complaints").status_code == 403
