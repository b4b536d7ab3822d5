"""Benchmark: a subject's credit file over HTTP, at a fixed request rate, against a trivial endpoint of the
same server.

    .venv/bin/python bench/file_api.py --engine sqlite|postgresql [--subjects 1000000] [--records 10000000]
                                       [--rate 200] [--duration 60] [--heavy-share 0.01] [--build-only]
                                       [--rebuild] [--cold] [--arrivals poisson|uniform] [--workers N]

Target (issue #3): with 1,000,000 subjects and 10,000,000 records, a subject's file via the API at p99 under
20 ms at 200 requests/s from a load generator on loopback; the baseline in the same run is a trivial JSON
endpoint of the same server (``GET /healthz``).

1. The database (built once per size and engine, then reused): SQLite ``var/bench/file_<S>_<R>.db`` or the
   PostgreSQL database ``chengxin_bench_file_<S>_<R>``, schema from the real migrations, keys in
   ``var/bench/keys``. Subjects (half persons, half organisations): the rows ``subjects.service.new_subject_row``
   makes for a new subject, as ``ensure_subjects`` writes them (encrypted identities, blind indexes, masked
   display forms; the search triggers fill the name index). Records: a pool of ~40,000 rows made by the demo's generators for every catalog item in force
   during the last six years (realistic fields, departments, severities, decision dates) and validated by
   ``records.rules.prepare_row``; each of the R records takes one pool row, a subject of the right kind (a
   log-normal draw: median 6 records, p99 75, the top ones over 1,000; "basic information" items at most
   once per subject) and its own source id, and is written as the ingest writes it — citizen IDs inside the
   fields encrypted for this record (``protect_identifiers``), keyed content hash, ``record`` head and
   ``record_version`` chained in the ledger, one ingest batch per department and item, a signed checkpoint
   per transaction — but straight through ``BulkWriter`` (executemany / COPY), by a generator process and
   this one. 1% of the records have a correction (version 2), 0.5% are revoked (version 2, status revoked,
   with its audit event). The only index dropped while loading, ``ix_record_subject_id``, is re-created with
   its own DDL at the end, and the schema is checked equal to a freshly migrated database.
2. The server: ``chengxin serve`` (uvicorn, ``create_app``, 1 worker: the machine has 2 cores, shared with
   the load generator and PostgreSQL) in a subprocess on a free port, after the database files were read once
   into the page cache (``--cold`` to skip; RAM is 24 GiB, a database ~9 GB) and 15 s of sequential warm-up
   requests.
3. The load: locust, headless (``bench/locust_file_api.py``, FastHttpUser), 100 users each with its own
   schedule — Poisson arrivals by default (``--arrivals uniform``: evenly spaced from a random phase) — so
   together an open-model-like 200 requests/s that never fall into step (locust's ``constant_throughput``
   users do, after any stall longer than their period: then every request arrives in one burst).
   ``--reset-stats`` drops the ramp; the ``--csv`` figures are parsed here, and every response time is also
   recorded by the locustfile for exact percentiles. Three runs at the same rate: ``GET /healthz`` (the
   baseline: trivial JSON of the same server), ``/api/v1/public/subjects/{id}`` (uniformly random ids, plus
   ``--heavy-share`` (1%) among the 1,000 subjects with the most records, reported apart too), and
   ``/api/v1/gov/subjects/{id}/file`` with a department API key (each read commits a query-log row).
   Reported with the CPU used meanwhile by the server, PostgreSQL and locust, and the load average.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import datetime as dt
import functools
import itertools
import json
import math
import multiprocessing as mp
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PG_ADMIN, ROOT  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

VAR = ROOT / "var" / "bench"
KEYS = VAR / "keys"
OUT = ROOT / "bench" / "out"
SEED = 20261125
CHUNK = 20_000  # records per message from the generator process
PART = 1_000_000  # records per transaction (each sealed with a signed ledger checkpoint)
POOL = 40_000  # template rows made by the demo's generators
ORG_SHARE = 0.65  # share of the records about organisations
# --persons-only (the scores benchmark, issue #6: 1,000,000 persons): every subject a person. An environment
# variable, so the spawned generator process sees it too.
PERSONS_ONLY = os.environ.get("CHENGXIN_BENCH_PERSONS_ONLY") == "1"
CORRECTED, REVOKED = 0.01, 0.005
SKEW_SIGMA = 1.25  # log-normal weight of a subject: median subject ~1/2.2 of the mean, the top one ~300x
HEAVY = 1000  # subjects with the most records, asked for explicitly by 1% of the file requests
HEAVY_SHARE = 0.01
SETTLE = 2  # seconds after the ramp before measuring (bench/locust_file_api.py, FILE_API_SETTLE)
REGIONS = ("320402", "320404", "320411", "320412", "320413", "320481")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力斌宇浩凯晨欣怡佳琳雪梅"
PURPOSE = "行政审批事项信用核查"


# -- subjects ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1 << 20)
def identifier(n: int) -> tuple[str, str]:
    """Subject number n (0-based; id n + 1 in a fresh database): even → a person, odd → an organisation."""
    from chengxin.core.identifiers import make_ric, make_uscc

    if PERSONS_ONLY or n % 2 == 0:
        k = n if PERSONS_ONLY else n // 2
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=(k // 1000) % 20000)
        return "person", make_ric(REGIONS[k % 6], birth, k % 1000)
    return "organization", make_uscc("9", "1", "320400", f"{n:08d}"[-8:])


# Company names: place + brand + industry + legal form (as bench/search.py makes them).
PLACES = ("常州", "常州市", "江苏", "武进", "金坛", "溧阳", "天宁", "钟楼", "新北", "苏州", "无锡", "南京", "")
BRAND_CHARS = "华恒泰金鑫盛源宏达兴隆永昌瑞丰明德信诚安远通海天龙凤祥和嘉新宇晨光辉创博联合众协力中正东方正大"
INDUSTRY = ("科技", "信息技术", "电子", "机械", "建设", "建筑工程", "贸易", "商贸", "物流", "运输", "食品", "餐饮管理",
            "医药", "生物科技", "化工", "新材料", "纺织", "服装", "家具", "汽车销售", "汽车零部件", "房地产开发",
            "物业管理", "装饰工程", "环保科技", "能源", "光伏", "电气", "五金", "模具", "塑料制品", "印刷", "文化传媒",
            "广告", "教育咨询", "人力资源", "企业管理咨询", "软件", "网络科技", "农业发展", "园林绿化", "酒店管理")
FORMS = ("有限公司", "有限责任公司", "股份有限公司", "集团有限公司", "经营部", "商行", "分公司", "厂")


def org_name(rng: random.Random, n: int) -> str:
    name = rng.choice(PLACES) + rng.choice(BRAND_CHARS) + rng.choice(BRAND_CHARS) + rng.choice(INDUSTRY) + rng.choice(FORMS)
    return name if rng.random() < 0.9 else name.replace("有限", f"第{n % 97}有限", 1)


def person_name(n: int) -> str:
    rng = random.Random(n)
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
    return rng.choice(SURNAMES) + given


# -- the pool of template rows ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Template:
    department: str
    item_no: int
    kind: str
    version: Any  # ItemVersion
    decision_date: dt.date
    severity: str | None
    fields: dict[str, Any]  # clear, as prepare_row left them
    basic: bool  # "basic information": at most one record of this item per subject


def make_pool(today: dt.date, size: int = POOL) -> list[Template]:
    """Valid rows for every catalog item in force during the last six years, from the demo's generators."""
    from chengxin.catalog.loader import load_catalog
    from chengxin.core.settings import get_settings
    from chengxin.demo import load as demo
    from chengxin.platform import Platform
    from chengxin.records.rules import PreparedRow, prepare_row

    catalog = load_catalog()
    persons, orgs = demo.generate_persons(SEED, 3000), demo.generate_organizations(SEED, 3000)
    platform = Platform(db=None, catalog=catalog, keyring=None, settings=get_settings())  # type: ignore[arg-type]
    loader = demo._Loader(platform, persons, orgs, seed=SEED, today=today, progress=None, task=None)
    loader.earliest = demo._add_years(today, -6)
    usable = [item for _, item in sorted(catalog.items.items()) if loader.window(item) is not None]
    counts = demo._allocate(size, [demo._item_weight(item) for item in usable], minimum=100)
    pool: list[Template] = []
    for item_no, (item, count) in enumerate(zip(usable, counts, strict=True), start=1):
        window = loader.window(item)
        assert window is not None
        counters: dict[str, int] = {}
        for _ in range(count):
            row = loader.make_row(item, item_no, counters, window, (loader.people, loader.orgs))
            if row is None:
                continue
            prepared = prepare_row(item, row.department, row.values, row_no=1, today=today)
            if not isinstance(prepared, PreparedRow):
                continue
            pool.append(Template(row.department, item_no, prepared.subject.kind.value, prepared.version,
                                 prepared.decision_date, prepared.severity.value if prepared.severity else None,
                                 prepared.fields, item.report_section == demo.BASIC_SECTION))
    return pool


