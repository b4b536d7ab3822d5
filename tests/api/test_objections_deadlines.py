"""Objection deadlines on the real database with the clock injected: what is stored when filing on the eve
of National Day, the console's counts computed on the query path (before any job ran), the scheduled
escalation (`chengxin objections escalate`), late decisions after escalation, the end of the contest
window, and a deadline in a year without a published holiday schedule (estimated, flagged)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.api.test_objections_support import PDF, World, build_world
from typer.testing import CliRunner

from chengxin.attachments.service import Upload
from chengxin.cli.main import app as cli_app
from chengxin.core import workflow as wf
from chengxin.core.audit import Actor
from chengxin.core.clock import CHINA
from chengxin.objections import service as objections
from chengxin.objections.models import Objection
from chengxin.people.models import PersonAccount
from chengxin.platform import Platform
from chengxin.records.models import Record
from chengxin.workdays.service import work_calendar

OFFICE = Actor(kind="staff", name="office1", role="credit_office")
SAMR = Actor(kind="api_key", name="key-samr", department_code="samr")


def _at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), CHINA).astimezone(dt.UTC)


@pytest.fixture()
def world(platform: Platform, client: TestClient) -> World:
    return build_world(platform, client)


def _file(platform: Platform, world: World, day: str) -> int:
    with platform.db.write() as s:
        account = s.scalars(select(PersonAccount).where(PersonAccount.subject_id == world.p5_subject)).one()
        view = objections.file_objection(s, platform.catalog, platform.keyring, account=account, record_id=world.p5,
                                         grounds="wrong_information", reason="处罚对象有误",
                                         uploads=[Upload("证明.pdf", PDF)], now=_at(day))
    return view.id


def _act(platform: Platform, oid: int, actor: Actor, action: str, day: str, reason: str | None = None) -> str:
    with platform.db.write() as s:
        return objections.staff_act(s, platform.catalog, platform.keyring, actor=actor, objection_id=oid,
                                    action=action, reason=reason, corrections=None, now=_at(day)).state


def _counts(platform: Platform, day: str, department: str | None = None) -> dict[str, tuple[int, int, int]]:
    with platform.db.read() as s:
        lines = objections.console_counts(s, work_calendar(s), dt.date.fromisoformat(day), department)
    return {line.label_zh: (line.open, line.due_soon, line.overdue) for line in lines}


def _row(platform: Platform, oid: int) -> Objection:
    with platform.db.read() as s:
        return s.get_one(Objection, oid)


@pytest.fixture()
def cli(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr("chengxin.platform.open_platform", lambda *a, **k: platform)
    return CliRunner()


def test_national_day_deadlines_the_console_and_escalation(platform: Platform, world: World, cli: CliRunner) -> None:
    oid = _file(platform, world, "2026-09-30")
    row = _row(platform, oid)
    assert (row.filed_on, row.check_due, row.forward_due, row.cap_due, row.due_on) == (
        dt.date(2026, 9, 30), dt.date(2026, 10, 8), dt.date(2026, 10, 9), dt.date(2026, 11, 3), dt.date(2026, 10, 9))
    assert not row.due_estimated

    assert _counts(platform, "2026-10-08")["异议待核查转办"] == (1, 1, 0)
    assert _counts(platform, "2026-10-09")["异议待核查转办"] == (1, 1, 0)  # the last day is still in time
    # Overdue on the query path, before any job ran.
    assert _counts(platform, "2026-10-12") == {"异议待核查转办": (1, 0, 1), "异议待部门处理": (0, 0, 0),
                                               "异议待复核": (0, 0, 0)}
    assert _counts(platform, "2026-10-12", "samr") == {"异议待本单位处理": (0, 0, 0)}

    result = cli.invoke(cli_app, ["objections", "escalate", "--as-of", "2026-10-12"])
    assert result.exit_code == 0, result.output
    assert "逾期督办 1 件" in result.output
    row = _row(platform, oid)
    assert row.state == "check_overdue" and row.escalated_at is not None
    with platform.db.read() as s:
        events = wf.case_history(s, "objection", oid)
    assert (events[-1].action, events[-1].role, events[-1].actor) == ("escalate_check", "system", "system:chengxin")
    assert cli.invoke(cli_app, ["objections", "escalate", "--as-of", "2026-10-12"]).output.startswith("逾期督办 0 件")

    # Late, the office still forwards; the department's 5 working days run from forwarding.
    assert _act(platform, oid, OFFICE, "forward", "2026-10-12") == "forwarded"
    assert _row(platform, oid).due_on == dt.date(2026, 10, 19)
    assert _counts(platform, "2026-10-16", "samr") == {"异议待本单位处理": (1, 1, 0)}
    status = cli.invoke(cli_app, ["objections", "status", "-d", "samr"])
    assert status.exit_code == 0 and "异议待本单位处理" in status.output

    cli.invoke(cli_app, ["objections", "escalate", "--as-of", "2026-10-20"])
    assert _row(platform, oid).state == "dept_overdue"
    with platform.db.read() as s:
        queue = objections.queue(s, platform.catalog, actor=OFFICE, today=dt.date(2026, 10, 20))
    assert queue[0].id == oid and queue[0].escalated and queue[0].urgency == "overdue"
    # The department must still answer; escalation changes who watches, not who decides.
    with pytest.raises(Exception, match="role_not_allowed"):
        _act(platform, oid, OFFICE, "uphold", "2026-10-21", "维持")
    assert _act(platform, oid, SAMR, "uphold", "2026-10-21", "经核查无误") == "decided"
    row = _row(platform, oid)
    assert row.decided_on == dt.date(2026, 10, 21) and row.contest_due == dt.date(2026, 11, 11) == row.due_on

    # Not contested in time: the answer becomes final (the mark was already cleared).
    cli.invoke(cli_app, ["objections", "escalate", "--as-of", "2026-11-11"])
    assert _row(platform, oid).state == "decided"
    result = cli.invoke(cli_app, ["objections", "escalate", "--as-of", "2026-11-12"])
    assert "复核申请期满办结 1 件" in result.output
    assert _row(platform, oid).state == "closed"
    with platform.db.read() as s:
        assert not s.get_one(Record, world.p5).under_objection


def test_the_contest_window_is_enforced(platform: Platform, world: World) -> None:
    oid = _file(platform, world, "2026-11-02")
    _act(platform, oid, OFFICE, "forward", "2026-11-03")
    _act(platform, oid, SAMR, "uphold", "2026-11-05", "维持")
    contest_due = _row(platform, oid).contest_due
    assert contest_due == dt.date(2026, 11, 26)
    with platform.db.write() as s:
        account = s.scalars(select(PersonAccount).where(PersonAccount.subject_id == world.p5_subject)).one()
        with pytest.raises(Exception, match="contest_closed"):
            objections.subject_act(s, platform.catalog, platform.keyring, account=account, objection_id=oid,
                                   action="contest", reason="不服", now=_at("2026-11-27"))
    with platform.db.write() as s:
        account = s.scalars(select(PersonAccount).where(PersonAccount.subject_id == world.p5_subject)).one()
        view = objections.subject_act(s, platform.catalog, platform.keyring, account=account, objection_id=oid,
                                      action="contest", reason="不服", now=_at("2026-11-26", 23))
    assert view.state == "contested" and view.due_on == dt.date(2026, 12, 10)
    assert _counts(platform, "2026-12-11")["异议待复核"] == (1, 0, 1)


def test_a_deadline_in_an_unpublished_year_is_an_estimate_shown_with_its_warning(
    client: TestClient, platform: Platform, world: World, make_user: Callable[..., str]
) -> None:
    oid = _file(platform, world, "2026-12-30")
    row = _row(platform, oid)
    assert row.forward_due == dt.date(2027, 1, 1) and row.due_estimated  # New Year's Day counted as a weekday
    office = {"Authorization": f"Bearer {make_user('credit_office')}"}
    out = client.get(f"/api/v1/objections/{oid}", headers=office).json()["objection"]
    assert out["due_estimated"] and "2027 年节假日安排尚未录入" in out["due_warning"]
    client.cookies.set("cx_session", make_user("credit_office"))
    assert "2027 年节假日安排尚未录入" in client.get(f"/office/objections/{oid}").text
    assert "估算期限" in client.get("/office/objections").text
