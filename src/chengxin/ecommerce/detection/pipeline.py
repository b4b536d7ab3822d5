"""``run_detectors``: the one entry point of the detection job (issue #7 contract).

``ecommerce.risk`` builds the three frames from the trade tables, calls :func:`run_detectors` with the
job's ``now`` and stores each :class:`Detection` as a finding (idempotent on its ``fingerprint``). Pure:
frames in, results out; no database, no clock (``now`` is passed), parameters from the dated YAML in force
on ``now``'s date in Beijing (or given).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from chengxin.core.errors import DomainError
from chengxin.ecommerce.detection.bursts import detect_fake_traffic
from chengxin.ecommerce.detection.findings import KINDS, Detection, DetectorOutput
from chengxin.ecommerce.detection.frames import validate
from chengxin.ecommerce.detection.fraudar import detect_brushing
from chengxin.ecommerce.detection.graph import Index
from chengxin.ecommerce.detection.params import DetectionParams, params_on
from chengxin.ecommerce.detection.parcels import detect_empty_parcels
from chengxin.ecommerce.detection.rev2 import detect_malicious

__all__ = ["KINDS", "Detection", "DetectionParams", "DetectionResult", "run_detectors"]

_BEIJING = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class DetectionResult:
    """Everything one run found. ``buyer_scores[kind][i]`` is the score (0..1) of ``buyer_ids[i]`` for
    ``kind``; likewise ``shop_scores`` / ``shop_ids``; ``order_scores[kind]`` = (order ids, scores) — per
    order for brushing and empty parcels, per rating's order for fake traffic and malicious reviews.
    ``timings`` are seconds per phase (``validate``, each kind, ``total``)."""

    detections: list[Detection]
    buyer_ids: np.ndarray
    shop_ids: np.ndarray
    buyer_scores: dict[str, np.ndarray]
    shop_scores: dict[str, np.ndarray]
    order_scores: dict[str, tuple[np.ndarray, np.ndarray]]
    timings: dict[str, float]
    params_version: str
    window: tuple[dt.datetime, dt.datetime]
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)

    def of_kind(self, kind: str) -> list[Detection]:
        return [d for d in self.detections if d.kind == kind]


def run_detectors(orders: pl.DataFrame, ratings: pl.DataFrame, shipments: pl.DataFrame, *, now: dt.datetime,
                  params: DetectionParams | None = None, kinds: Sequence[str] = KINDS) -> DetectionResult:
    """Validate the frames, keep the ``lookback_days`` before ``now``, run the detectors of ``kinds``.

    Raises :class:`~chengxin.ecommerce.detection.frames.FrameError` for a frame that breaks the contract,
    and a ``DomainError`` (``detection.now.naive`` / ``detection.kind.unknown``) for a naive ``now`` or an
    unknown kind."""
    if now.tzinfo is None:
        raise DomainError("detection.now.naive", "检测时间缺少时区", "now must be time-zone aware",
                          field="now")
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise DomainError("detection.kind.unknown", f"未知的检测类型：{', '.join(unknown)}",
                          f"unknown detection kind(s): {', '.join(unknown)}", field="kinds")
    params = params or params_on(now.astimezone(_BEIJING).date())
    timings: dict[str, float] = {}
    started = time.perf_counter()
    orders = validate(orders, "orders")
    ratings = validate(ratings, "ratings")
    shipments = validate(shipments, "shipments")
    end = now.astimezone(dt.UTC)
    begin = end - dt.timedelta(days=params.lookback_days)
    orders = orders.filter(pl.col("placed_at").is_between(begin, end)).sort("order_id")
    ratings = ratings.filter((pl.col("direction") == "buyer_to_shop") & pl.col("rated_at").is_between(begin, end))
    # a delivery "after now" has not happened yet as far as this run knows
    ratings = ratings.with_columns(pl.when(pl.col("delivered_at") <= end).then(pl.col("delivered_at"))
                                   .alias("delivered_at"))
    shipments = shipments.filter(pl.coalesce("shipped_at", "signed_at").is_between(begin, end)).with_columns(
        pl.when(pl.col("signed_at") <= end).then(pl.col("signed_at")).alias("signed_at"))
    index = Index.of(orders, ratings, shipments)
    timings["validate"] = time.perf_counter() - started
    start_s, end_s = int(begin.timestamp()), int(end.timestamp())

    runners: dict[str, Callable[[], DetectorOutput]] = {
        "order_brushing": lambda: detect_brushing(orders, ratings, index, params.order_brushing, start=start_s),
        "fake_traffic": lambda: detect_fake_traffic(ratings, index, params.fake_traffic, start=start_s, end=end_s,
                                                    orders=orders),
        "malicious_review": lambda: detect_malicious(ratings, index, params.malicious_review),
        "empty_parcel": lambda: detect_empty_parcels(shipments, orders, index, params.empty_parcel),
    }
    outputs: dict[str, DetectorOutput] = {}
    for kind in KINDS:
        if kind in kinds:
            t0 = time.perf_counter()
            outputs[kind] = runners[kind]()
            timings[kind] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - started
    detections = sorted((d for o in outputs.values() for d in o.detections),
                        key=lambda d: (KINDS.index(d.kind), -d.confidence, d.fingerprint))
    return DetectionResult(
        detections=detections, buyer_ids=index.buyer_ids, shop_ids=index.shop_ids,
        buyer_scores={k: o.buyer_score for k, o in outputs.items()},
        shop_scores={k: o.shop_score for k, o in outputs.items()},
        order_scores={k: (o.order_ids, o.order_score) for k, o in outputs.items()},
        timings=timings, params_version=params.version, window=(begin, end),
        stats={k: o.stats for k, o in outputs.items()},
    )