# -- the generator process ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GenParams:
    dialect: str
    subjects: int
    records: int
    today: dt.date
    seq: int
    hash: bytes
    record_id: int
    batches: dict[tuple[str, str], int]


class _Cursor:
    """Every subject of a kind once, in a scrambled order (i → (a·i + b) mod n), then again."""

    def __init__(self, n: int, rng: random.Random) -> None:
        self.n, self.i, self.b = n, 0, rng.randrange(n)
        a = rng.randrange(n // 3, n) | 1
        while math.gcd(a, n) != 1:
            a += 2
        self.a = a

    def next(self) -> int:
        self.i += 1
        return (self.a * self.i + self.b) % self.n


def generate(params: GenParams, queue: Any) -> None:
    """Make every record and version row, chained, in id order; put them on ``queue`` chunk by chunk."""
    import orjson

    from chengxin.core.crypto import KeyRing
    from chengxin.core.db import utcnow
    from chengxin.ledger.service import canonical_spliced, iso_time, next_hash
    from chengxin.records.reader import protect_identifiers, ric_fields
    from chengxin.records.rules import canonical_content
    from chengxin.subjects.rules import SubjectKey

    keyring = KeyRing.open(KEYS)
    sqlite = params.dialect == "sqlite"
    # Subjects 1..N: the rows subjects.service.new_subject_row makes for a new subject (what ensure_subjects
    # writes): persons' identifiers AES-GCM encrypted and blind-indexed, masked display forms.
    from chengxin.catalog.model import SubjectKind
    from chengxin.subjects.rules import lookup_index
    from chengxin.subjects.service import SUBJECT_COLUMNS, new_subject_row

    name_rng = random.Random(SEED)
    for start in range(0, params.subjects, 10_000):
        rows = []
        for n in range(start, min(params.subjects, start + 10_000)):
            kind_name, ident = identifier(n)
            if kind_name == "person":
                key = SubjectKey(SubjectKind.PERSON, ident, person_name(n))
            else:
                key = SubjectKey(SubjectKind.ORGANIZATION, ident, org_name(name_rng, n))
            values = new_subject_row(keyring, n + 1, key, lookup_index(keyring, kind_name, ident))
            created = values["created_at"]
            assert isinstance(created, dt.datetime)
            values["created_at"] = created.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else created
            rows.append(tuple(values[c] for c in SUBJECT_COLUMNS))
        queue.put(("subjects", rows))
    queue.put(("subjects done",))

    pool = make_pool(params.today)
    rng = random.Random(SEED)
    persons, orgs = (params.subjects, 0) if PERSONS_ONLY else ((params.subjects + 1) // 2, params.subjects // 2)
    by_kind = {k: [t for t in pool if t.kind == k] for k in ("person", "organization")}
    by_version: dict[tuple[str, str, str], list[Template]] = {}
    for t in pool:
        by_version.setdefault((t.version.item_code, t.version.version, t.kind), []).append(t)
    # Skewed draw of a subject: log-normal weights, cumulative for bisect.
    cum: dict[str, list[float]] = {}
    for kind, n in (("person", persons), ("organization", orgs)):
        wrng = random.Random(f"{SEED}/{kind}")
        cum[kind] = list(itertools.accumulate(math.exp(SKEW_SIGMA * wrng.gauss(0, 1)) for _ in range(n)))
    cursors: dict[tuple[str, str], _Cursor] = {}
    from chengxin.catalog.model import Severity, SubjectKind

    kinds = {"person": SubjectKind.PERSON, "organization": SubjectKind.ORGANIZATION}
    severities = {s.value: s for s in Severity}
    fields_cache: dict[int, bytes] = {}
    content_rest: dict[int, bytes] = {}
    serials: Counter[str] = Counter()
    counts: Counter[tuple[str, str, str]] = Counter()  # (department, item, accepted|corrected)
    seq, chain, record_id = params.seq, params.hash, params.record_id
    opts = orjson.OPT_SORT_KEYS

    def day_value(day: dt.date) -> Any:
        return day.isoformat() if sqlite else day

    made = 0
    while made < params.records:
        n_chunk = min(CHUNK, params.records - made, PART - made % PART)
        now = utcnow()
        now_db = now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else now
        now_iso = iso_time(now)
        tails: dict[int | None, bytes] = {}
        versions: list[tuple[Any, ...]] = []
        heads: list[list[Any]] = []
        later: list[tuple[int, str, Template, list[Any]]] = []  # (index in heads, change, template, head)
        audits: list[tuple[Any, ...]] = []
        for _ in range(n_chunk):
            kind = "organization" if not PERSONS_ONLY and rng.random() < ORG_SHARE else "person"
            templates = by_kind[kind]
            t = templates[int(rng.random() * len(templates))]
            version = t.version
            if t.basic:
                cursor = cursors.get((version.item_code, kind))
                if cursor is None:
                    cursor = cursors[(version.item_code, kind)] = _Cursor(persons if kind == "person" else orgs, rng)
                k = cursor.next()
            else:
                weights = cum[kind]
                k = bisect.bisect_left(weights, rng.random() * weights[-1])
            n = (k if PERSONS_ONLY else 2 * k) if kind == "person" else 2 * k + 1
            subject_id = n + 1
            _, ident = identifier(n)
            department, item_code = t.department, version.item_code
            serials[department] += 1
            source_id = f"CZ-{department.upper()[:24]}-{t.item_no:03d}-{t.decision_date.year}-{serials[department]:07d}"
            record_id += 1
            seq += 1
            if ric_fields(version):
                fields = protect_identifiers(keyring, version, t.fields, department, source_id)
                fields_json = orjson.dumps(fields, option=opts)
            else:
                fields_json = fields_cache.get(id(t)) or fields_cache.setdefault(id(t), orjson.dumps(t.fields, option=opts))
            # canonical_content(subject, version, day, severity, fields), spliced: only the identifier varies.
            rest = content_rest.get(id(t))
            if rest is None:
                rest = content_rest[id(t)] = orjson.dumps(
                    [version.item_code, version.version, t.decision_date.isoformat(), t.severity, t.fields],
                    option=opts)[1:]
            content = b'["' + kind.encode() + b'","' + ident.encode() + b'",' + rest
            if record_id - params.record_id <= 1000:  # the splice gives the very bytes of canonical_content
                severity = severities[t.severity] if t.severity else None
                assert content == canonical_content(SubjectKey(kinds[kind], ident, ""), version, t.decision_date,
                                                    severity, t.fields)
            content_hash = keyring.keyed_digest(content)
            batch_id = params.batches[(department, item_code)]
            tail = tails.get(batch_id) or tails.setdefault(batch_id, orjson.dumps([None, batch_id, now_iso]))
            head = [seq, record_id, subject_id, 1, "create", item_code, version.version, department, source_id,
                    "active", t.severity, t.decision_date.isoformat()]
            chain = next_hash(chain, canonical_spliced(head, fields_json, tail))
            stored_day = day_value(t.decision_date)
            versions.append((*head[:11], stored_day, fields_json.decode(), None, batch_id, now_db, chain))
            heads.append([record_id, subject_id, item_code, department, source_id, 1, seq, "active",
                          version.category.value, t.severity, stored_day, content_hash, now_db])
            counts[(department, item_code, "accepted")] += 1
            roll = rng.random()
            if roll < CORRECTED:
                others = by_version[(item_code, version.version, kind)]
                other = others[int(rng.random() * len(others))]
                if other.fields != t.fields:  # the same content again would be "unchanged", not a correction
                    later.append((len(heads) - 1, "correct", other, head))
            elif roll < CORRECTED + REVOKED:
                later.append((len(heads) - 1, "revoke", t, head))
        # Follow-ups (a correction submitted again, a revocation by the source department) after the chunk.
        for index, change, other, first in later:
            seq += 1
            record = heads[index]
            rid, subject_id, item_code, department, source_id = first[1], first[2], first[5], first[7], first[8]
            version = other.version
            if change == "correct":
                if ric_fields(version):
                    fields_json = orjson.dumps(protect_identifiers(keyring, version, other.fields, department,
                                                                   source_id), option=opts)
                else:
                    fields_json = orjson.dumps(other.fields, option=opts)
                _, ident = identifier(subject_id - 1)
                kind = "person" if PERSONS_ONLY or (subject_id - 1) % 2 == 0 else "organization"
                sev = severities[first[10]] if first[10] else None
                day = dt.date.fromisoformat(first[11])
                content_hash = keyring.keyed_digest(canonical_content(
                    SubjectKey(kinds[kind], ident, ""), version, day, sev, other.fields))
                batch_id = params.batches[(department, item_code)]
                status, reason = "active", None
                record[11] = content_hash
                counts[(department, item_code, "corrected")] += 1
            else:
                # revoke_record keeps the current fields; the version has no batch and carries the reason.
                fields_json = versions[index][12].encode()
                batch_id, status, reason = None, "revoked", "复议撤销"
                audits.append((now_db, f"staff:clerk_{department}", department, "record.revoke", subject_id,
                               "record", str(rid), None, json.dumps({"reason": reason}, ensure_ascii=False)))
            tail = orjson.dumps([reason, batch_id, now_iso])
            head = [seq, rid, subject_id, 2, change, item_code, first[6], department, source_id, status,
                    first[10], first[11]]
            chain = next_hash(chain, canonical_spliced(head, fields_json, tail))
            versions.append((*head[:11], record[10], fields_json.decode(), reason, batch_id, now_db, chain))
            record[5], record[6], record[7], record[12] = 2, seq, status, now_db
        made += n_chunk
        queue.put(("chunk", versions, [tuple(h) for h in heads], audits, (seq, chain, record_id), n_chunk,
                   made % PART == 0 or made == params.records))
    queue.put(("done", dict(counts)))


# -- building ----------------------------------------------------------------------------------------


def label(subjects: int, records: int) -> str:
    return f"file_{subjects}_{records}" + ("_persons" if PERSONS_ONLY else "")


def database_url(engine: str, subjects: int, records: int) -> str:
    if engine == "sqlite":
        return f"sqlite:///{VAR / (label(subjects, records) + '.db')}"
    admin = make_url(PG_ADMIN.replace("postgresql://", "postgresql+psycopg://", 1))
    return admin.set(database=f"chengxin_bench_{label(subjects, records)}").render_as_string(hide_password=False)


def marker_path(engine: str, subjects: int, records: int) -> Path:
    return VAR / f"{label(subjects, records)}.{engine}.json"


def _pg_admin() -> Any:
    return create_engine(make_url(PG_ADMIN.replace("postgresql://", "postgresql+psycopg://", 1)),
                         isolation_level="AUTOCOMMIT")


def fresh(engine: str, url: str) -> None:
    from chengxin.core.db import make_engine
    from chengxin.core.migrate import upgrade

    VAR.mkdir(parents=True, exist_ok=True)
    if engine == "sqlite":
        path = Path(make_url(url).database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        name = make_url(url).database
        admin = _pg_admin()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    eng = make_engine(url)
    upgrade(eng)
    eng.dispose()


def schema_fingerprint(engine: Any) -> list[tuple[Any, ...]]:
    """Tables, indexes, constraints and triggers: what the migrations made (to compare with a fresh one)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT type, name, tbl_name, sql FROM sqlite_master "
                                     "WHERE name NOT LIKE 'sqlite_stat%' ORDER BY type, name")).all()
        else:
            rows = conn.execute(text(
                "SELECT 'index', indexname, tablename, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                "UNION ALL SELECT 'constraint', conname, conrelid::regclass::text, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE connamespace = 'public'::regnamespace "
                "UNION ALL SELECT 'trigger', tgname, tgrelid::regclass::text, pg_get_triggerdef(oid) "
                "FROM pg_trigger WHERE NOT tgisinternal "
                "UNION ALL SELECT 'column', table_name || '.' || column_name, data_type, "
                "coalesce(column_default, '') FROM information_schema.columns WHERE table_schema = 'public' "
                "ORDER BY 1, 2")).all()
    return [tuple(r) for r in rows]


def _progress() -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    class Logged(Progress):
        """Rich's live bar on a terminal; a plain line every 10% (and at the end) in a log."""

        def update(self, task_id: Any, **kw: Any) -> None:
            super().update(task_id, **kw)
            if self.console.is_terminal:
                return
            task = self._tasks[task_id]
            if task.total and task.completed:
                step = int(10 * task.completed / task.total)
                if step > getattr(task, "_logged", -1):
                    task._logged = step  # type: ignore[attr-defined]
                    print(f"{time.strftime('%H:%M:%S')} {task.description}: {task.completed:,.0f}/{task.total:,.0f} "
                          f"{task.fields.get('rate', '')} ({task.elapsed or 0:.0f} s)", flush=True)

    return Logged(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn())


def build(engine_name: str, subjects: int, records: int) -> dict[str, Any]:
    """Make the database; returns its metadata (also written next to it, which marks it complete)."""
    from chengxin.core import audit
    from chengxin.core.clock import today_cn
    from chengxin.core.crypto import KeyRing
    from chengxin.core.db import BulkWriter, Database, make_engine, utcnow
    from chengxin.ledger.service import CHAINED_COLUMNS, lock_head, seal
    from chengxin.records.models import IngestBatch
    from chengxin.records.service import HEAD_COLUMNS
    from chengxin.subjects.service import SUBJECT_COLUMNS

    url = database_url(engine_name, subjects, records)
    marker_path(engine_name, subjects, records).unlink(missing_ok=True)
    started = time.perf_counter()
    phases: dict[str, float] = {}
    disk_before = shutil.disk_usage(VAR.parent if VAR.exists() else ROOT)
    fresh(engine_name, url)
    KEYS.mkdir(parents=True, exist_ok=True)
    keyring = KeyRing.open(KEYS)
    db = Database(make_engine(url))
    today = today_cn()

    with _progress() as progress:
        # One ingest batch per department and item, as if each sent its history in one file.
        mark = time.perf_counter()
        pool = make_pool(today)
        pairs = sorted({(t.department, t.version.item_code) for t in pool})
        batches: dict[tuple[str, str], int] = {}
        with db.write() as session:
            for department, item_code in pairs:
                batch = IngestBatch(department_code=department, item_code=item_code, channel="cli",
                                    filename=f"{item_code}.csv", file_format="csv", actor="cli:bench",
                                    started_at=utcnow())
                session.add(batch)
                session.flush()
                batches[(department, item_code)] = batch.id
            head = lock_head(session)
        dropped = _drop_indexes(db)
        phases["pool"] = time.perf_counter() - mark

        # A generator process makes the rows, this one writes them: subjects, then records.
        mark = time.perf_counter()
        ctx = mp.get_context("spawn")
        queue = ctx.Queue(maxsize=4)
        params = GenParams(db.dialect, subjects, records, today, head.seq, head.hash, head.record_id, batches)
        proc = ctx.Process(target=generate, args=(params, queue), daemon=True)
        proc.start()
        task = progress.add_task("subjects (generate + write)", total=subjects, rate="")
        with db.write() as session:
            lock = lock_head(session)
            bulk = BulkWriter(session)
            done = 0
            while (message := _next(queue, proc))[0] == "subjects":
                bulk.insert("subject", SUBJECT_COLUMNS, message[1])
                done += len(message[1])
                progress.update(task, completed=done, rate=f"{done / (time.perf_counter() - mark):,.0f}/s")
            lock.subject_id = subjects
            seal(session, lock, keyring)
        phases["subjects"] = time.perf_counter() - mark

        mark = time.perf_counter()
        task = progress.add_task("records (generate + write)", total=records, rate="")
        counts: dict[tuple[str, str, str], int] = {}
        written = 0
        message: Any = None
        try:
            while message is None or message[0] != "done":
                with db.write() as session:
                    lock = lock_head(session)
                    bulk = BulkWriter(session)
                    while True:
                        message = _next(queue, proc)
                        if message[0] == "done":
                            counts = message[1]
                            break
                        _, versions, heads, audits, state, n_chunk, part_end = message
                        bulk.insert("record_version", (*CHAINED_COLUMNS, "chain_hash"), versions)
                        bulk.insert("record", HEAD_COLUMNS, heads)
                        bulk.insert("audit_event", ("at", "actor", "department_code", "action", "subject_id",
                                                    "object_type", "object_id", "purpose", "detail"), audits)
                        written += n_chunk
                        progress.update(task, completed=written,
                                        rate=f"{written / (time.perf_counter() - mark):,.0f}/s")
                        if part_end:
                            lock.seq, lock.hash, lock.record_id = state
                            seal(session, lock, keyring)
                            break
        finally:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
        phases["records"] = time.perf_counter() - mark

        mark = time.perf_counter()
        task = progress.add_task("indexes, statistics", total=None, rate="")
        _restore_indexes(db, dropped)
        with db.write() as session:
            for (department, item_code), batch_id in batches.items():
                batch = session.get(IngestBatch, batch_id)
                assert batch is not None
                accepted = counts.get((department, item_code, "accepted"), 0)
                corrected = counts.get((department, item_code, "corrected"), 0)
                batch.received, batch.accepted, batch.corrected = accepted + corrected, accepted, corrected
                batch.finished_at = utcnow()
                audit.write(session, actor=audit.Actor(kind="cli", name="bench"), action="records.ingest",
                            object_type="ingest_batch", object_id=batch_id,
                            detail={"item": item_code, "received": accepted + corrected, "rejected": 0})
        if db.dialect == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))  # what autovacuum does on its own after a bulk load
        else:
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        progress.update(task, total=1, completed=1)
        phases["indexes"] = time.perf_counter() - mark

    # Checks: same schema as a freshly migrated database; ids and ledger head as expected.
    check_url = (f"sqlite:///{OUT / 'schema_check.db'}" if engine_name == "sqlite"
                 else make_url(url).set(database="chengxin_bench_schema_check").render_as_string(hide_password=False))
    OUT.mkdir(parents=True, exist_ok=True)
    fresh(engine_name, check_url)
    check = make_engine(check_url)
    expected, got = set(schema_fingerprint(check)), set(schema_fingerprint(db.engine))
    check.dispose()
    _drop(engine_name, check_url)
    schema_diff = sorted({f"{x[0]} {x[1]} ({'expected' if x in expected else 'found'})" for x in expected ^ got})
    if schema_diff:  # other work may change a migration while this builds: say so, keep the data
        print("warning: the schema differs from a freshly migrated database: " + "; ".join(schema_diff))
    meta = _describe(db, engine_name, subjects, records)
    meta["schema_diff"] = schema_diff
    meta.update(build_seconds=round(time.perf_counter() - started, 1), phases={k: round(v, 1) for k, v in phases.items()},
                built=dt.datetime.now().isoformat(timespec="seconds"), today=today.isoformat(),
                disk_used_gb=round((disk_before.free - shutil.disk_usage(VAR.parent).free) / 1e9, 2))
    db.engine.dispose()
    marker_path(engine_name, subjects, records).write_text(json.dumps(meta, indent=1))
    return meta


def _next(queue: Any, proc: Any) -> Any:
    import queue as q

    while True:
        try:
            return queue.get(timeout=5)
        except q.Empty:
            if not proc.is_alive():
                raise SystemExit(f"the generator process died (exit code {proc.exitcode})") from None


def _drop(engine_name: str, url: str) -> None:
    if engine_name == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(str(make_url(url).database) + suffix).unlink(missing_ok=True)
    else:
        admin = _pg_admin()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
        admin.dispose()


def _drop_indexes(db: Any) -> list[str]:
    """Drop the plain indexes of record / record_version (random-order inserts); returns their DDL."""
    with db.engine.begin() as conn:
        if db.dialect == "sqlite":
            rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                                     "AND tbl_name IN ('record', 'record_version')")).all()
        else:
            rows = conn.execute(text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('record', 'record_version') "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint)")).all()
        for name, _ in rows:
            conn.execute(text(f'DROP INDEX "{name}"'))
    return [sql for _, sql in rows]


