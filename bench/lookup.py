"""Benchmark: look up a subject by citizen ID or USCC among N subjects, in process, on both engines.

    .venv/bin/python bench/lookup.py --subjects 1000000 [--engines sqlite,postgresql] [--lookups 20000]

Target (issue #2): p99 under 5 ms. Baseline in the same run: a primary-key read of the same subjects
(what the lookup costs beyond it is validation + blind index + the index probe).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fresh_database, key_dir, load_subjects, pct  # noqa: E402

from chengxin.catalog.model import SubjectKind  # noqa: E402
from chengxin.core.crypto import KeyRing  # noqa: E402
from chengxin.core.db import Database, make_engine  # noqa: E402
from chengxin.core.identifiers import make_ric, make_uscc  # noqa: E402
from chengxin.subjects.models import Subject  # noqa: E402
from chengxin.subjects.rules import SubjectKey
from chengxin.subjects.service import find_subject  # noqa: E402

REGIONS = ("320402", "320404", "320411", "320412", "320413", "320481")


def identity(n: int) -> SubjectKey:
    """Subject number n: even → a person, odd → an organisation (deterministic, valid codes)."""
    import datetime as dt

    if n % 2 == 0:
        k = n // 2
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=(k // 1000) % 20000)
        return SubjectKey(SubjectKind.PERSON, make_ric(REGIONS[k % 6], birth, k % 1000), "张" + "伟芳娜敏静"[k % 5] + "明")
    return SubjectKey(SubjectKind.ORGANIZATION, make_uscc("9", "1", "320400", f"{n:08d}"[-8:]), f"常州{n}有限公司")


def load(db: Database, keyring: KeyRing, count: int) -> None:
    load_subjects(db, keyring, count, identity)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=20_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    keyring = KeyRing.open(key_dir())
    rng = random.Random(11)
    print(f"{'engine':<11}{'subjects':>10}{'load s':>8}{'lookup p50 ms':>15}{'p99 ms':>8}{'max ms':>8}"
          f"{'pk-read p50':>13}{'p99':>7}")
    for engine in args.engines.split(","):
        db = Database(make_engine(fresh_database(engine, f"lookup_{engine}")))
        t = time.perf_counter()
        load(db, keyring, args.subjects)
        load_s = time.perf_counter() - t
        sample = [rng.randrange(args.subjects) for _ in range(args.lookups)]
        lookups, pk_reads = [], []
        with db.read() as session:
            for n in sample[:200]:  # warm the connection and caches
                key = identity(n)
                find_subject(session, keyring, **{"ric" if key.kind is SubjectKind.PERSON else "uscc": key.identifier})
            for n in sample:
                key = identity(n)
                arg = {"ric" if key.kind is SubjectKind.PERSON else "uscc": key.identifier}
                t0 = time.perf_counter()
                subject = find_subject(session, keyring, **arg)
                t1 = time.perf_counter()
                session.expunge(subject)
                t2 = time.perf_counter()
                session.get(Subject, subject.id)
                t3 = time.perf_counter()
                session.expunge_all()
                lookups.append((t1 - t0) * 1000)
                pk_reads.append((t3 - t2) * 1000)
        print(f"{engine:<11}{args.subjects:>10}{load_s:>8.1f}{statistics.median(lookups):>15.3f}{pct(lookups, 0.99):>8.3f}"
              f"{max(lookups):>8.2f}{statistics.median(pk_reads):>13.3f}{pct(pk_reads, 0.99):>7.3f}")
        db.engine.dispose()


if __name__ == "__main__":
    main()
