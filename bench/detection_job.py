"""Benchmark: the whole e-commerce detection job, from the database (issue #7, Evaluation: speed).

Target: "the whole detection run over 1,000,000 orders and ratings in under 60 s on this 2-core machine, peak
memory under 4 GB". bench/detection.py measures the detectors on in-memory frames; this measures the job
``chengxin.ecommerce.risk.service.detect`` end to end — read the trade tables into frames (risk/extract.py),
run the detectors, store the findings, recompute every shop's risk level — and, in the same run, the floor:
``run_detectors`` alone on the very same frames held in memory (no database).

    .venv/bin/python bench/detection_job.py --engine sqlite|postgresql [--orders 1000000] [--seed 7]
                                            [--platforms 3] [--runs 1] [--build-only] [--rebuild] [--cold]
                                            [--keep-findings] [--verify]

1. The database (built once, reused: SQLite ``var/bench/detection_<N>.db`` or PostgreSQL
   ``chengxin_bench_detection_<N>``; ``--rebuild`` to force; rebuilt when the seed or platforms differ), in a
   child process so the generator's memory never counts against the measurement:
   the marketplace of ``chengxin.ecommerce.marketgen`` (``MarketSpec(orders=N, seed=S)``, camouflage on: the
   speed marketplace of bench/detection.py), migrated with the project's migrations, written in bulk with
   ``chengxin.core.db.BulkWriter`` (executemany / COPY), not through the ingest API (row-by-row validation,
   ~15 minutes at 1M). The rows are what ``ecommerce.trade.service`` stores: platforms operated by organisation
   subjects and shops owned by subjects (``subjects.service.ensure_subjects`` under the ledger lock, as the
   ingest does), shops spread over the platforms (60/30/10%), one buyer account per (platform, buyer) — the
   platforms hash their accounts with their own keys —, orders with their ``content_hash``
   (``trade.rules.order_content_hash``), one item per order whose weight is the generator's expected weight,
   shipments, ratings with ``period`` (the order's Beijing month), the order's shop and account, ``text_hash``
   (``trade.rules.text_hash``) and ``content_hash``. A sample of orders and ratings is first parsed by
   ``trade.rules.parse_order`` / ``parse_rating`` (the ingest's validation) and must give the same rows.
   The in-memory frames of the floor (the generator's, with the accounts' ids and the stored text hashes) are
   written next to the database as Parquet.
2. The database files read once into the OS page cache (``file_api.prewarm``; ``--cold`` to skip).
3. The job, in a fresh process: the findings and risk levels of earlier runs deleted first (each run of the
   benchmark is a first run; ``--runs 2`` adds the steady-state re-run over unchanged data), then
   ``detect(db, now=<end of the generated window>, actor=Actor("cli", "bench"))``: wall time, the phases of
   its ``RunSummary.timings``, peak RSS (VmHWM, and ``ru_maxrss``), findings by kind.
   ``--verify``: afterwards (not timed) the frames the job reads are compared with the floor's, row for row.
4. The floor, in a fresh process: the Parquet frames read, then ``run_detectors``: seconds per phase, peak RSS.

Peak RSS is VmHWM (reset by exec) and ``ru_maxrss`` of the measuring process; the parent never generates or
builds anything, so a child's ``ru_maxrss`` does not inherit a large parent's. On PostgreSQL the server's own
memory is not in these figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import file_api  # noqa: E402  (fresh database, page-cache prewarm, database files)
from _common import PG_ADMIN, ROOT  # noqa: E402
from detection import peak_rss_mb  # noqa: E402  (VmHWM: reset by exec, unlike ru_maxrss)
from lookup import identity  # noqa: E402  (subject number n → SubjectKey: even a person, odd an organisation)
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from chengxin.ecommerce.trade import rules  # noqa: E402  (the rows the trade service stores)

VAR = ROOT / "var" / "bench"
KEYS = VAR / "keys"
CHUNK = 50_000  # rows per bulk insert (and per transaction)
PLATFORMS = (("longcheng", "龙城优选", 0.6), ("yunshang", "云尚购", 0.3), ("yunhe", "运河集市", 0.1))
OPERATORS = (1, 3, 5)  # subject numbers of the platforms' operators (odd: organisations)
OWNER_BASE = 1_000  # subject number of shop i's owner: OWNER_BASE + i (half persons, half organisations)
SAMPLE = 400  # orders and ratings checked against the ingest's parsers before the bulk write
KINDS = ("order_brushing", "fake_traffic", "malicious_review", "empty_parcel")
VALUE = {1: "good", 0: "neutral", -1: "bad"}
TARGET_S, TARGET_MB = 60.0, 4096.0


# -- names and the cached database ---------------------------------------------------------------------


def label(orders: int) -> str:
    return f"detection_{orders}"


def database_url(engine: str, orders: int) -> str:
    if engine == "sqlite":
        return f"sqlite:///{VAR / (label(orders) + '.db')}"
    admin = make_url(PG_ADMIN.replace("postgresql://", "postgresql+psycopg://", 1))
    return admin.set(database=f"chengxin_bench_{label(orders)}").render_as_string(hide_password=False)


def marker_path(engine: str, orders: int) -> Path:
    return VAR / f"{label(orders)}.{engine}.json"


def frames_dir(engine: str, orders: int) -> Path:
    return VAR / f"{label(orders)}.{engine}.frames"


def cached(engine: str, orders: int, seed: int, platforms: int) -> dict[str, Any] | None:
    """The marker of a usable cached database (same seed and platforms, all orders there), else None."""
    path = marker_path(engine, orders)
    if not path.exists():
        return None
    meta: dict[str, Any] = json.loads(path.read_text())
    if (meta.get("seed"), meta.get("platforms")) != (seed, platforms):
        print(f"cached database was built with seed {meta.get('seed')}, {meta.get('platforms')} platforms: rebuilding")
        return None
    if not all((frames_dir(engine, orders) / f"{n}.parquet").exists() for n in ("orders", "ratings", "shipments")):
        print("floor frames missing: rebuilding")
        return None
    from chengxin.core.db import make_engine
    from chengxin.core.migrate import pending, upgrade

    try:
        eng = make_engine(database_url(engine, orders))
        with eng.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM ec_order")).scalar_one()
        if pending(eng):  # migrations added since the build: apply them, as a deployment would
            print("applying new migrations to the cached database")
            upgrade(eng)
        eng.dispose()
    except Exception as exc:  # gone or damaged: build again
        print(f"cached database unusable ({exc.__class__.__name__}): rebuilding")
        return None
    if count != meta["rows"]["ec_order"]:
        print(f"cached database has {count:,} orders, expected {meta['rows']['ec_order']:,}: rebuilding")
        return None
    return meta


# -- the build (child process) -------------------------------------------------------------------------


def _sha(text_: str) -> str:
    return hashlib.sha256(text_.encode()).hexdigest()


def plan(market: Any, seed: int, platforms: int) -> dict[str, Any]:
    """The generator's marketplace as the platforms would report it: shops on platforms, accounts per platform,
    orders joined with their shipments, ratings with their order's account and period."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed + 1_000_003)
    shares = np.array([p[2] for p in PLATFORMS[:platforms]], dtype=float)
    shops = market.shops.sort("shop_id").with_columns(
        platform_id=pl.Series(rng.choice(platforms, market.shops.height, p=shares / shares.sum()) + 1, dtype=pl.Int64),
        shop_code=pl.format("S{}", pl.col("shop_id")),
        owner_no=pl.int_range(pl.len(), dtype=pl.Int64) + OWNER_BASE)
    orders = (market.orders.drop("platform_id")
              .join(shops.select("shop_id", "platform_id", "shop_code", "category"), on="shop_id", how="left"))
    accounts = (orders.select("platform_id", "buyer_id").unique().sort("platform_id", "buyer_id")
                .with_row_index("account_id", offset=1).with_columns(pl.col("account_id").cast(pl.Int64)))
    accounts = accounts.with_columns(account_hash=pl.Series(  # each platform's own keyed hash of its account
        [_sha(f"{seed}:account:{p}:{b}") for p, b in zip(accounts["platform_id"].to_list(),
                                                          accounts["buyer_id"].to_list())], dtype=pl.String))
    orders = (orders.join(accounts, on=["platform_id", "buyer_id"], how="left").sort("order_id")
              .with_columns(period=pl.col("placed_at").dt.convert_time_zone("Asia/Shanghai").dt.strftime("%Y-%m")))
    wide = orders.join(market.shipments.drop("shop_id"), on="order_id", how="left").sort("order_id")
    wide = wide.with_columns(tracking_hash=pl.Series(
        [None if s is None else _sha(f"{seed}:tracking:{o}") for o, s in zip(wide["order_id"].to_list(),
                                                                            wide["shipped_at"].to_list())],
        dtype=pl.String))
    # The stored text hash is the trade rule's (NFKC, no spaces, case-folded), not the generator's own.
    stored_hash = {h: rules.text_hash(t) for h, t in market.texts.items()}
    ratings = (market.ratings.join(orders.select("order_id", "platform_id", "account_id", "period"), on="order_id",
                                   how="left")
               .with_columns(text=pl.col("text_hash").replace_strict(market.texts, default=None, return_dtype=pl.String),
                             text_hash=pl.col("text_hash").replace_strict(stored_hash, default=None,
                                                                          return_dtype=pl.String))
               .sort("order_id", "direction"))
    floor = {
        "orders": orders.select("order_id", "platform_id", "shop_id", pl.col("account_id").alias("buyer_id"),
                                "placed_at", "amount_cents", "address_hash", "device_hash", "payment_hash"),
        "ratings": ratings.select("order_id", "shop_id", pl.col("account_id").alias("buyer_id"), "direction", "value",
                                  "stars", "text_hash", "rated_at", "delivered_at"),
        "shipments": market.shipments,
    }
    return {"shops": shops, "accounts": accounts, "wide": wide, "ratings": ratings, "floor": floor}


