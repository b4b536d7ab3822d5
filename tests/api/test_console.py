"""The staff console (/office): the office sees the city's queues, a clerk their department's; an
overdue objection is counted on the query path (no job has run); the calendar warning shows."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.api.test_objections_support import PDF, World, build_world

from chengxin.attachments.service import Upload
from chengxin.core.clock import CHINA, today_cn
from chengxin.objections import service as objections
from chengxin.people.models import PersonAccount
from chengxin.platform import Platform


def _file_objection(platform: Platform, world: World, days_ago: int) -> None:
    filed = dt.datetime.combine(today_cn() - dt.timedelta(days=days_ago), dt.time(10), CHINA).astimezone(dt.UTC)
    with platform.db.write() as s:
        account = s.scalars(select(PersonAccount).where(PersonAccount.subject_id == world.p5_subject)).one()
        objections.file_objection(s, platform.catalog, platform.keyring, account=account, record_id=world.p5,
                                  grounds="wrong_information", reason="处罚对象有误",
                                  uploads=[Upload("证明.pdf", PDF)], now=filed)


def _row(html: str, label: str) -> tuple[int, int, int]:
    found = re.search(rf"<td>{label}</td>\s*<td class=\"num\">(\d+)</td>\s*<td class=\"num\">(\d+)</td>\s*"
                      rf"<td class=\"num\">(?:<strong class=\"req\">)?(\d+)", html)
    assert found, f"no console line {label!r}"
    return int(found[1]), int(found[2]), int(found[3])


def test_the_office_sees_an_overdue_objection_and_the_calendar_warning(
    client: TestClient, platform: Platform, make_user: Callable[..., str]
) -> None:
    world = build_world(platform, client)
    _file_objection(platform, world, days_ago=30)  # far past its 2-working-day forwarding deadline
    client.cookies.set("cx_session", make_user("credit_office"))
    page = client.get("/office")
    assert page.status_code == 200
    html = page.text
    for group in ("异议处理", "信用修复", "信用告知、约谈与投诉"):
        assert group in html
    assert _row(html, "异议待核查转办")[0] == 1 and _row(html, "异议待核查转办")[2] == 1
    assert 'id="console-overdue"' in html
    if today_cn().year + 1 > 2026:  # chinese-calendar stops at 2026: next year's schedule is not entered
        assert 'id="console-calendar-warning"' in html


def test_a_clerk_sees_only_their_departments_queues(
    client: TestClient, platform: Platform, make_user: Callable[..., str]
) -> None:
    build_world(platform, client)
    client.cookies.set("cx_session", make_user("clerk", "tax"))
    html = client.get("/office").text
    assert "本部门" in html and "全市" not in html
    assert "异议待本单位处理" in html and "异议待核查转办" not in html
    client.cookies.clear()
    assert client.get("/office", follow_redirects=False).status_code == 303
