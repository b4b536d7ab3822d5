"""The dated rules of e-commerce trade (``data/trade_rules.yaml``): batch limits, badge link validity, the
follow-up review window and the rating points rule — loaded, validated, chosen by day.

A version is in force from ``effective_from`` to ``effective_to`` (inclusive, Beijing dates); versions are
listed oldest first and never overlap. :func:`trade_rules_on` returns the version in force on a day, so a
decision is always explained by the rule of its day (a follow-up by the rule of the first rating's day).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import Field, model_validator

from chengxin.core.dated import DatedError, DatedFormat, DatedVersion
from chengxin.core.dated import Strict as _Strict

__all__ = ["RULES_FILE", "TradeRules", "TradeRulesError", "load_trade_rules", "parse_trade_rules", "trade_rules_on"]

RULES_FILE = Path(__file__).resolve().parent / "data" / "trade_rules.yaml"
RATING_VALUES = ("good", "neutral", "bad")
DIRECTIONS = ("buyer_to_shop", "shop_to_buyer")


class TradeRulesError(DatedError):
    """The rules file is invalid; the message names the file, the version and the problem."""


class BatchRules(_Strict):
    max_rows: int = Field(gt=0, le=100_000)
    basis: str = Field(min_length=1)


class BadgeRules(_Strict):
    link_valid_days: int = Field(gt=0, le=366)
    basis: str = Field(min_length=1)


class RatingRules(_Strict):
    follow_up_window_days: int = Field(gt=0, le=3650)
    follow_up_directions: tuple[str, ...]
    basis: str = Field(min_length=1)

    @model_validator(mode="after")
    def _known_directions(self) -> RatingRules:
        unknown = set(self.follow_up_directions) - set(DIRECTIONS)
        if unknown:
            raise ValueError(f"unknown directions {sorted(unknown)}; known: {list(DIRECTIONS)}")
        return self


class PointsRules(_Strict):
    values: dict[str, int]
    pair_cap: int = Field(gt=0, le=1000)
    min_amount_cents: int = Field(ge=0)
    basis: str = Field(min_length=1)

    @model_validator(mode="after")
    def _all_values(self) -> PointsRules:
        if set(self.values) != set(RATING_VALUES):
            raise ValueError(f"values must give points for exactly {list(RATING_VALUES)}")
        return self


class AggregateRules(_Strict):
    recent_days: int = Field(gt=0, le=366)
    half_year_months: int = Field(gt=0, le=60)
    basis: str = Field(min_length=1)


class TradeRules(DatedVersion):
    """One dated version of every trade rule."""

    version: str = Field(min_length=1, max_length=16)
    batch: BatchRules
    badge: BadgeRules
    ratings: RatingRules
    points: PointsRules
    aggregates: AggregateRules

    def in_force_on(self, day: dt.date) -> bool:
        return self.span.holds(day)


# The file is a bare list; every version but the last is closed with effective_to; before the first version
# the first applies (no older rule is known), and a day in a gap between versions has none.
_FORMAT = DatedFormat(TradeRules, TradeRulesError, chained=False, oldest_before=True, key=None)


def parse_trade_rules(text: str, source: str = "<string>") -> tuple[TradeRules, ...]:
    """Every version, oldest first, or :class:`TradeRulesError` saying what is wrong where."""
    return _FORMAT.parse(text, source).versions


def load_trade_rules(path: Path = RULES_FILE) -> tuple[TradeRules, ...]:
    return _FORMAT.load(path).versions


def trade_rules_on(day: dt.date, path: Path = RULES_FILE) -> TradeRules:
    """The version in force on the Beijing date ``day``; before the first one, the first (no older is known)."""
    return _FORMAT.load(path).on(day)
