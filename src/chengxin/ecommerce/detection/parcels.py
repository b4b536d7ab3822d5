"""空包裹 (empty parcels): signed shipments whose weight or tracking cannot have carried the goods.

Rules per shipment (thresholds from the dated parameters):

* ``light``     — the declared weight is at most ``max_weight_ratio`` of the items' expected weight (items of
  at least ``min_expected_g``): a 20 g parcel for a 2 kg kettle;
* ``fast``      — signed sooner after shipping than the distance band's ``min_hours`` allows;
* ``few_scans`` — fewer tracking scans than the band's ``min_scans`` (a bought tracking number is scanned
  when "collected" and when "signed", nothing in between);
* ``backwards`` — signed before it was shipped.

A shipment is flagged when it is light, signed backwards, or fast *and* under-scanned (a fake track).
Per shop: flagged signed shipments against the platform's base rate (binomial tail), so a shop is found by
its pattern, not by one clerk's typo.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from scipy.stats import binom  # type: ignore[import-untyped]

from chengxin.ecommerce.detection.findings import Detection, DetectorOutput, make_detection
from chengxin.ecommerce.detection.graph import NULL_TIME, Index, seconds
from chengxin.ecommerce.detection.params import EmptyParcel

__all__ = ["detect_empty_parcels", "shipment_rules"]


def shipment_rules(shipments: pl.DataFrame, p: EmptyParcel) -> dict[str, np.ndarray]:
    """The rule hits of every shipment (boolean arrays, plus ``ratio`` = declared / expected or NaN)."""
    declared = shipments.get_column("declared_weight_g").cast(pl.Float64).fill_null(np.nan).to_numpy()
    expected = shipments.get_column("expected_weight_g").cast(pl.Float64).fill_null(np.nan).to_numpy()
    shipped = seconds(shipments.get_column("shipped_at"))
    signed = seconds(shipments.get_column("signed_at"))
    scans = shipments.get_column("scan_count").to_numpy()
    distance = shipments.get_column("distance_km").fill_null(np.nan).to_numpy()
    is_signed = signed != NULL_TIME
    weighable = is_signed & ~np.isnan(declared) & ~np.isnan(expected) & (expected >= p.min_expected_g)
    ratio = np.where(weighable, declared / np.where(weighable, expected, 1.0), np.nan)
    light = weighable & (ratio <= p.max_weight_ratio)
    timed = is_signed & (shipped != NULL_TIME)
    hours = np.where(timed, (signed - np.where(timed, shipped, 0)) / 3_600.0, np.nan)
    backwards = timed & (hours < 0)
    limits = np.array([b.max_km if b.max_km is not None else np.inf for b in p.transit])
    min_hours = np.array([b.min_hours for b in p.transit])
    min_scans = np.array([b.min_scans for b in p.transit])
    located = ~np.isnan(distance)
    band = np.minimum(np.searchsorted(limits, np.where(located, distance, 0.0), side="left"), len(limits) - 1)
    fast = timed & located & (hours >= 0) & (hours < min_hours[band])
    few_scans = is_signed & located & (scans < min_scans[band])
    flagged = light | backwards | (fast & few_scans)
    return {"signed": is_signed, "light": light, "fast": fast, "few_scans": few_scans, "backwards": backwards,
            "fake_track": fast & few_scans, "flagged": flagged, "ratio": ratio}


def detect_empty_parcels(shipments: pl.DataFrame, orders: pl.DataFrame, index: Index,
                         p: EmptyParcel) -> DetectorOutput:
    """Per shipment rule hits, per shop the binomial surprise of its flagged share (``orders`` gives the
    buyer of each shipment's order; shipments of orders outside the window keep no buyer)."""
    n_b, n_s = index.n_buyers, index.n_shops
    order_ids = shipments.get_column("order_id").to_numpy()
    s = index.shops_of(shipments)
    hits = shipment_rules(shipments, p)
    w = p.order_weights
    # per shipment, a noisy-or of the rules; the weight rule is graded (how far below the goods' weight),
    # and where the goods' weight is unknown a parcel under min_expected_g counts for half
    ratio = hits["ratio"]
    declared = shipments.get_column("declared_weight_g").cast(pl.Float64).fill_null(np.nan).to_numpy()
    graded = np.where(~np.isnan(ratio), np.clip(1.0 - np.nan_to_num(ratio, nan=1.0), 0.0, 1.0),
                      0.5 * np.clip(1.0 - np.nan_to_num(declared, nan=np.inf) / max(1, p.min_expected_g), 0.0, 1.0))
    graded = np.where(hits["signed"], graded, 0.0)
    keep = (1.0 - w.get("light", 0.0) * graded) * (1.0 - w.get("fast", 0.0) * hits["fast"]) \
        * (1.0 - w.get("few_scans", 0.0) * hits["few_scans"]) * (1.0 - w.get("backwards", 0.0) * hits["backwards"])
    order_score = 1.0 - keep
    signed = hits["signed"]
    flagged = hits["flagged"]
    n_signed = np.bincount(s[signed], minlength=n_s).astype(np.float64)
    k = np.bincount(s[flagged], minlength=n_s).astype(np.float64)
    base = max(float(flagged.sum()) / max(1.0, float(signed.sum())), 1e-6)
    surprise = -np.log10(np.maximum(binom.sf(k - 1, n_signed, base), 1e-300))
    surprise = np.where(k > 0, surprise, 0.0)
    rate = np.divide(k, n_signed, out=np.zeros(n_s), where=n_signed > 0)
    features = {
        "log_surprise": np.log1p(surprise),
        "log_rate_ratio": np.log(np.maximum(rate / base, 1e-3)),
        "light_share": np.divide(np.bincount(s[hits["light"]], minlength=n_s), k, out=np.zeros(n_s), where=k > 0),
        "fake_track_share": np.divide(np.bincount(s[hits["fake_track"]], minlength=n_s), k, out=np.zeros(n_s),
                                      where=k > 0),
    }
    shop_score = np.where(k > 0, p.confidence(features), 0.0)

    # buyers: of each shipment's order
    o_ids = orders.get_column("order_id").to_numpy()
    o_buyer = index.buyers_of(orders)
    pos = np.searchsorted(o_ids, order_ids)
    pos_ok = np.minimum(pos, max(0, len(o_ids) - 1))
    has_buyer = (pos < len(o_ids)) & (o_ids[pos_ok] == order_ids) if len(o_ids) else np.zeros(len(order_ids), bool)
    buyer = np.where(has_buyer, o_buyer[pos_ok] if len(o_ids) else -1, -1)
    buyer_score = np.zeros(n_b)
    np.maximum.at(buyer_score, buyer[has_buyer], order_score[has_buyer])

    detections: list[Detection] = []
    chosen = np.flatnonzero((k >= p.min_flagged) & (surprise >= p.min_surprise) & (rate >= p.min_rate_ratio * base)
                            & (shop_score >= p.report_confidence))
    if len(chosen):
        rows = np.flatnonzero(flagged)
        rows = rows[np.argsort(s[rows], kind="stable")]
        lo = np.searchsorted(s[rows], chosen)
        hi = np.searchsorted(s[rows], chosen, side="right")
        for shop, a, b in zip(chosen, lo, hi, strict=True):
            mine = rows[a:b]
            ratios = hits["ratio"][mine]
            evidence: dict[str, Any] = {
                "signed_shipments": int(n_signed[shop]), "flagged": int(k[shop]), "rate": rate[shop],
                "platform_base_rate": base, "rate_ratio": rate[shop] / base, "surprise_log10": surprise[shop],
                "rules": {"light": int(hits["light"][mine].sum()), "fast_transit": int(hits["fast"][mine].sum()),
                          "few_scans": int(hits["few_scans"][mine].sum()),
                          "fast_and_few_scans": int(hits["fake_track"][mine].sum()),
                          "signed_before_shipped": int(hits["backwards"][mine].sum())},
                "median_weight_ratio_of_flagged": float(np.nanmedian(ratios)) if (~np.isnan(ratios)).any() else None,
                "thresholds": {"max_weight_ratio": p.max_weight_ratio, "min_expected_g": p.min_expected_g},
                "summary_zh": (f"已签收 {int(n_signed[shop])} 件中 {int(k[shop])} 件异常（{rate[shop]:.1%}，为平台基准 "
                               f"{base:.1%} 的 {rate[shop] / base:.1f} 倍）：申报重量不足商品重量 "
                               f"{p.max_weight_ratio:.0%} 的 {int(hits['light'][mine].sum())} 件，发货到签收过快且扫描过少的 "
                               f"{int(hits['fake_track'][mine].sum())} 件，签收早于发货的 "
                               f"{int(hits['backwards'][mine].sum())} 件。"),
            }
            detections.append(make_detection("empty_parcel", [index.shop_ids[shop]],
                                             index.buyer_ids[buyer[mine][buyer[mine] >= 0]], order_ids[mine],
                                             float(shop_score[shop]), evidence))
    stats = {"shipments": len(order_ids), "signed": int(signed.sum()), "flagged": int(flagged.sum()),
             "base_rate": base, "reported": len(detections)}
    return DetectorOutput("empty_parcel", buyer_score, shop_score, order_ids, order_score, detections, stats,
                          {"shop": features})
