"""REV2 (Kumar, Hooi, Makhija, Kumar, Faloutsos, Subrahmanian — WSDM 2018) on the buyer → shop ratings.

Three mutually defined quantities, iterated to a fixed point:

* **goodness** G(p) ∈ [−1, 1] of a shop: the reliability-weighted mean of its ratings;
* **reliability** R(u, p) ∈ [0, 1] of one rating: high when its author is fair and it agrees with the
  shop's goodness — (γ1·F(u) + γ2·(1 − |score − G(p)| / 2)) / (γ1 + γ2);
* **fairness** F(u) ∈ [0, 1] of a buyer: the mean reliability of their ratings.

Cold start (the paper's Laplace smoothing): F(u) = (α1·μ_F + Σ R) / (α1 + |Out(u)|) and
G(p) = (β1·μ_G + Σ R·score) / (β1 + |In(p)|), with μ_F, μ_G the current mean fairness and goodness, so one
bad rating from a new account does not make it look malicious. Initial values F = G = R = 1 as in the paper;
each iteration is three ``bincount`` passes over the rating arrays (no Python loop over ratings).

A rating's score: ``(stars − 3) / 2`` when stars are given (1★ = −1 … 5★ = +1), else the value (good +1,
neutral 0, bad −1). A **malicious reviewer** (恶意评价) is a buyer of low fairness whose bad ratings sit far
from the consensus and come back to the same few shops (competitors, or a shop being extorted).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from chengxin.ecommerce.detection.findings import Detection, DetectorOutput, make_detection
from chengxin.ecommerce.detection.graph import Index, distinct_counts, iso, seconds
from chengxin.ecommerce.detection.params import MaliciousReview

__all__ = ["Rev2Result", "detect_malicious", "rating_scores", "rev2"]


@dataclass(frozen=True)
class Rev2Result:
    fairness: np.ndarray  # per user (buyer)
    goodness: np.ndarray  # per product (shop)
    reliability: np.ndarray  # per rating
    iterations: int


def rev2(users: np.ndarray, products: np.ndarray, scores: np.ndarray, n_users: int, n_products: int, *,
         alpha1: float, beta1: float, gamma1: float, gamma2: float, max_iterations: int,
         tolerance: float) -> Rev2Result:
    """Fairness, goodness and reliability for ratings ``users[i]`` → ``products[i]`` of ``scores[i]`` ∈ [−1, 1].
    Stops when no value moves by more than ``tolerance`` or after ``max_iterations``."""
    scores = np.asarray(scores, dtype=np.float64)
    out_deg = np.bincount(users, minlength=n_users).astype(np.float64)
    in_deg = np.bincount(products, minlength=n_products).astype(np.float64)
    has_out, has_in = out_deg > 0, in_deg > 0
    fairness = np.ones(n_users)
    goodness = np.ones(n_products)
    reliability = np.ones(len(scores))
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007 — the count is returned
        mu_g = float(goodness[has_in].mean()) if has_in.any() else 0.0
        mu_f = float(fairness[has_out].mean()) if has_out.any() else 1.0
        g = (beta1 * mu_g + np.bincount(products, weights=reliability * scores, minlength=n_products))
        g = np.clip(np.divide(g, beta1 + in_deg, out=np.full(n_products, mu_g), where=(beta1 + in_deg) > 0), -1, 1)
        r = (gamma1 * fairness[users] + gamma2 * (1.0 - np.abs(scores - g[products]) / 2.0)) / (gamma1 + gamma2)
        f = alpha1 * mu_f + np.bincount(users, weights=r, minlength=n_users)
        f = np.divide(f, alpha1 + out_deg, out=np.full(n_users, mu_f), where=(alpha1 + out_deg) > 0)
        delta = max(float(np.abs(f - fairness).max(initial=0.0)), float(np.abs(g - goodness).max(initial=0.0)),
                    float(np.abs(r - reliability).max(initial=0.0)))
        fairness, goodness, reliability = f, g, r
        if delta < tolerance:
            break
    return Rev2Result(fairness, goodness, reliability, iterations)


def rating_scores(ratings: pl.DataFrame) -> np.ndarray:
    """Each rating on the −1..1 scale: ``(stars − 3) / 2`` where stars are given, else the value."""
    stars = ratings.get_column("stars")
    value = ratings.get_column("value").to_numpy().astype(np.float64)
    star = stars.fill_null(0).to_numpy().astype(np.float64)
    return np.where(stars.is_not_null().to_numpy(), (star - 3.0) / 2.0, value)


def detect_malicious(ratings: pl.DataFrame, index: Index, p: MaliciousReview) -> DetectorOutput:
    """恶意评价: REV2 over the buyer → shop ratings (windowed), then per buyer the evidence an analyst reads:
    how far the bad ratings sit from each shop's consensus and how concentrated they are on a few shops."""
    n_b, n_s = index.n_buyers, index.n_shops
    order_ids = ratings.get_column("order_id").to_numpy()
    u = index.buyers_of(ratings)
    s = index.shops_of(ratings)
    score = rating_scores(ratings)
    res = rev2(u, s, score, n_b, n_s, alpha1=p.alpha1, beta1=p.beta1, gamma1=p.gamma1, gamma2=p.gamma2,
               max_iterations=p.max_iterations, tolerance=p.tolerance)
    bad = ratings.get_column("value").to_numpy() == -1
    n_rated = np.bincount(u, minlength=n_b).astype(np.float64)
    n_bad = np.bincount(u[bad], minlength=n_b).astype(np.float64)
    deviation = np.abs(score - res.goodness[s]) / 2.0  # 0 = agrees with the shop's consensus, 1 = opposite
    dev_bad = np.divide(np.bincount(u[bad], weights=deviation[bad], minlength=n_b), n_bad,
                        out=np.zeros(n_b), where=n_bad > 0)
    # concentration: share of a buyer's bad ratings on their `top_shops` most-hit shops
    pair_key = u[bad] * n_s + s[bad]
    pairs, pair_count = distinct_counts(pair_key)
    pb = pairs // n_s
    order = np.lexsort((-pair_count, pb))
    pb_sorted, pc_sorted = pb[order], pair_count[order]
    first = np.r_[0, np.flatnonzero(pb_sorted[1:] != pb_sorted[:-1]) + 1] if len(pb_sorted) else np.empty(0, int)
    rank = np.arange(len(pb_sorted)) - np.repeat(first, np.diff(np.r_[first, len(pb_sorted)]))
    top = np.bincount(pb_sorted[rank < p.top_shops], weights=pc_sorted[rank < p.top_shops], minlength=n_b)
    concentration = np.divide(top, n_bad, out=np.zeros(n_b), where=n_bad > 0)
    bad_shops = np.bincount(pb, minlength=n_b)
    has = n_rated > 0
    features = {
        "unfairness": np.where(has, 1.0 - res.fairness, 0.0),
        "bad_share": np.divide(n_bad, n_rated, out=np.zeros(n_b), where=has),
        # bad ratings beyond the first at the same shop: a buyer disappointed once does not come back for
        # more, a malicious reviewer buys again to rate again
        "repeat_share": np.divide(n_bad - bad_shops, n_bad, out=np.zeros(n_b), where=n_bad > 0),
        "log_bad": np.log1p(n_bad),
        "deviation": dev_bad,
    }
    buyer_score = np.where(has, p.confidence(features), 0.0)
    rating_score = np.where(bad, buyer_score[u] * deviation, 0.0)
    shop_score = np.zeros(n_s)
    np.maximum.at(shop_score, s, rating_score)
    detections: list[Detection] = []
    chosen = np.flatnonzero((n_bad >= p.min_bad) & (buyer_score >= p.report_confidence))
    if len(chosen):
        t = seconds(ratings.get_column("rated_at"))
        in_deg = np.bincount(s, minlength=n_s)
        is_chosen = np.zeros(n_b, dtype=bool)
        is_chosen[chosen] = True
        mine_all = np.flatnonzero(bad & is_chosen[u])
        by_buyer = mine_all[np.argsort(u[mine_all], kind="stable")]
        bounds = np.searchsorted(u[by_buyer], chosen)
        ends = np.searchsorted(u[by_buyer], chosen, side="right")
        for b, lo, hi in zip(chosen, bounds, ends, strict=True):
            mine = by_buyer[lo:hi]
            shops, counts = np.unique(s[mine], return_counts=True)
            top_shops = shops[np.argsort(-counts, kind="stable")][: p.top_shops]
            evidence: dict[str, Any] = {
                "method": "REV2 (Kumar et al., WSDM 2018): fairness / goodness / reliability",
                "fairness": res.fairness[b], "ratings": int(n_rated[b]), "bad_ratings": int(n_bad[b]),
                "bad_share": features["bad_share"][b], "mean_deviation_from_consensus": dev_bad[b],
                "bad_on_top_shops_share": concentration[b], "distinct_shops_rated_bad": int(bad_shops[b]),
                "repeat_bad_share": features["repeat_share"][b],
                "first_bad_at": iso(t[mine].min()), "last_bad_at": iso(t[mine].max()),
                "targets": [{"shop_id": int(index.shop_ids[x]), "bad_ratings": int(counts[shops == x][0]),
                             "consensus_goodness": res.goodness[x], "ratings_of_shop": int(in_deg[x])}
                            for x in top_shops],
                "summary_zh": (f"该账号评价 {int(n_rated[b])} 次，其中差评 {int(n_bad[b])} 次，涉及 {int(bad_shops[b])} 家店铺"
                               f"（最多的一家 {int(counts.max())} 次）；这些店铺的综合评价（goodness）为 "
                               f"{', '.join(f'{res.goodness[x]:.2f}' for x in top_shops)}，差评与其他买家的一致意见平均"
                               f"相差 {dev_bad[b]:.0%}；REV2 公正度 {res.fairness[b]:.2f}。"),
            }
            detections.append(make_detection("malicious_review", index.shop_ids[top_shops], [index.buyer_ids[b]],
                                             order_ids[mine], float(buyer_score[b]), evidence))
    stats = {"ratings": len(score), "iterations": res.iterations, "mean_fairness": float(res.fairness[has].mean())
             if has.any() else None, "reported": len(detections)}
    return DetectorOutput("malicious_review", buyer_score, shop_score, order_ids, rating_score, detections, stats,
                          {"buyer": features})
