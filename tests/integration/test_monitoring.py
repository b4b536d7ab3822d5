"""Abnormal-access monitoring end to end: query log + look-ups → scan → alerts → /alerts page and CLI."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from chengxin.cli.main import app
from chengxin.core.audit import Actor, AuditEvent
from chengxin.core.clock import CHINA
from chengxin.core.errors import PermissionDenied
from chengxin.disclosure.models import QueryLog
from chengxin.disclosure.service import log_query
from chengxin.monitoring import service as monitoring
from chengxin.monitoring.models import AccessAlert
from chengxin.platform import Platform

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=CHINA)  # a Wednesday
SINCE = NOW - dt.timedelta(hours=24)
HTML = {"accept": "text/html,application/xhtml+xml"}


def _read(at: dt.datetime, subject_id: int, reader: str, kind: str = "staff", purpose: str = "行政许可审查") -> QueryLog:
    # log_query stamps "now"; these rows need chosen times, so they are built the same way with `at` set.
    return QueryLog(at=at, subject_id=subject_id, reader_kind=kind, reader_name=reader, reader_department="samr",
                    purpose=purpose, basis="政务共享", channel="api", detail={})


def _seed(platform: Platform) -> None:
    burst = dt.datetime(2026, 11, 25, 10, 0, tzinfo=CHINA)
    with platform.db.write() as session:
        # staff:wang reads 60 distinct persons in 5 minutes (limit: 50 in 10 minutes)
        session.add_all([_read(burst + dt.timedelta(seconds=5 * i), 1000 + i, "wang") for i in range(60)])
        # staff:li looks a person up at 23:30 the night before (an audit look-up counts as a read)
        session.add(AuditEvent(at=dt.datetime(2026, 11, 24, 23, 30, tzinfo=CHINA), actor="staff:li",
                               department_code="samr", action="subject.look_up", subject_id=7, object_type="subject",
                               object_id="7", purpose="核查", detail={}))
        # ordinary traffic: a few reads in working hours, a person reading their own file at night
        session.add_all([_read(burst + dt.timedelta(minutes=i), 2000 + i, "zhang") for i in range(10)])
        session.add(_read(dt.datetime(2026, 11, 24, 23, 45, tzinfo=CHINA), 7, "本人", kind="person"))
        # and one through the service itself (stamped now: outside the scanned window)
        log_query(session, subject_id=9, reader_kind="staff", reader_name="sun", purpose="核查", basis="政务共享",
                  channel="api")


def _alerts(platform: Platform) -> list[tuple[str, str, int]]:
    with platform.db.read() as session:
        return sorted((a.kind, a.reader, a.count) for a in monitoring.list_alerts(session, status=None))


def test_scan_raises_exactly_the_expected_alerts_once(platform: Platform) -> None:
    _seed(platform)
    with platform.db.write() as session:
        first = monitoring.scan(session, SINCE, NOW, NOW)
    assert (first.events, first.findings, first.raised, first.updated) == (71, 2, 2, 0)
    assert _alerts(platform) == [("distinct_persons", "staff:wang", 60), ("off_hours", "staff:li", 1)]
    with platform.db.read() as session:
        burst = session.scalars(select(AccessAlert).where(AccessAlert.kind == "distinct_persons")).one()
        assert burst.status == "open" and burst.severity == "high"
        assert burst.first_at == dt.datetime(2026, 11, 25, 10, 0, tzinfo=CHINA)
        assert burst.last_at == dt.datetime(2026, 11, 25, 10, 4, 55, tzinfo=CHINA)
        assert burst.detail["subjects"][:3] == [1000, 1001, 1002] and len(burst.detail["subjects"]) == 20
        assert burst.detail["rules_version"] == "2026.1"

    with platform.db.write() as session:  # the same window again: nothing new
        again = monitoring.scan(session, SINCE, NOW, NOW)
    assert (again.raised, again.updated) == (0, 0)

    with platform.db.write() as session:  # the burst goes on: the open alert grows, no second alert
        session.add(_read(dt.datetime(2026, 11, 25, 10, 5, 30, tzinfo=CHINA), 1100, "wang"))
    later = NOW + dt.timedelta(minutes=5)
    with platform.db.write() as session:
        grown = monitoring.scan(session, later - dt.timedelta(hours=24), later, later)
    assert (grown.raised, grown.updated) == (0, 1)
    assert _alerts(platform) == [("distinct_persons", "staff:wang", 61), ("off_hours", "staff:li", 1)]


def test_acknowledge_is_for_the_credit_office(platform: Platform) -> None:
    _seed(platform)
    with platform.db.write() as session:
        monitoring.scan(session, SINCE, NOW, NOW)
        alert_id = monitoring.list_alerts(session)[0].id
    clerk = Actor(kind="staff", name="c1", role="clerk", department_code="samr")
    with pytest.raises(PermissionDenied), platform.db.write() as session:
        monitoring.acknowledge(session, alert_id, clerk, NOW)
    office = Actor(kind="staff", name="o1", role="credit_office")
    with platform.db.write() as session:
        monitoring.acknowledge(session, alert_id, office, NOW)
    with platform.db.read() as session:
        alert = session.get(AccessAlert, alert_id)
        assert alert is not None and alert.status == "acknowledged" and alert.acknowledged_by == "staff:o1"
        assert len(monitoring.list_alerts(session)) == 1
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "alert.acknowledge")) == 1


def _sign_in(client: TestClient, token: str | None) -> None:
    client.cookies.clear()
    if token:
        client.cookies.set("cx_session", token)


def test_alerts_page_permissions_and_acknowledge(client: TestClient, platform: Platform,
                                                 make_user: Callable[..., str]) -> None:
    _seed(platform)
    with platform.db.write() as session:
        monitoring.scan(session, SINCE, NOW, NOW)

    anonymous = client.get("/alerts", headers=HTML, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login?next=/alerts"

    _sign_in(client, make_user("clerk", "samr"))
    assert client.get("/alerts", headers=HTML).status_code == 403
    assert "/alerts" not in client.get("/", headers=HTML).text  # no menu entry either

    _sign_in(client, make_user("credit_office"))
    page = client.get("/alerts", headers=HTML)
    assert page.status_code == 200
    assert "staff:wang" in page.text and "staff:li" in page.text and "非工作时间查询" in page.text
    assert "1000" in page.text  # evidence: subject ids
    ids = re.findall(r'action="/alerts/(\d+)/acknowledge"', page.text)
    assert len(ids) == 2
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf

    refused = client.post(f"/alerts/{ids[0]}/acknowledge", data={"csrf_token": "wrong"}, follow_redirects=False)
    assert refused.status_code == 403
    done = client.post(f"/alerts/{ids[0]}/acknowledge", data={"csrf_token": csrf.group(1)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/alerts"
    assert len(re.findall(r'action="/alerts/\d+/acknowledge"', client.get("/alerts", headers=HTML).text)) == 1
    twice = client.post(f"/alerts/{ids[0]}/acknowledge", data={"csrf_token": csrf.group(1)}, follow_redirects=False)
    assert twice.status_code == 409
    assert "已处理" in client.get("/alerts?show=all", headers=HTML).text

    _sign_in(client, make_user("admin"))
    assert client.get("/alerts", headers=HTML).status_code == 200


def test_cli_scan_prints_a_summary(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("chengxin.platform.open_platform", lambda *a, **k: platform)
    recent = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    with platform.db.write() as session:
        session.add_all([_read(recent + dt.timedelta(seconds=i), 5000 + i, "night", purpose="") for i in range(3)])
    runner = CliRunner()
    result = runner.invoke(app, ["monitor", "scan", "--hours", "1"])
    assert result.exit_code == 0, result.output
    assert "新告警" in result.output
    assert ("missing_purpose", "staff:night", 3) in _alerts(platform)
    again = runner.invoke(app, ["monitor", "scan", "--hours", "1"])
    assert again.exit_code == 0 and len([a for a in _alerts(platform) if a[0] == "missing_purpose"]) == 1
    listed = runner.invoke(app, ["monitor", "list"])
    assert listed.exit_code == 0 and "staff:night" in listed.output


def test_failed_sign_ins_from_one_address_over_many_accounts_raise_an_alert(
    client: TestClient, platform: Platform, make_user: Callable[..., str]
) -> None:
    from chengxin.core.db import utcnow
    from chengxin.monitoring.config import thresholds_on

    thresholds = thresholds_on(dt.date(2026, 11, 28))  # 2026.3: the rule's first version
    rule = thresholds.rules.failed_sign_in
    assert rule is not None
    for n in range(rule.max + 1):  # one guess on each of many accounts: none of them locks
        client.post("/login", data={"username": f"user{n}", "password": "a wrong guess"})
    now = utcnow()
    with platform.db.write() as session:
        monitoring.scan(session, now - dt.timedelta(hours=1), now + dt.timedelta(minutes=1), now, thresholds=thresholds)
    assert [a for a in _alerts(platform) if a[0] == "failed_sign_in"] == [
        ("failed_sign_in", "address:testclient", rule.max + 1)]
    client.cookies.set("cx_session", make_user("credit_office"))
    page = client.get("/alerts", headers=HTML).text
    assert "同一网络地址多次登录失败" in page and "address:testclient" in page


def test_an_account_locked_by_failed_sign_ins_raises_an_alert(client: TestClient, platform: Platform,
                                                              make_user: Callable[..., str]) -> None:
    from chengxin.core.db import utcnow
    from chengxin.core.policy import policy_on

    make_user("clerk", "samr", username="guessed")
    for _ in range(policy_on(NOW.date()).sign_in.max_failures):  # through the real sign-in form
        client.post("/login", data={"username": "guessed", "password": "a wrong guess"})
    now = utcnow()
    with platform.db.write() as session:
        result = monitoring.scan(session, now - dt.timedelta(hours=1), now + dt.timedelta(minutes=1), now)
    assert result.rules_version >= "2026.2"
    assert [a for a in _alerts(platform) if a[0] == "locked_account"] == [("locked_account", "staff:guessed", 1)]
    client.cookies.set("cx_session", make_user("credit_office"))
    page = client.get("/alerts", headers=HTML).text
    assert "账户因连续登录失败被锁定" in page and "staff:guessed" in page
