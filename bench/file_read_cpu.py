"""CPU per government read of the heaviest (or of random) subjects, in process (no HTTP): the service calls the
endpoint makes.

    .venv/bin/python bench/file_read_cpu.py [--engine sqlite|postgresql] [--subjects 200] [--limit 100] [--profile]
                                            [--uniform]

Needs the database of ``bench/file_api.py --persons-only`` (``var/bench/file_1000000_10000000_persons.db``, or the
PostgreSQL database ``chengxin_bench_file_1000000_10000000_persons``, and its metadata JSON with the 1,000 subjects
with the most records). Prints wall-clock milliseconds too: on PostgreSQL part of a read is the server's. Prints CPU milliseconds per read and visible items
per read; ``--uniform``: that many subjects drawn at random (seeded) instead of the heaviest, as most requests
are — a read of a typical subject is mostly fixed costs (statements, round trips); ``--limit`` is the page asked for (the API's default, 100; 0: the whole file); ``--profile`` adds a
cProfile by internal time. Run old and new code alternately (``git stash``) to
compare: the page cache makes the first run slower.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB = ROOT / "var" / "bench" / "file_1000000_10000000_persons.db"
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/chengxin_bench_file_1000000_10000000_persons"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--subjects", type=int, default=200)
    parser.add_argument("--limit", type=int, default=100, help="items per page; 0: the whole file")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--uniform", action="store_true", help="random subjects instead of the heaviest")
    args = parser.parse_args()
    os.environ.setdefault("CHENGXIN_DATABASE_URL", f"sqlite:///{DB}" if args.engine == "sqlite" else PG)
    meta = ROOT / "var" / "bench" / f"file_1000000_10000000_persons.{args.engine}.json"
    os.environ.setdefault("CHENGXIN_KEY_DIR", str(ROOT / "var" / "bench" / "keys"))
    from chengxin.api.disclosure import credit_file_response
    from chengxin.core.audit import Actor
    from chengxin.core.clock import today_cn
    from chengxin.disclosure import service
    from chengxin.platform import open_platform

    platform = open_platform()
    actor = Actor(kind="api_key", name="bench", department_code="samr")
    heavy = [s for s, _ in json.loads(meta.read_text())["heavy"]][: args.subjects]
    if args.uniform:
        from sqlalchemy import func, select

        from chengxin.subjects.models import Subject

        with platform.db.read() as session:
            top = session.scalar(select(func.max(Subject.id))) or 1
        draw = random.Random(7)
        heavy = [draw.randint(1, top) for _ in range(args.subjects)]

    def read(subject_id: int) -> int:
        with platform.db.read(snapshot=False) as session:  # as the API reads
            file = service.government_read(session, platform.catalog, subject_id, actor, "基准测试", today_cn(),
                                           window=(0, args.limit) if args.limit else None)
        credit_file_response(file)
        return len(file.items)

    for subject_id in heavy[:20]:
        read(subject_id)
    profiler = cProfile.Profile()
    started, wall, items = time.process_time(), time.perf_counter(), 0
    if args.profile:
        profiler.enable()
    for subject_id in heavy:
        items += read(subject_id)
    profiler.disable()
    print(f"CPU {(time.process_time() - started) / len(heavy) * 1000:.2f} ms per read "
          f"(wall {(time.perf_counter() - wall) / len(heavy) * 1000:.2f} ms), "
          f"{items / len(heavy):.0f} items per read ({len(heavy)} {'random' if args.uniform else 'heaviest'} subjects, page "
          f"{args.limit or 'whole file'})")
    if args.profile:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
