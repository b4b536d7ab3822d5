"""Load and validate the detection thresholds and weights (``data/detection.yaml``, dated versions).

Every number a detector uses comes from here: a change of threshold is a new version with its own
``effective_from``, ``basis`` and ``notes``, never an edit of code; findings keep the version that produced
them (``DetectionResult.params_version``), so an old finding is explained by the rule in force on its day.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TypeAlias

import numpy as np
from pydantic import Field, model_validator

from chengxin.core.dated import Dated, DatedError, DatedFormat, DatedVersion
from chengxin.core.dated import Strict as _Strict

__all__ = ["PARAMS_FILE", "DetectionParams", "DetectionRules", "Logistic", "ParamsError", "load_rules", "params_on"]

PARAMS_FILE = Path(__file__).resolve().parent / "data" / "detection.yaml"


class ParamsError(DatedError):
    """The parameters file is invalid (the message names the file and the problem)."""


class Logistic(_Strict):
    """confidence = 1 / (1 + exp(−(intercept + Σ weight × feature))): the features are named per detector
    (the loader refuses a name the detector does not compute)."""

    intercept: float
    weights: dict[str, float]

    def __call__(self, features: dict[str, np.ndarray]) -> np.ndarray:
        z = np.full(len(next(iter(features.values()))) if features else 0, self.intercept, dtype=np.float64)
        for name, w in self.weights.items():
            z = z + w * np.asarray(features[name], dtype=np.float64)
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))

    def check(self, allowed: frozenset[str], where: str) -> None:
        unknown = set(self.weights) - allowed
        if unknown:
            raise ValueError(f"{where}: unknown feature(s) {sorted(unknown)}; known: {sorted(allowed)}")


BRUSHING_NODE = frozenset({"log_density_ratio", "shared_accounts", "burst_share", "fast_good_share"})
BRUSHING_BLOCK = frozenset({"log_density_ratio", "shared_share", "burst_share", "good_share", "fast_good_share",
                            "log_accounts", "fill"})
MALICIOUS = frozenset({"unfairness", "bad_share", "repeat_share", "log_bad", "deviation"})
FAKE_TRAFFIC = frozenset({"log_surprise", "fast_share", "text_share", "log_accounts", "five_star_share"})
EMPTY_PARCEL = frozenset({"log_surprise", "log_rate_ratio", "light_share", "fake_track_share"})


class OrderBrushing(_Strict):
    bucket_days: float = Field(gt=0)
    column_offset: float = Field(gt=1)
    attribute_weight: float = Field(ge=0)
    epsilon: float = Field(ge=0, le=1)
    margin: float = Field(ge=0)
    core_share: float = Field(gt=0, lt=1)
    core_min_nodes: int = Field(ge=0)
    max_blocks: int = Field(gt=0)
    min_accounts: int = Field(ge=2)
    burst_hours: int = Field(gt=0)
    burst_p_value: float = Field(gt=0, lt=1)
    fast_rating_minutes: int = Field(gt=0)
    report_confidence: float = Field(ge=0, le=1)
    node: Logistic
    block: Logistic


class MaliciousReview(_Strict):
    alpha1: float = Field(ge=0)
    beta1: float = Field(ge=0)
    gamma1: float = Field(ge=0)
    gamma2: float = Field(gt=0)
    max_iterations: int = Field(gt=0)
    tolerance: float = Field(gt=0)
    min_bad: int = Field(ge=1)
    top_shops: int = Field(ge=1)
    report_confidence: float = Field(ge=0, le=1)
    confidence: Logistic


class FakeTraffic(_Strict):
    fast_minutes: int = Field(gt=0)
    window_hours: int = Field(gt=0)
    min_burst: int = Field(ge=2)
    min_surprise: float = Field(gt=0)
    text_min_accounts: int = Field(ge=2)
    text_max_shops: int = Field(ge=1)
    text_max_shop_share: float = Field(ge=0, le=1)
    report_confidence: float = Field(ge=0, le=1)
    confidence: Logistic


class TransitBand(_Strict):
    max_km: float | None  # null = no upper bound (the last band)
    min_hours: float = Field(ge=0)
    min_scans: int = Field(ge=0)


class EmptyParcel(_Strict):
    min_expected_g: int = Field(ge=0)
    max_weight_ratio: float = Field(gt=0, lt=1)
    transit: tuple[TransitBand, ...] = Field(min_length=1)
    min_flagged: int = Field(ge=1)
    min_surprise: float = Field(ge=0)
    min_rate_ratio: float = Field(ge=1)
    report_confidence: float = Field(ge=0, le=1)
    order_weights: dict[str, float]
    confidence: Logistic

    @model_validator(mode="after")
    def _bands(self) -> EmptyParcel:
        limits = [b.max_km for b in self.transit]
        if limits[-1] is not None or any(x is None for x in limits[:-1]):
            raise ValueError("transit: only the last band may (and must) have max_km null")
        finite = [x for x in limits if x is not None]
        if finite != sorted(finite) or len(set(finite)) != len(finite):
            raise ValueError("transit: bands must be in increasing max_km")
        unknown = set(self.order_weights) - {"light", "fast", "few_scans", "backwards"}
        if unknown:
            raise ValueError(f"order_weights: unknown rule(s) {sorted(unknown)}")
        return self


class DetectionParams(DatedVersion):
    """One dated version of every detector's thresholds and weights."""

    notes: str = Field(min_length=1)
    lookback_days: int = Field(gt=0)
    order_brushing: OrderBrushing
    malicious_review: MaliciousReview
    fake_traffic: FakeTraffic
    empty_parcel: EmptyParcel

    @model_validator(mode="after")
    def _features(self) -> DetectionParams:
        self.order_brushing.node.check(BRUSHING_NODE, "order_brushing.node")
        self.order_brushing.block.check(BRUSHING_BLOCK, "order_brushing.block")
        self.malicious_review.confidence.check(MALICIOUS, "malicious_review.confidence")
        self.fake_traffic.confidence.check(FAKE_TRAFFIC, "fake_traffic.confidence")
        self.empty_parcel.confidence.check(EMPTY_PARCEL, "empty_parcel.confidence")
        return self


# The versions follow one another (a version with no effective_to lasts until the next starts); before the
# first, the first applies (a run over older orders still needs thresholds).
DetectionRules: TypeAlias = Dated[DetectionParams]
_FORMAT = DatedFormat(DetectionParams, ParamsError, chained=True, oldest_before=True)


def parse_rules(text: str, source: str = "<string>") -> DetectionRules:
    return _FORMAT.parse(text, source)


def load_rules(path: Path = PARAMS_FILE) -> DetectionRules:
    return _FORMAT.load(path)


def params_on(day: dt.date, path: Path = PARAMS_FILE) -> DetectionParams:
    return load_rules(path).on(day)
