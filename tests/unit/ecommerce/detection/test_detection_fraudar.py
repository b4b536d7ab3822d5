"""FRAUDAR (greedy peeling, column weights) and the order-brushing detector on hand-built graphs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import scipy.sparse as sp  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.ecommerce.detection.detection_support import NOW, Market, honest_background

from chengxin.ecommerce.detection import fraudar as FR
from chengxin.ecommerce.detection.params import params_on
from chengxin.ecommerce.detection.pipeline import run_detectors


def _matrix(edges: list[tuple[int, int]], shape: tuple[int, int], weight: float = 1.0) -> sp.csr_matrix:
    r, c = zip(*edges, strict=True)
    return sp.csr_matrix((np.full(len(edges), weight), (r, c)), shape=shape)


def _sparse_with_blocks(blocks: list[tuple[range, range]], n_r: int = 60, n_c: int = 40,
                        seed: int = 1) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    edges = {(int(rng.integers(n_r)), int(rng.integers(n_c))) for _ in range(80)}  # sparse honest trade
    for rows, cols in blocks:
        edges |= {(r, c) for r in rows for c in cols}
    return _matrix(sorted(edges), (n_r, n_c))


def test_the_densest_block_is_peeled_out_exactly() -> None:
    m = _sparse_with_blocks([(range(50, 58), range(30, 34))])
    p = FR.peel(m, epsilon=0.0)
    rows, cols = p.block()
    assert list(rows) == list(range(50, 58)) and list(cols) == list(range(30, 34))
    assert p.best_density == pytest.approx(32 / 12)  # 8 × 4 edges over 12 nodes


def test_node_suspiciousness_ranks_the_block_first() -> None:
    m = _sparse_with_blocks([(range(50, 58), range(30, 34))])
    row_score, col_score = FR.node_suspiciousness(FR.peel(m, epsilon=0.0))
    assert row_score[50:58].min() > np.delete(row_score, range(50, 58)).max()
    assert col_score[30:34].min() > np.delete(col_score, range(30, 34)).max()


def test_several_rings_come_out_as_separate_blocks_densest_first() -> None:
    m = _sparse_with_blocks([(range(40, 50), range(20, 26)), (range(50, 58), range(30, 34))])
    res = FR.fraudar(m, epsilon=0.0, margin=0.1, core_share=0.01, core_min_nodes=200, max_blocks=5, min_rows=3)
    found = [(list(b.rows), list(b.cols)) for b in res.blocks]
    assert found[:2] == [(list(range(40, 50)), list(range(20, 26))), (list(range(50, 58)), list(range(30, 34)))]
    assert res.blocks[0].density > res.blocks[1].density > res.core_density


def test_column_weights_follow_the_paper() -> None:
    rows = np.array([0, 0, 0, 1, 2])
    cols = np.array([0, 0, 1, 1, 1])  # buyer 0 ordered twice from shop 0; shop 1 has three buyers
    w = FR.bipartite(rows, cols, (3, 2), column_offset=5).toarray()
    assert w[0, 0] == pytest.approx((1 + np.log(2)) / np.log(1 + 5))
    assert w[1, 1] == pytest.approx(1 / np.log(3 + 5))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), camouflage=st.integers(0, 60), eps=st.sampled_from([0.0, 0.1, 0.2]))
def test_camouflage_does_not_dilute_the_ring_and_the_peel_keeps_its_guarantee(seed: int, camouflage: int,
                                                                              eps: float) -> None:
    """FRAUDAR's point: with column weights, edges from the ring's accounts to other (popular) shops leave
    the ring's own density unchanged; and the greedy peel finds a block at least g(ring) / (2(1 + ε))."""
    rng = np.random.default_rng(seed)
    n_r, n_c = 80, 30
    honest = {(int(rng.integers(n_r)), int(rng.integers(n_c // 2))) for _ in range(150)}
    ring = {(r, c) for r in range(70, 80) for c in range(25, 29) if rng.random() < 0.8}
    cover = {(int(rng.integers(70, 80)), int(rng.integers(0, 5))) for _ in range(camouflage)}  # popular shops

    def ring_density(edges: set[tuple[int, int]]) -> float:
        e = np.array(sorted(edges))
        w = FR.bipartite(e[:, 0], e[:, 1], (n_r, n_c), column_offset=5)
        return float(w[70:80][:, 25:29].sum() / 14), FR.peel(w, epsilon=eps).best_density  # type: ignore[return-value]

    plain, _ = ring_density(honest | ring)
    covered, best = ring_density(honest | ring | cover)
    assert covered == pytest.approx(plain)
    assert best >= covered / (2 * (1 + eps)) - 1e-9


def _brushing_market() -> tuple[Market, set[int], set[int]]:
    m = Market()
    honest_background(m)
    ring, shops = set(range(5000, 5012)), {901, 902, 903}
    start = NOW - dt.timedelta(days=40)
    for k, buyer in enumerate(sorted(ring)):
        for shop in sorted(shops):
            for rep in range(2):
                m.order(buyer, shop, start + dt.timedelta(hours=3 * k + rep + 10 * (shop - 901)),
                        address=f"ring-addr-{k % 3}", device=f"ring-dev-{k % 4}", rated_after=dt.timedelta(minutes=20))
        m.order(buyer, 1, NOW - dt.timedelta(days=20 + k))  # cover: the most popular shop
    return m, ring, shops


def test_a_dense_ring_among_sparse_honest_buyers_is_found_with_its_evidence() -> None:
    m, ring, shops = _brushing_market()
    res = run_detectors(*m.frames(), now=NOW, kinds=["order_brushing"])
    rings = res.of_kind("order_brushing")
    assert len(rings) == 1
    d = rings[0]
    assert set(d.buyer_ids) == ring and set(d.shop_ids) == shops
    # the ring's 72 orders, less a few that spilled into the next 3-day period (a sparse column the peel drops)
    assert 65 <= len(d.order_ids) <= 72
    assert 0.5 <= d.confidence <= 1
    e = d.evidence
    assert e["shared_attributes"]["addresses"] == 3 and e["shared_attributes"]["devices"] == 4
    assert e["density"]["ratio_to_core"] > 1 and e["ratings"]["good_share"] == 1.0
    assert e["time_pattern"]["peak_shop_id"] in shops and e["time_pattern"]["burst_share"] > 0.9
    ids = res.buyer_ids
    score = res.buyer_scores["order_brushing"]
    assert score[np.isin(ids, list(ring))].min() > score[~np.isin(ids, list(ring))].max()


def test_the_fingerprint_is_stable_over_reruns_and_row_order() -> None:
    m, _, _ = _brushing_market()
    orders, ratings, shipments = m.frames()
    first = run_detectors(orders, ratings, shipments, now=NOW, kinds=["order_brushing"])
    again = run_detectors(orders.reverse(), ratings.sample(fraction=1.0, shuffle=True, seed=4), shipments, now=NOW,
                          kinds=["order_brushing"])
    assert [d.fingerprint for d in first.detections] == [d.fingerprint for d in again.detections]
    assert first.detections == again.detections


def test_honest_trade_alone_gives_no_ring() -> None:
    m = Market()
    honest_background(m, orders=900)
    res = run_detectors(*m.frames(), now=NOW, kinds=["order_brushing"])
    assert res.of_kind("order_brushing") == []
    assert params_on(NOW.date()).order_brushing.report_confidence > res.buyer_scores["order_brushing"].max()
