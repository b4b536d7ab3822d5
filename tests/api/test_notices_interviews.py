"""诚信约谈 end to end, through HTTP: the credit office schedules an interview, the subject sees it,
the office records the minutes (with files) and the outcome; rescheduling and cancelling; every
refusal; who may see what; the console line; the portal pages."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chengxin.core.workflow import case_history
from chengxin.notices import service as notices
from chengxin.platform import Platform
from chengxin.records.models import Record
from chengxin.workdays.service import work_calendar
from factories import person_row, ric_for, submit_rows, uscc_for, valid_row

TODAY = dt.date(2026, 11, 25)
PASSWORD = "correct horse battery"
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
WHEN = "2026-12-01T09:30:00+08:00"
AFTER = dt.datetime(2026, 12, 1, 3, tzinfo=dt.UTC)  # 11:00 Beijing, after the interview


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _at(monkeypatch: pytest.MonkeyPatch, now: dt.datetime) -> None:
    import chengxin.api.notices as api
    import chengxin.web.notice_pages as pages
    import chengxin.web.people_pages as people_pages

    day = now.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    for module in (api, pages):
        monkeypatch.setattr(module, "utcnow", lambda: now)
        monkeypatch.setattr(module, "today_cn", lambda: day)
    monkeypatch.setattr(people_pages, "today_cn", lambda: day)


@pytest.fixture()
def world(platform: Platform, client: TestClient) -> dict[str, Any]:
    """Person 5 (registered) with two penalties, person 6 (registered) with one; organisation 1."""
    day = dt.date(2026, 9, 1)
    submit_rows(platform, "admin_penalty", "samr", [
        person_row(platform, "admin_penalty", 5, day, source_id="P5-A", severity="general"),
        person_row(platform, "admin_penalty", 5, day, source_id="P5-B", severity="general"),
        person_row(platform, "admin_penalty", 6, day, source_id="P6-A", severity="general"),
    ], TODAY)
    version = platform.catalog.version_on("admin_penalty", day)
    assert version is not None
    submit_rows(platform, "admin_penalty", "samr", [valid_row(version, 1, decision_date=day.isoformat(),
                                                              source_id="ORG-1", severity="general")], TODAY)
    with platform.db.read() as s:
        records = {r.source_id: r for r in s.scalars(select(Record))}
    tokens = {}
    for n in (5, 6):
        assert client.post("/me/register", data={"ric": ric_for(n), "name": "张三", "password": PASSWORD},
                           follow_redirects=False).status_code == 303
        r = client.post("/api/v1/me/sessions", json={"ric": ric_for(n), "password": PASSWORD})
        tokens[n] = _bearer(r.json()["token"])
    return {"records": records, "p5": tokens[5], "p6": tokens[6]}


@pytest.fixture()
def office(make_user: Callable[..., str]) -> dict[str, str]:
    return _bearer(make_user("credit_office", "credit_office"))


def _schedule(client: TestClient, office: dict[str, str], world: dict[str, Any], **kw: Any) -> dict[str, Any]:
    body = {"ric": ric_for(5), "scheduled_at": WHEN, "place": "市发展改革委 3 楼会议室",
            "participants": "市信用办 王科长；被约谈人 张三", "reason": "一年内两次行政处罚，提醒依法经营",
            "record_ids": [world["records"]["P5-A"].id, world["records"]["P5-B"].id], **kw}
    r = client.post("/api/v1/office/interviews", json=body, headers=office)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def test_scheduled_then_held_with_minutes_then_closed_with_an_outcome(
    client: TestClient, platform: Platform, world: dict[str, Any], office: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _at(monkeypatch, dt.datetime(2026, 11, 25, 2, tzinfo=dt.UTC))
    interview = _schedule(client, office, world)
    assert interview["state"] == "scheduled" and interview["scheduled_at"].startswith("2026-12-01T01:30")
    assert sorted(r["source_id"] for r in interview["records"]) == ["P5-A", "P5-B"]
    assert interview["actions"] == ["reschedule", "hold", "cancel"]
    # The subject is told (API and /me); another person is not.
    mine = client.get("/api/v1/me/interviews", headers=world["p5"]).json()
    assert [i["id"] for i in mine] == [interview["id"]] and mine[0]["place"].startswith("市发展改革委")
    assert mine[0]["actions"] == [] and mine[0]["attachments"] == []
    assert client.get("/api/v1/me/interviews", headers=world["p6"]).json() == []
    assert client.get(f"/api/v1/me/interviews/{interview['id']}", headers=world["p6"]).status_code == 404
    url = f"/api/v1/office/interviews/{interview['id']}"
    # Minutes before the interview has taken place: refused.
    early = client.post(f"{url}/minutes", headers=office, data={"minutes": "……"})
    assert early.status_code == 409 and early.json()["error"]["code"] == "interview.not_yet"
    _at(monkeypatch, AFTER)
    empty = client.post(f"{url}/minutes", headers=office, data={"minutes": " "})
    assert empty.status_code == 400 and empty.json()["error"]["field"] == "minutes"
    r = client.post(f"{url}/minutes", headers=office, data={"minutes": "被约谈人承认违法事实，承诺30日内整改。"},
                    files={"files": ("约谈纪要（签字）.pdf", PDF, "application/pdf")})
    assert r.status_code == 200, r.text
    held = r.json()
    assert held["state"] == "held" and held["minutes"].startswith("被约谈人") and len(held["attachments"]) == 1
    got = client.get(f"{url}/attachments/{held['attachments'][0]['id']}", headers=office)
    assert got.status_code == 200 and got.content == PDF
    again = client.post(f"{url}/minutes", headers=office, data={"minutes": "again"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "workflow.invalid_transition"
    # The outcome: chosen from the list; "referred" needs a note.
    bad = client.post(f"{url}/outcome", headers=office, json={"outcome": "jail"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "outcome"
    bare = client.post(f"{url}/outcome", headers=office, json={"outcome": "referred"})
    assert bare.status_code == 400 and bare.json()["error"]["field"] == "note"
    r = client.post(f"{url}/outcome", headers=office, json={"outcome": "commitment", "note": "签署信用承诺书"})
    assert r.status_code == 200 and r.json()["state"] == "closed" and r.json()["outcome_zh"] == "整改承诺"
    # The subject sees minutes and outcome, not the internal files; the history without staff names.
    seen = client.get(f"/api/v1/me/interviews/{interview['id']}", headers=world["p5"]).json()
    assert seen["outcome"] == "commitment" and seen["minutes"] and seen["attachments"] == []
    assert [h["action"] for h in seen["history"]] == ["schedule", "hold", "close"]
    assert all(h["actor"] == "市信用办" for h in seen["history"])
    with platform.db.read() as s:
        assert [e.to_state for e in case_history(s, "interview", interview["id"])] == ["scheduled", "held", "closed"]


def test_rescheduled_and_cancelled(
    client: TestClient, world: dict[str, Any], office: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _at(monkeypatch, dt.datetime(2026, 11, 25, 2, tzinfo=dt.UTC))
    interview = _schedule(client, office, world)
    url = f"/api/v1/office/interviews/{interview['id']}"
    no_reason = client.post(f"{url}/reschedule", headers=office, json={"scheduled_at": "2026-12-03T14:00:00+08:00",
                                                                       "reason": " "})
    assert no_reason.status_code == 400 and no_reason.json()["error"]["code"] == "workflow.reason_required"
    past = client.post(f"{url}/reschedule", headers=office, json={"scheduled_at": "2026-11-01T14:00:00+08:00",
                                                                  "reason": "改期"})
    assert past.status_code == 400 and past.json()["error"]["code"] == "interview.time_past"
    r = client.post(f"{url}/reschedule", headers=office, json={"scheduled_at": "2026-12-03T14:00:00",
                                                               "place": "天宁区政务服务中心", "reason": "被约谈人申请延期"})
    assert r.status_code == 200 and r.json()["state"] == "scheduled"
    assert r.json()["scheduled_at"].startswith("2026-12-03T06:00") and r.json()["place"] == "天宁区政务服务中心"
    r = client.post(f"{url}/cancel", headers=office, json={"reason": "已主动整改，无需约谈"})
    assert r.status_code == 200 and r.json()["state"] == "cancelled" and r.json()["actions"] == []
    for action, body in (("cancel", {"reason": "x"}), ("reschedule", {"scheduled_at": WHEN, "reason": "x"}),
                         ("outcome", {"outcome": "no_action"})):
        refused = client.post(f"{url}/{action}", headers=office, json=body)
        assert refused.status_code == 409, action
    assert client.post(f"{url}/minutes", headers=office, data={"minutes": "x"}).status_code == 409


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"ric": None, "uscc": uscc_for(999)}, 404, "subject.not_found"),
    ({"ric": None}, 400, "subject.one_identifier"),
    ({"scheduled_at": "2026-11-20T09:00:00+08:00"}, 400, "interview.time_past"),
    ({"record_ids": [999999]}, 400, "interview.record_not_of_subject"),
    ({"place": " "}, 400, "form.required"),
])
def test_scheduling_is_checked(client: TestClient, world: dict[str, Any], office: dict[str, str],
                               monkeypatch: pytest.MonkeyPatch, body: dict[str, Any], status: int, code: str) -> None:
    _at(monkeypatch, dt.datetime(2026, 11, 25, 2, tzinfo=dt.UTC))
    payload = {"ric": ric_for(5), "scheduled_at": WHEN, "place": "会议室", "participants": "甲、乙", "reason": "约谈",
               **body}
    r = client.post("/api/v1/office/interviews", json=payload, headers=office)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code


def test_only_the_credit_office_runs_interviews(
    client: TestClient, world: dict[str, Any], office: dict[str, str], make_user: Callable[..., str],
    make_api_key: Callable[[str], str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    _at(monkeypatch, dt.datetime(2026, 11, 25, 2, tzinfo=dt.UTC))
    interview = _schedule(client, office, world, record_ids=[world["records"]["P6-A"].id], ric=ric_for(6))
    url = f"/api/v1/office/interviews/{interview['id']}"
    clerk, key = _bearer(make_user("clerk", "samr")), {"x-api-key": make_api_key("samr")}
    for headers, status in (({}, 401), (clerk, 403), (key, 403), (world["p5"], 401)):
        assert client.get(url, headers=headers).status_code == status
        assert client.get("/api/v1/office/interviews", headers=headers).status_code == status
        assert client.post(f"{url}/cancel", headers=headers, json={"reason": "x"}).status_code == status
    assert client.get(url, headers=_bearer(make_user("admin"))).status_code == 200
    listed = client.get("/api/v1/office/interviews", params={"queue": "open"}, headers=office).json()
    assert listed["total"] == 1 and listed["items"][0]["subject"]["display_name"] == "张*"


def test_console_counts_upcoming_and_overdue_interviews(
    client: TestClient, platform: Platform, world: dict[str, Any], office: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _at(monkeypatch, dt.datetime(2026, 11, 25, 2, tzinfo=dt.UTC))
    _schedule(client, office, world)  # 12-01
    _schedule(client, office, world, scheduled_at="2026-11-26T15:00:00+08:00")
    with platform.db.read() as s:
        line = notices.console_counts(s, work_calendar(s), TODAY, None)[2]
        later = notices.console_counts(s, work_calendar(s), dt.date(2026, 11, 30), None)[2]
    assert (line.open, line.due_soon, line.overdue) == (2, 1, 0) and line.link == "/office/interviews"
    assert (later.open, later.due_soon, later.overdue) == (2, 1, 1)  # 11-26 passed without minutes


def test_portal_pages(
    client: TestClient, platform: Platform, world: dict[str, Any], make_user: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _at(monkeypatch, dt.datetime(2026, 11, 25, 2, tzinfo=dt.UTC))
    client.cookies.set("cx_session", make_user("credit_office", "credit_office"))
    form = client.get("/office/interviews/new")
    assert form.status_code == 200
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf is not None
    data = {"csrf_token": csrf.group(1), "kind": "uscc", "identifier": uscc_for(1), "scheduled_at": "2026-11-01T09:00",
            "place": "市信用办", "participants": "王科长", "reason": "行政处罚后约谈", "record_ids": str(world["records"]["ORG-1"].id)}
    bad = client.post("/office/interviews", data=data)
    assert bad.status_code == 400 and "约谈时间应晚于当前时间" in bad.text and "行政处罚后约谈" in bad.text
    done = client.post("/office/interviews", data={**data, "scheduled_at": "2026-12-02T09:00"}, follow_redirects=False)
    assert done.status_code == 303
    page = client.get(done.headers["location"])
    assert page.status_code == 200 and "2026-12-02 09:00" in page.text and 'data-state="scheduled"' in page.text
    interview_id = int(done.headers["location"].split("/")[-1].split("?")[0])
    _at(monkeypatch, dt.datetime(2026, 12, 2, 3, tzinfo=dt.UTC))
    r = client.post(f"/office/interviews/{interview_id}/minutes",
                    data={"csrf_token": csrf.group(1), "text": "纪要内容"},
                    files={"files": ("纪要.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image/png")},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/office/interviews/{interview_id}")
    assert "纪要内容" in page.text and "纪要.png" in page.text and "确定约谈结果" in page.text
    refused = client.post(f"/office/interviews/{interview_id}/outcome", data={"csrf_token": csrf.group(1),
                                                                               "outcome": "referred", "text": ""})
    assert refused.status_code == 400 and "结果说明" in refused.text
    assert client.get("/office/interviews").status_code == 200
    # A clerk is refused; the subject's representative sees it only when linked (here: no one).
    client.cookies.set("cx_session", make_user("clerk", "samr"))
    assert client.get("/office/interviews").status_code == 403
    # The person sees their interview on /me and its page.
    client.cookies.delete("cx_session")
    _at(monkeypatch, dt.datetime(2026, 11, 25, 2, tzinfo=dt.UTC))
    own = client.post("/api/v1/office/interviews", headers=_bearer(make_user("credit_office")), json={
        "ric": ric_for(5), "scheduled_at": WHEN, "place": "会议室", "participants": "甲", "reason": "约谈"}).json()
    assert client.post("/me/login", data={"ric": ric_for(5), "password": PASSWORD},
                       follow_redirects=False).status_code == 303
    me = client.get("/me")
    assert f"/me/interviews/{own['id']}" in me.text
    page = client.get(f"/me/interviews/{own['id']}")
    assert page.status_code == 200 and "诚信约谈通知" in page.text and "2026-12-01 09:30" in page.text
    assert client.get(f"/me/interviews/{interview_id}").status_code == 404  # the organisation's, not theirs
