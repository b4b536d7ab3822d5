"""Benchmark: public subject search (``chengxin.search.service.search_subjects``) among N subjects, in
process, on both engines.

    .venv/bin/python bench/search.py --subjects 1000000 [--engines sqlite,postgresql] [--queries 1000]

Half the subjects are organisations with varied Chinese company names built from a few hundred words
(place + brand + industry + form), so substring queries have realistic selectivity; half are persons.
Queries: substrings of 2, 3 and 4–8 characters cut from random organisations' names, and USCC look-ups
(``--queries`` of them, a quarter each; "all search" is these); then as many single characters as each
of those kinds, cut the same way (their own random stream: the other queries are those of earlier runs).
Target (issue #3): p99 under 50 ms. Baseline in the same run: a primary-key read of a subject.
Also printed: the size of the search index (PostgreSQL, migration 0008: the bigram table and its counts;
SQLite, migration 0031: the FTS5 table of the same grams as tokens, its shadow tables included).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fresh_database, key_dir, load_subjects, pct  # noqa: E402
from sqlalchemy import text  # noqa: E402

from chengxin.catalog.model import SubjectKind  # noqa: E402
from chengxin.core.crypto import KeyRing  # noqa: E402
from chengxin.core.db import Database, make_engine  # noqa: E402
from chengxin.core.identifiers import make_ric, make_uscc  # noqa: E402
from chengxin.search.schema import GRAM_COUNT_TABLE, GRAM_TABLE, NAME_FTS_TABLE  # noqa: E402
from chengxin.search.service import search_subjects  # noqa: E402
from chengxin.subjects.service import SubjectKey  # noqa: E402

PLACES = ("常州", "常州市", "江苏", "武进", "金坛", "溧阳", "天宁", "钟楼", "新北", "苏州", "无锡", "南京", "上海", "")
BRAND_CHARS = "华恒泰金鑫盛源宏达兴隆永昌瑞丰明德信诚安远通海天龙凤祥和嘉新宇晨光辉创博联合众协力中正东方正大"
INDUSTRY = (
    "科技", "信息技术", "电子", "机械", "建设", "建筑工程", "贸易", "商贸", "物流", "运输", "食品", "餐饮管理", "医药",
    "生物科技", "化工", "新材料", "纺织", "服装", "家具", "汽车销售", "汽车零部件", "房地产开发", "物业管理", "装饰工程",
    "环保科技", "能源", "光伏", "电气", "五金", "模具", "塑料制品", "印刷", "文化传媒", "广告", "教育咨询", "人力资源",
    "企业管理咨询", "软件", "网络科技", "农业发展", "园林绿化", "水产", "酒店管理", "旅游", "健康管理", "医疗器械",
)
FORMS = ("有限公司", "有限责任公司", "股份有限公司", "集团有限公司", "经营部", "商行", "合伙企业（有限合伙）", "分公司", "厂")
REGIONS = ("320402", "320404", "320411", "320412", "320413", "320481")


def brands(rng: random.Random) -> list[str]:
    chars = list(BRAND_CHARS)
    out = {rng.choice(chars) + rng.choice(chars) for _ in range(400)}
    return sorted(out)


def org_name(rng: random.Random, brand_words: list[str], n: int) -> str:
    name = rng.choice(PLACES) + rng.choice(brand_words) + rng.choice(INDUSTRY) + rng.choice(FORMS)
    return name if rng.random() < 0.9 else name.replace("有限", f"第{n % 97}有限", 1)


def identity(n: int, name: str) -> SubjectKey:
    if n % 2 == 0:
        k = n // 2
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=(k // 1000) % 20000)
        return SubjectKey(SubjectKind.PERSON, make_ric(REGIONS[k % 6], birth, k % 1000), "张" + "伟芳娜敏静"[k % 5] + "明")
    return SubjectKey(SubjectKind.ORGANIZATION, make_uscc("9", "1", "320400", f"{n:08d}"[-8:]), name)


def load(db: Database, keyring: KeyRing, count: int, names: dict[int, str]) -> None:
    load_subjects(db, keyring, count, lambda n: identity(n, names.get(n, "")))


def search_index_mb(db: Database) -> float:
    """Size of the name index: PostgreSQL's bigram table and its counts, with their indexes; SQLite's FTS5
    table and its shadow tables (via dbstat)."""
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            size = conn.execute(text(f"SELECT pg_total_relation_size('{GRAM_TABLE}') "
                                     f"+ pg_total_relation_size('{GRAM_COUNT_TABLE}')")).scalar_one()
        else:
            try:
                size = conn.execute(text("SELECT sum(pgsize) FROM dbstat WHERE name = :fts OR name GLOB :shadow"),
                                    {"fts": NAME_FTS_TABLE, "shadow": NAME_FTS_TABLE + "_*"}).scalar_one()
            except Exception:  # SQLite built without the dbstat table
                return float("nan")
    return float(size or 0) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    keyring = KeyRing.open(key_dir())
    rng = random.Random(3)
    words = brands(rng)
    names = {n: org_name(rng, words, n) for n in range(1, args.subjects, 2)}
    orgs = sorted(names)
    queries: list[tuple[str, str]] = []
    for i in range(args.queries):
        n = rng.choice(orgs)
        name = names[n]
        kind = ("2 chars", "3 chars", "4+ chars", "USCC")[i % 4]
        if kind == "USCC":
            queries.append((kind, identity(n, name).identifier))
            continue
        size = {"2 chars": 2, "3 chars": 3}.get(kind) or rng.randint(4, min(8, len(name)))
        start = rng.randrange(len(name) - size + 1)
        queries.append((kind, name[start : start + size]))
    rng_1 = random.Random(4)
    for _ in range(args.queries // 4):
        name = names[rng_1.choice(orgs)]
        queries.append(("1 char", rng_1.choice(name)))
    print(f"{'engine':<11}{'subjects':>10}{'load s':>8}  {'query':<9}{'n':>5}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
          f"{'hits p50':>10}")
    for engine in args.engines.split(","):
        db = Database(make_engine(fresh_database(engine, f"search_{engine}")))
        t = time.perf_counter()
        load(db, keyring, args.subjects, names)
        if engine == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE subject"))
                conn.execute(text(f"VACUUM ANALYZE {GRAM_TABLE}"))
                conn.execute(text(f"VACUUM ANALYZE {GRAM_COUNT_TABLE}"))
        else:
            with db.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        load_s = time.perf_counter() - t
        index_mb = search_index_mb(db)
        timings: dict[str, list[float]] = {}
        hits: dict[str, list[int]] = {}
        with db.read() as session:
            for _kind, q in queries[:100]:  # warm the connection and caches
                search_subjects(session, q)
            for kind, q in queries:
                t0 = time.perf_counter()
                page = search_subjects(session, q)
                timings.setdefault(kind, []).append((time.perf_counter() - t0) * 1000)
                hits.setdefault(kind, []).append(page.total_estimate)
            for n in rng.sample(orgs, min(len(orgs), len(queries))):
                t0 = time.perf_counter()
                session.execute(text("SELECT id, kind, display_id, display_name FROM subject WHERE id = :id"),
                                {"id": n}).one()
                timings.setdefault("pk read", []).append((time.perf_counter() - t0) * 1000)
                hits.setdefault("pk read", []).append(1)
        kinds = ("2 chars", "3 chars", "4+ chars", "USCC")
        timings["all search"] = [v for k in kinds for v in timings[k]]
        hits["all search"] = [h for k in kinds for h in hits[k]]
        for kind in ("1 char", *kinds, "all search", "pk read"):
            v = timings[kind]
            print(f"{engine:<11}{args.subjects:>10}{load_s:>8.1f}  {kind:<9}{len(v):>5}{statistics.median(v):>9.2f}"
                  f"{pct(v, 0.99):>9.2f}{max(v):>9.2f}{statistics.median(hits[kind]):>10.0f}")
        print(f"{engine:<11}{args.subjects:>10}  name index: {index_mb:.0f} MB")
        db.engine.dispose()


if __name__ == "__main__":
    main()
