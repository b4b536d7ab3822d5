"""``Database.append_async``: one row of an append-only log, committed before the await returns — the
government read's query-log row. On the real database, both engines: the row reads back as the ORM would
have written it, many appends at once on one event loop all land, a bad row raises and spoils nothing, and
(SQLite) while another writer holds the lock the event loop is not blocked: the row waits in the group
commit and lands once the lock is free."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy import select, text

from chengxin.core.db import utcnow
from chengxin.disclosure.models import QueryLog
from chengxin.disclosure.service import query_log_row
from chengxin.platform import Platform

TABLE: Any = QueryLog.__table__


def _row(subject_id: int, **kw: Any) -> dict[str, Any]:
    return query_log_row(subject_id=subject_id, reader_kind="api_key", reader_name="k1", purpose="行政许可审查",
                         basis="政务共享", channel="api", reader_department="samr", **kw)


def _logged(platform: Platform) -> list[QueryLog]:
    with platform.db.read() as session:  # another connection: only committed rows are visible
        return list(session.execute(select(QueryLog).order_by(QueryLog.id)).scalars())


def test_an_appended_row_is_committed_and_reads_back_as_written(platform: Platform) -> None:
    before = utcnow()
    asyncio.run(platform.db.append_async(TABLE, _row(7, detail={"audience": "government", "items": 3, "页": "一"})))
    [row] = _logged(platform)
    assert (row.subject_id, row.reader_kind, row.reader_name, row.reader_department, row.requester_uscc) == (
        7, "api_key", "k1", "samr", None)
    assert (row.purpose, row.basis, row.channel) == ("行政许可审查", "政务共享", "api")
    assert row.detail == {"audience": "government", "items": 3, "页": "一"}
    assert row.at.tzinfo is not None and before - dt.timedelta(seconds=1) <= row.at <= utcnow()


def test_many_appends_at_once_on_one_loop_all_land(platform: Platform) -> None:
    async def main() -> None:
        await asyncio.gather(*(platform.db.append_async(TABLE, _row(n)) for n in range(1, 101)))

    asyncio.run(main())
    assert sorted(r.subject_id for r in _logged(platform)) == list(range(1, 101))


def test_a_bad_row_raises_and_the_next_one_lands(platform: Platform) -> None:
    with pytest.raises(ValueError, match="missing"):
        asyncio.run(platform.db.append_async(TABLE, {"subject_id": 1}))
    with pytest.raises(Exception, match="(?i)not[ -]null"):
        asyncio.run(platform.db.append_async(TABLE, {**_row(1), "purpose": None}))
    asyncio.run(platform.db.append_async(TABLE, _row(2)))
    assert [r.subject_id for r in _logged(platform)] == [2]


def test_while_another_writer_holds_the_lock_the_loop_keeps_running(platform: Platform) -> None:
    """An ingest can hold SQLite's write lock for a minute: the append must not block the event loop (every
    request of the worker) meanwhile. PostgreSQL takes no table lock for an insert: the append lands while
    the other transaction is still open."""
    locked, release = threading.Event(), threading.Event()

    def hold_write_lock() -> None:
        with platform.db.write() as session:  # BEGIN IMMEDIATE on SQLite: the single write lock
            session.execute(text("SELECT 1"))
            locked.set()
            release.wait(10)

    holder = threading.Thread(target=hold_write_lock)
    holder.start()
    assert locked.wait(10)

    async def main() -> tuple[int, bool]:
        ticks = 0
        append = asyncio.ensure_future(platform.db.append_async(TABLE, _row(5)))
        for _ in range(20):  # the loop runs other work while the row waits (or has landed)
            await asyncio.sleep(0.005)
            ticks += 1
        done_while_locked = append.done()
        release.set()
        await asyncio.wait_for(append, 10)
        return ticks, done_while_locked

    try:
        ticks, done_while_locked = asyncio.run(main())
    finally:
        release.set()
        holder.join(10)
    assert ticks == 20
    assert done_while_locked is (platform.db.dialect == "postgresql")
    assert [r.subject_id for r in _logged(platform)] == [5]
