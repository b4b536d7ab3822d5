"""Where an ingest's CPU goes, per process: the writer (this process), the reader process and, on
PostgreSQL, the server backend of the writing connection — CPU seconds, which stay comparable on a
machine shared with other work where wall clock does not.

    .venv/bin/python bench/ingest_cpu.py --rows 200000 --engine sqlite [--profile out.prof [--wall]] [--label x]

Run old and new code alternately (``PYTHONPATH=/tmp/before/src`` for the old one) and compare the
``writer`` column (``writer_threads_cpu_s`` splits it by thread: the writer's own and its insert thread);
``--profile`` writes a cProfile of the writing process (the reader is not profiled), of its
CPU time or, with ``--wall``, of wall-clock time.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import resource
import sys
import time
from pathlib import Path

from sqlalchemy import event, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ThreadCpu, fresh_database, key_dir, penalty_file, proc_cpu  # noqa: E402

from chengxin.catalog.loader import load_catalog  # noqa: E402
from chengxin.core.audit import Actor  # noqa: E402
from chengxin.core.crypto import KeyRing  # noqa: E402
from chengxin.core.db import Database, make_engine  # noqa: E402
from chengxin.records.pipeline import ingest_file  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--engine", default="sqlite")
    parser.add_argument("--profile")
    parser.add_argument("--wall", action="store_true", help="profile wall-clock time instead of CPU time")
    parser.add_argument("--label", default="e_cpu")
    args = parser.parse_args()
    path = penalty_file(args.rows)
    url = fresh_database(args.engine, f"{args.label}_{args.engine}")
    db = Database(make_engine(url))
    backends: set[int] = set()
    if db.dialect == "postgresql":
        @event.listens_for(db.engine, "connect")
        def _note_backend(dbapi: object, _record: object) -> None:
            with dbapi.cursor() as cur:  # type: ignore[attr-defined]
                cur.execute("SELECT pg_backend_pid()")
                backends.add(cur.fetchone()[0])
    with db.engine.connect() as conn:  # open the pooled connection (and note its backend) before timing
        conn.execute(text("SELECT 1"))
    backend_before = {pid: proc_cpu(pid) for pid in backends}
    catalog, keyring = load_catalog(), KeyRing.open(key_dir())
    # CPU time by default (waits on the server are not the writer's cost); --wall: wall-clock time, where the
    # writer's waits on the server show up (psycopg's ``wait``) — how session 14 found the writer and the
    # server taking turns rather than working side by side.
    timer = time.perf_counter if args.wall else time.process_time
    profiler = cProfile.Profile(timer) if args.profile else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    with ThreadCpu() as threads:
        receipt = ingest_file(db, path, catalog=catalog, keyring=keyring, department="samr", item_code="admin_penalty",
                              actor=Actor(kind="cli", name="bench"), channel="cli", today=dt.date(2026, 11, 25))
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
    writer_cpu, seconds = time.process_time() - cpu, time.perf_counter() - wall
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    backend = sum(proc_cpu(pid) - backend_before.get(pid, 0.0) for pid in backends)
    print(json.dumps({
        "engine": args.engine, "rows": receipt.received, "accepted": receipt.accepted, "wall_s": round(seconds, 2),
        "rows_per_s": round(receipt.received / seconds), "writer_cpu_s": round(writer_cpu, 2),
        "reader_cpu_s": round(children.ru_utime + children.ru_stime, 2), "backend_cpu_s": round(backend, 2),
        "writer_threads_cpu_s": threads.by_name(), "load": os.getloadavg()[0],
    }))


if __name__ == "__main__":
    main()
