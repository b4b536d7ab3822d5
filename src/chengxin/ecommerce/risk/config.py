"""Load and check the dated parameters of the risk feature (``data/*.yaml``).

Three files, each a list of versions (oldest first, ``effective_from`` / ``effective_to`` / ``basis``):

- ``findings.yaml``: the regulators, the detection window, and per detector kind the catalog item a
  confirmed finding becomes (``FindingParams``);
- ``warning.yaml``: the shop risk warning's points, caps and levels (``WarningParams``);
- ``assessment.yaml``: the platform assessment's weights and grades (``AssessmentParams``).

The loader refuses a file with a missing, unknown or ill-typed field, overlapping versions or a day
with no version, and names the file, version and field (DESIGN.md: rules are data, checked on load).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, field_validator

from chengxin.catalog.model import Duration
from chengxin.catalog.rules import InvalidDuration, parse_duration
from chengxin.core.dated import Dated, DatedError, DatedFormat, DatedVersion
from chengxin.core.dated import Strict as _Strict

__all__ = [
    "DATA", "KINDS", "LEVEL_ORDER", "AssessmentParams", "ConfigError", "FindingParams", "KindParams", "Level",
    "WarningParams", "assessment_params", "finding_params", "load", "warning_params",
]

DATA = Path(__file__).resolve().parent / "data"
# The detector kinds of the contract (ecommerce.detection.pipeline.Detection.kind).
KINDS = ("order_brushing", "fake_traffic", "malicious_review", "empty_parcel")
LEVEL_ORDER = ("low", "medium", "high", "severe")


class ConfigError(DatedError):
    """A parameter file is invalid (the message names the file, the version and the field)."""


# -- findings ---------------------------------------------------------------------------------------------


class KindParams(_Strict):
    name_zh: str = Field(min_length=1)
    item: str = Field(min_length=1)
    against: Literal["shops", "buyers"]
    fields: dict[str, str] = Field(default_factory=dict)
    buyer_fields: dict[str, str] | None = None
    facts_prefix_zh: str = ""

    @property
    def counts_against_shop(self) -> bool:
        """The shop is the one acting (brushing, inflating, faking parcels), not a victim (malicious reviews)."""
        return self.against == "shops"


class FindingParams(DatedVersion):
    regulators: tuple[str, ...] = Field(min_length=1)
    lookback_days: int = Field(gt=0, le=3 * 366)
    # A run still "running" this many hours after it started is taken to be a crashed process's (marked
    # failed, so the next run may start): well above the longest run measured (bench/RESULTS.md).
    stale_run_hours: float = Field(gt=0, le=7 * 24)
    kinds: dict[str, KindParams]

    @field_validator("kinds")
    @classmethod
    def _known(cls, value: dict[str, KindParams]) -> dict[str, KindParams]:
        if missing := sorted(set(KINDS) - set(value)):
            raise ValueError(f"kinds missing: {missing}")
        if unknown := sorted(set(value) - set(KINDS)):
            raise ValueError(f"unknown kinds {unknown} (known: {', '.join(KINDS)})")
        return value


# -- shop risk warning ------------------------------------------------------------------------------------


class Level(_Strict):
    code: Literal["low", "medium", "high", "severe"]
    name_zh: str = Field(min_length=1)
    min_score: int


class _FindingWeights(_Strict):
    open_points: float = Field(ge=0)
    open_cap: float = Field(ge=0)
    confirmed_points: float = Field(ge=0)
    confirmed_cap: float = Field(ge=0)
    confirmed_days: int = Field(gt=0)


class _ComplaintWeights(_Strict):
    points_per_complaint: float = Field(ge=0)
    cap: float = Field(ge=0)


class _RecordWeights(_Strict):
    lookback: str
    points: dict[str, float]
    cap: float = Field(ge=0)

    @field_validator("lookback")
    @classmethod
    def _duration(cls, value: str) -> str:
        try:
            parse_duration(value)
        except InvalidDuration as exc:
            raise ValueError(str(exc)) from None
        return value

    @property
    def lookback_duration(self) -> Duration:
        return parse_duration(self.lookback)


class _ListWeight(_Strict):
    points: float
    floor: Literal["low", "medium", "high", "severe"] | None = None


class _TrendWeights(_Strict):
    min_ratings_30d: int = Field(ge=1)
    tolerance_pp: float = Field(ge=0)
    points_per_pp: float = Field(ge=0)
    cap: float = Field(ge=0)


class WarningParams(DatedVersion):
    levels: tuple[Level, ...] = Field(min_length=2)
    findings: _FindingWeights
    complaints: _ComplaintWeights
    records: _RecordWeights
    lists: dict[Literal["red", "black", "watch"], _ListWeight]
    rating_trend: _TrendWeights
    notice_min_level: Literal["low", "medium", "high", "severe"]

    @field_validator("levels")
    @classmethod
    def _ordered(cls, value: tuple[Level, ...]) -> tuple[Level, ...]:
        codes = [lv.code for lv in value]
        if codes != sorted(codes, key=LEVEL_ORDER.index) or len(set(codes)) != len(codes):
            raise ValueError(f"levels must be distinct and ordered {' < '.join(LEVEL_ORDER)}")
        scores = [lv.min_score for lv in value]
        if scores != sorted(scores) or len(set(scores)) != len(scores) or scores[0] != 0:
            raise ValueError("min_score must start at 0 and increase strictly")
        return value

    def level(self, code: str) -> Level:
        for lv in self.levels:
            if lv.code == code:
                return lv
        raise KeyError(code)


# -- platform assessment ----------------------------------------------------------------------------------


class Grade(_Strict):
    code: str = Field(min_length=1, max_length=4)
    name_zh: str = Field(min_length=1)
    min_score: float = Field(ge=0, le=100)


class AssessmentParams(DatedVersion):
    weights: dict[Literal["findings", "action", "licence", "complaints"], float]
    findings_share_zero_at: float = Field(gt=0, le=1)
    action_days: int = Field(gt=0)
    complaints_per_1000_zero_at: float = Field(gt=0)
    grades: tuple[Grade, ...] = Field(min_length=1)

    @field_validator("weights")
    @classmethod
    def _weights(cls, value: dict[str, float]) -> dict[str, float]:
        if any(w < 0 for w in value.values()) or sum(value.values()) <= 0:
            raise ValueError("weights must be non-negative with a positive sum")
        return value

    @field_validator("grades")
    @classmethod
    def _grades(cls, value: tuple[Grade, ...]) -> tuple[Grade, ...]:
        scores = [g.min_score for g in value]
        if scores != sorted(scores, reverse=True) or scores[-1] != 0:
            raise ValueError("grades must be listed best first and the last must start at 0")
        return value


# -- files ------------------------------------------------------------------------------------------------

V = TypeVar("V", bound=DatedVersion)


def _format(model: type[V]) -> DatedFormat[V]:
    # Every version but the last is closed with effective_to, and a day no version covers (before the first
    # too) has none: a risk level or an assessment is never computed under a rule that was not in force.
    return DatedFormat(model, ConfigError, chained=False, oldest_before=False)


def load(model: type[V], text: str, source: str = "<string>") -> Dated[V]:
    """Parse one parameter file's text into its checked versions (raises :class:`ConfigError`)."""
    return _format(model).parse(text, source)


def finding_params(day: dt.date) -> FindingParams:
    """The findings parameters in force on the Beijing date ``day``."""
    return _format(FindingParams).load(DATA / "findings.yaml").on(day)


def warning_params(day: dt.date) -> WarningParams:
    """The shop risk warning rule in force on ``day``."""
    return _format(WarningParams).load(DATA / "warning.yaml").on(day)


def assessment_params(day: dt.date) -> AssessmentParams:
    """The platform assessment rule in force on ``day``."""
    return _format(AssessmentParams).load(DATA / "assessment.yaml").on(day)
