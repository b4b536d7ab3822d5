"""Fake traffic: a burst of fast good ratings with a copied text; a busy shop's steady fast ratings are not."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.ecommerce.detection.detection_support import NOW, Market, honest_background

from chengxin.ecommerce.detection.pipeline import run_detectors


def _burst_market(*, burst: bool = True) -> tuple[Market, set[int]]:
    m = Market()
    honest_background(m, orders=800)
    # a busy shop whose buyers often rate right away, all period long: not a burst
    for k in range(150):
        m.order(3000 + k, 2, NOW - dt.timedelta(days=150 - k), rated_after=dt.timedelta(minutes=10),
                text=f"own words {k}")
    farm: set[int] = set()
    if burst:
        t0 = NOW - dt.timedelta(days=30)
        for k in range(30):
            farm.add(9000 + k)
            m.order(9000 + k, 30, t0 + dt.timedelta(minutes=5 * k), rated_after=dt.timedelta(minutes=3), stars=5,
                    text="宝贝非常好，强烈推荐！", transit=dt.timedelta(hours=20))
    return m, farm


def test_a_burst_of_fast_good_ratings_with_one_text_is_reported() -> None:
    m, farm = _burst_market()
    res = run_detectors(*m.frames(), now=NOW, kinds=["fake_traffic"])
    found = res.of_kind("fake_traffic")
    assert len(found) == 1
    d = found[0]
    assert d.shop_ids == (30,) and set(d.buyer_ids) == farm and len(d.order_ids) == 30
    e = d.evidence
    assert e["rule"] == "burst" and e["ratings"] == 30 and e["time_pattern"]["median_minutes_after_delivery"] == 3
    assert e["identical_texts"]["most_accounts_on_one_text"] == 30 and e["time_pattern"]["surprise_log10"] > 6
    assert e["fast_good_share"] == 1.0 and d.confidence >= 0.5
    shop = dict(zip(res.shop_ids.tolist(), res.shop_scores["fake_traffic"].tolist(), strict=True))
    assert shop[30] > shop[2]  # the busy shop's steady fast raters are not traffic


def test_no_burst_no_finding() -> None:
    m, _ = _burst_market(burst=False)
    assert run_detectors(*m.frames(), now=NOW, kinds=["fake_traffic"]).of_kind("fake_traffic") == []


@settings(max_examples=10, deadline=None)
@given(delays=st.lists(st.integers(2, 600), min_size=1, max_size=10), hour=st.integers(0, 1000))
def test_slow_good_ratings_never_raise_the_shops_burst(delays: list[int], hour: int) -> None:
    """A good rating given hours after delivery adds to the shop's volume, never to its fast ratings: its
    own burst can only look smaller (the shop's expected count grows, the platform's fast share falls)."""
    m, _ = _burst_market()
    before = run_detectors(*m.frames(), now=NOW, kinds=["fake_traffic"])
    for k, delay in enumerate(delays):
        m.order(12_000 + k, 30, NOW - dt.timedelta(days=40, hours=-hour % 500), rated_after=dt.timedelta(hours=delay))
    after = run_detectors(*m.frames(), now=NOW, kinds=["fake_traffic"])

    def surprise(res: object) -> float:
        return max((d.evidence["time_pattern"]["surprise_log10"] for d in res.of_kind("fake_traffic")  # type: ignore[attr-defined]
                    if d.shop_ids == (30,)), default=0.0)

    assert surprise(after) <= surprise(before) + 1e-9
    assert len([d for d in after.of_kind("fake_traffic") if d.shop_ids == (30,)]) <= 1
