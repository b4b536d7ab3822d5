"""Display periods end by themselves (issue #4 §3): the query path hides a record on the day its
display ends even if no job ever ran; ``chengxin display expire`` notes the fact — the day computed
in SQL exactly as the catalog rule computes it (month ends, leap days) — is idempotent, skips what
is not displayed for other reasons, and the credit office sees the counts per day."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from chengxin.core.audit import Actor, AuditEvent
from chengxin.disclosure import rules as disclosure_rules
from chengxin.disclosure.expiry import ACTION, DisplayEnd, ended_per_day, expire_displays
from chengxin.platform import Platform
from chengxin.records.models import Record
from chengxin.records.service import ApiRow, find_record_id, ingest, revoke_record
from factories import valid_row

TODAY = dt.date(2026, 11, 25)

# source id → (decision date, severity, first day no longer displayed)
PENALTIES = {
    "JAN31": ("2025-01-31", "general", dt.date(2026, 1, 31)),  # 2023.1: one year
    "LEAP": ("2024-02-29", "serious", dt.date(2027, 2, 28)),  # three years, from a leap day: not yet
    "AUG31": ("2025-08-31", "minor", dt.date(2025, 11, 30)),  # 2025.1 minor: three months, month end clamped
    "NOV30": ("2025-11-30", "minor", dt.date(2026, 2, 28)),  # …into February
    "TODAY": ("2025-11-25", "general", dt.date(2026, 11, 25)),  # ends today: not shown today
    "TOMORROW": ("2025-11-26", "general", dt.date(2026, 11, 26)),  # still shown today
    "RECENT": ("2026-08-31", "minor", dt.date(2026, 11, 30)),
    "OLD2019": ("2020-03-31", "serious", dt.date(2023, 3, 31)),  # 2019.1 regime
    "REVOKED": ("2025-01-02", "general", dt.date(2026, 1, 2)),
    "STOPPED": ("2025-01-03", "general", dt.date(2026, 1, 3)),
}


def _ingest(platform: Platform, item: str, dept: str, rows: list[dict[str, Any]]) -> None:
    receipt = ingest(platform.db, [ApiRow(i, r) for i, r in enumerate(rows, start=1)], catalog=platform.catalog,
                     keyring=platform.keyring, department=dept, item_code=item,
                     actor=Actor(kind="api_key", name="k", department_code=dept), channel="api", today=TODAY)
    assert receipt.rejected == 0, receipt.rejections


@pytest.fixture()
def world(platform: Platform) -> dict[str, int]:
    rows = []
    for n, (source_id, (day, severity, _)) in enumerate(PENALTIES.items(), start=1):
        version = platform.catalog.version_on("admin_penalty", dt.date.fromisoformat(day))
        assert version is not None
        rows.append(valid_row(version, n, decision_date=day, source_id=source_id, severity=severity))
    _ingest(platform, "admin_penalty", "samr", rows)
    version = platform.catalog.version_on("commendation", dt.date(2015, 5, 4))
    assert version is not None
    _ingest(platform, "commendation", "credit_office", [valid_row(version, 1, decision_date="2015-05-04",
                                                                  source_id="LONG-TERM")])
    with platform.db.read() as s:
        ids = {r.source_id: r.id for r in s.scalars(select(Record))}
    revoke_record(platform.db, keyring=platform.keyring, record_id=ids["REVOKED"], reason="复议撤销",
                  actor=Actor(kind="staff", name="o", role="credit_office"))
    with platform.db.write() as s:  # display stopped (e.g. repaired) before its period ended
        s.execute(update(Record).where(Record.id == ids["STOPPED"]).values(display_stopped_on=dt.date(2025, 6, 1)))
    return ids


def _marked(platform: Platform) -> dict[int, dt.date]:
    with platform.db.read() as s:
        return {row.record_id: row.ended_on for row in s.scalars(select(DisplayEnd))}


def test_the_query_path_hides_an_expired_record_without_the_job(
    client: TestClient, platform: Platform, world: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    import chengxin.api.disclosure as api

    with platform.db.read() as s:
        subject = s.get_one(Record, world["TODAY"]).subject_id
    monkeypatch.setattr(api, "today_cn", lambda: TODAY - dt.timedelta(days=1))
    item = client.get(f"/api/v1/public/subjects/{subject}").json()["items"][0]
    assert item["display_ends_on"] == "2026-11-25" and item["displayed"] is True
    monkeypatch.setattr(api, "today_cn", lambda: TODAY)
    assert client.get(f"/api/v1/public/subjects/{subject}").json()["items"] == []  # gone on its last day
    assert _marked(platform) == {}  # the job never ran


def test_the_job_notes_every_ended_display_on_its_own_day(platform: Platform, world: dict[str, int]) -> None:
    seen: list[tuple[int, int]] = []
    result = expire_displays(platform.db, platform.catalog, today=TODAY, batch_ids=3,
                             progress=lambda done, total: seen.append((done, total)))
    expected = {world[k]: end for k, (_, _, end) in PENALTIES.items()
                if end <= TODAY and k not in ("REVOKED", "STOPPED")}
    assert _marked(platform) == expected
    assert result.marked == len(expected) == 5
    assert result.by_day == dict.fromkeys(expected.values(), 1)
    assert seen[-1][0] == seen[-1][1] == result.scanned_ids and len(seen) > 1  # walked in id ranges
    # The day noted is the day the disclosure rule says display ends.
    with platform.db.read() as s:
        for record_id, ended_on in expected.items():
            record = s.get_one(Record, record_id)
            version = platform.catalog.version_on(record.item_code, record.decision_date)
            assert version is not None
            assert disclosure_rules.display_window(version, record.severity, record.decision_date)[1] == ended_on
        [event] = s.scalars(select(AuditEvent).where(AuditEvent.action == ACTION)).all()
        assert event.detail["marked"] == 5 and event.detail["by_day"]["2026-11-25"] == 1


def test_the_job_is_idempotent_and_catches_up_later(platform: Platform, world: dict[str, int]) -> None:
    first = expire_displays(platform.db, platform.catalog, today=TODAY)
    before = _marked(platform)
    again = expire_displays(platform.db, platform.catalog, today=TODAY)
    assert again.marked == 0 and again.by_day == {} and _marked(platform) == before
    with platform.db.read() as s:  # a run that finds nothing new leaves no trace
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == ACTION)) == 1
    later = expire_displays(platform.db, platform.catalog, today=dt.date(2026, 11, 30))
    assert first.marked == 5 and later.marked == 2
    assert later.by_day == {dt.date(2026, 11, 26): 1, dt.date(2026, 11, 30): 1}
    with platform.db.read() as s:
        assert ended_per_day(s, since=dt.date(2026, 11, 1), until=dt.date(2026, 11, 30)) == [
            (dt.date(2026, 11, 30), 1), (dt.date(2026, 11, 26), 1), (dt.date(2026, 11, 25), 1)]


@pytest.mark.parametrize("day", ["2024-01-31", "2024-02-29", "2023-12-31", "2024-08-31", "2024-11-30",
                                 "2025-03-31", "2025-05-31"])
def test_the_sql_end_day_matches_the_catalog_rule(platform: Platform, day: str) -> None:
    decided = dt.date.fromisoformat(day)
    version = platform.catalog.version_on("admin_penalty", decided)
    assert version is not None
    rows = [valid_row(version, i, decision_date=day, source_id=f"{day}-{s}", severity=s)
            for i, s in enumerate(version.severities, start=1)]
    _ingest(platform, "admin_penalty", "samr", rows)
    expire_displays(platform.db, platform.catalog, today=dt.date(2030, 1, 1))
    with platform.db.read() as s:
        for record_id, ended_on in _marked(platform).items():
            record = s.get_one(Record, record_id)
            assert disclosure_rules.display_window(version, record.severity, decided)[1] == ended_on, record.severity


def test_the_office_sees_counts_per_day(
    client: TestClient, platform: Platform, world: dict[str, int], make_user: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import chengxin.api.notices as api
    import chengxin.web.notice_pages as pages

    expire_displays(platform.db, platform.catalog, today=TODAY)
    for module in (api, pages):
        monkeypatch.setattr(module, "today_cn", lambda: TODAY)
    office = {"authorization": f"Bearer {make_user('credit_office', 'credit_office')}"}
    body = client.get("/api/v1/office/display-ended", params={"days": 365}, headers=office).json()
    assert body["until"] == "2026-11-25" and [d["day"] for d in body["days"]] == [
        "2026-11-25", "2026-02-28", "2026-01-31", "2025-11-30"]
    assert client.get("/api/v1/office/display-ended", headers={
        "authorization": f"Bearer {make_user('clerk', 'samr')}"}).status_code == 403
    client.cookies.set("cx_session", make_user("credit_office", "credit_office"))
    page = client.get("/office/display-ended?days=365")
    assert page.status_code == 200 and 'data-day="2026-01-31"' in page.text and 'id="ended-total">4<' in page.text
    assert "新记载 5 条" in page.text


def test_the_cli(platform: Platform, world: dict[str, int], monkeypatch: pytest.MonkeyPatch, database_url: str,
                 key_dir: Path) -> None:
    from typer.testing import CliRunner

    from chengxin.cli.main import app
    from chengxin.core.settings import get_settings

    monkeypatch.setenv("CHENGXIN_DATABASE_URL", database_url)
    monkeypatch.setenv("CHENGXIN_KEY_DIR", str(key_dir))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        first = runner.invoke(app, ["display", "expire", "--today", "2026-11-25", "--batch", "1000"])
        second = runner.invoke(app, ["display", "expire", "--today", "2026-11-25"])
        listed = runner.invoke(app, ["display", "ended", "--today", "2026-11-25", "--days", "365"])
        bad = runner.invoke(app, ["display", "expire", "--today", "25.11.2026"])
    finally:
        get_settings.cache_clear()
    assert first.exit_code == 0, first.output
    assert "新记载公示期满 5 条" in first.output and "新记载公示期满 0 条" in second.output
    assert re.search(r"2026-01-31\s+1", listed.output) and "共 4 条" in listed.output
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
    with platform.db.read() as s:
        assert find_record_id(s, "samr", "JAN31") in _marked(platform)
