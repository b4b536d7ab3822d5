"""One measured run, in its own process so its peak RSS is its own: ingest FILE into DB, or the baseline."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pickle
import resource
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from chengxin.catalog.loader import load_catalog
from chengxin.core.audit import Actor
from chengxin.core.crypto import KeyRing
from chengxin.core.db import BulkWriter, Database, make_engine
from chengxin.core.settings import INGEST_CHUNK_ROWS
from chengxin.records.pipeline import ingest_file
from chengxin.records.reader import read_file
from chengxin.search.schema import GRAM_COUNT_TABLE, GRAM_TABLE, NAME_FTS_TABLE, NAME_FTS_UPKEEP


def run_ingest(url: str, keys: Path, path: Path) -> dict[str, Any]:
    catalog = load_catalog()
    db = Database(make_engine(url))
    keyring = KeyRing.open(keys)
    start = time.perf_counter()
    # The path `chengxin ingest FILE` takes: a reader process validates, this one writes.
    receipt = ingest_file(db, path, catalog=catalog, keyring=keyring, department="samr", item_code="admin_penalty",
                          actor=Actor(kind="cli", name="bench"), channel="cli", today=dt.date(2026, 11, 25))
    seconds = time.perf_counter() - start
    # SQLite: the batch's commit leaves its write-ahead log to be copied into the database file later (the CLI
    # does it after printing the receipt); the baseline's commit copies its own, so it is timed here too.
    db.checkpoint()
    checkpoint_seconds = time.perf_counter() - start - seconds
    return {"rows": receipt.received, "accepted": receipt.accepted, "rejected": receipt.rejected,
            "seconds": seconds, "checkpoint_seconds": checkpoint_seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "reader_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


class _Drain:
    """Stands for the pipe's write end: pickles what is sent, as ``Connection.send`` does, and keeps nothing."""

    def __init__(self) -> None:
        self.rows = 0

    def send(self, message: tuple[Any, ...]) -> None:
        pickle.dumps(message)
        if message[0] == "chunk":
            self.rows += len(message[1])
        elif message[0] in ("refused", "crash"):
            raise RuntimeError(f"the reader stopped: {message}")

    def close(self) -> None:
        pass


def run_reader(keys: Path, path: Path) -> dict[str, Any]:
    """The ingest's reader process alone (``records.reader.read_file``: parse, validate, encrypt, hash, pickle each
    chunk), in this process, its chunks dropped: the most rows a second the pipeline can be fed with one core
    reading, whatever the writer and the database do."""
    drain = _Drain()
    wall, cpu = time.perf_counter(), time.process_time()
    read_file(str(path), None, str(keys), "admin_penalty", "samr", dt.date(2026, 11, 25), INGEST_CHUNK_ROWS, None, path.name,
              drain)  # type: ignore[arg-type]
    return {"rows": drain.rows, "seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu}


TABLES = {
    "subject": ("id", "kind", "lookup_index", "id_cipher", "name_cipher", "name_index", "key_version",
                "display_id", "display_name", "created_at"),
    "record": ("id", "subject_id", "item_code", "department_code", "source_id", "version", "version_id", "status",
               "category", "severity", "decision_date", "content_hash", "updated_at"),
    "record_version": ("id", "record_id", "subject_id", "version", "change", "item_code", "item_version",
                       "department_code", "source_id", "status", "severity", "decision_date", "fields", "reason",
                       "batch_id", "created_at", "chain_hash"),
}
# The name index's rows are final rows too: copied as data, with the insert triggers deferred as the ingest
# defers them — else the baseline's subject insert would pay for cutting names into grams in SQL, which the
# ingest does not (bench/RESULTS.md, ingest, session 16).
NAME_INDEX = {
    "sqlite": {NAME_FTS_TABLE: ("rowid", "grams")},
    "postgresql": {GRAM_TABLE: ("gram", "subject_id"), GRAM_COUNT_TABLE: ("gram", "n")},
}
_DEFER_NAME_INDEX = {
    "sqlite": (f"UPDATE {NAME_FTS_UPKEEP} SET deferred = 1", f"UPDATE {NAME_FTS_UPKEEP} SET deferred = 0"),
    "postgresql": ("SET LOCAL chengxin.grams_deferred = on", "SET LOCAL chengxin.grams_deferred = off"),
}


def run_baseline(source_url: str, target_url: str) -> dict[str, Any]:
    """The same final rows, prepared in memory, written with a plain bulk insert / COPY: no validation,
    no encryption, no hashing — the floor the ingest is compared with."""
    source = Database(make_engine(source_url))
    tables = TABLES | NAME_INDEX[source.dialect]
    prepared: dict[str, list[tuple[Any, ...]]] = {}
    with source.engine.connect() as conn:
        for table, cols in tables.items():
            rows = conn.execute(text(f"SELECT {', '.join(cols)} FROM {table} ORDER BY {', '.join(cols[:2])}")).all()
            if source.dialect == "postgresql":
                idx = cols.index("fields") if "fields" in cols else -1
                prepared[table] = [tuple(json.dumps(v) if i == idx else v for i, v in enumerate(r)) for r in rows]
            else:
                prepared[table] = [tuple(r) for r in rows]
    rows_total = len(prepared["record_version"])
    target = Database(make_engine(target_url))
    start = time.perf_counter()
    defer, resume = _DEFER_NAME_INDEX[target.dialect]
    with target.write() as session:
        session.execute(text(defer))
        writer = BulkWriter(session)
        for table, cols in tables.items():
            for i in range(0, len(prepared[table]), 5000):
                writer.insert(table, cols, prepared[table][i : i + 5000])
        session.execute(text(resume))
    seconds = time.perf_counter() - start
    return {"rows": rows_total, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="")
    parser.add_argument("--keys", type=Path)
    parser.add_argument("--file", type=Path)
    parser.add_argument("--baseline-from")
    parser.add_argument("--reader-only", action="store_true")
    args = parser.parse_args()
    if args.reader_only:
        result = run_reader(args.keys, args.file)
    elif args.baseline_from:
        result = run_baseline(args.baseline_from, args.db)
    else:
        result = run_ingest(args.db, args.keys, args.file)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