def _restore_indexes(db: Any, ddl: list[str]) -> None:
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        for sql in ddl:
            conn.execute(text(sql))


def _describe(db: Any, engine_name: str, subjects: int, records: int) -> dict[str, Any]:
    """Records per subject, the subjects with the most records, sizes."""
    with db.engine.connect() as conn:
        n_records = conn.execute(text("SELECT count(*) FROM record")).scalar_one()
        n_versions = conn.execute(text("SELECT count(*) FROM record_version")).scalar_one()
        n_subjects = conn.execute(text("SELECT count(*) FROM subject")).scalar_one()
        histogram = dict(conn.execute(text(
            "SELECT n, count(*) FROM (SELECT count(*) AS n FROM record GROUP BY subject_id) AS c GROUP BY n")).all())
        heavy = conn.execute(text("SELECT subject_id, count(*) AS n FROM record GROUP BY subject_id "
                                  f"ORDER BY n DESC, subject_id LIMIT {HEAVY}")).all()
        head = conn.execute(text("SELECT last_seq, last_record_id, last_subject_id FROM ledger_head")).one()
        if engine_name == "postgresql":
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
            tables = dict(conn.execute(text(
                "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relname IN "
                "('subject', 'record', 'record_version') AND relkind = 'r'")).all())
        else:
            path = Path(str(make_url(str(db.engine.url)).database))
            size = sum(Path(str(path) + s).stat().st_size for s in ("", "-wal") if Path(str(path) + s).exists())
            try:
                tables = dict(conn.execute(text(
                    "SELECT m.tbl_name, sum(d.pgsize) FROM dbstat AS d JOIN sqlite_master AS m ON m.name = d.name "
                    "WHERE m.tbl_name IN ('subject', 'record', 'record_version') GROUP BY m.tbl_name")).all())
            except Exception:  # dbstat is not compiled in everywhere
                tables = {}
    assert n_records == records == head.last_record_id and n_subjects == subjects == head.last_subject_id
    assert n_versions == head.last_seq
    histogram[0] = subjects - sum(histogram.values())
    ordered = sorted(histogram.items())

    def quantile(q: float) -> int:
        target, seen = q * subjects, 0
        for n, c in ordered:
            seen += c
            if seen >= target:
                return int(n)
        return int(ordered[-1][0])

    return {
        "engine": engine_name, "subjects": subjects, "records": n_records, "versions": n_versions,
        "records_per_subject": {"p50": quantile(0.5), "p90": quantile(0.9), "p99": quantile(0.99),
                                "p99.9": quantile(0.999), "max": int(ordered[-1][0]), "zero": histogram[0]},
        "heavy": [[int(s), int(n)] for s, n in heavy],
        "size_bytes": int(size), "table_bytes": {k: int(v) for k, v in tables.items()},
    }


