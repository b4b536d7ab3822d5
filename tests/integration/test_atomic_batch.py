"""A batch is atomic: kill the ingest process half way, and the database holds none of it;
re-running the same file gives the same final state as one clean run."""

from __future__ import annotations

import csv
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from chengxin.catalog.rules import template_columns
from chengxin.platform import Platform
from chengxin.records.models import IngestBatch, Record, RecordVersion
from factories import valid_row

ROWS = 8_000  # ten chunks of CHUNK_ROWS: big enough that the kill lands mid-file, small enough for CI
CHUNK_ROWS = 800


def _write_csv(platform: Platform, path: Path) -> None:
    version = platform.catalog.item("admin_penalty").version_on(dt.date(2025, 9, 1))
    assert version is not None
    columns = template_columns(platform.catalog.item("admin_penalty").latest)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([c.label_zh for c in columns])
        for n in range(1, ROWS + 1):
            row = valid_row(version, n, person=n % 3 == 0, subject_name="张三" if n % 3 == 0 else f"常州{n}公司")
            writer.writerow(["" if row.get(c.code) is None else row.get(c.code) for c in columns])


def _env(platform: Platform) -> dict[str, str]:
    return {
        **os.environ,
        "CHENGXIN_DATABASE_URL": platform.db.engine.url.render_as_string(hide_password=False),
        "CHENGXIN_KEY_DIR": str(platform.keyring.key_dir),
        "CHENGXIN_INGEST_CHUNK_ROWS": str(CHUNK_ROWS),
    }


def _ingest_process(platform: Platform, path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "chengxin.cli.main", "ingest", str(path), "-d", "samr", "-i", "admin_penalty"],
        env=_env(platform), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def _gone_within(pid: int, *, seconds: float) -> bool:
    """Whether process ``pid`` exits (or is a zombie nobody reaped) within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.1)
    return False


def _state(platform: Platform) -> tuple[set[tuple[object, ...]], set[tuple[object, ...]]]:
    """What a clean run leaves, without ids, times and ciphertexts (random nonces)."""
    with platform.db.read() as s:
        records = {
            (r.department_code, r.source_id, r.version, r.status, r.severity, r.decision_date, r.content_hash)
            for r in s.execute(select(Record)).scalars()
        }
        versions = {
            (v.source_id, v.version, v.change, v.status, v.item_version,
             repr(sorted((k, x if not isinstance(x, dict) else x["masked"]) for k, x in v.fields.items())))
            for v in s.execute(select(RecordVersion)).scalars()
        }
    return records, versions


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["inline", "parallel"])
def test_killed_ingest_leaves_nothing_and_a_rerun_equals_a_clean_run(platform: Platform, tmp_path: Path,
                                                                      mode: str) -> None:
    from tests_support import empty_all_tables

    path = tmp_path / "penalties.csv"
    _write_csv(platform, path)

    clean = _ingest_process(platform, path)
    _, err = clean.communicate(timeout=600)
    assert clean.returncode == 0, err.decode()
    clean_state = _state(platform)
    assert len(clean_state[0]) == ROWS

    empty_all_tables(platform.db)
    # Half way: 5 of the 10 chunks are written inside the open transaction.
    # Not subprocess.run: it would wait for the end of the output, which a reader left behind keeps open.
    errors = tmp_path / "victim.err"
    with errors.open("wb") as err_file:
        victim = subprocess.Popen([sys.executable, str(Path(__file__).parent / "kill_midway.py"), str(path), "5", mode],
                                  env=_env(platform), stdout=subprocess.PIPE, stderr=err_file)
        assert victim.stdout is not None
        with victim.stdout:
            readers = [int(pid) for pid in victim.stdout.readline().split()]
            assert victim.wait(timeout=600) == -signal.SIGKILL, errors.read_text()
    assert len(readers) == (1 if mode == "parallel" else 0)
    for pid in readers:  # a reader left behind would go on reading a file nobody writes
        assert _gone_within(pid, seconds=30), f"reader process {pid} outlived its killed writer"
    with platform.db.read() as s:
        assert s.execute(select(Record.id).limit(1)).first() is None
        assert s.execute(select(RecordVersion.id).limit(1)).first() is None
        assert s.execute(select(IngestBatch.id).limit(1)).first() is None

    rerun = _ingest_process(platform, path)
    _, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err.decode()
    assert _state(platform) == clean_state
