"""Group commit (core.group_commit) on the real database: units from many threads share transactions,
each caller returns only after its row is committed, and a failing unit loses nobody else's row. The
committer is exercised on both engines; ``Database.write_grouped`` uses it on SQLite only (on PostgreSQL a
unit commits in its caller's own transaction — the last test)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chengxin.core.group_commit import GroupCommitter
from chengxin.disclosure.models import QueryLog
from chengxin.disclosure.service import log_query
from chengxin.platform import Platform


def _log(subject_id: int) -> Callable[[Session], int]:
    def unit(session: Session) -> int:
        return log_query(session, subject_id=subject_id, reader_kind="staff", reader_name="t", purpose="测试",
                         basis="测试", channel="api")

    return unit


def _count(platform: Platform) -> int:
    with platform.db.read() as session:
        return int(session.execute(select(func.count()).select_from(QueryLog)).scalar_one())


@pytest.fixture()
def committer(platform: Platform) -> GroupCommitter:
    return GroupCommitter(platform.db)


@pytest.mark.parametrize("through", ["committer", "write_grouped"])
def test_every_caller_returns_after_its_own_row_is_committed(platform: Platform, committer: GroupCommitter,
                                                             through: str) -> None:
    seen_after_return: list[bool] = []
    run = committer.run if through == "committer" else platform.db.write_grouped

    def read_and_check(subject_id: int) -> None:
        row_id = run(_log(subject_id))
        with platform.db.read() as session:  # another connection: only committed rows are visible
            seen_after_return.append(session.get(QueryLog, row_id) is not None)

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(read_and_check, range(1, 201)))
    assert seen_after_return == [True] * 200
    assert _count(platform) == 200


def test_units_queued_together_share_one_transaction(platform: Platform, committer: GroupCommitter) -> None:
    started, release = threading.Event(), threading.Event()
    sessions: list[int] = []

    def blocker(session: Session) -> None:
        started.set()
        release.wait(10)

    def note_session(session: Session) -> None:
        sessions.append(id(session))

    with ThreadPoolExecutor(max_workers=21) as pool:
        first = pool.submit(committer.run, blocker)
        assert started.wait(10)
        rest = [pool.submit(committer.run, note_session) for _ in range(20)]
        while committer._queue.qsize() < 20:  # all queued behind the blocker
            threading.Event().wait(0.005)
        release.set()
        first.result(10)
        for f in rest:
            f.result(10)
    assert len(sessions) == 20
    assert len(set(sessions)) == 1  # twenty units, one transaction


def test_a_failing_unit_gets_its_error_and_the_others_keep_their_rows(platform: Platform,
                                                                      committer: GroupCommitter) -> None:
    started, release = threading.Event(), threading.Event()

    def blocker(session: Session) -> None:
        started.set()
        release.wait(10)

    def failing(session: Session) -> None:
        log_query(session, subject_id=999, reader_kind="staff", reader_name="t", purpose="x", basis="x", channel="api")
        raise ValueError("这个单元出错")

    with ThreadPoolExecutor(max_workers=12) as pool:
        first = pool.submit(committer.run, blocker)
        assert started.wait(10)
        good = [pool.submit(committer.run, _log(i)) for i in range(1, 6)]
        bad = pool.submit(committer.run, failing)
        more = [pool.submit(committer.run, _log(i)) for i in range(6, 11)]
        while committer._queue.qsize() < 11:
            threading.Event().wait(0.005)
        release.set()
        first.result(10)
        with pytest.raises(ValueError, match="这个单元出错"):
            bad.result(10)
        ids = [f.result(10) for f in good + more]
    assert len(set(ids)) == 10
    with platform.db.read() as session:
        subjects = sorted(session.execute(select(QueryLog.subject_id)).scalars())
    assert subjects == list(range(1, 11))  # the failing unit's own row was rolled back, nobody else's


def test_write_grouped_commits_through_the_writer_thread_on_sqlite_only(platform: Platform) -> None:
    """SQLite has one writer: units queue for the group commit's thread. PostgreSQL commits a unit in the
    caller's thread and transaction (the server shares WAL flushes between concurrent commits itself)."""
    ran_in: list[str] = []

    def unit(session: Session) -> int:
        ran_in.append(threading.current_thread().name)
        return _log(1)(session)

    platform.db.write_grouped(unit)
    if platform.db.dialect == "postgresql":
        assert ran_in == [threading.current_thread().name]
    else:
        assert ran_in == ["chengxin-group-commit"]
    assert _count(platform) == 1
