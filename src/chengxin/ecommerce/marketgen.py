"""A synthetic marketplace with injected fraud and its ground truth (issue #7, Evaluation).

What it models (every draw vectorised with numpy; Faker zh_CN only for the small pools of shop names):

* **Shops**: lognormal popularity (a heavy head of popular shops and a long tail), a category (which sets
  the items' typical weight and price), a city, a quality (most shops good; ~6% poor, with many bad ratings).
* **Honest buyers**: lognormal activity (most buy a few times, some hundreds), a home shop they return to,
  households that share an address (and sometimes a device or a payment account), a harsh minority that
  rates badly more often, and a promotion day (双十一-like) with three times the traffic.
* **Orders → shipments → ratings**: handling and transit times from the distance between cities, scans
  along the way, declared weights near the items' weight plus packaging (with honest noise: missing
  weights, a few typos), ratings mostly good (stars, texts from common phrases or composed sentences),
  the platform's default good rating after 15 days when the buyer does not rate, shop-to-buyer ratings.

Injected fraud (labels per buyer, per shop and per order):

* ``order_brushing`` rings (刷单): a task platform's 15–60 workers buying from 5–15 client shops, or a
  shop owner's 6–15 acquaintances buying repeatedly from 1–3 shops, in campaigns of one to three days, sharing some addresses/devices/payment accounts, praising with template texts,
  mostly shipping empty parcels. **Camouflage** (on by default): ring accounts also buy honestly from popular
  shops (FRAUDAR's "biased camouflage"), and a quarter of them are hijacked honest accounts with a history.
* ``malicious_review`` (恶意评价): accounts that buy from well-rated competitor shops of one category and
  rate them badly against everyone else's consensus — half come back to 1–3 shops again and again, half
  hit 3–6 shops once each — with some honest good ratings elsewhere.
* ``fake_traffic`` (虚假流量/炒信): shops buying bursts of 20–120 orders within hours from a click farm
  (a shared pool of accounts and devices), rated good minutes after delivery with identical texts.
* ``empty_parcel`` (空包裹): parcels far lighter than their goods, some with a bought tracking number
  (too few scans, signed impossibly fast): most brushing orders, half the click-farm orders, and shops
  that ship empty parcels for fake orders of one-off accounts.

Seeded and deterministic: the same :class:`MarketSpec` gives the same frames, row for row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from chengxin.ecommerce.detection.frames import validate

__all__ = ["Labels", "Market", "MarketSpec", "generate"]

CATEGORIES = (  # (name, median unit weight g, median price ¥)
    ("服装", 400, 120), ("数码配件", 90, 45), ("家用电器", 3500, 450), ("食品生鲜", 1500, 80),
    ("美妆个护", 220, 150), ("图书", 600, 50), ("家居日用", 900, 60), ("母婴", 1200, 130),
)
_COMMON = ("好评", "不错", "很好", "质量很好", "物流很快", "满意", "还可以", "一般般", "挺好的", "五星好评",
           "包装完好", "性价比高", "推荐购买", "正品", "会回购的", "客服态度好", "发货速度快", "和描述一致",
           "宝贝收到了", "很喜欢", "东西不错", "好用", "值得购买", "颜色很正", "尺码合适", "味道不错",
           "孩子很喜欢", "送人的", "第二次买了", "稍微有点小瑕疵")
_FRAG_A = ("收到货了", "用了几天", "第一次在这家买", "朋友推荐的", "等了三天", "拆开看了一下", "试了一下",
           "给家里人买的", "活动价入手", "犹豫了很久才买", "老顾客了", "比实体店便宜", "下雨天送到的",
           "快递小哥很辛苦", "包装有点简单", "盒子有点压扁", "开箱就闻到味道", "比想象中大", "比图片好看",
           "和上次买的一样", "客服回复很及时", "价格有点贵", "做工还算细致", "颜色有点色差", "尺寸刚好",
           "发货有点慢", "物流挺快的", "第二天就到了", "隔了一周才到", "赠品也收到了")
_FRAG_B = ("质量挺好", "手感不错", "做工一般", "用起来很顺手", "味道很正宗", "效果还没看出来", "性价比可以",
           "没有异味", "材质很舒服", "声音有点大", "续航不错", "清洗方便", "安装简单", "说明书看不懂",
           "孩子很喜欢", "老人用着方便", "穿着合身", "有点起球", "保质期很新鲜", "分量很足", "颜色很正",
           "线头有点多", "很结实", "轻便好带", "充电挺快", "字迹清楚", "吃起来很香", "不太适合我",
           "跟描述一样", "做工精细")
_FRAG_C = ("会回购的", "推荐购买", "给个好评", "整体满意", "还会再来", "值得入手", "希望耐用", "先用用看",
           "五星", "一般吧", "下次再试试", "推荐给朋友了", "物超所值", "总体还行", "满意", "很划算",
           "支持一下", "点赞", "中规中矩", "谢谢卖家")
_TEMPLATE_GOOD = ("宝贝非常好，质量超级棒，卖家服务态度一流，物流超快，强烈推荐！",
                  "非常满意的一次购物，包装精美，做工精细，下次还来！",
                  "东西收到了，和描述的一模一样，性价比超高，五星好评！",
                  "质量杠杠的，掌柜人很好，发货神速，必须好评！",
                  "超出预期，值得购买，已经推荐给身边的朋友了！")
_TEMPLATE_BAD = ("质量太差了，和图片完全不一样，大家千万别买！", "假货，用了一次就坏了，差评！",
                 "客服态度恶劣，发货慢，东西还有问题，避雷！", "味道刺鼻，疑似三无产品，强烈不推荐！",
                 "严重货不对板，申请退货还被拒绝，垃圾店铺！")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_HEX = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")


@dataclass(frozen=True)
class MarketSpec:
    """What to generate. ``orders`` is the total (honest + injected); counts of fraud scale with it unless
    given. ``end`` is the platform's "now": every time is before it."""

    orders: int = 100_000
    seed: int = 7
    end: dt.datetime = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    days: int = 180
    camouflage: bool = True
    camouflage_ratio: tuple[float, float] = (0.5, 1.5)  # cover orders per brushing order of the ring, U(lo, hi)
    ring_sharing: float = 1.0  # × the rings' chances of using a shared address / device / payment account
    buyers: int | None = None  # default orders × 0.15
    shops: int | None = None  # default orders × 0.01 (at least 50)
    rings: int | None = None  # default orders / 25,000 (at least 3)
    malicious_reviewers: int | None = None  # default orders / 3,000 (at least 5)
    fake_traffic_shops: int | None = None  # default orders / 30,000 (at least 2)
    empty_parcel_shops: int | None = None  # default orders / 40,000 (at least 2)
    rating_rate: float = 0.70  # buyers who rate actively; most of the rest get the default good rating
    seller_rating_rate: float = 0.30

    def count(self, name: str) -> int:
        given = getattr(self, name)
        if given is not None:
            return int(given)
        n = self.orders
        return {"buyers": max(30, int(n * 0.15)), "shops": max(50, int(n * 0.01)), "rings": max(3, n // 25_000),
                "malicious_reviewers": max(5, n // 3_000), "fake_traffic_shops": max(2, n // 30_000),
                "empty_parcel_shops": max(2, n // 40_000)}[name]


@dataclass(frozen=True)
class Labels:
    """Ground truth. ``buyers``: buyer_id, ring (ring id or null), brushing, malicious, fake_traffic,
    hijacked (an honest account used by a ring or as a malicious reviewer). ``shops``: shop_id, brushing
    (a ring's client), fake_traffic, empty_parcel (ships empty parcels as a pattern), malicious_target.
    ``orders``: order_id, brushing, camouflage (a ring account's cover order), fake_traffic,
    malicious (its rating is malicious), empty_parcel."""

    buyers: pl.DataFrame
    shops: pl.DataFrame
    orders: pl.DataFrame


@dataclass(frozen=True)
class Market:
    spec: MarketSpec
    orders: pl.DataFrame
    ratings: pl.DataFrame
    shipments: pl.DataFrame
    labels: Labels
    shops: pl.DataFrame  # shop_id, name (Faker zh_CN), category, city
    texts: dict[str, str] = field(repr=False)  # text_hash → text, for the pooled texts


# -- helpers -------------------------------------------------------------------------------------------

def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijective scramble of uint64 (pseudonymous hashes without Python loops)."""
    z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _hex_pool(n: int, salt: int) -> pl.Series:
    """``n`` distinct 64-hex-digit pseudonymous hashes (what a platform sends for an address, device…: the
    trade ingest takes SHA-256-sized hex only)."""
    ids = np.arange(n, dtype=np.uint64) + np.uint64(salt) * np.uint64(1 << 40)
    words = [_mix64(ids ^ np.uint64(c)) for c in (0, 0x5DEECE66D, 0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F)]
    raw = np.stack(words, axis=1).view(np.uint8).reshape(n, 32)
    text = np.ascontiguousarray(_HEX[raw]).view("S64").ravel()
    return pl.Series(text).cast(pl.String)


def _null_where(values: Any, mask: np.ndarray, name: str = "") -> pl.Series:
    """``values`` as a Series with nulls where ``mask`` is true."""
    series = values if isinstance(values, pl.Series) else pl.Series(values)
    return pl.select(pl.when(pl.lit(pl.Series(mask))).then(None).otherwise(pl.lit(series))).to_series().alias(name)


def _sha(text: str) -> str:
    return hashlib.sha256("".join(text.split()).encode()).hexdigest()


def _weighted(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    cdf = np.cumsum(weights, dtype=np.float64)
    picks: np.ndarray = np.minimum(np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right"), len(weights) - 1)
    return picks


class _Orders:
    """Column buffers of the orders being generated (one segment per population)."""

    def __init__(self) -> None:
        self.cols: dict[str, list[np.ndarray]] = {}

    def add(self, **cols: Any) -> None:
        n = len(cols["buyer"])
        for name in ("buyer", "shop", "t", "addr", "dev", "pay", "rate_mode", "lag_mode", "text_pool", "parcel",
                     "rated", "brushing", "camouflage", "fake_traffic", "malicious"):
            value = cols.get(name, 0)
            arr = np.asarray(value)
            self.cols.setdefault(name, []).append(np.broadcast_to(arr, (n,)) if arr.ndim == 0 else arr)

    def build(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) for k, v in self.cols.items()}


# -- the generator -------------------------------------------------------------------------------------

def generate(spec: MarketSpec | None = None) -> Market:
    """The marketplace of ``spec`` (default: 100,000 orders, seed 7, camouflage on)."""
    spec = spec or MarketSpec()
    rng = np.random.default_rng(spec.seed)
    n_b, n_s = spec.count("buyers"), spec.count("shops")
    start = int((spec.end - _EPOCH).total_seconds()) - spec.days * 86_400
    span = spec.days * 86_400

    # shops: popularity, category, city, quality
    popularity = rng.lognormal(0.0, 1.6, n_s)
    category = rng.integers(0, len(CATEGORIES), n_s)
    n_cities = 60
    city_xy = rng.uniform(0, [3000.0, 2500.0], (n_cities, 2))
    shop_city = _weighted(rng, rng.lognormal(0, 1.0, n_cities), n_s)
    poor = rng.random(n_s) < 0.06
    p_bad = np.where(poor, rng.uniform(0.15, 0.35, n_s), rng.uniform(0.005, 0.04, n_s))
    p_neutral = np.where(poor, rng.uniform(0.08, 0.15, n_s), rng.uniform(0.01, 0.05, n_s))
    pop_rank = np.argsort(np.argsort(-popularity))  # 0 = most popular

    # honest buyers: activity, home shop, households, harshness, city
    activity = rng.lognormal(0.0, 1.1, n_b)
    harsh = rng.random(n_b) < 0.03
    households = max(1, int(n_b * 0.88))
    household = rng.integers(0, households, n_b)
    buyer_city = _weighted(rng, rng.lognormal(0, 1.0, n_cities), n_b)
    home_shop = _weighted(rng, popularity ** 0.5, n_b)  # regulars favour smaller shops than the crowd
    shares_device = rng.random(n_b) < 0.08
    shares_payment = rng.random(n_b) < 0.05

    # identity pools: address ids [0, households) ∪ [households, households + n_b) (work addresses), device
    # ids [0, n_b) own ∪ [n_b, n_b + households) family, payment likewise. Fraud pools come after these.
    def own_attrs(buyer: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        work = rng.random(len(buyer)) < 0.2
        addr = np.where(work, households + buyer, household[buyer])
        dev = np.where(shares_device[buyer], n_b + household[buyer], buyer)
        pay = np.where(shares_payment[buyer], n_b + household[buyer], buyer)
        return addr, dev, pay

    hours = np.array([2, 1, 1, 1, 1, 1, 2, 3, 4, 6, 7, 7, 7, 6, 6, 6, 6, 6, 7, 8, 9, 9, 8, 5], dtype=float)
    promo_day = spec.days - 21  # 双十一-like: a day with three times the traffic

    def honest_times(n: int) -> np.ndarray:
        day = rng.integers(0, spec.days - 1, n)
        day = np.where(rng.random(n) < 0.02 * 2, promo_day, day)
        times: np.ndarray = start + day * 86_400 + _weighted(rng, hours, n) * 3_600 + rng.integers(0, 3_600, n)
        return times

    buf = _Orders()
    next_buyer = n_b
    addr_next, dev_next, pay_next = households + n_b, n_b + households, n_b + households

    # --- injected populations (their order counts first, so honest orders fill the rest) ---
    shop_pool_small = np.flatnonzero((pop_rank > n_s * 0.3) & ~poor)  # ring clients: not the head, not poor
    ring_rows: list[tuple[int, np.ndarray]] = []  # (ring id, account ids)
    brushing_shops: list[int] = []
    for ring in range(spec.count("rings")):
        # two kinds of ring: a brushing task platform's workers (刷手) serving many client shops, and a
        # shop owner's acquaintances brushing one or two shops, sharing more of their addresses and devices
        platform = rng.random() < 0.7
        m = int(rng.integers(15, 61)) if platform else int(rng.integers(6, 16))
        k = int(rng.integers(5, 16)) if platform else int(rng.integers(1, 4))
        clients = rng.choice(shop_pool_small, k, replace=False)
        brushing_shops.extend(int(c) for c in clients)
        hijacked = rng.random(m) < (0.25 if spec.camouflage else 0.0)
        accounts = np.where(hijacked, rng.integers(0, n_b, m), np.arange(next_buyer, next_buyer + m))
        next_buyer += m
        accounts = np.unique(accounts)
        m = len(accounts)
        ring_rows.append((ring, accounts))
        density = rng.uniform(0.4, 0.8) if platform else rng.uniform(0.7, 1.0)
        pair = rng.random((m, k)) < density
        per_pair = np.where(pair, 1 + rng.poisson(0.5 if platform else 1.5, (m, k)), 0)
        acc_i, shop_i = np.nonzero(per_pair)
        reps = per_pair[acc_i, shop_i]
        buyer = np.repeat(accounts[acc_i], reps)
        shop = np.repeat(clients[shop_i], reps)
        n = len(buyer)
        campaign_start = start + rng.integers(0, span - 5 * 86_400, k)
        campaign_len = rng.integers(1, 4, k) * 86_400
        t = campaign_start[np.repeat(shop_i, reps)] + (rng.random(n) * campaign_len[np.repeat(shop_i, reps)]).astype(
            np.int64)
        own_a, own_d, own_p = own_attrs(np.minimum(buyer, n_b - 1))
        fresh = buyer >= n_b  # new ring accounts: their "own" attributes are their own, not a household's
        own_a = np.where(fresh, addr_next + buyer - n_b, own_a)
        own_d = np.where(fresh, dev_next + buyer - n_b, own_d)
        own_p = np.where(fresh, pay_next + buyer - n_b, own_p)
        base = 10_000_000 + ring * 1_000
        share = tuple(x * spec.ring_sharing for x in ((0.5, 0.4, 0.3) if platform else (0.7, 0.6, 0.5)))
        pools = (max(2, m // 6), max(2, m // 5), max(2, m // 4)) if platform else (max(2, m // 4),) * 3
        addr = np.where(rng.random(n) < share[0], base + rng.integers(0, pools[0], n), own_a)
        dev = np.where(rng.random(n) < share[1], base + 300 + rng.integers(0, pools[1], n), own_d)
        pay = np.where(rng.random(n) < share[2], base + 600 + rng.integers(0, pools[2], n), own_p)
        empty = rng.random(n) < 0.8
        fake_track = empty & (rng.random(n) < 0.4)
        buf.add(buyer=buyer, shop=shop, t=t, addr=addr, dev=dev, pay=pay, rate_mode=1, lag_mode=2,
                text_pool=np.where(rng.random(n) < 0.5, 1 + rng.integers(0, len(_TEMPLATE_GOOD), n), 0),
                parcel=np.where(fake_track, 2, empty.astype(int)), rated=rng.random(n) < 0.95, brushing=1)
        if spec.camouflage:  # cover orders: popular shops, spread over the period, honest behaviour
            n_camo = int(n * rng.uniform(*spec.camouflage_ratio))
            cb = rng.choice(accounts, n_camo)
            ca, cd, cp = own_attrs(np.minimum(cb, n_b - 1))
            fresh = cb >= n_b
            buf.add(buyer=cb, shop=_weighted(rng, popularity ** 1.5, n_camo), t=honest_times(n_camo),
                    addr=np.where(fresh, addr_next + cb - n_b, ca), dev=np.where(fresh, dev_next + cb - n_b, cd),
                    pay=np.where(fresh, pay_next + cb - n_b, cp), rated=rng.random(n_camo) < spec.rating_rate,
                    camouflage=1)

    # malicious reviewers: bad ratings on 1–3 good competitor shops of one category
    mal_accounts = []
    mal_targets: list[int] = []
    good_head = np.flatnonzero(~poor & (pop_rank < n_s * 0.3))
    for _ in range(spec.count("malicious_reviewers")):
        taken_over = rng.random() < 0.4
        account = int(rng.integers(0, n_b)) if taken_over else next_buyer
        next_buyer += 0 if taken_over else 1
        mal_accounts.append(account)
        cat = int(category[rng.choice(good_head)])
        same = good_head[category[good_head] == cat]
        # half come back to 1–3 competitors to rate them again and again, half hit 3–6 competitors once each
        comes_back = rng.random() < 0.5
        targets = rng.choice(same, min(len(same), int(rng.integers(1, 4) if comes_back else rng.integers(3, 7))),
                             replace=False)
        mal_targets.extend(int(x) for x in targets)
        per = rng.integers(2, 6, len(targets)) if comes_back else np.ones(len(targets), dtype=np.int64)
        shop = np.repeat(targets, per)
        n = len(shop)
        buyer = np.full(n, account)
        if taken_over:
            addr, dev, pay = own_attrs(buyer)
        else:
            addr, dev, pay = (np.full(n, addr_next + account - n_b), np.full(n, dev_next + account - n_b),
                              np.full(n, pay_next + account - n_b))
        buf.add(buyer=buyer, shop=shop, t=honest_times(n), addr=addr, dev=dev, pay=pay, rate_mode=2,
                text_pool=np.where(rng.random(n) < 0.6, 100 + rng.integers(0, len(_TEMPLATE_BAD), n), 0),
                rated=1, malicious=1)
        n_cover = int(rng.integers(2, 11))
        if not taken_over:  # a new account builds a little honest history first
            buf.add(buyer=np.full(n_cover, account), shop=_weighted(rng, popularity, n_cover),
                    t=honest_times(n_cover), addr=addr[0], dev=dev[0], pay=pay[0], rated=1)

    # fake traffic: click-farm bursts rated good minutes after delivery, identical texts
    ft_count = spec.count("fake_traffic_shops")
    ft_shops = rng.choice(np.flatnonzero((pop_rank > n_s * 0.2) & ~poor), ft_count, replace=False)
    farm = np.arange(next_buyer, next_buyer + max(200, ft_count * 150))  # a large pool, each account used rarely
    next_buyer += len(farm)
    farm_devices = max(5, len(farm) // 8)
    for j, shop_id in enumerate(ft_shops):
        for _ in range(int(rng.integers(1, 4))):
            n = int(rng.integers(20, 121))
            buyer = rng.choice(farm, n, replace=False)
            t0 = start + int(rng.integers(0, span - 2 * 86_400))
            t = t0 + (rng.random(n) * rng.integers(2, 9) * 3_600).astype(np.int64)
            empty = rng.random(n) < 0.5
            buf.add(buyer=buyer, shop=np.full(n, shop_id), t=t, addr=addr_next + buyer - n_b,
                    dev=np.where(rng.random(n) < 0.6, 20_000_000 + rng.integers(0, farm_devices, n),
                                 dev_next + buyer - n_b),
                    pay=pay_next + buyer - n_b, rate_mode=1, lag_mode=1,
                    text_pool=np.where(rng.random(n) < 0.8, 200 + 10 * j + rng.integers(0, 4, n), 0),
                    parcel=np.where(empty & (rng.random(n) < 0.5), 2, empty.astype(int)), rated=1, fake_traffic=1)

    # empty-parcel shops: fake orders of one-off accounts shipped as empty parcels
    ep_shops = rng.choice(np.flatnonzero(~poor), spec.count("empty_parcel_shops"), replace=False)
    for shop_id in ep_shops:
        n = int(rng.integers(15, 80))
        buyer = np.arange(next_buyer, next_buyer + n)
        next_buyer += n
        buf.add(buyer=buyer, shop=np.full(n, shop_id), t=honest_times(n), addr=addr_next + buyer - n_b,
                dev=dev_next + buyer - n_b, pay=pay_next + buyer - n_b, rate_mode=1,
                parcel=np.where(rng.random(n) < 0.5, 2, 1), rated=rng.random(n) < 0.3)

    injected = sum(len(a) for a in buf.cols.get("buyer", []))
    n_h = max(0, spec.orders - injected)
    buyer = _weighted(rng, activity, n_h)
    shop = _weighted(rng, popularity, n_h)
    repeat = rng.random(n_h) < 0.2
    shop[repeat] = home_shop[buyer[repeat]]
    addr, dev, pay = own_attrs(buyer)
    buf.add(buyer=buyer, shop=shop, t=honest_times(n_h), addr=addr, dev=dev, pay=pay,
            rated=rng.random(n_h) < spec.rating_rate)

    o = buf.build()
    n = len(o["buyer"])
    order = np.lexsort((o["buyer"], o["t"]))  # order ids follow time, as a platform assigns them
    o = {k: v[order] for k, v in o.items()}
    order_id = np.arange(1, n + 1, dtype=np.int64)

    # ids as the platform would give them: shuffled, so nothing can be read from their order
    n_all_buyers = next_buyer
    buyer_id = rng.permutation(n_all_buyers).astype(np.int64) + 100_001
    shop_id = rng.permutation(n_s).astype(np.int64) + 5_001

    # ---- shipments ----
    cancelled = (rng.random(n) < 0.04) & (o["rate_mode"] == 0) & (o["camouflage"] == 0)
    b_city = np.where(o["buyer"] < n_b, buyer_city[np.minimum(o["buyer"], n_b - 1)],
                      _mix64(o["buyer"].astype(np.uint64)) % np.uint64(n_cities)).astype(np.int64)
    s_city = shop_city[o["shop"]]
    gap = np.linalg.norm(city_xy[b_city] - city_xy[s_city], axis=1)
    distance = np.round(gap + rng.uniform(3, 40, n), 1)
    cat = category[o["shop"]]
    unit_w = np.array([c[1] for c in CATEGORIES], dtype=float)[cat] * rng.lognormal(0, 0.5, n)
    qty = np.where(rng.random(n) < 0.7, 1, rng.integers(2, 5, n))
    expected = np.round(unit_w * qty).astype(np.int64)
    expected_known = rng.random(n) > 0.08
    honest_decl = expected * rng.lognormal(0.03, 0.10, n) + rng.uniform(20, 150, n)
    typo = rng.random(n) < 0.003  # a clerk types 150 for 1500: honest noise the detector must tolerate
    honest_decl = np.where(typo, honest_decl / 10, honest_decl)
    empty_w = rng.uniform(8, 150, n)
    declared = np.round(np.where(o["parcel"] > 0, empty_w, honest_decl)).astype(np.int64)
    declared_known = (rng.random(n) > 0.06) | (o["parcel"] > 0)
    shipped = o["t"] + (rng.lognormal(np.log(16 * 3600), 0.7, n)).astype(np.int64)
    transit_h = np.where(distance < 50, rng.uniform(3, 20, n), 10 + distance / 30 * rng.lognormal(0, 0.25, n))
    transit_h = np.where(o["parcel"] == 2, rng.uniform(0.3, 5, n), transit_h)
    signed = shipped + (transit_h * 3600).astype(np.int64)
    scans = 2 + np.round(distance / 250).astype(np.int64) + rng.poisson(1.5, n)
    scans = np.where(o["parcel"] == 2, rng.integers(1, 3, n), scans)
    end = start + span
    has_shipment = ~cancelled & (shipped < end)
    delivered = has_shipment & (signed < end)

    # ---- ratings ----
    value = np.ones(n, dtype=np.int8)
    honest_rate = o["rate_mode"] == 0
    bad_p = np.where(o["buyer"] < n_b, np.where(harsh[np.minimum(o["buyer"], n_b - 1)], 5 * p_bad[o["shop"]] + 0.1,
                                                p_bad[o["shop"]]), p_bad[o["shop"]])
    u = rng.random(n)
    value = np.where(honest_rate & (u < bad_p), -1,
                     np.where(honest_rate & (u < bad_p + p_neutral[o["shop"]]), 0, 1)).astype(np.int8)
    mal = o["rate_mode"] == 2
    value = np.where(mal, np.where(rng.random(n) < 0.9, -1, 0), value).astype(np.int8)
    stars = np.where(value == 1, np.where(rng.random(n) < 0.8, 5, 4), np.where(value == 0, 3, rng.integers(1, 3, n)))
    stars = np.where(o["rate_mode"] > 0, np.where(value == 1, 5, 1), stars).astype(np.int8)
    lag_min = np.where(rng.random(n) < 0.07, rng.uniform(1, 30, n), rng.lognormal(np.log(30 * 60), 1.0, n))
    lag_min = np.where(o["lag_mode"] == 1, rng.uniform(1, 20, n), lag_min)
    lag_min = np.where((o["lag_mode"] == 2) & (rng.random(n) < 0.4), rng.uniform(1, 60, n), lag_min)
    active = o["rated"].astype(bool) & delivered
    default_good = ~o["rated"].astype(bool) & delivered & (o["rate_mode"] == 0) & (rng.random(n) < 0.7)
    rated_at = signed + np.where(default_good, 15 * 86_400, (lag_min * 60).astype(np.int64))
    rated = (active | default_good) & (rated_at < end)
    value = np.where(default_good, 1, value).astype(np.int8)

    # texts: 0 = honest (none / common phrase / composed sentence), 1..5 ring templates, 100.. bad templates,
    # 200 + 10 j + i: fake-traffic shop j's templates
    composed = [a + "，" + b + "，" + c for a in _FRAG_A for b in _FRAG_B for c in _FRAG_C]
    farm_texts = [f"{t}{'！' * (1 + i)}" for j in range(ft_count)
                  for i, t in enumerate(_TEMPLATE_GOOD[(j % 5):] + _TEMPLATE_GOOD[:(j % 5)])][: ft_count * 5]
    pooled = list(_COMMON) + composed + list(_TEMPLATE_GOOD) + list(_TEMPLATE_BAD) + farm_texts
    hashes = pl.Series([_sha(t) for t in pooled])
    texts = dict(zip(hashes.to_list(), pooled, strict=True))
    n_common, n_comp = len(_COMMON), len(composed)
    tpl_good0 = n_common + n_comp
    tpl_bad0 = tpl_good0 + len(_TEMPLATE_GOOD)
    farm0 = tpl_bad0 + len(_TEMPLATE_BAD)
    honest_kind = rng.random(n)
    honest_text = np.where(honest_kind < 0.35, -1,
                           np.where(honest_kind < 0.55, rng.integers(0, n_common, n),
                                    n_common + rng.integers(0, n_comp, n)))
    tp = o["text_pool"]
    farm_idx = np.minimum(farm0 + ((tp - 200) // 10) * 5 + (tp - 200) % 10, len(pooled) - 1)
    text_idx = np.where(tp == 0, honest_text,
                        np.where(tp < 100, tpl_good0 + tp - 1, np.where(tp < 200, tpl_bad0 + tp - 100, farm_idx)))
    text_idx = np.where(default_good, -1, text_idx)
    stars_known = ~default_good

    # ---- frames ----
    def hashed(ids: np.ndarray, salt: int, null_share: float) -> pl.Series:
        """Every id that occurs → a pseudonymous hash; a few left null (the platform did not send one)."""
        uniq, inv = np.unique(ids, return_inverse=True)
        pool = _hex_pool(len(uniq), salt * 1_000 + spec.seed)
        return _null_where(pool.gather(inv), rng.random(len(ids)) < null_share)

    ts = pl.Series(o["t"] * 1_000_000).cast(pl.Datetime("us", "UTC"))
    price = np.array([c[2] for c in CATEGORIES], dtype=float)[cat]
    amount = np.round(price * rng.lognormal(0, 0.6, n) * qty * 100).astype(np.int64)
    orders = pl.DataFrame({
        "order_id": order_id, "platform_id": np.ones(n, dtype=np.int64),
        "shop_id": shop_id[o["shop"]], "buyer_id": buyer_id[o["buyer"]], "placed_at": ts, "amount_cents": amount,
        "address_hash": hashed(o["addr"], 1, 0.01), "device_hash": hashed(o["dev"], 2, 0.02),
        "payment_hash": hashed(o["pay"], 3, 0.01),
    })

    def utc(seconds: np.ndarray) -> pl.Series:
        return pl.Series(seconds * 1_000_000).cast(pl.Datetime("us", "UTC"))

    ship_rows = np.flatnonzero(has_shipment)
    shipments = pl.DataFrame({
        "order_id": order_id[ship_rows], "shop_id": shop_id[o["shop"][ship_rows]],
        "declared_weight_g": _null_where(declared[ship_rows], ~declared_known[ship_rows]),
        "expected_weight_g": _null_where(expected[ship_rows], ~expected_known[ship_rows]),
        "shipped_at": utc(shipped[ship_rows]),
        "signed_at": _null_where(utc(signed[ship_rows]), ~delivered[ship_rows]),
        "scan_count": scans[ship_rows], "distance_km": distance[ship_rows],
    })
    rr = np.flatnonzero(rated)
    idx = text_idx[rr]
    text_hash = _null_where(hashes.gather(np.maximum(idx, 0)), idx < 0)
    buyer_ratings = pl.DataFrame({
        "order_id": order_id[rr], "shop_id": shop_id[o["shop"][rr]], "buyer_id": buyer_id[o["buyer"][rr]],
        "direction": pl.Series(["buyer_to_shop"]).gather(np.zeros(len(rr), dtype=np.int64)),
        "value": value[rr], "stars": _null_where(stars[rr], ~stars_known[rr]),
        "text_hash": text_hash, "rated_at": utc(rated_at[rr]), "delivered_at": utc(signed[rr]),
    })
    sr = np.flatnonzero(delivered & (rng.random(n) < spec.seller_rating_rate))
    s_at = signed[sr] + rng.integers(600, 3 * 86_400, len(sr))
    keep = s_at < end
    sr, s_at = sr[keep], s_at[keep]
    seller_ratings = pl.DataFrame({
        "order_id": order_id[sr], "shop_id": shop_id[o["shop"][sr]], "buyer_id": buyer_id[o["buyer"][sr]],
        "direction": pl.Series(["shop_to_buyer"]).gather(np.zeros(len(sr), dtype=np.int64)),
        "value": np.where(rng.random(len(sr)) < 0.98, 1, 0).astype(np.int8),
        "stars": pl.Series([None] * len(sr), dtype=pl.Int8), "text_hash": pl.Series([None] * len(sr), dtype=pl.String),
        "rated_at": utc(s_at), "delivered_at": utc(signed[sr]),
    })
    ratings = pl.concat([buyer_ratings, seller_ratings]).sort("rated_at")

    # ---- labels ----
    ring_of = np.full(n_all_buyers, -1, dtype=np.int64)
    for ring, accounts in ring_rows:
        ring_of[accounts] = ring
    is_mal = np.zeros(n_all_buyers, dtype=bool)
    is_mal[mal_accounts] = True
    is_farm = np.zeros(n_all_buyers, dtype=bool)
    is_farm[farm] = True
    hijacked = np.zeros(n_all_buyers, dtype=bool)
    hijacked[:n_b] = (ring_of[:n_b] >= 0) | is_mal[:n_b]
    seen = np.zeros(n_all_buyers, dtype=bool)
    seen[o["buyer"]] = True
    bl = np.flatnonzero(seen)
    buyers_l = pl.DataFrame({
        "buyer_id": buyer_id[bl], "ring": _null_where(ring_of[bl], ring_of[bl] < 0),
        "brushing": ring_of[bl] >= 0, "malicious": is_mal[bl], "fake_traffic": is_farm[bl], "hijacked": hijacked[bl],
    }).sort("buyer_id")
    empty_order = (o["parcel"] > 0) & has_shipment
    ep_mask = np.zeros(n_s, dtype=bool)
    ep_mask[ep_shops] = True
    per_shop_empty = np.bincount(o["shop"][empty_order], minlength=n_s)
    ep_mask |= per_shop_empty >= 3  # a pattern, not a one-off
    shops_l = pl.DataFrame({
        "shop_id": shop_id, "brushing": np.isin(np.arange(n_s), brushing_shops),
        "fake_traffic": np.isin(np.arange(n_s), ft_shops), "empty_parcel": ep_mask,
        "malicious_target": np.isin(np.arange(n_s), mal_targets),
    }).sort("shop_id")
    orders_l = pl.DataFrame({
        "order_id": order_id, "brushing": o["brushing"].astype(bool), "camouflage": o["camouflage"].astype(bool),
        "fake_traffic": o["fake_traffic"].astype(bool), "malicious": o["malicious"].astype(bool) & rated,
        "empty_parcel": empty_order,
    })

    # shop names: Faker zh_CN company prefixes × category × a storefront suffix
    from faker import Faker

    fake = Faker("zh_CN")
    fake.seed_instance(spec.seed)
    prefixes = pl.Series([fake.company_prefix() for _ in range(min(400, n_s))])
    suffixes = pl.Series(["旗舰店", "专营店", "专卖店", "小店", "优选店", "工厂店"])
    cat_names = pl.Series([c[0] for c in CATEGORIES])
    shops = pl.DataFrame({
        "shop_id": shop_id,
        "name": (prefixes.gather(np.arange(n_s) % len(prefixes)) + cat_names.gather(category)
                 + suffixes.gather(rng.integers(0, len(suffixes), n_s))),
        "category": cat_names.gather(category), "city": pl.Series(shop_city),
    }).sort("shop_id")

    return Market(spec=spec, orders=validate(orders, "orders"), ratings=validate(ratings, "ratings"),
                  shipments=validate(shipments, "shipments"),
                  labels=Labels(buyers=buyers_l, shops=shops_l, orders=orders_l), shops=shops, texts=texts)
