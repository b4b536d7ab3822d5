"""The working-day calendar on the real database: the office enters a year, deadlines follow it;
only the office may enter; mistakes come back with the line named and nothing saved."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from chengxin.core.audit import AuditEvent
from chengxin.platform import Platform
from chengxin.workdays import rules
from chengxin.workdays import service as workdays

SCHEDULE_2027 = "2027-01-01 元旦 休\n2027-02-06~2027-02-12 春节 休\n2027-02-14 春节 班\n"
NOTICE = "国务院办公厅关于2027年部分节假日安排的通知"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def _staff(client: TestClient, make_user: Callable[..., str], role: str, department: str | None = None) -> None:
    client.cookies.set("cx_session", make_user(role, department))


def test_the_office_enters_2027_and_deadlines_stop_being_estimates(
    client: TestClient, platform: Platform, make_user: Callable[..., str]
) -> None:
    with platform.db.read() as s:
        before = rules.add_working_days(workdays.work_calendar(s), dt.date(2026, 12, 30), 3)
    assert before.estimated and before.due == dt.date(2027, 1, 4)

    _staff(client, make_user, "credit_office")
    overview = client.get("/office/calendar").text
    assert 'id="calendar-missing"' in overview and "2027" in overview
    page = client.get("/office/calendar/2027").text
    r = client.post("/office/calendar/2027", data={"schedule": SCHEDULE_2027, "notice": NOTICE,
                                                    "csrf_token": _csrf(page)}, follow_redirects=False)
    assert r.status_code == 303
    shown = client.get(r.headers["location"]).text
    assert "已保存" in shown and "2027-02-06~2027-02-12 春节 休" in shown and NOTICE in shown

    with platform.db.read() as s:
        calendar = workdays.work_calendar(s)
        after = rules.add_working_days(calendar, dt.date(2026, 12, 30), 3)
        assert not calendar.is_working_day(dt.date(2027, 2, 8)) and calendar.is_working_day(dt.date(2027, 2, 14))
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "calendar.set_year")).one()
    assert after.due == dt.date(2027, 1, 5) and not after.estimated
    assert event.detail["after"].startswith("2027-01-01 元旦 休") and event.detail["source_before"] is None


def test_a_wrong_line_is_named_and_nothing_is_saved(
    client: TestClient, platform: Platform, make_user: Callable[..., str]
) -> None:
    _staff(client, make_user, "admin")
    page = client.get("/office/calendar/2027").text
    bad = SCHEDULE_2027 + "2027-02-30 春节 休\n"
    r = client.post("/office/calendar/2027", data={"schedule": bad, "notice": NOTICE, "csrf_token": _csrf(page)})
    assert r.status_code == 400 and "第 4 行：日期不存在" in r.text
    assert "2027-02-30 春节 休" in r.text  # what was typed is kept for correction
    with platform.db.read() as s:
        assert not workdays.year_schedule(s, 2027).published


def test_a_clerk_may_look_but_not_enter(client: TestClient, platform: Platform, make_user: Callable[..., str]) -> None:
    _staff(client, make_user, "clerk", "samr")
    page = client.get("/office/calendar/2026")
    assert page.status_code == 200 and "国庆节" in page.text and "<textarea" not in page.text
    # With the clerk's own valid session token (from the sign-out form in the header): still refused.
    r = client.post("/office/calendar/2027", data={"schedule": SCHEDULE_2027, "notice": NOTICE,
                                                    "csrf_token": _csrf(page.text)})
    assert r.status_code == 403 and "calendar.office_only" in r.text
    with platform.db.read() as s:
        assert not workdays.year_schedule(s, 2027).published
    client.cookies.clear()
    assert client.get("/office/calendar", follow_redirects=False).status_code == 303


def test_a_platform_year_replaces_the_librarys_for_corrections(platform: Platform) -> None:
    from chengxin.core.audit import Actor

    with platform.db.write() as s:
        workdays.set_year_schedule(s, year=2026, text="2026-10-01~2026-10-08 国庆节 休", notice="更正",
                                   actor=Actor(kind="cli", name="t"), now=dt.datetime.now(dt.UTC))
    with platform.db.read() as s:
        calendar = workdays.work_calendar(s)
        assert workdays.year_schedule(s, 2026).source == "platform"
    assert not calendar.is_working_day(dt.date(2026, 10, 8))
    assert calendar.is_working_day(dt.date(2026, 2, 16))  # the library's Spring Festival is replaced as a whole
    assert calendar.is_working_day(dt.date(2025, 10, 8)) is False  # other years untouched (2025 National Day)