def _status(shipped: Any, signed: Any) -> str:
    return "delivered" if signed is not None else "shipped" if shipped is not None else "paid"


def _order_row(source_id: str, shop_code: str, account_hash: str, amount: int, placed: dt.datetime,
               addr: str | None, dev: str | None, pay: str | None, item_name: str, weight: int | None,
               tracking: str | None, declared: int | None, shipped: dt.datetime | None, signed: dt.datetime | None,
               scans: int | None, distance: float | None) -> Any:
    """The ``trade.rules.OrderRow`` the ingest would have parsed (one item: quantity 1 at the order's amount)."""
    shipment = None if shipped is None or tracking is None else rules.ShipmentRow(
        None, tracking, declared, shipped, signed, scans or 0, distance)
    fields = (0, source_id, shop_code, account_hash, amount, placed, _status(shipped, signed), addr, dev, pay,
              (rules.ItemRow(1, None, item_name, 1, amount, weight),), shipment)
    return rules.OrderRow(*fields, content_hash=rules.order_content_hash(rules.OrderRow(*fields)))


def _rating_row(source_id: str, source_order_id: str, direction: str, value: int, stars: int | None,
                text_: str | None, rated: dt.datetime) -> Any:
    fields = (0, source_id, source_order_id, direction, VALUE[value], stars, text_, rules.text_hash(text_), rated, None,
              None)
    return rules.RatingRow(*fields, content_hash=rules.rating_content_hash(rules.RatingRow(*fields)))


