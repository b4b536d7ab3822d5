"""Shared set-up of the e-commerce risk tests (no tests here): a synthetic marketplace with injected fraud
(``chengxin.ecommerce.marketgen``) written into the trade tables as a platform's pushes would leave them,
shop owners registered as subjects the way the platform does it (through the ledger), and small HTTP helpers.

The trade tables are written directly (bulk Core inserts of the contract's columns), so these tests depend on
the shared contract only, not on the trade helper's ingest code."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import insert

from chengxin.catalog.model import SubjectKind
from chengxin.core.clock import CHINA
from chengxin.ecommerce.marketgen import Market, MarketSpec, generate
from chengxin.ecommerce.trade.models import EcAccount, EcOrder, EcOrderItem, EcPlatform, EcRating, EcShipment, EcShop
from chengxin.platform import Platform
from chengxin.subjects.service import ensure_subject
from factories import ric_for, uscc_for

OPERATOR_USCC = uscc_for(990)  # the test platform's operator
PERSON_NAME = "李四"
PASSWORD = "correct horse battery"
_MARKETS: dict[tuple[int, int], Market] = {}


def market(orders: int = 6000, seed: int = 3) -> Market:
    """The generated marketplace (cached per size and seed: generation is deterministic)."""
    key = (orders, seed)
    if key not in _MARKETS:
        # three click-farm shops, so that a small market has fake traffic to find too
        _MARKETS[key] = generate(MarketSpec(orders=orders, seed=seed, fake_traffic_shops=3))
    return _MARKETS[key]


def now_of(m: Market) -> dt.datetime:
    """The detection time that sees the whole generated window."""
    return m.spec.end


def h(label: object) -> str:
    return hashlib.sha256(str(label).encode()).hexdigest()


@dataclass(frozen=True)
class MarketDb:
    market: Market
    platform_id: int
    platform_code: str
    person_shops: frozenset[int]  # shops owned by persons (ric_for(8000 + position))
    person_ric: dict[int, str]  # shop id → the owner's citizen ID


def load_market(platform: Platform, *, orders: int = 6000, seed: int = 3, code: str = "testmall",
                operator_uscc: str = OPERATOR_USCC) -> MarketDb:
    """Write the marketplace into the trade tables. Shops labelled as brushing are owned by persons (so a
    confirmed finding lands on a person who can object on /me); the others by organisations, most of them
    showing their USCC as licence number."""
    m = market(orders, seed)
    brushing = set(m.labels.shops.filter(pl.col("brushing"))["shop_id"].to_list())
    person_ric: dict[int, str] = {}
    with platform.db.write() as s:
        operator = ensure_subject(s, platform.keyring, ric=None, uscc=operator_uscc, name="常州测试商城网络科技有限公司",
                                  allowed=frozenset({SubjectKind.ORGANIZATION}))
        p = EcPlatform(subject_id=operator, code=code, name="测试商城", url="https://mall.example.com")
        s.add(p)
        s.flush()
        shop_rows = []
        for n, row in enumerate(m.shops.iter_rows(named=True)):
            shop_id = int(row["shop_id"])
            if shop_id in brushing:
                ric = ric_for(8000 + n)
                owner = ensure_subject(s, platform.keyring, ric=ric, uscc=None, name=PERSON_NAME,
                                       allowed=frozenset({SubjectKind.PERSON}))
                person_ric[shop_id] = ric
                licence = f"JY{shop_id:010d}"
            else:
                uscc = uscc_for(7000 + n)
                owner = ensure_subject(s, platform.keyring, ric=None, uscc=uscc, name=f"常州网店{n}商贸有限公司",
                                       allowed=frozenset({SubjectKind.ORGANIZATION}))
                licence = uscc if n % 4 else None
            shop_rows.append({"id": shop_id, "platform_id": p.id, "shop_code": f"S{shop_id}", "name": row["name"],
                              "url": f"https://mall.example.com/S{shop_id}", "owner_subject_id": owner,
                              "licence_no": licence, "category": row["category"], "opened_on": dt.date(2024, 1, 1),
                              "status": "open", "created_at": m.spec.end, "updated_at": m.spec.end})
        s.execute(insert(EcShop), shop_rows)
        buyers = sorted(set(m.orders["buyer_id"].to_list()) | set(m.ratings["buyer_id"].to_list()))
        s.execute(insert(EcAccount), [{"id": b, "platform_id": p.id, "account_hash": h(f"acct{b}"), "subject_id": None}
                                      for b in buyers])
        placed = {}
        order_rows = []
        for o in m.orders.iter_rows(named=True):
            placed[o["order_id"]] = o["placed_at"]
            order_rows.append({"id": o["order_id"], "platform_id": p.id, "source_order_id": f"O{o['order_id']}",
                               "shop_id": o["shop_id"], "buyer_account_id": o["buyer_id"],
                               "amount_cents": o["amount_cents"], "placed_at": o["placed_at"],
                               "address_hash": o["address_hash"], "device_hash": o["device_hash"],
                               "payment_hash": o["payment_hash"], "status": "delivered", "content_hash": h(o),
                               "created_at": o["placed_at"], "updated_at": o["placed_at"]})
        s.execute(insert(EcOrder), order_rows)
        expected = dict(zip(m.shipments["order_id"].to_list(), m.shipments["expected_weight_g"].to_list(), strict=True))
        s.execute(insert(EcOrderItem), [{"order_id": r["id"], "line_no": 1, "gtin": None, "name": "商品", "quantity": 1,
                                         "unit_price_cents": r["amount_cents"],
                                         "unit_weight_g": expected.get(r["id"])} for r in order_rows])
        s.execute(insert(EcShipment), [{
            "order_id": x["order_id"], "logistics_uscc": None, "tracking_hash": h(f"track{x['order_id']}"),
            "declared_weight_g": x["declared_weight_g"], "shipped_at": x["shipped_at"] or placed[x["order_id"]],
            "signed_at": x["signed_at"], "scan_count": x["scan_count"], "distance_km": x["distance_km"]}
            for x in m.shipments.iter_rows(named=True)])
        value = {1: "good", 0: "neutral", -1: "bad"}
        s.execute(insert(EcRating), [{
            "platform_id": p.id, "source_rating_id": f"R{r['order_id']}{r['direction'][0]}", "order_id": r["order_id"],
            "shop_id": r["shop_id"], "buyer_account_id": r["buyer_id"],
            "period": placed[r["order_id"]].astimezone(CHINA).strftime("%Y-%m"), "direction": r["direction"],
            "value": value[r["value"]], "stars": r["stars"], "text": None, "text_hash": r["text_hash"],
            "rated_at": r["rated_at"], "follow_up_text": None, "follow_up_at": None, "content_hash": h(r),
            "created_at": r["rated_at"], "updated_at": r["rated_at"]} for r in m.ratings.iter_rows(named=True)])
        platform_id = p.id
    return MarketDb(m, platform_id, code, frozenset(person_ric), person_ric)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def first(items: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    return next(i for i in items if all(i.get(k) == v for k, v in match.items()))


# -- a small hand-built world with hand-built detections ------------------------------------------------------
# The detectors are the detection helper's (tested there); these tests exercise what risk does with their
# output, so the detections are made by hand with the contract's own constructor and stored by the real job.

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
RING = tuple(range(1, 9))  # accounts 1..8 brush shop S1
HONEST = (9, 10, 11)
REVIEWER = 12  # bound to a person by the platform (on request)
REVIEWER_RIC = ric_for(8201)


@dataclass(frozen=True)
class World:
    platform_id: int
    platform_code: str
    shops: dict[str, int]  # shop code → id
    owner_ric: str  # the person who owns S1
    ring_orders: tuple[int, ...]
    s2_orders: tuple[int, ...]
    review_orders: tuple[int, ...]


def small_world(platform: Platform, *, code: str = "testmall", operator_uscc: str = OPERATOR_USCC) -> World:
    """Platform ``code``; S1 (a person's shop, brushed by accounts 1..8 in a two-hour burst on shared devices),
    S2 (a company's shop with a burst of instant good ratings), S3 (a company's shop, the target of account 12's
    bad ratings); accounts 9..11 buy honestly everywhere."""
    with platform.db.write() as s:
        operator = ensure_subject(s, platform.keyring, ric=None, uscc=operator_uscc, name="常州测试商城网络科技有限公司",
                                  allowed=frozenset({SubjectKind.ORGANIZATION}))
        p = EcPlatform(subject_id=operator, code=code, name="测试商城", url="https://mall.example.com")
        s.add(p)
        s.flush()
        owner_ric = ric_for(8101 + sum(map(ord, code)) % 50)
        owners = {
            "S1": ensure_subject(s, platform.keyring, ric=owner_ric, uscc=None, name=PERSON_NAME,
                                 allowed=frozenset({SubjectKind.PERSON})),
            "S2": ensure_subject(s, platform.keyring, ric=None, uscc=uscc_for(7101), name="常州好评商贸有限公司",
                                 allowed=frozenset({SubjectKind.ORGANIZATION})),
            "S3": ensure_subject(s, platform.keyring, ric=None, uscc=uscc_for(7102), name="常州老实商贸有限公司",
                                 allowed=frozenset({SubjectKind.ORGANIZATION})),
        }
        reviewer = ensure_subject(s, platform.keyring, ric=REVIEWER_RIC, uscc=None, name="王五",
                                  allowed=frozenset({SubjectKind.PERSON}))
        shops = {}
        for code_, owner in owners.items():
            row = EcShop(platform_id=p.id, shop_code=code_, name=f"龙城{code_}店", url=f"https://mall.example.com/{code_}",
                         owner_subject_id=owner, licence_no=uscc_for(7101) if code_ == "S2" else None,
                         category="食品", opened_on=dt.date(2024, 1, 1), status="open", created_at=NOW, updated_at=NOW)
            s.add(row)
            s.flush()
            shops[code_] = row.id
        accounts = {}
        for n in (*RING, *HONEST, REVIEWER):
            a = EcAccount(platform_id=p.id, account_hash=h(f"{code}-acct{n}"),
                          subject_id=reviewer if n == REVIEWER else None)
            s.add(a)
            s.flush()
            accounts[n] = a.id
        seq = [0]

        def order(buyer: int, shop: str, at: dt.datetime, device: str, rating: str | None, *,
                  rated_after: dt.timedelta = dt.timedelta(days=2)) -> int:
            seq[0] += 1
            o = EcOrder(platform_id=p.id, source_order_id=f"{code}-O{seq[0]}", shop_id=shops[shop],
                        buyer_account_id=accounts[buyer], amount_cents=9900, placed_at=at, address_hash=h(f"addr{buyer}"),
                        device_hash=h(device), payment_hash=h(f"pay{buyer}"), status="delivered", content_hash=h(seq[0]),
                        created_at=at, updated_at=at)
            s.add(o)
            s.flush()
            s.add(EcOrderItem(order_id=o.id, line_no=1, name="茶叶", quantity=1, unit_price_cents=9900,
                              unit_weight_g=500))
            s.add(EcShipment(order_id=o.id, tracking_hash=h(f"t{o.id}"), declared_weight_g=600,
                             shipped_at=at + dt.timedelta(hours=6), signed_at=at + dt.timedelta(days=1), scan_count=6,
                             distance_km=200.0))
            if rating:
                rated = at + rated_after
                s.add(EcRating(platform_id=p.id, source_rating_id=f"{code}-R{o.id}", order_id=o.id,
                               shop_id=shops[shop], buyer_account_id=accounts[buyer],
                               period=at.astimezone(CHINA).strftime("%Y-%m"), direction="buyer_to_shop", value=rating,
                               stars=5 if rating == "good" else 1, text=None, text_hash=None, rated_at=rated,
                               content_hash=h(f"r{o.id}"), created_at=rated, updated_at=rated))
            return int(o.id)

        burst = NOW - dt.timedelta(days=20)
        ring_orders = tuple(order(b, "S1", burst + dt.timedelta(minutes=7 * i + b), f"dev{b % 2}", "good")
                            for i in range(3) for b in RING)
        s2_orders = tuple(order(b, "S2", NOW - dt.timedelta(days=10, minutes=-5 * i), f"dev{b}", "good",
                                rated_after=dt.timedelta(days=1, minutes=3))
                          for i, b in enumerate([*HONEST, *HONEST, *HONEST]))
        review_orders = tuple(order(REVIEWER, "S3", NOW - dt.timedelta(days=d), "devR", "bad") for d in (30, 25, 15))
        for d in range(40, 150, 5):  # honest history: good ratings everywhere
            for b in HONEST:
                order(b, ("S1", "S2", "S3")[d % 3], NOW - dt.timedelta(days=d, hours=b), f"dev{b}", "good")
        platform_id = p.id
    return World(platform_id, code, shops, owner_ric, ring_orders, s2_orders, review_orders)


def world_detector(world: World, accounts: dict[int, int] | None = None) -> Any:
    """A detector returning the world's three frauds (with the contract's own Detection constructor)."""
    from chengxin.ecommerce.detection.findings import make_detection

    def detector(frames: Any, now: dt.datetime) -> tuple[list[Any], dict[str, float]]:
        orders = frames.orders
        ring = orders.filter(pl.col("order_id").is_in(list(world.ring_orders)))
        s2 = orders.filter(pl.col("order_id").is_in(list(world.s2_orders)))
        rv = orders.filter(pl.col("order_id").is_in(list(world.review_orders)))
        return [
            make_detection("order_brushing", [world.shops["S1"]], ring["buyer_id"].to_list(), ring["order_id"].to_list(),
                           0.93, {"density": 0.92, "average_density": 0.01, "shared_device": 8, "burst_hours": 2.8}),
            make_detection("fake_traffic", [world.shops["S2"]], s2["buyer_id"].to_list(), s2["order_id"].to_list(), 0.71,
                           {"median_minutes_after_delivery": 3, "identical_texts": 0}),
            make_detection("malicious_review", [world.shops["S3"]], rv["buyer_id"].unique().to_list(),
                           rv["order_id"].to_list(), 0.66, {"fairness": 0.12, "target_concentration": 1.0}),
        ], {"hand": 0.0}

    return detector


def seed_findings(platform: Platform, world: World, now: dt.datetime | None = None) -> dict[str, int]:
    """Run the real detection job with the world's detector; returns finding ids by kind."""
    from sqlalchemy import select

    from chengxin.core.audit import SYSTEM
    from chengxin.ecommerce.risk.models import EcFinding
    from chengxin.ecommerce.risk.service import detect

    detect(platform.db, now=now or NOW, actor=SYSTEM, detector=world_detector(world))
    with platform.db.read() as s:
        return {f.kind: f.id for f in s.scalars(select(EcFinding).where(EcFinding.platform_id == world.platform_id))}