def ensure_database(engine_name: str, subjects: int, records: int, rebuild: bool) -> tuple[str, dict[str, Any]]:
    url = database_url(engine_name, subjects, records)
    marker = marker_path(engine_name, subjects, records)
    if marker.exists() and not rebuild:
        meta = json.loads(marker.read_text())
        from chengxin.core.db import make_engine
        from chengxin.core.migrate import pending, upgrade

        try:
            eng = make_engine(url)
            with eng.connect() as conn:
                head = conn.execute(text("SELECT last_record_id, last_subject_id FROM ledger_head")).one()
            if pending(eng):  # migrations added since the build: apply them, as a deployment would
                print("applying new migrations to the cached database")
                upgrade(eng)
            eng.dispose()
            if (head.last_record_id, head.last_subject_id) == (records, subjects):
                print(f"reusing {url} (built {meta['built']} in {meta['build_seconds']} s)")
                return url, meta
        except Exception as exc:  # gone or damaged: build again
            print(f"cached database unusable ({exc.__class__.__name__}): rebuilding")
    print(f"building {url}: {subjects:,} subjects, {records:,} records")
    return url, build(engine_name, subjects, records)


# -- serving and loading -------------------------------------------------------------------------------


def database_files(url: str) -> list[Path]:
    """The files holding the database: SQLite's file (and WAL), or PostgreSQL's relation segments."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return [p for p in (Path(str(u.database)), Path(f"{u.database}-wal")) if p.exists()]
    from chengxin.core.db import make_engine

    eng = make_engine(url)
    with eng.connect() as conn:
        data = Path(conn.execute(text("SHOW data_directory")).scalar_one())
        rels = conn.execute(text("SELECT pg_relation_filepath(oid) FROM pg_class WHERE relkind IN ('r', 'i', 't') "
                                 "AND pg_relation_filepath(oid) IS NOT NULL")).scalars().all()
    eng.dispose()
    files: list[Path] = []
    for rel in rels:
        base = data / rel
        files += [base, *sorted(base.parent.glob(base.name + ".[0-9]*"))] if base.exists() else []
    return files


def prewarm(url: str) -> str:
    """Read the database files once so the OS page cache holds them (24 GiB of RAM, ~9 GB per database): the
    figures are for a server whose data is in memory, as it is after a while in production. Returns the
    share that was resident before (from ``fincore`` where present). Done before each endpoint's run: this
    machine kind runs DAMON reclaim (``/sys/kernel/mm/damon``: page out memory not accessed for ~60 s, up to
    128 MB/s), which evicts the pages of a database read at random within a minute or two."""
    files = database_files(url)
    before = _resident(files)
    t = time.perf_counter()
    total = 0
    for f in files:
        with f.open("rb") as fh:
            while chunk := fh.read(8 << 20):
                total += len(chunk)
    return f"{total / 1e9:.1f} GB read in {time.perf_counter() - t:.0f} s; resident before {before}, after {_resident(files)}"


def _paged_in_kb() -> int:
    """KB read from block devices since boot (``pgpgin`` of /proc/vmstat): what the run read from disk
    instead of the page cache."""
    for line in Path("/proc/vmstat").read_text().splitlines():
        name, _, value = line.partition(" ")
        if name == "pgpgin":
            return int(value)
    return 0


def _resident(files: list[Path]) -> str:
    if not shutil.which("fincore") or not files:
        return "?"
    out = subprocess.run(["fincore", "-b", "-n", "-o", "RES,SIZE", *map(str, files)], capture_output=True, text=True)
    res = size = 0
    for line in out.stdout.split("\n"):
        parts = line.split()
        if len(parts) == 2:
            res, size = res + int(parts[0]), size + int(parts[1])
    return f"{100 * res / size:.0f}%" if size else "?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def api_key(url: str) -> str:
    from chengxin.accounts.service import create_api_key
    from chengxin.core.audit import Actor
    from chengxin.core.db import Database, make_engine

    db = Database(make_engine(url))
    with db.write() as session:
        issued = create_api_key(session, department_code="samr", label="bench file_api",
                                actor=Actor(kind="cli", name="bench"))
    db.engine.dispose()
    return issued.key


def start_server(url: str, port: int, log: Path, workers: int | None = 1) -> subprocess.Popen[bytes]:
    """``chengxin serve`` on ``port``; ``workers`` None: serve's own default (one per core, at most 4)."""
    env = {**os.environ, "CHENGXIN_DATABASE_URL": url, "CHENGXIN_KEY_DIR": str(KEYS)}
    cmd = [str(Path(sys.executable).parent / "chengxin"), "serve", "--port", str(port)]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    with log.open("wb") as fh:
        proc = subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT)
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("server did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def request_ids(meta: dict[str, Any], count: int, rng: random.Random, heavy_share: float) -> list[list[Any]]:
    """[id, tag]: uniformly random subjects, and ``heavy_share`` of them among those with the most records."""
    heavy = [s for s, _ in meta["heavy"]]
    return [[rng.choice(heavy), "heavy"] if rng.random() < heavy_share else [rng.randint(1, meta["subjects"]), "any"]
            for _ in range(count)]


def warm_up(port: int, key: str, ids: list[list[Any]], seconds: float) -> None:
    """Sequential requests to every endpoint (connections, imports, caches), about ``seconds`` in all."""
    import httpx

    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        deadline = time.monotonic() + seconds
        for i, (subject_id, _) in enumerate(itertools.cycle(ids)):
            if time.monotonic() > deadline:
                break
            client.get("/healthz")
            client.get(f"/api/v1/public/subjects/{subject_id}")
            if i % 4 == 0:
                client.get(f"/api/v1/gov/subjects/{subject_id}/file", params={"purpose": PURPOSE},
                           headers={"X-API-Key": key})


@dataclass
class Run:
    endpoint: str
    rows: dict[str, dict[str, str]]  # locust CSV rows by name
    samples: list[list[Any]]  # [t, name, ms, ok, status, bytes]
    seconds: float
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    locust_cpu: float
    server_cpu: float
    db_cpu: float


def _cpu(pids: list[int]) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        try:
            p = psutil.Process(pid)
            for proc in [p, *p.children(recursive=True)]:
                t = proc.cpu_times()
                total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def _backend_cpu(url: str | None) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to the benchmark database (not the other
    databases on the same server)."""
    import psutil

    if not url:
        return {}
    eng = create_engine(make_url(url.replace("postgresql://", "postgresql+psycopg://", 1)))
    with eng.connect() as conn:
        pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND pid <> pg_backend_pid()")).scalars().all()
    eng.dispose()
    out = {}
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            out[pid] = t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return out


def run_locust(target: str, port: int, rate: float, duration: int, users: int, ids_path: Path, key: str,
               server: subprocess.Popen[bytes], engine_name: str, arrivals: str, db_url: str,
               page_limit: int | None = None) -> Run:
    prefix = OUT / f"file_api_{engine_name}_{target}"
    samples_path = Path(f"{prefix}_samples.json")
    samples_path.unlink(missing_ok=True)
    spawn = max(1, users // 2)  # users per second: the ramp takes ~2 s, excluded by --reset-stats
    env = {**os.environ, "FILE_API_TARGET": target, "FILE_API_RATE": str(rate / users), "FILE_API_IDS": str(ids_path),
           "FILE_API_ARRIVALS": arrivals,
           "FILE_API_KEY": key, "FILE_API_SAMPLES": str(samples_path), "FILE_API_PURPOSE": PURPOSE,
           "FILE_API_LIMIT": str(page_limit or ""), "FILE_API_SETTLE": str(SETTLE)}
    cmd = [str(Path(sys.executable).parent / "locust"), "-f", str(ROOT / "bench" / "locust_file_api.py"),
           "--headless", "-u", str(users), "-r", str(spawn), "--run-time", f"{duration + math.ceil(users / spawn) + 1 + SETTLE}s",
           "--host", f"http://127.0.0.1:{port}", "--csv", str(prefix), "--reset-stats", "--only-summary",
           "--loglevel", "WARNING", "--stop-timeout", "5"]
    pg_url = db_url if engine_name == "postgresql" else None
    server_before, db_before = _cpu([server.pid]), _backend_cpu(pg_url)
    load_before = os.getloadavg()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT)
    import psutil

    ps = psutil.Process(proc.pid)
    locust_cpu = 0.0
    while proc.poll() is None:
        try:
            t = ps.cpu_times()
            locust_cpu = t.user + t.system
        except psutil.NoSuchProcess:
            break
        time.sleep(0.5)
    out = proc.stdout.read().decode() if proc.stdout else ""
    seconds = time.perf_counter() - started
    load_after = os.getloadavg()
    db_after = _backend_cpu(pg_url)
    server_cpu = _cpu([server.pid]) - server_before
    db_cpu = sum(cpu - db_before.get(pid, 0.0) for pid, cpu in db_after.items())
    if proc.returncode not in (0, 1):  # 1: some requests failed (reported below)
        raise SystemExit(f"locust failed ({proc.returncode}):\n{out}")
    with open(f"{prefix}_stats.csv", encoding="utf-8") as fh:
        rows = {row["Name"]: row for row in csv.DictReader(fh)}
    samples = json.loads(samples_path.read_text()) if samples_path.exists() else []
    return Run(target, rows, samples, seconds, load_before, load_after, locust_cpu / seconds, server_cpu / seconds,
               db_cpu / seconds)


def exact(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


LABELS = {"health": "`GET /healthz` (baseline)", "public": "public file `GET /api/v1/public/subjects/{id}`",
          "gov": "government read `GET /api/v1/gov/subjects/{id}/file`"}


def report(engine_name: str, runs: list[Run], rate: float) -> tuple[list[str], list[str]]:
    """Markdown table rows (locust's CSV figures, plus the exact p99 of the recorded samples) and notes."""
    lines, notes = [], []
    for run in runs:
        ms = [s[2] for s in run.samples]
        not_found = sum(1 for s in run.samples if s[4] == 404)
        window = (max(s[0] for s in run.samples) - min(s[0] for s in run.samples)) if run.samples else 0.0
        rows = [(LABELS[run.endpoint], run.rows["Aggregated"], ms, str(not_found))]
        for tag, what in (("any", "… uniformly random subjects"),
                          ("heavy", "… the 1,000 subjects with the most records")):
            name = next((n for n in run.rows if n.endswith(f"[{tag}]")), None)
            if name:
                rows.append((what, run.rows[name], [s[2] for s in run.samples if s[1] == name],
                             str(sum(1 for s in run.samples if s[1] == name and s[4] == 404))))
        for what, row, values, nf in rows:
            lines.append(
                f"| {engine_name} | {what} | {rate:.0f} | {float(row['Requests/s']):.1f} | {row['Request Count']} | "
                f"{row['Failure Count']} | {nf} | {row['50%']} | {row['95%']} | **{row['99%']}** | {row['100%']} | "
                f"{exact(values, 0.99):.1f} | {int(float(row['Average Content Size'])):,} | "
                f"{run.server_cpu * 100:.0f}% / {run.db_cpu * 100:.0f}% / {run.locust_cpu * 100:.0f}% | "
                f"{run.load_before[0]:.2f} → {run.load_after[0]:.2f} |")
        sizes = sorted(s[5] for s in run.samples)
        notes.append(f"{run.endpoint}: {len(ms)} samples over {window:.1f} s after the ramp; response bytes p50 "
                     f"{exact(sizes, 0.5):,.0f}, p99 {exact(sizes, 0.99):,.0f}, max {sizes[-1] if sizes else 0:,}; "
                     f"exact ms p50 {exact(ms, 0.5):.2f} p95 {exact(ms, 0.95):.2f} p99 {exact(ms, 0.99):.2f} "
                     f"p99.9 {exact(ms, 0.999):.2f} max {max(ms, default=0):.1f}")
    return lines, notes


HEADER = ("| engine | endpoint | target req/s | achieved req/s | requests | failures | 404 (no public info) | "
          "p50 ms | p95 ms | p99 ms | max ms | p99 exact ms | mean bytes | CPU server / PostgreSQL / locust | "
          "load 1-min |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--duration", type=int, default=60, help="measured seconds per endpoint")
    parser.add_argument("--users", type=int, default=100, help="locust users (each at rate/users req/s)")
    parser.add_argument("--arrivals", choices=("poisson", "uniform"), default="poisson",
                        help="each user's request times: Poisson (random, as real traffic) or evenly spaced")
    parser.add_argument("--warm-up", type=float, default=15.0, help="seconds of sequential warm-up requests")
    parser.add_argument("--targets", default="health,public,gov")
    parser.add_argument("--heavy-share", type=float, default=HEAVY_SHARE,
                        help="share of the file requests for the 1,000 subjects with the most records")
    parser.add_argument("--cold", action="store_true", help="do not read the database into the page cache first")
    parser.add_argument("--workers", type=int, default=None,
                        help="chengxin serve worker processes (default: serve's own, one per core up to 4)")
    parser.add_argument("--page-limit", type=int, default=None,
                        help="items per page asked of the file endpoints (default: the API's default page, 100; "
                             "1000, the largest page, to read the heavy files whole)")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--persons-only", action="store_true",
                        help="every subject a person (the scores benchmark's database, issue #6)")
    args = parser.parse_args()
    if args.persons_only:
        global PERSONS_ONLY
        PERSONS_ONLY = True
        os.environ["CHENGXIN_BENCH_PERSONS_ONLY"] = "1"  # for the spawned generator process
    if args.duration < 30:
        print("note: the issue asks for at least 30 s per endpoint")
    OUT.mkdir(parents=True, exist_ok=True)
    url, meta = ensure_database(args.engine, args.subjects, args.records, args.rebuild)
    print(f"database: {url}\n  {meta['subjects']:,} subjects, {meta['records']:,} records, {meta['versions']:,} "
          f"versions; records per subject {meta['records_per_subject']}; size {meta['size_bytes'] / 1e9:.2f} GB "
          f"{ {k: round(v / 1e9, 2) for k, v in meta['table_bytes'].items()} }; build {meta['build_seconds']} s "
          f"{meta['phases']}")
    if args.build_only:
        return
    rng = random.Random(7)
    ids_path = OUT / f"file_api_ids_{args.engine}.json"
    ids = request_ids(meta, 200_000, rng, args.heavy_share)
    ids_path.write_text(json.dumps(ids))
    if not args.cold:
        print(f"page cache: {prewarm(url)}")
    key = api_key(url)
    port = free_port()
    log = OUT / f"file_api_server_{args.engine}.log"
    server = start_server(url, port, log, args.workers)
    import chengxin

    head = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True,
                          text=True).stdout.strip()
    print(f"server: chengxin serve on 127.0.0.1:{port}, pid {server.pid}, workers {args.workers or 'default'}, "
          f"log {log}; code {Path(chengxin.__file__).parent} (git {head or '?'}); page limit "
          f"{args.page_limit or 'API default'}")
    runs: list[Run] = []
    try:
        warm_up(port, key, request_ids(meta, 5000, random.Random(8), args.heavy_share), args.warm_up)
        for target in args.targets.split(","):
            if not args.cold:  # again before each run: this machine kind pages out memory idle for ~60 s (DAMON)
                print(f"page cache: {prewarm(url)}")
            print(f"locust: {target} at {args.rate:.0f} req/s for {args.duration} s ({args.users} users) …", flush=True)
            paged_in = _paged_in_kb()
            runs.append(run_locust(target, port, args.rate, args.duration, args.users, ids_path, key, server,
                                   args.engine, args.arrivals, url, args.page_limit))
            print(f"  read from disk during the run: {(_paged_in_kb() - paged_in) / 1024:.1f} MB", flush=True)
    finally:
        stop(server)
    print(f"\n{meta['subjects']:,} subjects, {meta['records']:,} records ({args.engine}), "
          f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}\n")
    lines, notes = report(args.engine, runs, args.rate)
    print(HEADER)
    print("\n".join(lines))
    print()
    print("\n".join(notes))


if __name__ == "__main__":
    main()
