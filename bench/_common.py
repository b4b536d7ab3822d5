"""Shared set-up for the benchmarks: fresh databases on both engines, a key ring, generated files."""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PG_ADMIN = os.environ.get("PG_TEST_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def fresh_database(engine_name: str, label: str) -> str:
    """A new empty, migrated database; returns its URL."""
    from chengxin.core.db import make_engine
    from chengxin.core.migrate import upgrade

    OUT.mkdir(parents=True, exist_ok=True)
    if engine_name == "sqlite":
        path = OUT / f"{label}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        admin = make_url(PG_ADMIN.replace("postgresql://", "postgresql+psycopg://", 1))
        name = f"chengxin_bench_{label}"
        eng = create_engine(admin, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        eng.dispose()
        url = admin.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of process ``pid`` from /proc (e.g. the PostgreSQL backend, on this host)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ThreadCpu:
    """CPU seconds of each thread of this process while measuring, by thread name, polled from /proc/self/task
    (a worker thread's figure is the last one seen before it ended: up to ``interval`` short). Tells the
    writer's own thread from its insert thread, which one process's CPU time lumps together."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.seen: dict[int, tuple[str, float]] = {}  # tid → (name, CPU s)
        self.before: dict[int, float] = {}  # tid → CPU s when measuring began (threads that already ran)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="bench-thread-cpu", daemon=True)

    def __enter__(self) -> ThreadCpu:
        self._read()
        self.before = {tid: cpu for tid, (_, cpu) in self.seen.items()}
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._read()

    def by_name(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for tid, (name, cpu) in self.seen.items():
            if name != "bench-thread-cpu":
                out[name] = round(out.get(name, 0.0) + cpu - self.before.get(tid, 0.0), 2)
        return out

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            self._read()

    def _read(self) -> None:
        names = {thread.native_id: thread.name for thread in threading.enumerate()}  # the OS knows no names here
        for task in Path("/proc/self/task").iterdir():
            try:
                name = names.get(int(task.name)) or (task / "comm").read_text().strip()
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # the thread ended meanwhile
                continue
            self.seen[int(task.name)] = (name, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))


def key_dir() -> Path:
    """The benchmarks' own keys, made on first use as the platform makes var/keys (a fresh machine has none:
    the reader-only step of bench/ingest.py runs before any ingest would make them)."""
    from chengxin.core.crypto import KeyRing

    path = OUT / "keys"
    KeyRing.open(path)
    return path


def penalty_file(rows: int, *, seed: int = 7) -> Path:
    """A CSV of ``rows`` valid administrative penalties (70% organisations, 30% persons, ~rows/5 subjects)."""
    path = OUT / f"penalties_{rows}.csv"
    if path.exists():
        return path
    sys.path.insert(0, str(ROOT / "tests"))
    from chengxin.catalog.loader import load_catalog
    from chengxin.catalog.rules import template_columns
    from factories import ric_for, uscc_for, valid_row  # the same builders the tests use

    item = load_catalog().item("admin_penalty")
    version = item.version_on(dt.date(2025, 9, 1))
    assert version is not None
    columns = template_columns(item.latest)
    rng = random.Random(seed)
    subjects = max(rows // 5, 1)
    template = valid_row(version, 1)
    tmp = path.with_suffix(".tmp")
    OUT.mkdir(parents=True, exist_ok=True)
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([c.label_zh for c in columns])
        for n in range(1, rows + 1):
            s = rng.randrange(subjects)
            row = dict(template)
            row["source_id"] = f"CZ-{n:08d}"
            if s % 10 < 3:
                row.pop("uscc", None)
                row["ric"], row["subject_name"] = ric_for(s), "张" + "伟芳娜敏静丽强磊军洋"[s % 10] + "明"
            else:
                row["uscc"], row["subject_name"] = uscc_for(s), f"常州市第{s}号科技有限公司"
            row["decision_no"] = f"常市监处罚〔2025〕{n}号"
            row["facts"] = f"经查，当事人于2025年{1 + n % 12}月存在违法行为（案件{n}）。"
            row["fine_amount"] = f"{rng.randrange(100, 200000)}.00"
            row["decision_date"] = (dt.date(2025, 7, 1) + dt.timedelta(days=n % 120)).isoformat()
            row["legal_representative_ric"] = "" if n % 4 else ric_for(900_000 + s)
            writer.writerow(["" if row.get(c.code) is None else row.get(c.code) for c in columns])
    tmp.rename(path)
    return path


def unique_label() -> str:
    return uuid.uuid4().hex[:6]


def load_subjects(db: Any, keyring: Any, count: int, identity: Callable[[int], Any]) -> None:
    """Create subjects 0..count-1 (``identity(n)`` → SubjectKey) through the ingest's own bulk path."""
    from chengxin.core.db import BulkWriter
    from chengxin.ledger.service import lock_head, seal
    from chengxin.subjects.rules import lookup_index
    from chengxin.subjects.service import ensure_subjects

    with db.write() as session:
        lock = lock_head(session)
        writer = BulkWriter(session)
        for start in range(0, count, 20_000):
            wanted = {}
            for n in range(start, min(count, start + 20_000)):
                key = identity(n)
                wanted[lookup_index(keyring, key.kind.value, key.identifier)] = key
            ensure_subjects(keyring, lock, wanted, {}, writer)
        seal(session, lock, keyring)


def pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of ``values``."""
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]
