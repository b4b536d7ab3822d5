"""run_detectors end to end on a small generated marketplace; the dated parameters; the generator."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import polars as pl
import pytest

from chengxin.core.errors import DomainError
from chengxin.ecommerce.detection.findings import KINDS, fingerprint
from chengxin.ecommerce.detection.params import ParamsError, load_rules, params_on, parse_rules
from chengxin.ecommerce.detection.pipeline import run_detectors
from chengxin.ecommerce.marketgen import MarketSpec, generate

SPEC = MarketSpec(orders=25_000, seed=3, fake_traffic_shops=2, rings=3)


@pytest.fixture(scope="module")
def market():  # type: ignore[no-untyped-def]
    return generate(SPEC)


@pytest.fixture(scope="module")
def result(market):  # type: ignore[no-untyped-def]
    return run_detectors(market.orders, market.ratings, market.shipments, now=market.spec.end)


def test_every_kind_is_found_and_every_finding_is_well_formed(market, result) -> None:  # type: ignore[no-untyped-def]
    assert {d.kind for d in result.detections} == set(KINDS)
    buyers = set(market.orders["buyer_id"].to_list())
    shops = set(market.orders["shop_id"].to_list()) | set(market.shipments["shop_id"].to_list())
    for d in result.detections:
        assert 0.0 <= d.confidence <= 1.0 and d.buyer_ids and d.shop_ids and d.order_ids
        assert set(d.buyer_ids) <= buyers and set(d.shop_ids) <= shops
        assert list(d.buyer_ids) == sorted(d.buyer_ids) and d.fingerprint == fingerprint(d.kind, d.shop_ids,
                                                                                           d.buyer_ids)
        json.dumps(d.evidence)  # JSON-able as stored by ecommerce.risk
    assert len({d.fingerprint for d in result.detections}) == len(result.detections)
    for kind in KINDS:
        assert result.buyer_scores[kind].shape == result.buyer_ids.shape
        assert result.shop_scores[kind].shape == result.shop_ids.shape
        assert 0.0 <= result.buyer_scores[kind].min() and result.buyer_scores[kind].max() <= 1.0
    assert set(result.timings) == {"validate", *KINDS, "total"} and result.params_version == "2026.1"


def test_the_planted_rings_are_found(market, result) -> None:  # type: ignore[no-untyped-def]
    ring = set(market.labels.buyers.filter(pl.col("brushing"))["buyer_id"].to_list())
    found = {b for d in result.of_kind("order_brushing") for b in d.buyer_ids}
    assert found and len(found & ring) / len(found) >= 0.9  # precision; recall is measured by the bench
    score = result.buyer_scores["order_brushing"]
    is_ring = np.isin(result.buyer_ids, list(ring))
    assert np.median(score[is_ring]) > np.quantile(score[~is_ring], 0.99)


def test_a_rerun_gives_the_same_findings(market, result) -> None:  # type: ignore[no-untyped-def]
    again = run_detectors(market.orders, market.ratings, market.shipments, now=market.spec.end)
    assert again.detections == result.detections


def test_only_the_lookback_window_counts(market) -> None:  # type: ignore[no-untyped-def]
    later = market.spec.end + dt.timedelta(days=400)  # everything is older than 180 days by then
    res = run_detectors(market.orders, market.ratings, market.shipments, now=later)
    assert res.detections == [] and len(res.buyer_ids) == 0
    early = run_detectors(market.orders, market.ratings, market.shipments, now=market.spec.end - dt.timedelta(days=90),
                          kinds=["malicious_review"])
    assert early.window[1] == market.spec.end - dt.timedelta(days=90)
    assert set(early.buyer_scores) == {"malicious_review"}


def test_refusals(market) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError, match="detection.now.naive"):
        run_detectors(market.orders, market.ratings, market.shipments, now=dt.datetime(2026, 11, 1))
    with pytest.raises(DomainError, match="detection.kind.unknown"):
        run_detectors(market.orders, market.ratings, market.shipments, now=market.spec.end, kinds=["spam"])
    with pytest.raises(DomainError, match="missing_column"):
        run_detectors(market.orders.drop("placed_at"), market.ratings, market.shipments, now=market.spec.end)


def test_the_generator_is_deterministic_and_consistent() -> None:
    a, b = generate(SPEC), generate(SPEC)
    for name in ("orders", "ratings", "shipments"):
        assert getattr(a, name).equals(getattr(b, name))
    for name in ("buyers", "shops", "orders"):
        assert getattr(a.labels, name).equals(getattr(b.labels, name))
    c = generate(dataclasses.replace(SPEC, seed=4))
    assert not c.orders.equals(a.orders)
    assert a.orders.height == SPEC.orders
    assert a.orders["placed_at"].max() < SPEC.end and a.ratings["rated_at"].max() < SPEC.end
    lb = a.labels
    assert lb.buyers["ring"].n_unique() - 1 == 3 and lb.buyers["fake_traffic"].sum() >= 200
    ring_orders = a.orders.join(lb.orders.filter(pl.col("brushing")), on="order_id")
    ring_buyers = set(lb.buyers.filter(pl.col("brushing"))["buyer_id"].to_list())
    assert set(ring_orders["buyer_id"].to_list()) <= ring_buyers
    assert set(ring_orders["shop_id"].to_list()) <= set(lb.shops.filter(pl.col("brushing"))["shop_id"].to_list())
    assert a.shops["name"].str.len_chars().min() > 2 and set(a.texts.values()) >= {"好评"}


def test_the_parameters_file_is_dated_and_validated() -> None:
    rules = load_rules()
    first = rules.versions[0]
    assert first.basis and first.notes and first.effective_from <= dt.date(2026, 11, 1)
    assert params_on(dt.date(2020, 1, 1)) == first  # before the first version: the oldest applies
    text = json.dumps({"versions": [first.model_dump(mode="json")]})
    broken = json.loads(text)
    broken["versions"][0]["order_brushing"]["node"]["weights"]["horoscope"] = 1.0
    with pytest.raises(ParamsError, match="horoscope"):
        parse_rules(json.dumps(broken))
    broken = json.loads(text)
    broken["versions"][0]["empty_parcel"]["transit"].reverse()
    with pytest.raises(ParamsError, match="transit"):
        parse_rules(json.dumps(broken))
    two = json.loads(text)
    later = dict(two["versions"][0], version="2027.1", effective_from="2027-01-01", lookback_days=90)
    two["versions"].append(later)
    parsed = parse_rules(json.dumps(two))
    assert parsed.on(dt.date(2026, 12, 31)).version == "2026.1" and parsed.on(dt.date(2027, 1, 1)).lookback_days == 90
