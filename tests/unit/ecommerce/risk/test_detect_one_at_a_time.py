"""One detection run at a time (issue #7): a second run started while one is running is refused — from another
process or another connection, on both engines — and a run left running by a crashed process is taken over
once stale (findings.yaml ``stale_run_hours``)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import insert, select

from chengxin.core.audit import SYSTEM
from chengxin.core.clock import CHINA
from chengxin.core.db import Database, make_engine, utcnow
from chengxin.core.errors import DomainError
from chengxin.ecommerce.risk.config import finding_params
from chengxin.ecommerce.risk.extract import Frames
from chengxin.ecommerce.risk.models import EcDetectionRun, EcFinding
from chengxin.ecommerce.risk.service import STALE_ERROR, detect
from chengxin.platform import Platform

NOW = dt.datetime(2026, 9, 1, 12, 0, tzinfo=dt.UTC)


def _nothing(frames: Frames, now: dt.datetime) -> tuple[Sequence[Any], dict[str, float]]:
    return [], {}


def _runs(platform: Platform) -> list[tuple[int, str, str | None]]:
    with platform.db.read() as s:
        return [(r.id, r.status, r.error) for r in s.scalars(select(EcDetectionRun).order_by(EcDetectionRun.id))]


def _running_row(platform: Platform, started_at: dt.datetime) -> int:
    """A run row as a process that died mid-run leaves it."""
    with platform.db.write() as s:
        return int(s.execute(insert(EcDetectionRun).values(
            started_at=started_at, status="running", as_of=NOW, window_from=NOW - dt.timedelta(days=180),
            parameter_version="2026.1", timings={}, actor="cli:crashed").returning(EcDetectionRun.id)).scalar_one())


def _cli_env(platform: Platform) -> dict[str, str]:
    return {**os.environ, "CHENGXIN_DATABASE_URL": platform.db.engine.url.render_as_string(hide_password=False),
            "CHENGXIN_KEY_DIR": str(platform.keyring.key_dir), "COLUMNS": "400"}


def test_a_run_started_from_another_process_while_one_runs_is_refused(platform: Platform) -> None:
    seen: dict[str, Any] = {}

    def detector(frames: Frames, now: dt.datetime) -> tuple[Sequence[Any], dict[str, float]]:
        # Run A is between its start and its findings: another host's cron starts `chengxin ecommerce detect`.
        seen["running"] = _runs(platform)
        seen["other"] = subprocess.run([sys.executable, "-m", "chengxin.cli.main", "ecommerce", "detect"],
                                       env=_cli_env(platform), capture_output=True, text=True, timeout=300)
        return [], {}

    summary = detect(platform.db, now=NOW, actor=SYSTEM, detector=detector, recompute_risk=False)
    other = seen["other"]
    assert seen["running"] == [(summary.run_id, "running", None)]
    assert other.returncode != 0, other.stdout + other.stderr
    assert "ecommerce.detect_running" in other.stderr
    assert f"监测批次 {summary.run_id} 正在运行" in other.stderr
    started = _started_at(platform, summary.run_id).astimezone(CHINA)
    assert f"{started:%Y-%m-%d %H:%M:%S} 开始" in other.stderr
    # The refused process wrote no run row (and so no findings); run A finished normally.
    assert _runs(platform) == [(summary.run_id, "finished", None)]


def _started_at(platform: Platform, run_id: int) -> dt.datetime:
    with platform.db.read() as s:
        return s.get_one(EcDetectionRun, run_id).started_at


def test_two_runs_starting_together_one_is_refused(platform: Platform) -> None:
    """Run A's running row is inserted but not yet committed on its own connection when run B starts: B
    waits (SQLite: the write lock; PostgreSQL: the unique partial index) and is refused once A commits."""
    other = Database(make_engine(platform.db.engine.url.render_as_string(hide_password=False)))
    outcome: dict[str, Any] = {}

    def start_b() -> None:
        try:
            detect(other, now=NOW, actor=SYSTEM, detector=_nothing, recompute_risk=False)
            outcome["b"] = "started"
        except DomainError as exc:
            outcome["b"] = exc

    try:
        with platform.db.writer.connect() as conn, conn.begin():
            a_id = int(conn.execute(insert(EcDetectionRun).values(
                started_at=utcnow(), status="running", as_of=NOW, window_from=NOW - dt.timedelta(days=180),
                parameter_version="2026.1", timings={}, actor="cli:a").returning(EcDetectionRun.id)).scalar_one())
            b = threading.Thread(target=start_b)
            b.start()
            time.sleep(1.0)  # B is now waiting on A's uncommitted row
            assert "b" not in outcome
        b.join(timeout=120)
    finally:
        other.engine.dispose()
    refusal = outcome["b"]
    assert isinstance(refusal, DomainError), refusal
    assert refusal.code == "ecommerce.detect_running" and refusal.status == 409
    assert f"监测批次 {a_id} 正在运行" in refusal.message
    assert _runs(platform) == [(a_id, "running", None)]


def test_a_stale_run_is_marked_failed_and_the_new_run_proceeds(platform: Platform) -> None:
    hours = finding_params(NOW.date()).stale_run_hours
    crashed = _running_row(platform, utcnow() - dt.timedelta(hours=hours, minutes=5))
    summary = detect(platform.db, now=NOW, actor=SYSTEM, detector=_nothing, recompute_risk=False)
    assert _runs(platform) == [(crashed, "failed", STALE_ERROR), (summary.run_id, "finished", None)]
    assert "stale: process ended without finishing" in STALE_ERROR
    with platform.db.read() as s:
        assert s.get_one(EcDetectionRun, crashed).finished_at is not None
        assert s.scalar(select(EcFinding.id)) is None


def test_a_recent_running_row_is_not_taken_over(platform: Platform) -> None:
    hours = finding_params(NOW.date()).stale_run_hours
    running = _running_row(platform, utcnow() - dt.timedelta(hours=hours) + dt.timedelta(minutes=5))
    with pytest.raises(DomainError) as refused:
        detect(platform.db, now=NOW, actor=SYSTEM, detector=_nothing, recompute_risk=False)
    assert refused.value.code == "ecommerce.detect_running" and f"监测批次 {running} 正在运行" in refused.value.message
    assert _runs(platform) == [(running, "running", None)]


def test_a_failed_run_frees_the_slot(platform: Platform) -> None:
    def broken(frames: Frames, now: dt.datetime) -> tuple[Sequence[Any], dict[str, float]]:
        raise RuntimeError("detector crashed")

    with pytest.raises(RuntimeError):
        detect(platform.db, now=NOW, actor=SYSTEM, detector=broken, recompute_risk=False)
    summary = detect(platform.db, now=NOW, actor=SYSTEM, detector=_nothing, recompute_risk=False)
    assert [status for _, status, _ in _runs(platform)] == ["failed", "finished"]
    assert _runs(platform)[1][0] == summary.run_id
