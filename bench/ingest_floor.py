"""The floor of this machine for the ingest targets of issue #2: how fast can it store a record at all?

Takes the ledger rows (``record_version``) a `bench/ingest.py` run left in bench/out/ingest_sqlite.db — real
rows of the benchmark file, fields as the ingest stored them — and writes them into the leanest table that
could hold them: the same columns, an integer primary key and **nothing else** (no record head, no subject,
no secondary index, no foreign key, no trigger), in one transaction, the way `BulkWriter` writes
(`executemany` on SQLite with the app's pragmas, `COPY` on PostgreSQL). Wall and CPU seconds of this process
(and, on PostgreSQL, of the server backend) per row, against the targets (50,000 rows/s on SQLite, 30,000 on
PostgreSQL: 20 / 33 µs a row for everything).

``--shape record``: the same table with what any record model needs to find records again — the unique key
(department, source id) that makes a submission idempotent and the subject's index — i.e. the cost of a
one-table record model (head and version in one row). ``--fields jsonb|json|text``: the PostgreSQL type of the
fields column (``jsonb`` until migration 0028, ``json`` since).

    .venv/bin/python bench/ingest.py --rows 1000000 --engines sqlite   # leaves bench/out/ingest_sqlite.db
    .venv/bin/python bench/ingest_floor.py [--engines sqlite,postgresql] [--rounds 2] [--shape pk|record]
                                           [--fields json]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, PG_ADMIN, proc_cpu  # noqa: E402
from ingest_run import TABLES  # noqa: E402

COLUMNS = TABLES["record_version"]
TARGET = {"sqlite": 50_000, "postgresql": 30_000}
_SQLITE_DDL = ("CREATE TABLE floor (id INTEGER PRIMARY KEY, record_id INTEGER, subject_id INTEGER, version INTEGER, "
               "change TEXT, item_code TEXT, item_version TEXT, department_code TEXT, source_id TEXT, status TEXT, "
               "severity TEXT, decision_date TEXT, fields TEXT, reason TEXT, batch_id INTEGER, created_at TEXT, "
               "chain_hash BLOB)")
_PG_DDL = ("CREATE TABLE floor (id bigint PRIMARY KEY, record_id bigint, subject_id bigint, version integer, "
           "change varchar(16), item_code varchar(64), item_version varchar(32), department_code varchar(64), "
           "source_id varchar(64), status varchar(16), severity varchar(16), decision_date date, fields jsonb, "
           "reason text, batch_id bigint, created_at timestamp, chain_hash bytea)")
_RECORD_INDEXES = ("CREATE UNIQUE INDEX floor_source ON floor (department_code, source_id)",
                   "CREATE INDEX floor_subject ON floor (subject_id)")


def _sqlite(rows: list[tuple[Any, ...]], shape: str) -> dict[str, float]:
    path = OUT / "floor.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536", "temp_store=MEMORY"):
        conn.execute(f"PRAGMA {pragma}")  # core.db.make_engine's
    conn.execute(_SQLITE_DDL)
    for ddl in _RECORD_INDEXES if shape == "record" else ():
        conn.execute(ddl)
    cpu, wall = time.process_time(), time.perf_counter()
    conn.execute("BEGIN")
    insert = f"INSERT INTO floor ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    for start in range(0, len(rows), 5000):
        conn.executemany(insert, rows[start : start + 5000])
    conn.execute("COMMIT")
    result = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "server": 0.0}
    conn.close()
    return result


def _postgresql(rows: list[tuple[Any, ...]], shape: str, fields: str) -> dict[str, float]:
    name = "chengxin_bench_floor"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(url) as conn:
        conn.execute(_PG_DDL.replace("fields jsonb", f"fields {fields}"))
        for ddl in _RECORD_INDEXES if shape == "record" else ():
            conn.execute(ddl)
        conn.commit()
        backend = conn.info.backend_pid
        server, cpu, wall = proc_cpu(backend), time.process_time(), time.perf_counter()
        with conn.cursor() as cur:
            for start in range(0, len(rows), 5000):
                with cur.copy(f"COPY floor ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    for row in rows[start : start + 5000]:
                        copy.write_row(row)
        conn.commit()
        result = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                  "server": proc_cpu(backend) - server}
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--shape", choices=("pk", "record"), default="pk")
    parser.add_argument("--fields", choices=("jsonb", "json", "text"), default="json")
    args = parser.parse_args()
    source = sqlite3.connect(OUT / "ingest_sqlite.db")
    rows = source.execute(f"SELECT {', '.join(COLUMNS)} FROM record_version ORDER BY id").fetchall()
    source.close()
    n = len(rows)
    mean_fields = sum(len(r[COLUMNS.index("fields")].encode()) for r in rows[:10000]) / min(n, 10000)
    keys = "primary key only" if args.shape == "pk" else "primary key, unique (department, source id), subject index"
    print(f"{n} ledger rows (fields ~{mean_fields:.0f} bytes of JSON), one table, {keys}; PostgreSQL fields {args.fields}")
    print(f"{'engine':<11} {'wall s':>7} {'rows/s':>8} {'µs/row':>7} {'client CPU µs':>14} {'server CPU µs':>14} "
          f"{'target rows/s':>14}")
    for _ in range(args.rounds):
        for engine in args.engines.split(","):
            r = _sqlite(rows, args.shape) if engine == "sqlite" else _postgresql(rows, args.shape, args.fields)
            print(f"{engine:<11} {r['wall']:7.1f} {n / r['wall']:8.0f} {r['wall'] / n * 1e6:7.1f} "
                  f"{r['cpu'] / n * 1e6:14.1f} {r['server'] / n * 1e6:14.1f} {TARGET[engine]:14,}", flush=True)


if __name__ == "__main__":
    main()
