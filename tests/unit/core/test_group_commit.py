"""Group commit (core.group_commit) on the real database: units from many threads share transactions,
each caller returns only after its row is committed, and a failing unit loses nobody else's row."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

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


def test_every_caller_returns_after_its_own_row_is_committed(platform: Platform) -> None:
    seen_after_return: list[bool] = []

    def read_and_check(subject_id: int) -> None:
        row_id = platform.db.write_grouped(_log(subject_id))
        with platform.db.read() as session:  # another connection: only committed rows are visible
            seen_after_return.append(session.get(QueryLog, row_id) is not None)

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(read_and_check, range(1, 201)))
    assert seen_after_return == [True] * 200
    assert _count(platform) == 200


def test_units_queued_together_share_one_transaction(platform: Platform) -> None:
    started, release = threading.Event(), threading.Event()
    sessions: list[int] = []

    def blocker(session: Session) -> None:
        started.set()
        release.wait(10)

    def note_session(session: Session) -> None:
        sessions.append(id(session))

    with ThreadPoolExecutor(max_workers=21) as pool:
        first = pool.submit(platform.db.write_grouped, blocker)
        assert started.wait(10)
        rest = [pool.submit(platform.db.write_grouped, note_session) for _ in range(20)]
        while platform.db._grouped._queue.qsize() < 20:  # all queued behind the blocker
            threading.Event().wait(0.005)
        release.set()
        first.result(10)
        for f in rest:
            f.result(10)
    assert len(sessions) == 20
    assert len(set(sessions)) == 1  # twenty units, one transaction


def test_a_failing_unit_gets_its_error_and_the_others_keep_their_rows(platform: Platform) -> None:
    started, release = threading.Event(), threading.Event()

    def blocker(session: Session) -> None:
        started.set()
        release.wait(10)

    def failing(session: Session) -> None:
        log_query(session, subject_id=999, reader_kind="staff", reader_name="t", purpose="x", basis="x", channel="api")
        raise ValueError("这个单元出错")

    with ThreadPoolExecutor(max_workers=12) as pool:
        first = pool.submit(platform.db.write_grouped, blocker)
        assert started.wait(10)
        good = [pool.submit(platform.db.write_grouped, _log(i)) for i in range(1, 6)]
        bad = pool.submit(platform.db.write_grouped, failing)
        more = [pool.submit(platform.db.write_grouped, _log(i)) for i in range(6, 11)]
        while platform.db._grouped._queue.qsize() < 11:
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
