"""Why the ingest's writer does not hand its inserts to a thread: the GIL convoy.

The writer's Python (ids, chain hashes, rows) and the database's own work (SQLite's B-trees, PostgreSQL's
COPY) run one after the other in one thread. Overlapping them with a second thread looks free — ``sqlite3``
releases the GIL around every ``sqlite3_step`` — but each step must then win the GIL back from a busy thread,
which takes up to the switch interval (5 ms). This measures 200,000 inserts alone and with a busy main thread.

    .venv/bin/python bench/gil_convoy.py
"""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT  # noqa: E402

ROWS = [(i, "samr", f"CZ-{i:08d}", i % 50_000, "x" * 400) for i in range(200_000)]


def insert_all() -> float:
    path = OUT / "gil_convoy.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, department TEXT, source_id TEXT, subject INT, f TEXT)")
    conn.execute("CREATE UNIQUE INDEX t_source ON t (department, source_id)")
    conn.execute("CREATE INDEX t_subject ON t (subject)")
    start = time.perf_counter()
    conn.execute("BEGIN")
    for i in range(0, len(ROWS), 5000):
        conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?)", ROWS[i : i + 5000])
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - start


def with_busy_main_thread() -> float:
    done = threading.Event()
    result: list[float] = []

    def worker() -> None:
        result.append(insert_all())
        done.set()

    thread = threading.Thread(target=worker)
    thread.start()
    while not done.is_set():  # the writer's Python: pure CPU, never waiting
        rows = {}
        for i in range(1000):
            rows[i] = (i, str(i))
    thread.join()
    return result[0]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"200,000 inserts alone: {insert_all():.2f} s")
    print(f"in a thread, main thread busy (switch interval {sys.getswitchinterval() * 1000:.0f} ms): "
          f"{with_busy_main_thread():.2f} s")
    sys.setswitchinterval(0.0005)
    print(f"the same, switch interval 0.5 ms: {with_busy_main_thread():.2f} s")
    for suffix in ("", "-wal", "-shm"):
        Path(str(OUT / "gil_convoy.db") + suffix).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
