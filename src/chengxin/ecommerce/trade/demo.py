"""Demo e-commerce data (issue #7): 3 platforms, ~200 shops bound to the demo's own subjects, a few thousand
orders with shipments and ratings in both directions, some follow-up reviews — all pushed through the real
ingest path (``service.ingest_shops`` / ``ingest_orders`` / ``ingest_ratings``), so the receipts, the
idempotency and the validation are those a platform meets.

The market comes from ``ecommerce.marketgen`` (helper "detection"): lognormal shop popularity, households
sharing addresses, and injected order-brushing rings, click farms, malicious reviewers and empty parcels — so
the detection and risk pages have something real to find. Reproducible from the seed; a second run adds
nothing (platforms already registered → skipped).

Call it after ``load_demo`` has created the subjects: ``load_trade_demo(platform, today=day, seed=seed)``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from chengxin.core import audit
from chengxin.core.clock import CHINA
from chengxin.core.identifiers import make_ric, make_uscc
from chengxin.ecommerce.trade import service
from chengxin.ecommerce.trade.models import EcPlatform
from chengxin.platform import Platform
from chengxin.records.service import ApiRow
from chengxin.subjects.models import Subject
from chengxin.subjects.service import decrypt_identity

__all__ = ["DEMO_PLATFORMS", "TradeDemoSummary", "load_trade_demo"]

log = logging.getLogger("chengxin.demo")
ACTOR = audit.Actor(kind="system", name="demo")
# (code, name, operator name, operator USCC body, site): fictitious platforms of a Changzhou-like city.
DEMO_PLATFORMS = (
    ("longcheng", "龙城优选", "常州龙城优选电子商务有限公司", "LCYX0001", "https://www.longcheng-youxuan.example"),
    ("yunhe", "运河集市", "常州运河集市网络科技有限公司", "YHJT0002", "https://www.yunhe-jishi.example"),
    ("changgou", "常购网", "常州常购信息技术有限公司", "CGW00003", "https://www.changgou.example"),
)
LOGISTICS = tuple(make_uscc("9", "1", "320400", f"WL{n:06d}") for n in range(1, 6))
FOLLOW_UPS = ("用了一段时间，质量依然很好，追加好评。", "追评：第二次购买了，和第一次一样满意。", "用了一个月开始出问题，客服处理还算及时。",
              "追评：洗过几次有点褪色。", "家里人都说好用，推荐。", "追加：包装破损的问题商家已经补发。")


@dataclass
class TradeDemoSummary:
    platforms: int = 0
    shops: int = 0
    orders: int = 0
    ratings: int = 0
    rejected: int = 0
    batches: int = 0  # ingest batches written (channel "demo", like the base demo's)
    seconds: float = 0.0
    market: str = ""  # marketgen | simple
    phases: dict[str, float] = field(default_factory=dict)


def _hash(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def _yuan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _owners(platform: Platform, seed: int, wanted: int) -> list[tuple[str, str, str]]:
    """(kind, identifier, name) of demo subjects to own shops: about 70 % organisations, 30 % persons.
    The demo's own subjects when loaded (persons decrypted: it is the demo's own data), else new ones."""
    rng = random.Random(f"{seed}:shop-owners")
    n_orgs = round(wanted * 0.7)
    with platform.db.read() as session:
        orgs = list(session.scalars(select(Subject).where(Subject.kind == "organization").order_by(Subject.id)
                                    .offset(50).limit(n_orgs)))
        people = list(session.scalars(select(Subject).where(Subject.kind == "person").order_by(Subject.id)
                                      .offset(50).limit(wanted - len(orgs))))
        persons = [("person", *decrypt_identity(platform.keyring, s)) for s in people]
    owners = [("organization", s.display_id, s.display_name) for s in orgs] + persons
    while len(owners) < wanted:  # an installation without the base demo: fictitious new subjects
        n = len(owners)
        if n % 3:
            owners.append(("organization", make_uscc("9", "2", "320402", f"XH{n:06d}"), f"常州网店经营者{n}号商行"))
        else:
            birth = dt.date(1970, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 30))
            owners.append(("person", make_ric("320402", birth, n % 1000), rng.choice("王李张刘陈杨赵黄周吴") + "小店"))
    rng.shuffle(owners)
    return owners


def load_trade_demo(platform: Platform, *, today: dt.date | None = None, seed: int = 2018, orders: int = 4000,
                    shops: int = 200) -> TradeDemoSummary:
    """Register the demo platforms and push their shops, orders and ratings; returns what was taken."""
    started = time.perf_counter()
    summary = TradeDemoSummary()
    with platform.db.read() as session:
        if session.scalar(select(func.count()).select_from(EcPlatform)):
            return summary
    now = dt.datetime.now(dt.UTC)
    if today is not None and today < now.astimezone(CHINA).date():  # a demo "as of" an earlier day
        now = dt.datetime.combine(today, dt.time(20), CHINA).astimezone(dt.UTC)
    mark = time.perf_counter()
    market = _market(orders, shops, seed, now - dt.timedelta(hours=2))
    summary.phases["generate"] = round(time.perf_counter() - mark, 3)
    summary.market = market.source
    rng = random.Random(f"{seed}:trade")

    mark = time.perf_counter()
    codes: list[str] = []
    with platform.db.write() as session:
        # Operators: the demo's first organisations when loaded (no subject outside the base demo), else new ones.
        known = list(session.scalars(select(Subject.display_id).where(Subject.kind == "organization")
                                     .order_by(Subject.id).limit(len(DEMO_PLATFORMS))))
        for i, (code, name, operator, body, url) in enumerate(DEMO_PLATFORMS):
            uscc = known[i] if len(known) == len(DEMO_PLATFORMS) else make_uscc("9", "1", "320400", body)
            service.register_platform(session, platform.keyring, uscc=uscc, code=code, name=name, url=url,
                                      operator_name=operator, actor=ACTOR)
            codes.append(code)
    summary.platforms = len(codes)

    shop_rows = market.shops
    owners = _owners(platform, seed, len(shop_rows))
    shop_of: dict[int, tuple[str, str]] = {}  # marketgen shop id → (platform code, shop code)
    per_platform: dict[str, list[dict[str, Any]]] = {c: [] for c in codes}
    for i, (s, (kind, identifier, owner_name)) in enumerate(zip(shop_rows, owners, strict=True)):
        code = codes[i % len(codes)]
        shop_code = f"{code[:2].upper()}{s['shop_id']:06d}"
        shop_of[s["shop_id"]] = (code, shop_code)
        roll = rng.random()
        row: dict[str, Any] = {
            "shop_code": shop_code, "name": s["name"], "url": f"{DEMO_PLATFORMS[i % 3][4]}/shop/{shop_code}",
            "owner_name": owner_name, "category": s["category"],
            "opened_on": (now.date() - dt.timedelta(days=rng.randint(200, 3000))).isoformat(),
            "status": "closed" if roll < 0.03 else "suspended" if roll < 0.05 else "open",
            ("owner_ric" if kind == "person" else "owner_uscc"): identifier,
        }
        if kind == "organization":
            row["licence_no"] = identifier  # 营业执照: the USCC
        elif rng.random() < 0.8:
            row["licence_no"] = f"92320402MA{rng.randint(10**7, 10**8 - 1)}"  # 个体工商户执照
        per_platform[code].append(row)
    for code, rows in per_platform.items():
        receipt = service.ingest_shops(platform.db, platform.keyring, _rows(rows), actor=ACTOR, platform=code,
                                       channel="demo", today=now.astimezone(CHINA).date())
        summary.shops += receipt.accepted
        summary.rejected += receipt.rejected
        summary.batches += 1
    summary.phases["shops"] = round(time.perf_counter() - mark, 3)

    mark = time.perf_counter()
    shipments = {r["order_id"]: r for r in market.shipments}
    category = {s["shop_id"]: s["category"] for s in shop_rows}
    order_rows: dict[str, list[dict[str, Any]]] = {c: [] for c in codes}
    source_of: dict[int, tuple[str, str]] = {}
    for o in market.orders:
        code, shop_code = shop_of[o["shop_id"]]
        source = f"{code[:2].upper()}-{o['order_id']:08d}"
        source_of[o["order_id"]] = (code, source)
        ship = shipments.get(o["order_id"])
        row = {"source_order_id": source, "shop_code": shop_code, "buyer_account_hash": _hash(code, "buyer", o["buyer_id"]),
               "amount": _yuan(max(int(o["amount_cents"]), 1)), "placed_at": o["placed_at"], "status": "paid",
               "address_hash": o["address_hash"], "device_hash": o["device_hash"],
               "payment_hash": o["payment_hash"],
               "items": [{"name": f"{category[o['shop_id']]}商品", "quantity": 1,
                          "unit_price": _yuan(max(int(o["amount_cents"]), 1)),
                          "unit_weight_g": ship["expected_weight_g"] if ship else None}]}
        if ship is not None and ship["shipped_at"] is not None and ship["shipped_at"] <= now:
            signed = ship["signed_at"] if ship["signed_at"] is not None and ship["signed_at"] <= now else None
            row["status"] = "delivered" if signed else "shipped"
            row["shipment"] = {"logistics_uscc": LOGISTICS[o["order_id"] % len(LOGISTICS)],
                               "tracking_hash": _hash(code, "track", o["order_id"]),
                               "declared_weight_g": ship["declared_weight_g"], "shipped_at": ship["shipped_at"],
                               "signed_at": signed, "scan_count": ship["scan_count"],
                               "distance_km": ship["distance_km"]}
        order_rows[code].append(row)
    for code, rows in order_rows.items():
        receipt = service.ingest_orders(platform.db, _rows(rows), actor=ACTOR, platform=code, channel="demo", now=now)
        summary.orders += receipt.accepted
        summary.rejected += receipt.rejected
        summary.batches += 1
    summary.phases["orders"] = round(time.perf_counter() - mark, 3)

    mark = time.perf_counter()
    values = {1: "good", 0: "neutral", -1: "bad"}
    rating_rows: dict[str, list[dict[str, Any]]] = {c: [] for c in codes}
    for n, r in enumerate(market.ratings):
        if r["rated_at"] > now:
            continue
        code, source = source_of[r["order_id"]]
        row = {"source_rating_id": f"{source}-{'B' if r['direction'] == 'buyer_to_shop' else 'S'}",
               "source_order_id": source, "direction": r["direction"], "value": values[int(r["value"])],
               "stars": r["stars"], "text": market.texts.get(r["text_hash"]) if r["text_hash"] else None,
               "rated_at": r["rated_at"]}
        follow_at = r["rated_at"] + dt.timedelta(days=rng.randint(7, 150))
        if r["direction"] == "buyer_to_shop" and rng.random() < 0.04 and follow_at <= now:
            row["follow_up_text"], row["follow_up_at"] = FOLLOW_UPS[n % len(FOLLOW_UPS)], follow_at
        rating_rows[code].append(row)
    for code, rows in rating_rows.items():
        receipt = service.ingest_ratings(platform.db, _rows(rows), actor=ACTOR, platform=code, channel="demo", now=now)
        summary.ratings += receipt.accepted
        summary.rejected += receipt.rejected
        summary.batches += 1
    summary.phases["ratings"] = round(time.perf_counter() - mark, 3)
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


@dataclass
class _Market:
    """The rows of a generated market (marketgen's frames as dicts, or the simple fallback's)."""

    shops: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    shipments: list[dict[str, Any]]
    ratings: list[dict[str, Any]]
    texts: dict[str, str]
    source: str


def _market(orders: int, shops: int, seed: int, end: dt.datetime) -> _Market:
    """The marketplace generator of helper "detection" (with its injected fraud) when it runs; else a plain
    honest market, so the demo never fails on a generator problem."""
    try:
        from chengxin.ecommerce.marketgen import MarketSpec, generate

        # fake_traffic_shops >= 3: the click farm then holds at least 120 accounts, the largest burst.
        m = generate(MarketSpec(orders=orders, shops=shops, seed=seed % 10_000, end=end, days=180,
                                fake_traffic_shops=3))
        return _Market(m.shops.to_dicts(), m.orders.to_dicts(), m.shipments.to_dicts(), m.ratings.to_dicts(),
                       dict(m.texts), "marketgen")
    except Exception:  # noqa: BLE001 - any failure of the other helper's generator: fall back, keep the demo
        log.warning("marketgen failed; the e-commerce demo uses its simple market", exc_info=True)
    return _simple_market(orders, shops, seed, end)


_CATEGORIES = (("服装", 400, 12000), ("数码配件", 90, 4500), ("食品生鲜", 1500, 8000), ("家居日用", 900, 6000),
               ("美妆个护", 220, 15000), ("图书", 600, 5000))
_TEXTS = ("好评", "质量很好", "物流很快", "包装完好", "和描述一致", "还可以", "一般般", "有点小瑕疵", "不太满意", "差评，质量差")


def _simple_market(orders: int, shops: int, seed: int, end: dt.datetime) -> _Market:
    rng = random.Random(f"{seed}:simple-market")
    shop_rows = []
    for i in range(shops):
        cat = _CATEGORIES[i % len(_CATEGORIES)]
        shop_rows.append({"shop_id": 5001 + i, "name": f"{rng.choice('龙城运河天宁钟楼武进金坛溧阳新北')}{cat[0]}{i + 1}号店",
                          "category": cat[0]})
    weights = [rng.lognormvariate(0, 1.4) for _ in shop_rows]
    buyers = max(30, orders // 6)
    out_o, out_s, out_r = [], [], []
    for oid in range(1, orders + 1):
        s = rng.choices(shop_rows, weights)[0]
        cat = next(c for c in _CATEGORIES if c[0] == s["category"])
        buyer = int(rng.paretovariate(1.2)) % buyers
        placed = end - dt.timedelta(seconds=rng.randint(3 * 86_400, 180 * 86_400))
        amount = max(100, int(rng.lognormvariate(0, 0.6) * cat[2]))
        out_o.append({"order_id": oid, "shop_id": s["shop_id"], "buyer_id": buyer, "placed_at": placed,
                      "amount_cents": amount, "address_hash": _hash("addr", buyer), "device_hash": _hash("dev", buyer),
                      "payment_hash": _hash("pay", buyer)})
        shipped = placed + dt.timedelta(hours=rng.randint(4, 48))
        signed = shipped + dt.timedelta(hours=rng.randint(20, 96))
        out_s.append({"order_id": oid, "expected_weight_g": cat[1], "declared_weight_g": cat[1] + 150,
                      "shipped_at": shipped, "signed_at": signed, "scan_count": rng.randint(4, 12),
                      "distance_km": round(rng.uniform(20, 2000), 1)})
        if rng.random() < 0.75:
            value = rng.choices((1, 0, -1), (90, 6, 4))[0]
            text = _TEXTS[rng.randrange(5) if value == 1 else 5 + rng.randrange(3) if value == 0 else 8 + rng.randrange(2)]
            out_r.append({"order_id": oid, "direction": "buyer_to_shop", "value": value,
                          "stars": {1: 5, 0: 3, -1: 1}[value], "text_hash": _hash(text),
                          "rated_at": signed + dt.timedelta(hours=rng.randint(1, 200))})
            if rng.random() < 0.3:
                out_r.append({"order_id": oid, "direction": "shop_to_buyer", "value": 1, "stars": None,
                              "text_hash": None, "rated_at": signed + dt.timedelta(hours=rng.randint(1, 300))})
    return _Market(shop_rows, out_o, out_s, out_r, {_hash(t): t for t in _TEXTS}, "simple")


def _rows(rows: list[dict[str, Any]]) -> list[ApiRow]:
    return [ApiRow(row_no=i, values=v) for i, v in enumerate(rows, start=1)]