def _order_id(order_id: int) -> str:
    return f"O{order_id:010d}"


def _rating_id(order_id: int, direction: str) -> str:
    return f"R{order_id:010d}{'B' if direction == 'buyer_to_shop' else 'S'}"


def _yuan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _values(series: Any) -> list[Any]:
    """A column as Python values; UTC times with ``datetime.UTC`` as their zone (polars hands out ZoneInfo("UTC"),
    with which every ``astimezone`` of the content hash costs microseconds instead of nothing)."""
    if getattr(series.dtype, "time_zone", None) is None:
        return list(series.to_list())
    return [None if v is None else v.replace(tzinfo=dt.UTC) for v in series.dt.replace_time_zone(None).to_list()]


def _cols(frame: Any, names: tuple[str, ...]) -> Iterator[tuple[Any, ...]]:
    return zip(*(_values(frame[n]) for n in names))


ORDER_INPUT = ("order_id", "shop_code", "account_hash", "amount_cents", "placed_at", "address_hash", "device_hash",
               "payment_hash", "category", "expected_weight_g", "tracking_hash", "declared_weight_g", "shipped_at",
               "signed_at", "scan_count", "distance_km")
RATING_INPUT = ("order_id", "direction", "value", "stars", "text", "rated_at")


def _orders_of(frame: Any) -> Iterator[Any]:
    for (oid, code, acct, amount, placed, addr, dev, pay, cat, weight, tracking, declared, shipped, signed, scans,
         distance) in _cols(frame, ORDER_INPUT):
        yield oid, _order_row(_order_id(oid), code, acct, amount, placed, addr, dev, pay, f"{cat}商品",
                              weight if shipped is not None else None, tracking, declared, shipped, signed, scans,
                              distance)


