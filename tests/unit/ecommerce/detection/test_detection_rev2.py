"""REV2 fairness / goodness / reliability, and the malicious-reviewer detector, on hand-built ratings."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from tests.unit.ecommerce.detection.detection_support import NOW, Market, honest_background

from chengxin.ecommerce.detection import frames as F
from chengxin.ecommerce.detection.pipeline import run_detectors
from chengxin.ecommerce.detection.rev2 import rating_scores, rev2

PARAMS = {"alpha1": 1.0, "beta1": 1.0, "gamma1": 1.0, "gamma2": 1.0, "max_iterations": 100, "tolerance": 1e-6}


def test_a_reviewer_against_the_consensus_is_the_least_fair() -> None:
    # users 0..9 rate products 0 and 1 good (+1); user 10 rates both bad (−1), twice each
    users = np.array([u for u in range(10) for _ in (0, 1)] + [10] * 4)
    products = np.array([0, 1] * 10 + [0, 0, 1, 1])
    scores = np.array([1.0] * 20 + [-1.0] * 4)
    res = rev2(users, products, scores, 11, 2, **PARAMS)
    assert int(np.argmin(res.fairness)) == 10
    assert res.fairness[10] < 0.6 < res.fairness[:10].min()
    assert (res.goodness > 0.5).all()  # the consensus holds against the one dissenter
    assert res.reliability[-4:].max() < res.reliability[:20].min()


def test_cold_start_smoothing_keeps_a_single_rating_near_the_mean() -> None:
    users = np.array([0, 0, 0, 0, 1])
    products = np.array([0, 1, 2, 3, 0])
    scores = np.array([-1.0, -1.0, -1.0, -1.0, 1.0])  # user 0 disagrees four times with … nobody else on 1..3
    with_prior = rev2(users, products, scores, 2, 4, **PARAMS)
    without = rev2(users, products, scores, 2, 4, **(PARAMS | {"alpha1": 0.0, "beta1": 0.0}))
    assert 0 <= with_prior.fairness.min() and with_prior.fairness.max() <= 1
    assert -1 <= with_prior.goodness.min() and with_prior.goodness.max() <= 1
    # the smoothed goodness of a shop with one rating stays between its rating and the mean
    assert abs(with_prior.goodness[1]) < abs(without.goodness[1])


@pytest.mark.parametrize(("value", "stars", "score"), [
    ("good", 5, 1.0), ("good", 4, 0.5), ("neutral", 3, 0.0), ("bad", 2, -0.5), ("bad", 1, -1.0),
    ("good", None, 1.0), ("neutral", None, 0.0), ("bad", None, -1.0),
])
def test_rating_scores_from_stars_or_value(value: str, stars: int | None, score: float) -> None:
    t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    frame = F.ratings_frame([{"order_id": 1, "shop_id": 1, "buyer_id": 1, "value": value, "stars": stars,
                              "rated_at": t}])
    assert rating_scores(frame)[0] == score


def test_the_malicious_reviewer_is_reported_with_targets_and_deviation() -> None:
    m = Market()
    honest_background(m, orders=800)
    target, start = 1, NOW - dt.timedelta(days=60)  # shop 1: the most popular, rated good by nearly everyone
    bad_orders = [m.order(7777, target, start + dt.timedelta(days=d), rating="bad", stars=1) for d in range(0, 12, 3)]
    bad_orders += [m.order(7777, 2, start + dt.timedelta(days=d), rating="bad", stars=1) for d in (1, 5)]
    m.order(7777, 3, start, rating="good", stars=5)  # a little cover
    m.order(8888, 1, start, rating="bad", stars=1)  # a disappointed buyer: one bad rating is an opinion
    res = run_detectors(*m.frames(), now=NOW, kinds=["malicious_review"])
    found = res.of_kind("malicious_review")
    assert [d.buyer_ids for d in found] == [(7777,)]
    d = found[0]
    assert set(d.order_ids) == set(bad_orders) and set(d.shop_ids) == {1, 2}
    e = d.evidence
    assert e["bad_ratings"] == 6 and e["ratings"] == 7 and e["distinct_shops_rated_bad"] == 2
    assert e["mean_deviation_from_consensus"] > 0.8 and e["targets"][0]["shop_id"] == 1
    assert e["targets"][0]["consensus_goodness"] > 0.5 and e["fairness"] < 0.6
    scores = dict(zip(res.buyer_ids.tolist(), res.buyer_scores["malicious_review"].tolist(), strict=True))
    assert scores[7777] > scores[8888] and scores[7777] == max(scores.values())
