"""Connection handling that keeps round trips off hot reads without losing robustness: PostgreSQL's idle-only
ping, reads outside a transaction, and SQLite's background WAL checkpoints."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import exc, text

from chengxin.core.db import Database, make_engine
from chengxin.platform import Platform


def _url(platform: Platform) -> str:
    assert platform.db.dialect == "postgresql"  # marked postgresql_only: deselected on the SQLite run
    return platform.db.engine.url.render_as_string(hide_password=False)


def _terminate(platform: Platform, pid: int) -> None:
    """The server ends the backend, as a restart or an idle timeout would; wait until it is gone."""
    # autocommit: inside one transaction pg_stat_activity is a snapshot taken at its first read
    with platform.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        for _ in range(200):
            alive = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid})
            if not alive.scalar_one():
                return
            time.sleep(0.01)
    raise AssertionError(f"backend {pid} did not end")


@pytest.mark.postgresql_only
@pytest.mark.parametrize(("ping_after_idle", "recovers"), [(0.0, True), (3600.0, False)])
def test_a_pooled_connection_killed_while_idle_is_replaced_only_when_pinged(
    platform: Platform, ping_after_idle: float, recovers: bool
) -> None:
    """Idle long enough, a pooled connection is pinged at checkout and a dead one replaced; used a moment ago,
    it is not pinged (the round trip saved) — which the second case proves by finding the dead connection."""
    url = _url(platform)
    engine = make_engine(url, ping_after_idle=ping_after_idle, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        _terminate(platform, pid)
        if recovers:
            with engine.connect() as conn:
                assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
        else:
            with pytest.raises(exc.DBAPIError), engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            with engine.connect() as conn:  # SQLAlchemy's disconnect handling reset the pool
                assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


@pytest.mark.postgresql_only
def test_a_read_without_snapshot_runs_each_statement_on_its_own(platform: Platform) -> None:
    """``read(snapshot=False)``: no transaction (each statement is its own, so its transaction starts with it);
    the connection goes back to the pool transactional for the next ordinary read."""
    _url(platform)
    single = text("SELECT transaction_timestamp() = statement_timestamp()")
    for snapshot, own_transaction in ((False, True), (True, False), (False, True), (True, False)):
        with platform.db.read(snapshot=snapshot) as session:
            session.execute(text("SELECT pg_sleep(0.02)"))
            assert session.execute(single).scalar_one() is own_transaction, snapshot


def test_the_served_sqlite_database_is_checkpointed_in_the_background(tmp_path: Path) -> None:
    """Rows committed reach the database file itself without SQLite's auto-checkpoint (which would wait for
    1,000 pages, inside some request's commit): the main file copied alone, without its log, holds them."""
    path = tmp_path / "served.db"
    db = Database(make_engine(f"sqlite:///{path}"))
    with db.write() as session:
        session.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
        session.execute(text("INSERT INTO note (body) VALUES ('甲'), ('乙')"))
    copy = tmp_path / "alone.db"
    shutil.copyfile(path, copy)
    with pytest.raises(sqlite3.OperationalError):  # before: the table is only in the write-ahead log
        sqlite3.connect(copy).execute("SELECT count(*) FROM note").fetchone()
    db.checkpoint_in_background(0.02)
    checkpointer = db._checkpointer
    assert checkpointer is not None
    deadline = time.monotonic() + 10
    while checkpointer.checkpoints < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert checkpointer.checkpoints >= 2
    copy.unlink()
    shutil.copyfile(path, copy)
    assert sqlite3.connect(copy).execute("SELECT count(*) FROM note").fetchone() == (2,)
    db.checkpoint_in_background(0.02)  # idempotent: still the one thread
    assert db._checkpointer is checkpointer
    db.engine.dispose()


def test_no_checkpointer_for_postgresql_or_a_zero_interval(platform: Platform, tmp_path: Path) -> None:
    databases = [(Database(make_engine(f"sqlite:///{tmp_path / 'quiet.db'}")), 0.0)]
    if platform.db.dialect == "postgresql":
        databases.append((Database(make_engine(platform.db.engine.url.render_as_string(hide_password=False))), 0.5))
    for db, interval in databases:
        db.checkpoint_in_background(interval)
        assert db._checkpointer is None, db.engine.url
        db.engine.dispose()


def test_write_sessions_of_two_databases_on_one_file_take_turns(tmp_path: Path) -> None:
    """Two ``chengxin serve`` workers are two engines on one file: concurrent write transactions from both
    all commit (none fails with 'database is locked'), one at a time."""
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "workers.db"
    first, second = (Database(make_engine(f"sqlite:///{path}")) for _ in range(2))
    with first.write() as session:
        session.execute(text("CREATE TABLE t (worker INTEGER, n INTEGER)"))

    def write(args: tuple[Database, int, int]) -> None:
        db, worker, n = args
        with db.write() as session:
            session.execute(text("INSERT INTO t VALUES (:w, :n)"), {"w": worker, "n": n})
            time.sleep(0.001)  # hold the lock a little, as a group commit does

    jobs = [(first if n % 2 else second, n % 2, n) for n in range(200)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, jobs))
    with first.read() as session:
        assert session.execute(text("SELECT count(*), count(DISTINCT n) FROM t")).one() == (200, 200)
    first.engine.dispose()
    second.engine.dispose()
