"""Empty parcels: the rules per shipment (table-driven), and a shop found by its pattern, not by one typo."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.ecommerce.detection.detection_support import NOW, Market, honest_background

from chengxin.ecommerce.detection import frames as F
from chengxin.ecommerce.detection.params import params_on
from chengxin.ecommerce.detection.parcels import shipment_rules
from chengxin.ecommerce.detection.pipeline import run_detectors

P = params_on(NOW.date()).empty_parcel
T = NOW - dt.timedelta(days=10)


def _ship(**row: Any) -> dict[str, Any]:
    base = {"order_id": 1, "shop_id": 1, "declared_weight_g": 2100, "expected_weight_g": 2000, "shipped_at": T,
            "signed_at": T + dt.timedelta(hours=40), "scan_count": 7, "distance_km": 900.0}
    return base | row


CASES = [
    ("a 20 g parcel for a 2 kg kettle", _ship(declared_weight_g=20), {"light"}),
    ("1.5 kg declared for 2 kg of goods", _ship(declared_weight_g=1500), set()),
    ("goods' weight unknown: not judged by weight", _ship(declared_weight_g=20, expected_weight_g=None), set()),
    ("a 20 g parcel for a 60 g phone case is not judged", _ship(declared_weight_g=20, expected_weight_g=60), set()),
    ("900 km signed 2 hours after shipping, 2 scans", _ship(signed_at=T + dt.timedelta(hours=2), scan_count=2),
     {"fast", "few_scans", "fake_track"}),
    ("900 km in 2 hours with a full scan trail", _ship(signed_at=T + dt.timedelta(hours=2)), {"fast"}),
    ("same city in 2 hours, 2 scans", _ship(signed_at=T + dt.timedelta(hours=2), scan_count=2, distance_km=12.0),
     set()),
    ("signed before it was shipped", _ship(signed_at=T - dt.timedelta(hours=1)), {"backwards"}),
    ("not signed yet", _ship(declared_weight_g=20, signed_at=None), set()),
]
FLAGGING = {"light", "backwards", "fake_track"}


@pytest.mark.parametrize(("name", "row", "hits"), CASES, ids=[c[0] for c in CASES])
def test_shipment_rules(name: str, row: dict[str, Any], hits: set[str]) -> None:
    out = shipment_rules(F.shipments_frame([row]), P)
    got = {k for k in ("light", "fast", "few_scans", "backwards", "fake_track") if out[k][0]}
    assert got == hits
    assert bool(out["flagged"][0]) == bool(hits & FLAGGING)


@settings(max_examples=50, deadline=None)
@given(light=st.integers(0, 5000), heavier=st.integers(1, 5000), expected=st.integers(0, 5000) | st.none())
def test_a_heavier_parcel_never_scores_higher(light: int, heavier: int, expected: int | None) -> None:
    m = Market()
    for k, declared in enumerate((light, light + heavier)):
        m.order(1, 1, T + dt.timedelta(hours=k), declared=declared, expected=expected)
    res = run_detectors(*m.frames(), now=NOW, kinds=["empty_parcel"])
    ids, score = res.order_scores["empty_parcel"]
    assert score[list(ids).index(2)] <= score[list(ids).index(1)]


def test_a_shop_shipping_empty_parcels_is_found_and_a_typo_is_not() -> None:
    m = Market()
    honest_background(m, orders=900)
    m.order(4242, 5, T, declared=80)  # shop 5: one typo (80 g for 800 g), nothing more
    empty = [m.order(5000 + k, 99, NOW - dt.timedelta(days=k + 1), declared=30, scans=2,
                     transit=dt.timedelta(hours=3)) for k in range(12)]
    for k in range(20):
        m.order(6000 + k, 99, NOW - dt.timedelta(days=k + 3))
    res = run_detectors(*m.frames(), now=NOW, kinds=["empty_parcel"])
    found = res.of_kind("empty_parcel")
    assert [d.shop_ids for d in found] == [(99,)]
    d = found[0]
    assert set(d.order_ids) == set(empty) and set(d.buyer_ids) == {5000 + k for k in range(12)}
    e = d.evidence
    assert e["flagged"] == 12 and e["signed_shipments"] == 32 and e["rules"]["light"] == 12
    assert e["rules"]["fast_and_few_scans"] == 12 and e["rate_ratio"] > P.min_rate_ratio
