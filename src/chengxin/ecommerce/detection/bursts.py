"""虚假流量 / 炒信: bursts of good ratings right after delivery, and identical texts across accounts.

A real buyer rates when they have tried the goods — hours or days after delivery, some within minutes.
Bought traffic rates on command: many good ratings for one shop, minutes after each delivery (or before
it), in a few hours, often pasting the same text. Two rules, both vectorised:

* **burst**: the "fast good" ratings (good, given at most ``fast_minutes`` after delivery or before it) of
  each shop, in every sliding window of ``window_hours``, against what the shop's own volume predicts
  (its good ratings × the platform-wide fast share × window / period): a Poisson tail, so a popular shop
  needs far more than a small one. Overlapping windows over the threshold merge into one burst.
* **identical texts**: a text hash used by at least ``text_min_accounts`` accounts at one shop but at no
  more than ``text_max_shops`` shops or ``text_max_shop_share`` of the shops overall (so "好评" and the
  platform's default texts do not count).

A burst is timed by when its orders were placed (given the orders): bought traffic orders within hours,
while the deliveries, and so the fast ratings, spread over days with the distances.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from scipy.stats import poisson  # type: ignore[import-untyped]

from chengxin.ecommerce.detection.findings import Detection, DetectorOutput, make_detection
from chengxin.ecommerce.detection.graph import NULL_TIME, Index, beijing, codes, distinct, iso, seconds, window_counts
from chengxin.ecommerce.detection.params import FakeTraffic

__all__ = ["detect_fake_traffic"]


def _share(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.divide(num, den, out=np.zeros(len(num)), where=den > 0)
    return out


def detect_fake_traffic(ratings: pl.DataFrame, index: Index, p: FakeTraffic, *, start: int, end: int,
                        orders: pl.DataFrame | None = None) -> DetectorOutput:
    """Bursts of fast good ratings and groups of identical texts, per shop (``ratings``: buyer → shop,
    windowed; ``start``/``end``: the window in epoch seconds). With ``orders`` (sorted by ``order_id``), a
    burst is timed by when its orders were *placed*: bought traffic is ordered within hours, but deliveries
    (and so the fast ratings) spread over days with the distances; without, by when it was rated."""
    n_b, n_s = index.n_buyers, index.n_shops
    m = ratings.height
    order_ids = ratings.get_column("order_id").to_numpy()
    u = index.buyers_of(ratings)
    s = index.shops_of(ratings)
    rated = seconds(ratings.get_column("rated_at"))
    when = rated.copy()  # the time that places a rating in a burst
    if orders is not None and orders.height:
        o_ids = orders.get_column("order_id").to_numpy()
        r_ids = ratings.get_column("order_id").to_numpy()
        pos = np.minimum(np.searchsorted(o_ids, r_ids), len(o_ids) - 1)
        found = o_ids[pos] == r_ids
        when = np.where(found, seconds(orders.get_column("placed_at"))[pos], rated)
    delivered = seconds(ratings.get_column("delivered_at"))
    good = ratings.get_column("value").to_numpy() == 1
    five = ratings.get_column("stars").fill_null(0).to_numpy() == 5
    has_stars = ratings.get_column("stars").is_not_null().to_numpy()
    known = delivered != NULL_TIME
    fast = good & known & (rated - np.where(known, delivered, 0) <= p.fast_minutes * 60)
    window = p.window_hours * 3_600

    # identical texts: (shop, text) groups of many accounts, with a text rare across shops
    text, has_text = codes(ratings.get_column("text_hash"))
    rare = np.zeros(m, dtype=bool)
    text_group = np.full(m, -1, dtype=np.int64)
    if has_text.any():
        ti = np.flatnonzero(has_text)
        n_text = int(text[ti].max()) + 1
        shop_text = distinct(text[ti] * n_s + s[ti])
        shops_per_text = np.bincount(shop_text // n_s, minlength=n_text)
        acct = distinct((text[ti] * n_s + s[ti]) * n_b + u[ti])
        accounts_per_pair = np.bincount(np.searchsorted(shop_text, acct // n_b), minlength=len(shop_text))
        pair = np.searchsorted(shop_text, text[ti] * n_s + s[ti])
        # a common phrase ("好评", the platform's default) is used at many shops; a template a click farm
        # pastes for a few clients is not
        rated_shops = len(distinct(s))
        rare[ti] = shops_per_text[text[ti]] <= max(p.text_max_shops, p.text_max_shop_share * rated_shops)
        copied = rare[ti] & (accounts_per_pair[pair] >= p.text_min_accounts)
        text_group[ti[copied]] = pair[copied]
    copied_text = text_group >= 0

    # bursts of fast good ratings
    p_fast = fast.sum() / max(1, int((good & known).sum()))
    good_per_shop = np.bincount(s[good], minlength=n_s)
    span = max(end - start, window)
    lam = np.maximum(p_fast * good_per_shop * window / span, 1e-3)
    f = np.flatnonzero(fast)
    f = f[np.lexsort((when[f], s[f]))]
    count = window_counts(s[f], when[f], window)
    surprise = -np.log10(np.maximum(poisson.sf(count - 1, lam[s[f]]), 1e-300))
    seed = (count >= p.min_burst) & (surprise >= p.min_surprise)
    diff = np.zeros(len(f) + 1, dtype=np.int64)
    seeds = np.flatnonzero(seed)
    np.add.at(diff, seeds - count[seeds] + 1, 1)
    np.add.at(diff, seeds + 1, -1)
    member = np.cumsum(diff)[:-1] > 0
    mi = np.flatnonzero(member)
    new = np.ones(len(mi), dtype=bool)
    if len(mi) > 1:
        new[1:] = (mi[1:] != mi[:-1] + 1) | (s[f[mi[1:]]] != s[f[mi[:-1]]])
    seg = np.cumsum(new) - 1
    n_seg = int(seg.max()) + 1 if len(seg) else 0

    # candidate groups: bursts, then identical-text groups mostly outside bursts
    group = np.full(m, -1, dtype=np.int64)
    group[f[mi]] = seg
    group_surprise = np.zeros(n_seg)
    np.maximum.at(group_surprise, seg, surprise[mi])
    n_pairs = int(text_group.max()) + 1 if copied_text.any() else 0
    total_pair = np.bincount(text_group[copied_text], minlength=n_pairs)
    inside_pair = np.bincount(text_group[copied_text & (group >= 0)], minlength=n_pairs)
    outside = np.flatnonzero(copied_text & (group < 0))
    keep_pair = np.zeros(n_pairs, dtype=bool)
    keep_pair[text_group[outside]] = True
    keep_pair &= inside_pair < 0.5 * total_pair  # a text group mostly inside a burst is that burst's evidence
    pair_group = np.full(n_pairs, -1, dtype=np.int64)
    pair_group[keep_pair] = n_seg + np.arange(int(keep_pair.sum()))
    group[outside] = pair_group[text_group[outside]]
    n_groups = n_seg + int(keep_pair.sum())
    g = group >= 0
    gi = group[g]
    size = np.bincount(gi, minlength=n_groups).astype(np.float64)
    accounts = np.bincount(distinct(gi * n_b + u[g]) // n_b, minlength=n_groups).astype(np.float64)
    features = {
        "log_surprise": np.log1p(np.r_[group_surprise, np.zeros(n_groups - n_seg)]),
        "fast_share": _share(np.bincount(gi, weights=fast[g], minlength=n_groups), size),
        "text_share": _share(np.bincount(gi, weights=copied_text[g], minlength=n_groups), size),
        "log_accounts": np.log(np.maximum(accounts, 1.0)),
        "five_star_share": _share(np.bincount(gi, weights=five[g], minlength=n_groups),
                                  np.bincount(gi, weights=has_stars[g], minlength=n_groups).astype(np.float64)),
    }
    conf = p.confidence(features) if n_groups else np.zeros(0)
    group_shop = np.zeros(n_groups, dtype=np.int64)
    group_shop[gi] = s[g]

    # per buyer and shop: their best group, else the same weighing of their own shares (no burst)
    per_b = np.bincount(u, minlength=n_b).astype(np.float64)
    per_s = np.bincount(s, minlength=n_s).astype(np.float64)
    base_b = p.confidence({"log_surprise": np.zeros(n_b), "log_accounts": np.zeros(n_b),
                           "fast_share": _share(np.bincount(u, weights=fast, minlength=n_b), per_b),
                           "text_share": _share(np.bincount(u, weights=copied_text, minlength=n_b), per_b),
                           "five_star_share": _share(np.bincount(u, weights=five, minlength=n_b),
                                                     np.bincount(u, weights=has_stars, minlength=n_b))})
    base_s = p.confidence({"log_surprise": np.zeros(n_s), "log_accounts": np.zeros(n_s),
                           "fast_share": _share(np.bincount(s, weights=fast, minlength=n_s), per_s),
                           "text_share": _share(np.bincount(s, weights=copied_text, minlength=n_s), per_s),
                           "five_star_share": _share(np.bincount(s, weights=five, minlength=n_s),
                                                     np.bincount(s, weights=has_stars, minlength=n_s))})
    # a rating outside any group: the same weighing of its own traits (fast, copied text, 5 stars)
    rating_score = p.confidence({"log_surprise": np.zeros(m), "log_accounts": np.zeros(m),
                                 "fast_share": fast.astype(np.float64), "text_share": copied_text.astype(np.float64),
                                 "five_star_share": five.astype(np.float64)})
    rating_score[g] = np.maximum(rating_score[g], conf[gi])
    buyer_score = base_b.copy()
    np.maximum.at(buyer_score, u[g], conf[gi])
    shop_score = base_s.copy()
    np.maximum.at(shop_score, s[g], conf[gi])

    detections: list[Detection] = []
    reported = np.flatnonzero(conf >= p.report_confidence)
    if len(reported):
        rows = np.flatnonzero(g)
        rows = rows[np.argsort(group[rows], kind="stable")]
        lo = np.searchsorted(group[rows], reported)
        hi = np.searchsorted(group[rows], reported, side="right")
        for j, a, b in zip(reported, lo, hi, strict=True):
            mine = rows[a:b]
            shop = s[mine[0]]
            lag = (rated[mine] - np.where(known[mine], delivered[mine], rated[mine])) / 60.0
            t0, t1 = int(when[mine].min()), int(when[mine].max())
            hours = max((t1 - t0) / 3_600, 1 / 60)
            texts = text_group[mine]
            top_text = int(np.bincount(texts[texts >= 0]).max()) if (texts >= 0).any() else 0
            evidence: dict[str, Any] = {
                "rule": "burst" if j < n_seg else "identical_texts",
                "ratings": len(mine), "accounts": int(accounts[j]),
                "time_pattern": {"from": iso(t0), "to": iso(t1), "ratings_per_hour": len(mine) / hours,
                                 "timed_by": "placed_at" if orders is not None else "rated_at",
                                 "rated_from": iso(int(rated[mine].min())), "rated_to": iso(int(rated[mine].max())),
                                 "window_hours": p.window_hours,
                                 "expected_fast_good_in_window": float(lam[shop]),
                                 "surprise_log10": float(group_surprise[j]) if j < n_seg else 0.0,
                                 "median_minutes_after_delivery": float(np.median(lag)),
                                 "rated_before_delivery": int((lag < 0).sum())},
                "fast_good_share": features["fast_share"][j], "five_star_share": features["five_star_share"][j],
                "identical_texts": {"ratings_with_copied_text": int(copied_text[mine].sum()),
                                    "most_accounts_on_one_text": top_text,
                                    "distinct_copied_texts": len(np.unique(texts[texts >= 0]))},
                "fast_minutes": p.fast_minutes,
                "summary_zh": (f"{beijing(t0)} 至 {beijing(t1)}（北京时间）{'下单' if orders is not None else '评价'}的 "
                               f"{len(mine)} 笔订单来自 {int(accounts[j])} 个账号，均为好评，"
                               f"签收后中位 {float(np.median(lag)):.0f} 分钟即评价，"
                               f"{int(copied_text[mine].sum())} 条为多账号相同文本；按该店铺平时的量，"
                               f"{p.window_hours} 小时内应约 {float(lam[shop]):.2f} 条快速好评。"),
            }
            detections.append(make_detection("fake_traffic", [index.shop_ids[shop]], index.buyer_ids[u[mine]],
                                             order_ids[mine], float(conf[j]), evidence))
    stats = {"fast_good_ratings": int(fast.sum()), "platform_fast_share": float(p_fast), "bursts": n_seg,
             "text_groups": n_groups - n_seg, "reported": len(detections)}
    return DetectorOutput("fake_traffic", buyer_score, shop_score, order_ids, rating_score, detections, stats,
                          {"group": features | {"shop": group_shop}})
