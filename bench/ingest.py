"""Benchmark: ingest N validated rows from a CSV file, on SQLite and PostgreSQL, against a raw baseline.

    .venv/bin/python bench/ingest.py --rows 1000000 [--engines sqlite,postgresql]

Targets (issue #2): ≥ 50,000 rows/s on SQLite, ≥ 30,000 rows/s on PostgreSQL, ≥ 1/4 of the baseline
(the same final rows — subjects, records, versions and the name index's rows — written by a plain bulk insert /
COPY, measured in the same run), peak RSS of the ingest process < 500 MB. Printed first: the reader process's
rate on its own (no writer, no database), the ceiling of the two-process pipeline on this machine.

``ingest s`` / ``rows/s``: to the receipt. On SQLite the batch's commit does not copy its write-ahead log into the
database file (``BulkWriter.begin_bulk_write``); that copy, made right after, is ``+ckpt s``. The baseline's commit
copies its log itself, so the ratio compares the ingest with its copy (``rows/s +ckpt``) against the baseline.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, fresh_database, key_dir, penalty_file  # noqa: E402


def _run(*args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "ingest_run.py"), *args], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _settle(url: str) -> None:
    """Before each timed run: the page cache's dirty pages of the runs before written out (``sync``), and on
    PostgreSQL a checkpoint — else one run's ~2 GB of writes tax the next run's, which then measured up to 15%
    slower (bench/RESULTS.md, ingest, session 20)."""
    os.sync()
    if url.startswith("postgresql"):
        from sqlalchemy import create_engine, exc, text

        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with contextlib.suppress(exc.DBAPIError), engine.connect() as conn:  # CHECKPOINT needs a privileged role
            conn.execute(text("CHECKPOINT"))
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    t = time.perf_counter()
    path = penalty_file(args.rows)
    print(f"file: {path.name} ({path.stat().st_size / 1e6:.0f} MB, made/reused in {time.perf_counter() - t:.1f}s)")
    keys = key_dir()
    # The reader alone on one core (no writer, no database): the pipeline cannot ingest faster than this, so a
    # target above it is out of reach on this machine whatever the write side does.
    reader = _run("--reader-only", "--keys", str(keys), "--file", str(path))
    print(f"reader alone (one process, chunks dropped): {reader['rows'] / reader['seconds']:.0f} rows/s "
          f"({reader['seconds']:.1f} s wall, {reader['cpu_seconds'] / reader['rows'] * 1e6:.1f} µs CPU a row)")
    print(f"{'engine':<11}{'rows':>10}{'ingest s':>10}{'rows/s':>10}{'+ckpt s':>9}{'rows/s +ckpt':>14}{'peak MB':>9}"
          f"{'reader MB':>10}{'baseline s':>12}{'base rows/s':>12}{'ratio':>7}")
    for engine in args.engines.split(","):
        url = fresh_database(engine, f"ingest_{engine}")
        _settle(url)
        run = _run("--db", url, "--keys", str(keys), "--file", str(path))
        base_url = fresh_database(engine, f"baseline_{engine}")
        _settle(base_url)
        base = _run("--db", base_url, "--baseline-from", url)
        rate, base_rate = run["rows"] / run["seconds"], base["rows"] / base["seconds"]
        whole = run["rows"] / (run["seconds"] + run["checkpoint_seconds"])
        print(f"{engine:<11}{int(run['rows']):>10}{run['seconds']:>10.1f}{rate:>10.0f}{run['checkpoint_seconds']:>9.1f}"
              f"{whole:>14.0f}{run['peak_rss_mb']:>9.0f}{run['reader_rss_mb']:>10.0f}{base['seconds']:>12.1f}"
              f"{base_rate:>12.0f}{whole / base_rate:>7.2f}")


if __name__ == "__main__":
    main()
