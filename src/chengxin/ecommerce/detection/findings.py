"""What a detector reports: :class:`Detection` (re-exported by :mod:`pipeline`, the contract's home)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["KINDS", "Detection", "DetectorOutput", "fingerprint", "make_detection", "plain"]

KINDS = ("order_brushing", "fake_traffic", "malicious_review", "empty_parcel")


@dataclass(frozen=True)
class Detection:
    """One finding of one detector, ready to be stored by ``ecommerce.risk``.

    ``confidence`` is in 0..1 (a logistic of the finding's features, weights from the dated parameters);
    ``evidence`` is JSON-able with readable keys (counts of shared attributes, never their hashes);
    ``fingerprint`` depends only on the kind and the sorted shop and buyer ids, so re-running on the same
    data — or on more orders of the same ring — gives the same fingerprint (idempotent storage)."""

    kind: str
    shop_ids: tuple[int, ...]
    buyer_ids: tuple[int, ...]
    order_ids: tuple[int, ...]
    confidence: float
    evidence: dict[str, object]
    fingerprint: str


def fingerprint(kind: str, shop_ids: Iterable[int], buyer_ids: Iterable[int]) -> str:
    """sha256 of ``kind|sorted shops|sorted buyers`` (hex, 64)."""
    text = f"{kind}|{','.join(map(str, sorted(shop_ids)))}|{','.join(map(str, sorted(buyer_ids)))}"
    return hashlib.sha256(text.encode()).hexdigest()


def plain(value: Any) -> Any:
    """``value`` with numpy scalars/arrays turned into Python ones, floats rounded to 4 digits (JSON-able)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    if isinstance(value, float | np.floating):
        return round(float(value), 4) if np.isfinite(value) else None
    return value


def make_detection(kind: str, shops: Iterable[int], buyers: Iterable[int], orders: Iterable[int],
                   confidence: float, evidence: dict[str, Any]) -> Detection:
    s = tuple(sorted({int(x) for x in shops}))
    b = tuple(sorted({int(x) for x in buyers}))
    o = tuple(sorted({int(x) for x in orders}))
    return Detection(kind, s, b, o, round(float(confidence), 4), plain(evidence), fingerprint(kind, s, b))


@dataclass(frozen=True)
class DetectorOutput:
    """What one detector hands to the pipeline: scores aligned with the pipeline's :class:`Index`
    (``buyer_score[i]`` is for ``index.buyer_ids[i]``), per-order scores for ``order_ids``, its detections
    and a few figures about the run (``stats``, for the bench and the logs). ``features`` are the inputs of
    its confidences (per ``buyer``, ``shop``, ``block``/``group``…), for calibration against labelled cases."""

    kind: str
    buyer_score: np.ndarray
    shop_score: np.ndarray
    order_ids: np.ndarray
    order_score: np.ndarray
    detections: list[Detection]
    stats: dict[str, Any]
    features: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # level → name → values
