"""Benchmark of the civic credit points / grades (issue #6): recompute everyone vectorised, against a
straightforward per-subject Python loop on a sample, and the incremental update of one subject.

Runs on the 1M-subject / 10M-record database built by ``bench/file_api.py --build-only`` — on SQLite a COPY
of it (var/bench/…; the original is never written to), on PostgreSQL the benchmark database itself (the
recompute replaces ``score_current`` as `chengxin scores recompute` does). ``--persons-only`` takes the
database of 1,000,000 persons (``bench/file_api.py --build-only --persons-only``), the issue's case:

    .venv/bin/python bench/file_api.py --engine sqlite --build-only --persons-only      # once
    .venv/bin/python bench/scores.py --persons-only                                     # copy (once), then measure
    .venv/bin/python bench/file_api.py --engine postgresql --build-only --persons-only  # once
    .venv/bin/python bench/scores.py --persons-only --engine postgresql

Figures: the batch's phases (SQL + polars/numpy per model, bulk write), peak RSS of this process, the
per-subject loop's rate on the sample (and that it computes the same scores as the batch), the
speed-up, and p50/p95/max of one subject's incremental update (its own write transaction, committed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "var" / "bench"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def copy_database(source: Path, copy: Path, force: bool) -> None:
    if copy.exists() and not force:
        return
    for suffix in ("", "-wal", "-shm"):
        Path(str(copy) + suffix).unlink(missing_ok=True)
    started = time.perf_counter()
    for suffix in ("", "-wal"):
        src = Path(str(source) + suffix)
        if src.exists():
            shutil.copyfile(src, str(copy) + suffix)
    print(f"copied {source.name} → {copy.name} in {time.perf_counter() - started:.0f} s", flush=True)


def database(engine: str, persons_only: bool, fresh_copy: bool) -> str:
    label = "file_1000000_10000000" + ("_persons" if persons_only else "")
    if engine == "postgresql":
        return f"{PG_ADMIN}chengxin_bench_{label}"
    source, copy = BENCH / f"{label}.db", BENCH / f"scores_{label}.db"
    if not source.exists():
        sys.exit(f"{source} is missing: build it with bench/file_api.py --build-only first")
    copy_database(source, copy, fresh_copy)
    return f"sqlite:///{copy}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=int, default=10_000)
    parser.add_argument("--incremental", type=int, default=300)
    parser.add_argument("--fresh-copy", action="store_true")
    parser.add_argument("--today", default=None)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--persons-only", action="store_true", help="the database of 1,000,000 persons")
    args = parser.parse_args()
    url = database(args.engine, args.persons_only, args.fresh_copy)

    from sqlalchemy import delete, func, select

    from chengxin.catalog.loader import load_catalog
    from chengxin.core.clock import today_cn
    from chengxin.core.db import Database, make_engine
    from chengxin.records.models import Record
    from chengxin.scores import batch, service
    from chengxin.scores.model import get_models
    from chengxin.scores.models import ScoreCurrent, ScoreRun
    from chengxin.scores.rules import score_subject
    from chengxin.subjects.models import Subject

    engine = make_engine(url)
    ScoreCurrent.__table__.create(engine, checkfirst=True)  # type: ignore[attr-defined]
    ScoreRun.__table__.create(engine, checkfirst=True)  # type: ignore[attr-defined]
    db = Database(engine)
    catalog = load_catalog()
    models = get_models(catalog)
    day = dt.date.fromisoformat(args.today) if args.today else today_cn()
    with db.read() as s:
        records = s.execute(select(func.count()).select_from(Record)).scalar()
        subjects = s.execute(select(func.count()).select_from(Subject)).scalar()
    print(f"database: {url} ({args.engine}): {subjects:,} subjects, {records:,} records; day {day}", flush=True)

    # -- 1. the batch: every subject, both models, one scan, one transaction (as `chengxin scores recompute`) --
    phases: dict[str, float] = {}
    chosen = [m for m in (models.in_force(k, day) for k in ("person", "organization")) if m is not None]
    total_started = time.perf_counter()
    with db.write() as session:
        t0 = time.perf_counter()
        ids = {m.id: batch.subject_ids_of_kind(session, m.subject_kind.value) for m in chosen}
        t1 = time.perf_counter()
        items = sorted({c for m in chosen for c in m.items})
        qty = {c: r.per_unit.field for m in chosen for c, r in m.items.items() if r.per_unit is not None}
        rows, quantities = batch.load_rows(session, items, qty, day)
        t2 = time.perf_counter()
        members = batch.load_memberships(session)
        frames = {}
        for m in chosen:
            mine = pl.Series("ids", ids[m.id])
            # the same split as batch.compute_many
            r = rows.filter(pl.col("item").is_in(sorted(m.items)) & pl.col("subject_id").is_in(mine.implode()))
            q = quantities.filter(pl.col("item").is_in(sorted(m.items)) & pl.col("subject_id").is_in(mine.implode()))
            frames[m.subject_kind.value] = batch.score_frame(m, day, ids[m.id],
                                                             batch.contributions(m, catalog, day, r, q), members)
        t3 = time.perf_counter()
        for m in chosen:
            session.execute(delete(ScoreCurrent).where(ScoreCurrent.model_id.in_([x.id for x in models.family(
                m.family)])))
            service.write_frame(session, frames[m.subject_kind.value], source="batch")
        t4 = time.perf_counter()
    t5 = time.perf_counter()
    phases["subject ids per kind"] = t1 - t0
    phases[f"SQL scan + aggregation into text chunks + polars CSV parse ({rows.height:,} + {quantities.height:,} rows)"] \
        = t2 - t1
    phases["polars/numpy scoring (windows as-of join, bincount, caps, bands)"] = t3 - t2
    phases["bulk write of score_current"] = t4 - t3
    phases["commit"] = t5 - t4
    for k, v in phases.items():
        print(f"  {k}: {v:.1f} s", flush=True)
    batch_seconds = time.perf_counter() - total_started
    batch_rss = rss_mb()
    n_batch = sum(len(f) for f in frames.values())
    for kind, f in frames.items():
        print(f"  {kind}: {len(f):,} subjects, bands {f.band_counts()}", flush=True)
    print(f"batch: {n_batch:,} subjects in {batch_seconds:.1f} s; peak RSS {batch_rss:.0f} MB", flush=True)

    # -- 2. the straightforward loop on a sample: per subject, its records, then the pure rules --
    person = frames["person"]
    rng = random.Random(6)
    sample = sorted(rng.sample(person.subject_ids.tolist(), min(args.sample, len(person))))
    model = models.in_force("person", day)
    assert model is not None
    started = time.perf_counter()
    loop_scores = {}
    with db.read() as session:
        for sid in sample:
            loop_scores[sid] = score_subject(
                model, catalog, service.facts_of(session, model, sid), service.memberships_of(session, sid), day,
                explain=False)
    loop_seconds = time.perf_counter() - started
    idx = np.searchsorted(person.subject_ids, np.array(sample))
    mismatches = sum(1 for sid, i in zip(sample, idx, strict=True)
                     if (loop_scores[sid].total, loop_scores[sid].band) != (
                         int(person.totals[i]), model.bands[int(person.bands[i])].code))
    per_subject_loop = loop_seconds / len(sample)
    per_subject_batch = batch_seconds / n_batch
    print(f"loop: {len(sample):,} subjects in {loop_seconds:.1f} s ({per_subject_loop * 1e3:.2f} ms each); "
          f"batch {per_subject_batch * 1e6:.1f} µs each → speed-up ×{per_subject_loop / per_subject_batch:.0f}; "
          f"mismatches {mismatches}", flush=True)

    # -- 3. incremental: one subject refreshed in its own committed write transaction --
    times = []
    for sid in rng.sample(person.subject_ids.tolist(), args.incremental):
        t0 = time.perf_counter()
        with db.write() as session:
            service.refresh_subjects(session, catalog, [sid], day)
        times.append(time.perf_counter() - t0)
    times.sort()
    inc = {"p50_ms": times[len(times) // 2] * 1e3, "p95_ms": times[int(len(times) * 0.95)] * 1e3,
           "max_ms": times[-1] * 1e3}
    print(f"incremental ({len(times)} subjects): p50 {inc['p50_ms']:.2f} ms, p95 {inc['p95_ms']:.2f} ms, "
          f"max {inc['max_ms']:.2f} ms", flush=True)

    result = {
        "day": day.isoformat(), "subjects": subjects, "records": records, "batch_subjects": n_batch,
        "batch_seconds": round(batch_seconds, 2), "peak_rss_mb": round(batch_rss), "phases": {
            k: round(v, 2) for k, v in phases.items()},
        "loop_sample": len(sample), "loop_seconds": round(loop_seconds, 2),
        "speedup": round(per_subject_loop / per_subject_batch), "loop_batch_mismatches": mismatches,
        "incremental": {k: round(v, 2) for k, v in inc.items()},
        "bands": {k: f.band_counts() for k, f in frames.items()},
    }
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"scores_{args.engine}{'_persons' if args.persons_only else ''}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
