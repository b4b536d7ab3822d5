"""Group commit: small write units from many request threads share one transaction and one commit.

Why: a government read must not answer before its query-log row is committed (the log must survive a
crash once the file has left), so every such read used to commit on its own — at 200 reads/s, 200
commits/s. On SQLite each commit takes the database's single write lock, and a thread that finds it
taken sleeps in SQLite's busy handler (1, 2, 5 … 100 ms back-off), which is where the read's tail came
from (bench/RESULTS.md, "Subject file over HTTP"). Here one writer thread takes every unit waiting, runs them in one transaction and commits once;
each caller blocks until the transaction holding its unit is committed, so a unit is exactly as durable
as with its own commit — only cheaper, and writers queue in Python instead of sleeping in SQLite.
``Database.write_grouped`` uses it on SQLite only: PostgreSQL has no single writer and already shares a WAL
flush between concurrent commits, and there the hand-off to this thread cost more than it saved.
``Database.append_async`` (the government read's log row, from the event loop) commits its row itself when the
write lock is free and comes here only when another writer holds it, so the event loop never waits for the lock.

A unit that raises is isolated: the shared transaction is rolled back and its units are run again one
by one, each in its own transaction, so one bad unit never loses the others' rows and its caller gets
its own exception.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from chengxin.core.db import Database

T = TypeVar("T")
Unit = Callable[[Session], Any]

MAX_UNITS = 512  # per transaction: bounds the transaction, not the queue
IDLE_SECONDS = 30.0  # the writer thread ends after this long without work (restarted on demand)


class GroupCommitter:
    """Runs write units for one :class:`Database` in shared transactions (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._queue: queue.SimpleQueue[tuple[Unit, Future[Any]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def run(self, unit: Callable[[Session], T]) -> T:
        """Run ``unit(session)`` in a write transaction; return its result once that transaction committed."""
        return self.submit(unit).result()

    def submit(self, unit: Callable[[Session], T]) -> Future[T]:
        """Queue ``unit``; the future is done once the transaction holding it has committed (or it failed)."""
        future: Future[T] = Future()
        self._queue.put((unit, future))
        self._ensure_writer()
        return future

    def _ensure_writer(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._write_loop, name="chengxin-group-commit", daemon=True)
                self._thread.start()

    def _write_loop(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    # A unit queued after the timeout but before this line is picked up by a new writer:
                    # _ensure_writer sees this thread ending only once the lock is released.
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            batch = [first]
            while len(batch) < MAX_UNITS:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._commit(batch)

    def _commit(self, batch: list[tuple[Unit, Future[Any]]]) -> None:
        live = [(unit, future) for unit, future in batch if future.set_running_or_notify_cancel()]
        results: list[Any] = []
        try:
            with self._db.write() as session:
                for unit, _ in live:
                    results.append(unit(session))
                    session.flush()
        except BaseException:  # noqa: BLE001 — isolate the failing unit: each again on its own
            for unit, future in live:
                try:
                    with self._db.write() as session:
                        result = unit(session)
                    future.set_result(result)
                except BaseException as exc:  # noqa: BLE001 — the caller re-raises it
                    future.set_exception(exc)
            return
        for (_, future), result in zip(live, results, strict=True):
            future.set_result(result)
