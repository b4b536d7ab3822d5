"""From what file size a second (reader) process pays for itself: ``records.pipeline.PARALLEL_FROM_BYTES``.

The same administrative-penalty files as bench/ingest.py, at several sizes, ingested into a fresh database
with the reader in this process (``parallel=False``) and in a second process (``parallel=True``); wall
seconds, median of ``--rounds``. A second process costs a fixed ~0.4 s to start (a fresh interpreter that
imports the reader's modules, polars among them; until session 23 ~0.6 s, when multiprocessing's spawn re-ran the
parent's main module — for ``chengxin`` the whole CLI — first) and then saves the reader's CPU on the writer's
core, so it wins only on files large enough.

    .venv/bin/python bench/ingest_threshold.py [--engine sqlite|postgresql] [--rows 5000,20000,50000,100000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, PG_ADMIN, fresh_database, key_dir, penalty_file  # noqa: E402

from chengxin.catalog.loader import load_catalog  # noqa: E402
from chengxin.core.audit import Actor  # noqa: E402
from chengxin.core.crypto import KeyRing  # noqa: E402
from chengxin.core.db import Database, make_engine  # noqa: E402
from chengxin.records.pipeline import PARALLEL_FROM_BYTES, ingest_file  # noqa: E402


def _seconds(engine: str, path: Path, parallel: bool, label: str) -> float:
    db = Database(make_engine(fresh_database(engine, label)))
    catalog, keyring = load_catalog(), KeyRing.open(key_dir())
    start = time.perf_counter()
    ingest_file(db, path, catalog=catalog, keyring=keyring, department="samr", item_code="admin_penalty",
                actor=Actor(kind="cli", name="bench"), channel="cli", today=dt.date(2026, 11, 25), parallel=parallel)
    seconds = time.perf_counter() - start
    db.engine.dispose()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", default="sqlite")
    parser.add_argument("--rows", default="5000,20000,50000,100000")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"engine {args.engine}; PARALLEL_FROM_BYTES now {PARALLEL_FROM_BYTES / 2**20:.0f} MiB")
    print(f"{'rows':>8} {'MiB':>6} {'in process s':>13} {'two processes s':>16} {'faster':>14}")
    for rows in (int(r) for r in args.rows.split(",")):
        path = penalty_file(rows)
        times: dict[bool, list[float]] = {False: [], True: []}
        for n in range(args.rounds):
            for parallel in (False, True):  # alternate: the machine's speed drifts
                times[parallel].append(_seconds(args.engine, path, parallel, f"threshold_{n}_{int(parallel)}"))
        one, two = statistics.median(times[False]), statistics.median(times[True])
        print(f"{rows:>8} {path.stat().st_size / 2**20:>6.1f} {one:>13.2f} {two:>16.2f} "
              f"{'two processes' if two < one else 'in process':>14}", flush=True)
    for stale in OUT.glob("threshold_*.db*"):
        stale.unlink()
    if args.engine == "postgresql":
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            for (name,) in admin.execute("SELECT datname FROM pg_database WHERE datname LIKE 'chengxin_bench_threshold_%'"):
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
