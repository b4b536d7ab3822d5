"""The check log, written behind the request: a queue and a writer thread flushing every ~50 ms.

Why: the credit check is called inline in departments' business flows (issue #5: 1,000 req/s, p99 under
20 ms). A write transaction per check would serialise every check on SQLite's write lock and cost a
commit each on PostgreSQL. Instead the request puts its rows (the ``credit_check`` row and, for a
person, the ``query_log`` row) on a queue and answers; a writer thread writes everything queued in one
transaction every ``interval`` seconds.

What a crash can lose: a hard crash (kill -9, power loss) loses the checks answered in the last
interval (~50 ms) that were not yet written — their answers were given but neither the check log nor
the person's query log has them. A normal shutdown (SIGINT/SIGTERM, the app's shutdown event, interpreter
exit) flushes the queue first. ``CHENGXIN_CHECK_LOG=sync`` (settings.check_log) writes in the request instead (no window;
slower — bench/check_api.py measures both). A write that fails is retried on the next flush; after
3 failures its rows are logged to the ``chengxin.checks`` logger (masked forms only) and dropped.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

import orjson

from chengxin.core.db import BulkWriter, Database
from chengxin.core.memory import right_sized

log = logging.getLogger("chengxin.checks")

Rows = tuple[list[dict[str, Any]], list[dict[str, Any]]]  # credit_check rows, query_log rows



CHECK_COLUMNS = ("id", "at", "day", "department_code", "caller", "scenario", "subject_id", "subject_kind",
                 "display_id", "found", "hit", "lists", "measures", "batch_id", "row_no")
READ_COLUMNS = ("at", "subject_id", "reader_kind", "reader_name", "reader_department", "requester_uscc", "purpose",
                "basis", "channel", "detail")


def _json_adapter(dialect: str) -> Callable[[Any], Any]:
    """JSON text as :meth:`BulkWriter.insert` takes it: UTF-8 bytes for PostgreSQL's COPY (right-sized: a batch
    check holds two a row for 20,000 rows, and orjson's own buffers are ~4 KiB each), ``str`` for SQLite."""
    if dialect == "postgresql":
        return lambda value: right_sized(orjson.dumps(value))
    return lambda value: orjson.dumps(value).decode()


def insert_rows(bulk: BulkWriter, checks: list[dict[str, Any]], reads: list[dict[str, Any]],
                batch_id: int | None = None) -> None:
    """Check rows (``Checker.log_row``) and query-log rows (``Checker.query_log_row``) straight to the driver
    (executemany / COPY) with values already in the column's stored form: SQLAlchemy's per-row processing was
    most of the writer thread's time, taken from the requests it shares the process with (bench/RESULTS.md).
    ``batch_id`` sets every check row's batch (a batch check writes its rows before it knows its id)."""
    as_json = _json_adapter(bulk.dialect)
    bulk.insert("credit_check", CHECK_COLUMNS, [
        (c["id"], bulk.datetime(c["at"]), bulk.date(c["day"]), c["department_code"], c["caller"], c["scenario"],
         c["subject_id"], c["subject_kind"], c["display_id"], c["found"], c["hit"], as_json(c["lists"]),
         as_json(c["measures"]), c["batch_id"] if batch_id is None else batch_id, c["row_no"]) for c in checks])
    bulk.insert("query_log", READ_COLUMNS, [
        (bulk.datetime(r["at"]), r["subject_id"], r["reader_kind"], r["reader_name"], r["reader_department"],
         r["requester_uscc"], r["purpose"], r["basis"], r["channel"], as_json(r["detail"])) for r in reads])


def write_rows(db: Database, checks: list[dict[str, Any]], reads: list[dict[str, Any]]) -> None:
    """Insert check rows and query-log rows in one transaction."""
    if not checks and not reads:
        return
    with db.write() as session:
        insert_rows(BulkWriter(session), checks, reads)


class CheckLog:
    """Collects check rows and writes them in batches (``mode="batch"``) or at once (``mode="sync"``)."""

    def __init__(self, db: Database, *, mode: str = "batch", interval: float = 0.05,
                 writer: Callable[[Database, list[dict[str, Any]], list[dict[str, Any]]], None] = write_rows) -> None:
        self.db, self.mode, self.interval, self._write = db, mode, interval, writer
        self._queue: queue.SimpleQueue[Rows] = queue.SimpleQueue()
        self._lock = threading.Lock()  # one writer at a time (the thread, or a flush from a request)
        self._retry: list[tuple[int, Rows]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if mode == "batch":
            self._thread = threading.Thread(target=self._run, name="chengxin-check-log", daemon=True)
            self._thread.start()
            atexit.register(self.close)

    def submit(self, checks: list[dict[str, Any]], reads: list[dict[str, Any]]) -> None:
        if self.mode == "sync":
            self._write(self.db, checks, reads)
        else:
            self._queue.put((checks, reads))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()

    def flush(self) -> int:
        """Write everything queued now; returns the number of check rows written."""
        with self._lock:
            checks: list[dict[str, Any]] = []
            reads: list[dict[str, Any]] = []
            attempts = 0
            for tries, (c, r) in self._retry:
                checks += c
                reads += r
                attempts = max(attempts, tries)
            self._retry = []
            while True:
                try:
                    c, r = self._queue.get_nowait()
                except queue.Empty:
                    break
                checks += c
                reads += r
            if not checks and not reads:
                return 0
            try:
                self._write(self.db, checks, reads)
            except Exception:
                if attempts + 1 >= 3:
                    log.exception("check log: %d checks and %d query-log rows dropped after 3 failed writes (ids %s)",
                                  len(checks), len(reads), [c.get("id") for c in checks][:20])
                else:
                    log.exception("check log: write failed, will retry (%d rows)", len(checks))
                    self._retry.append((attempts + 1, (checks, reads)))
                return 0
            return len(checks)

    def close(self) -> None:
        """Stop the writer thread and flush what is left (shutdown)."""
        self._stop.set()
        if self._thread is not None and self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)
        self.flush()
