"""The dated rules of e-commerce trade (``data/trade_rules.yaml``): batch limits, badge link validity, the
follow-up review window and the rating points rule — loaded, validated, chosen by day.

A version is in force from ``effective_from`` to ``effective_to`` (inclusive, Beijing dates); versions are
listed oldest first and never overlap. :func:`trade_rules_on` returns the version in force on a day, so a
decision is always explained by the rule of its day (a follow-up by the rule of the first rating's day).
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = ["RULES_FILE", "TradeRules", "TradeRulesError", "load_trade_rules", "parse_trade_rules", "trade_rules_on"]

RULES_FILE = Path(__file__).resolve().parent / "data" / "trade_rules.yaml"
RATING_VALUES = ("good", "neutral", "bad")
DIRECTIONS = ("buyer_to_shop", "shop_to_buyer")


class TradeRulesError(ValueError):
    """The rules file is invalid; the message names the file, the version and the problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class TradeRules(_Strict):
    """One dated version of every trade rule."""

    version: str = Field(min_length=1, max_length=16)
    effective_from: dt.date
    effective_to: dt.date | None = None
    basis: str = Field(min_length=1)
    batch: BatchRules
    badge: BadgeRules
    ratings: RatingRules
    points: PointsRules
    aggregates: AggregateRules

    def in_force_on(self, day: dt.date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


def parse_trade_rules(text: str, source: str = "<string>") -> tuple[TradeRules, ...]:
    """Every version, oldest first, or :class:`TradeRulesError` saying what is wrong where."""
    try:
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TradeRulesError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(raw, list) or not raw:
        raise TradeRulesError(f"{source}: expected a non-empty list of versions")
    versions: list[TradeRules] = []
    for index, entry in enumerate(raw):
        label = entry.get("version") if isinstance(entry, dict) else None
        where = f"{source}: version {label!r}" if label else f"{source}: [{index}]"
        try:
            version = TradeRules.model_validate(entry)
        except ValidationError as exc:
            raise TradeRulesError(f"{where}: {exc}") from None
        if version.effective_to is not None and version.effective_to < version.effective_from:
            raise TradeRulesError(f"{where}: effective_to is before effective_from")
        if versions:
            previous = versions[-1]
            if previous.effective_to is None or version.effective_from <= previous.effective_to:
                raise TradeRulesError(f"{where}: overlaps or precedes version {previous.version!r}; list versions "
                                      "oldest first and close the earlier one with effective_to")
        versions.append(version)
    return tuple(versions)


@functools.lru_cache(maxsize=4)
def load_trade_rules(path: Path = RULES_FILE) -> tuple[TradeRules, ...]:
    return parse_trade_rules(path.read_text(encoding="utf-8"), path.name)


def trade_rules_on(day: dt.date, path: Path = RULES_FILE) -> TradeRules:
    """The version in force on the Beijing date ``day``; before the first one, the first (no older is known)."""
    versions = load_trade_rules(path)
    for version in reversed(versions):
        if version.in_force_on(day):
            return version
    if day < versions[0].effective_from:
        return versions[0]
    raise TradeRulesError(f"{path.name}: no version in force on {day.isoformat()}")
