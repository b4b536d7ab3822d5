"""Benchmark: a batch check of 100,000 subjects (the CLI's path: file → result), on the check_api database.

    .venv/bin/python bench/check_batch.py --engine sqlite|postgresql [--subjects 1000000] [--rows 100000]
                                          [--format csv|xlsx|jsonl]

Target (issue #5): 100,000 subjects in under 30 s. The file: ``rows`` identifiers drawn uniformly from the
database of bench/check_api.py (built there if missing), 5% unregistered codes and 1% broken ones (bad check
characters, empty cells), in the format asked. Timed: ``checks.batch.run_batch`` end to end (read and validate
the file, blind indexes, chunked look-ups, answers, the batch's check rows and query-log rows written in one
transaction, the encrypted result), then the result file's decryption.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_api  # noqa: E402
from lookup import identity  # noqa: E402

from chengxin.core.identifiers import make_uscc  # noqa: E402


def make_file(path: Path, subjects: int, rows: int, fmt: str) -> None:
    rng = random.Random(3)
    values = []
    for i in range(rows):
        r = rng.random()
        if r < 0.01:
            values.append("" if i % 2 else "91320400MA1MXXXX01")
        elif r < 0.06:
            values.append(make_uscc("9", "1", "320500", f"{rng.randrange(10**8):08d}"))
        else:
            values.append(identity(rng.randrange(subjects)).identifier)
    if fmt == "jsonl":
        path.write_text("".join(json.dumps({"subject": v, "ref": f"R{i}"}) + "\n" for i, v in enumerate(values)))
    elif fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("subjects")
        ws.append(["主体标识", "业务编号"])
        for i, v in enumerate(values):
            ws.append([v, f"R{i}"])
        wb.save(path)
    else:
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["主体标识", "业务编号"])
            w.writerows([v, f"R{i}"] for i, v in enumerate(values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=("csv", "xlsx", "jsonl"), default="csv")
    args = parser.parse_args()
    from chengxin.checks.batch import result_csv, run_batch
    from chengxin.checks.service import Checker, get_batch_row
    from chengxin.core.audit import Actor
    from chengxin.core.crypto import KeyRing
    from chengxin.core.db import Database, make_engine

    meta = check_api.ensure(args.engine, args.subjects, False)
    check_api.OUT.mkdir(parents=True, exist_ok=True)
    path = check_api.OUT / f"check_batch_{args.rows}.{args.format}"
    make_file(path, args.subjects, args.rows, args.format)
    db = Database(make_engine(check_api.database_url(args.engine, args.subjects)))
    checker = Checker(db, KeyRing.open(check_api.KEYS), mode="sync")
    actor = Actor(kind="cli", name="bench", department_code="finance")
    t = time.perf_counter()
    summary = run_batch(checker, actor, path, path.name, "fiscal_support")
    elapsed = time.perf_counter() - t
    t2 = time.perf_counter()
    data = result_csv(checker, get_batch_row(checker, summary.id))
    result_s = time.perf_counter() - t2
    checker.close()
    db.engine.dispose()
    print(f"{args.engine}: {meta['subjects']:,} subjects; batch of {summary.rows:,} rows ({args.format}, "
          f"{path.stat().st_size / 1e6:.1f} MB): {elapsed:.1f} s — found {summary.found:,}, on a list {summary.hits:,}, "
          f"row errors {summary.errors:,}; result {len(data) / 1e6:.1f} MB decrypted in {result_s:.2f} s")


if __name__ == "__main__":
    main()