def check_sample(p: dict[str, Any], now: dt.datetime) -> None:
    """Rows built here = rows the ingest's parsers make of the same submission (content hashes included)."""
    wide, ratings = p["wide"], p["ratings"]
    step = max(1, wide.height // SAMPLE)
    sample = wide.gather_every(step)
    for oid, built in _orders_of(sample):
        s = built.shipment
        payload: dict[str, Any] = {
            "source_order_id": built.source_order_id, "shop_code": built.shop_code,
            "buyer_account_hash": built.buyer_account_hash, "amount": _yuan(built.amount_cents),
            "placed_at": _iso(built.placed_at), "status": built.status, "address_hash": built.address_hash,
            "device_hash": built.device_hash, "payment_hash": built.payment_hash,
            "items": [{"name": i.name, "quantity": i.quantity, "unit_price": _yuan(i.unit_price_cents),
                       "unit_weight_g": i.unit_weight_g} for i in built.items]}
        if s is not None:
            payload["shipment"] = {"tracking_hash": s.tracking_hash, "declared_weight_g": s.declared_weight_g,
                                   "shipped_at": _iso(s.shipped_at), "signed_at": _iso(s.signed_at),
                                   "scan_count": s.scan_count, "distance_km": s.distance_km}
        parsed = rules.parse_order(payload, row_no=0, now=now)
        if isinstance(parsed, list) or parsed != built or parsed.content_hash != built.content_hash:
            raise SystemExit(f"order {oid}: the bulk row differs from what the ingest parses: {parsed!r} vs {built!r}")
    periods = dict(zip(sample["order_id"].to_list(), sample["period"].to_list()))
    if any(rules.period_of(placed) != periods[o] for o, placed in zip(sample["order_id"].to_list(),
                                                                     sample["placed_at"].to_list())):
        raise SystemExit("period: the vectorised Beijing month differs from trade.rules.period_of")
    for oid, direction, value, stars, text_, rated in _cols(ratings.gather_every(max(1, ratings.height // SAMPLE)),
                                                            RATING_INPUT):
        built = _rating_row(_rating_id(oid, direction), _order_id(oid), direction, value, stars, text_, rated)
        parsed = rules.parse_rating({"source_rating_id": built.source_rating_id, "source_order_id": _order_id(oid),
                                     "direction": direction, "value": built.value, "stars": stars, "text": text_,
                                     "rated_at": _iso(rated)}, row_no=0, now=now)
        if isinstance(parsed, list) or parsed != built or parsed.content_hash != built.content_hash:
            raise SystemExit(f"rating of order {oid}: the bulk row differs from the ingest's: {parsed!r} vs {built!r}")


class Timer:
    """Per-table build times, printed as they come."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.rows: dict[str, int] = {}

    def done(self, name: str, rows: int, started: float, note: str = "") -> None:
        self.seconds[name] = round(time.perf_counter() - started, 1)
        self.rows[name] = rows
        rate = f" ({rows / max(self.seconds[name], 1e-3):,.0f} rows/s)" if rows > 100 else ""
        print(f"  {name:<14} {rows:>10,} rows {self.seconds[name]:>7.1f} s{rate}{note}", flush=True)


def _chunks(frame: Any) -> Iterator[Any]:
    for offset in range(0, frame.height, CHUNK):
        yield frame.slice(offset, CHUNK)


def build(engine: str, orders: int, seed: int, platforms: int) -> dict[str, Any]:
    """Generate, check, write the floor frames and the database; return the marker."""
    from chengxin.core.crypto import KeyRing
    from chengxin.core.db import BulkWriter, Database, make_engine, utcnow
    from chengxin.ecommerce.marketgen import MarketSpec, generate
    from chengxin.ledger.service import lock_head, seal
    from chengxin.subjects.rules import lookup_index
    from chengxin.subjects.service import SubjectRef, ensure_subjects

    url = database_url(engine, orders)
    timer = Timer()
    t = time.perf_counter()
    file_api.fresh(engine, url)
    timer.done("migrate", 0, t)
    t = time.perf_counter()
    market = generate(MarketSpec(orders=orders, seed=seed))
    now = market.spec.end
    timer.done("generate", market.orders.height, t, f"; {market.ratings.height:,} ratings, "
               f"{market.shipments.height:,} shipments")
    t = time.perf_counter()
    p = plan(market, seed, platforms)
    check_sample(p, now)
    timer.done("plan + check", 0, t, f" (sample of {SAMPLE} orders and ratings parsed by trade.rules: identical)")
    t = time.perf_counter()
    folder = frames_dir(engine, orders)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in p["floor"].items():
        frame.write_parquet(folder / f"{name}.parquet")
    timer.done("floor frames", 0, t, f" → {folder.relative_to(ROOT)}")

    db = Database(make_engine(url))
    keyring = KeyRing.open(KEYS)
    stamp = utcnow()
    shops, accounts, wide, ratings = p["shops"], p["accounts"], p["wide"], p["ratings"]

    # subjects: the platforms' operators and the shops' owners, as the shop ingest registers them
    t = time.perf_counter()
    numbers = [*OPERATORS[:platforms], *shops["owner_no"].to_list()]
    keys = {n: identity(n) for n in numbers}
    index = {n: lookup_index(keyring, k.kind.value, k.identifier) for n, k in keys.items()}
    subjects: dict[bytes, SubjectRef] = {}
    with db.write() as session:
        lock = lock_head(session)
        ensure_subjects(keyring, lock, {index[n]: keys[n] for n in numbers}, subjects, BulkWriter(session))
        seal(session, lock, keyring)
    timer.done("subject", len(numbers), t)

    with db.write() as session:
        t = time.perf_counter()
        w = BulkWriter(session)
        w.insert("ec_platform", ("id", "subject_id", "code", "name", "url", "created_at"), [
            (i + 1, subjects[index[OPERATORS[i]]].id, code, name, f"https://{code}.example.cn", w.datetime(stamp))
            for i, (code, name, _) in enumerate(PLATFORMS[:platforms])])
        timer.done("ec_platform", platforms, t)
        t = time.perf_counter()
        rows = []
        for sid, pid, code, name, cat, owner in _cols(shops, ("shop_id", "platform_id", "shop_code", "name", "category",
                                                               "owner_no")):
            key = keys[owner]
            # 亮照: an organisation shows its business licence (the USCC); most individual sellers a licence number
            licence = key.identifier if owner % 2 else (f"JY{13204000000000 + sid}" if sid % 10 < 7 else None)
            rows.append((sid, pid, code, name, None, subjects[index[owner]].id, licence, cat,
                         w.date(now.date() - dt.timedelta(days=200 + sid % 2500)), "open", w.datetime(stamp),
                         w.datetime(stamp)))
        w.insert("ec_shop", ("id", "platform_id", "shop_code", "name", "url", "owner_subject_id", "licence_no",
                             "category", "opened_on", "status", "created_at", "updated_at"), rows)
        timer.done("ec_shop", len(rows), t)

    t = time.perf_counter()
    for part in _chunks(accounts):
        with db.write() as session:
            BulkWriter(session).insert("ec_account", ("id", "platform_id", "account_hash", "subject_id"), [
                (a, p_, h, None) for a, p_, h in _cols(part, ("account_id", "platform_id", "account_hash"))])
    timer.done("ec_account", accounts.height, t)

    t = time.perf_counter()
    hashing = 0.0
    for part in _chunks(wide):
        h0 = time.perf_counter()
        built = list(_orders_of(part))
        hashing += time.perf_counter() - h0
        with db.write() as session:
            w = BulkWriter(session)
            w.insert("ec_order", ("id", "platform_id", "source_order_id", "shop_id", "buyer_account_id",
                                  "amount_cents", "placed_at", "address_hash", "device_hash", "payment_hash", "status",
                                  "content_hash", "created_at", "updated_at"), [
                (oid, pid, o.source_order_id, shop, acct, o.amount_cents, w.datetime(o.placed_at), o.address_hash,
                 o.device_hash, o.payment_hash, o.status, o.content_hash, w.datetime(stamp), w.datetime(stamp))
                for (oid, o), pid, shop, acct in zip(built, part["platform_id"].to_list(), part["shop_id"].to_list(),
                                                     part["account_id"].to_list())])
    timer.done("ec_order", wide.height, t, f" (of which building rows + content_hash {hashing:.1f} s)")

    t = time.perf_counter()
    for part in _chunks(wide):
        with db.write() as session:
            BulkWriter(session).insert("ec_order_item", ("id", "order_id", "line_no", "gtin", "name", "quantity",
                                                         "unit_price_cents", "unit_weight_g"), [
                (oid, oid, 1, None, f"{cat}商品", 1, amount, weight if shipped is not None else None)
                for oid, cat, amount, weight, shipped in _cols(part, ("order_id", "category", "amount_cents",
                                                                      "expected_weight_g", "shipped_at"))])
    timer.done("ec_order_item", wide.height, t)

    t = time.perf_counter()
    shipped_rows = wide.filter(wide["shipped_at"].is_not_null())
    next_id = 1
    for part in _chunks(shipped_rows):
        with db.write() as session:
            w = BulkWriter(session)
            rows = []
            for oid, tracking, declared, shipped, signed, scans, distance in _cols(part, (
                    "order_id", "tracking_hash", "declared_weight_g", "shipped_at", "signed_at", "scan_count",
                    "distance_km")):
                rows.append((next_id, oid, None, tracking, declared, w.datetime(shipped), w.datetime(signed),
                             scans or 0, distance))
                next_id += 1
            w.insert("ec_shipment", ("id", "order_id", "logistics_uscc", "tracking_hash", "declared_weight_g",
                                     "shipped_at", "signed_at", "scan_count", "distance_km"), rows)
    timer.done("ec_shipment", shipped_rows.height, t)

    t = time.perf_counter()
    hashing = 0.0
    next_id = 1
    for part in _chunks(ratings):
        h0 = time.perf_counter()
        built = [(oid, _rating_row(_rating_id(oid, d), _order_id(oid), d, v, s, tx, r))
                 for oid, d, v, s, tx, r in _cols(part, RATING_INPUT)]
        hashing += time.perf_counter() - h0
        with db.write() as session:
            w = BulkWriter(session)
            rows = []
            for (oid, r), pid, shop, acct, period in zip(built, *(part[c].to_list() for c in (
                    "platform_id", "shop_id", "account_id", "period"))):
                rows.append((next_id, pid, r.source_rating_id, oid, shop, acct, period, r.direction, r.value, r.stars,
                             r.text, r.text_hash, w.datetime(r.rated_at), None, None, r.content_hash,
                             w.datetime(stamp), w.datetime(stamp)))
                next_id += 1
            w.insert("ec_rating", ("id", "platform_id", "source_rating_id", "order_id", "shop_id", "buyer_account_id",
                                   "period", "direction", "value", "stars", "text", "text_hash", "rated_at",
                                   "follow_up_text", "follow_up_at", "content_hash", "created_at", "updated_at"), rows)
    timer.done("ec_rating", ratings.height, t, f" (of which building rows + content_hash {hashing:.1f} s)")

    t = time.perf_counter()
    tables = ("ec_platform", "ec_shop", "ec_account", "ec_order", "ec_order_item", "ec_shipment", "ec_rating")
    if engine == "postgresql":
        with db.engine.connect() as conn:
            for table in tables:  # explicit ids were written: move the sequences past them
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT coalesce(max(id), 1) FROM {table}))"))
            conn.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))  # what autovacuum would have done by the time of a nightly job
    else:
        with db.engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
        raw = db.engine.raw_connection()  # outside a transaction: the checkpoint can empty the WAL
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
        finally:
            raw.close()
    timer.done("analyze", 0, t)
    db.engine.dispose()
    meta = {"orders": orders, "seed": seed, "platforms": platforms, "now": now.isoformat(),
            "built": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "rows": {k: v for k, v in timer.rows.items() if k.startswith(("ec_", "subject"))},
            "build_seconds": timer.seconds, "build_total_s": round(sum(timer.seconds.values()), 1),
            "accounts": accounts.height, "shops": shops.height,
            "generator_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    marker_path(engine, orders).write_text(json.dumps(meta, indent=1))
    print(f"  built in {meta['build_total_s']:.0f} s (peak RSS of the build {meta['generator_peak_rss_mb']:,} MB)")
    return meta


# -- the measurements (child processes) ----------------------------------------------------------------


def _rss() -> dict[str, float]:
    return {"vmhwm_mb": round(peak_rss_mb()), "ru_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                                                                     / 1024)}


def clear_outputs(url: str) -> None:
    """Delete what earlier detection runs stored (findings, runs, shop risk levels and their feed rows), so the
    measured run is a first run."""
    from chengxin.core.db import Database, make_engine

    db = Database(make_engine(url))
    with db.write() as session:
        for sql in ("DELETE FROM ec_finding_shop", "DELETE FROM ec_finding", "DELETE FROM ec_detection_run",
                    "DELETE FROM ec_shop_risk", "DELETE FROM list_change WHERE list_kind = 'shop_risk'"):
            session.execute(text(sql))
    db.engine.dispose()


def measure_job(engine: str, orders: int, runs: int, keep: bool, verify: bool) -> dict[str, Any]:
    """``detect`` end to end, ``runs`` times (the first after clearing earlier outputs unless ``keep``); with
    ``verify``, then compare the frames the job reads with the floor's."""
    # The detectors and risk.warning are imported before the clock, as the CLI process has them (risk.warning pulls
    # in accounts.service, whose import computes an argon2 hash: ~0.35 s detect() would count on its first call).
    from chengxin.core.audit import Actor
    from chengxin.core.db import Database, make_engine
    from chengxin.ecommerce.detection import pipeline  # noqa: F401
    from chengxin.ecommerce.risk import warning  # noqa: F401
    from chengxin.ecommerce.risk.service import detect

    meta = json.loads(marker_path(engine, orders).read_text())
    url = database_url(engine, orders)
    if not keep:
        clear_outputs(url)
    now = dt.datetime.fromisoformat(meta["now"])
    db = Database(make_engine(url))
    rss_start = _rss()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        summary = detect(db, now=now, actor=Actor(kind="cli", name="bench"))
        wall = time.perf_counter() - t0
        out.append({"wall": wall, **dataclasses.asdict(summary), **_rss()})
    same = same_frames(db, engine, orders, now) if verify else None
    db.engine.dispose()
    return {"rss_start": rss_start, "runs": out, "same_frames": same}


def same_frames(db: Any, engine: str, orders: int, now: dt.datetime) -> dict[str, bool]:
    """After the measured runs: do the frames the job reads equal the floor's (row for row, once sorted)?"""
    import polars as pl

    from chengxin.core.clock import CHINA
    from chengxin.ecommerce.detection.frames import validate
    from chengxin.ecommerce.risk.config import finding_params
    from chengxin.ecommerce.risk.extract import read_frames

    since = now - dt.timedelta(days=finding_params(now.astimezone(CHINA).date()).lookback_days)  # as detect() has it
    with db.read() as session:
        frames = read_frames(session, since=since, until=now)
    out = {}
    for name, keys in (("orders", ["order_id"]), ("ratings", ["order_id", "direction"]), ("shipments", ["order_id"])):
        mine = getattr(frames, name).sort(keys)
        floor = validate(pl.read_parquet(frames_dir(engine, orders) / f"{name}.parquet"), name)  # type: ignore[arg-type]
        out[name] = mine.equals(floor.sort(keys).select(mine.columns))
    return out


def measure_floor(engine: str, orders: int) -> dict[str, Any]:
    """``run_detectors`` alone on the same frames, read from Parquet (no database)."""
    import polars as pl

    from chengxin.ecommerce.detection.pipeline import run_detectors

    meta = json.loads(marker_path(engine, orders).read_text())
    folder = frames_dir(engine, orders)
    frames = {n: pl.read_parquet(folder / f"{n}.parquet") for n in ("orders", "ratings", "shipments")}
    rss_frames = _rss()
    t0 = time.perf_counter()
    result = run_detectors(frames["orders"], frames["ratings"], frames["shipments"],
                           now=dt.datetime.fromisoformat(meta["now"]))
    wall = time.perf_counter() - t0
    return {"wall": wall, "timings": result.timings, "rss_frames": rss_frames, **_rss(),
            "rows": {n: f.height for n, f in frames.items()}, "detections": len(result.detections),
            "by_kind": {k: len(result.of_kind(k)) for k in KINDS}}


def _child(*args: str) -> dict[str, Any]:
    """Run this file in a fresh process; its last ``RESULT`` line is the JSON answer."""
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"child {args[0]} failed ({proc.returncode})")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT "):])
    return result


# -- the report ----------------------------------------------------------------------------------------


def database_size(engine: str, orders: int) -> str:
    url = database_url(engine, orders)
    if engine == "sqlite":
        size = sum(f.stat().st_size for f in file_api.database_files(url))
    else:
        from chengxin.core.db import make_engine

        eng = make_engine(url)
        with eng.connect() as conn:
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        eng.dispose()
    return f"{size / 1e9:.2f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"


def report(engine: str, meta: dict[str, Any], job: dict[str, Any], floor: dict[str, Any]) -> None:
    first = job["runs"][0]
    t, ft = first["timings"], floor["timings"]
    phases = sum(t.get(k, 0.0) for k in ("read_frames", "run_detectors", "store", "risk_recompute"))

    def s(value: float | None) -> str:
        return "—" if value is None else f"{value:.2f}"

    print(f"\n## the detection job from the database — {engine}, {meta['orders']:,} orders generated "
          f"(seed {meta['seed']}, {meta['platforms']} platforms, {meta['shops']:,} shops, {meta['accounts']:,} accounts)")
    print(f"frames read by the job: {first['orders']:,} orders, {first['ratings']:,} ratings, {first['shipments']:,} "
          f"shipments; the floor's: {floor['rows']['orders']:,} / {floor['rows']['ratings']:,} / "
          f"{floor['rows']['shipments']:,}\n")
    print("| phase | detect() from the database (s) | run_detectors on in-memory frames (s) |")
    print("|---|---|---|")
    print(f"| read_frames (extract.py) | {s(t.get('read_frames'))} | — (Parquet read before the clock) |")
    for name in ("validate", *KINDS):
        print(f"| detector: {name} | {s(t.get(f'detector.{name}'))} | {s(ft.get(name))} |")
    print(f"| run_detectors (whole) | {s(t.get('run_detectors'))} | {s(ft.get('total'))} |")
    print(f"| store findings | {s(t.get('store'))} | — |")
    print(f"| risk_recompute | {s(t.get('risk_recompute'))} | — |")
    print(f"| other (run row, audit, commits) | {s(first['wall'] - phases)} | — |")
    print(f"| **total (wall)** | **{first['wall']:.2f}** | **{floor['wall']:.2f}** |")
    print(f"| peak RSS, VmHWM (MB) | {first['vmhwm_mb']:,} | {floor['vmhwm_mb']:,} (frames alone: "
          f"{floor['rss_frames']['vmhwm_mb']:,}) |")
    print(f"| peak RSS, ru_maxrss (MB) | {first['ru_maxrss_mb']:,} | {floor['ru_maxrss_mb']:,} |")
    ratio = first["wall"] / floor["wall"] if floor["wall"] else float("nan")
    ok = first["wall"] < TARGET_S and first["vmhwm_mb"] < TARGET_MB
    print(f"\njob / floor: {ratio:.2f}× ({first['wall'] - floor['wall']:+.1f} s of database, storing and risk "
          f"levels). Target (< {TARGET_S:.0f} s, < {TARGET_MB:,.0f} MB): {'met' if ok else 'NOT met'} on this run"
          + (" (PostgreSQL: the server's own memory is not in these figures)" if engine == "postgresql" else ""))
    same = first["detections"] == floor["detections"]
    print(f"findings stored: {first['by_kind']} (new {first['new']}, updated {first['updated']}, unchanged "
          f"{first['unchanged']}, resolved {first['resolved']}); detections: job {first['detections']:,}, floor "
          f"{floor['detections']:,} {floor['by_kind']}" + ("" if same else "  ← DIFFERENT: same frames expected"))
    if job.get("same_frames") is not None:
        print(f"frames read by the job = the floor's frames (sorted, row for row): {job['same_frames']}")
    for i, r in enumerate(job["runs"][1:], start=2):
        print(f"run {i} (re-run over unchanged data): {r['wall']:.2f} s — read {r['timings'].get('read_frames', 0):.2f}"
              f", detect {r['timings'].get('run_detectors', 0):.2f}, store {r['timings'].get('store', 0):.2f}, risk "
              f"{r['timings'].get('risk_recompute', 0):.2f}; new {r['new']}, updated {r['updated']}, unchanged "
              f"{r['unchanged']}, resolved {r['resolved']}; VmHWM {r['vmhwm_mb']:,} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--platforms", type=int, choices=(1, 2, 3), default=3,
                        help="platforms the shops are spread over (1: the generator's single platform)")
    parser.add_argument("--runs", type=int, default=1, help="detect runs (the 2nd and later: re-runs, unchanged data)")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--cold", action="store_true", help="do not read the database into the page cache first")
    parser.add_argument("--keep-findings", action="store_true", help="do not clear earlier runs' findings first")
    parser.add_argument("--verify", action="store_true",
                        help="after the measured runs, check that the frames the job reads equal the floor's")
    parser.add_argument("--child", choices=("build", "job", "floor"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "build":
        build(args.engine, args.orders, args.seed, args.platforms)
        return
    if args.child == "job":
        print("RESULT " + json.dumps(measure_job(args.engine, args.orders, args.runs, args.keep_findings,
                                                   args.verify), default=str))
        return
    if args.child == "floor":
        print("RESULT " + json.dumps(measure_floor(args.engine, args.orders), default=str))
        return

    VAR.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores; load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min) at start")
    common = ["--engine", args.engine, "--orders", str(args.orders), "--seed", str(args.seed),
              "--platforms", str(args.platforms)]
    meta = None if args.rebuild else cached(args.engine, args.orders, args.seed, args.platforms)
    if meta is None:
        print(f"building {database_url(args.engine, args.orders)}: {args.orders:,} orders, seed {args.seed}, "
              f"{args.platforms} platforms (child process)", flush=True)
        subprocess.run([sys.executable, __file__, *common, "--child", "build"], check=True)
        meta = json.loads(marker_path(args.engine, args.orders).read_text())
    else:
        print(f"reusing {database_url(args.engine, args.orders)} (built {meta['built']} in {meta['build_total_s']} s)")
    print(f"database size {database_size(args.engine, args.orders)}; rows {meta['rows']}")
    if args.build_only:
        return
    if not args.cold:
        try:
            print(f"prewarm: {file_api.prewarm(database_url(args.engine, args.orders))}")
        except OSError as exc:
            print(f"prewarm skipped ({exc.__class__.__name__}: {exc})")
    job = _child(*common, "--runs", str(args.runs), *(["--keep-findings"] if args.keep_findings else []),
                 *(["--verify"] if args.verify else []), "--child", "job")
    floor = _child(*common, "--child", "floor")
    report(args.engine, meta, job, floor)
    load = os.getloadavg()
    print(f"\nload at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
