"""Load and validate the abnormal-access thresholds (``data/access_rules.yaml``, dated versions)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from chengxin.core.dated import Dated, DatedError, DatedFormat, DatedVersion
from chengxin.core.dated import Strict as _Strict

__all__ = ["RULES_FILE", "AccessRules", "RulesError", "Thresholds", "load_access_rules", "thresholds_on"]

RULES_FILE = Path(__file__).resolve().parent / "data" / "access_rules.yaml"
Severity = Literal["low", "medium", "high"]


class RulesError(DatedError):
    """The rules file is invalid (message names the file and the problem)."""


class WindowRule(_Strict):
    window_minutes: int = Field(gt=0)
    max: int = Field(ge=0)
    severity: Severity


class OffHoursRule(_Strict):
    working_hours: str
    timezone: str
    working_days_only: bool
    severity: Severity

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        try:
            start, end = (dt.time.fromisoformat(p.strip()) for p in value.split("-"))
        except ValueError as exc:
            raise ValueError(f"working_hours must be 'HH:MM-HH:MM', got {value!r}") from exc
        if not start < end:
            raise ValueError(f"working_hours start must be before end: {value!r}")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @property
    def start(self) -> dt.time:
        return dt.time.fromisoformat(self.working_hours.split("-")[0].strip())

    @property
    def end(self) -> dt.time:
        return dt.time.fromisoformat(self.working_hours.split("-")[1].strip())

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class FlagRule(_Strict):
    enabled: bool
    severity: Severity


class RuleSet(_Strict):
    distinct_persons: WindowRule
    off_hours: OffHoursRule
    missing_purpose: FlagRule
    failed_consent: WindowRule
    locked_account: FlagRule | None = None  # from 2026.2: an account locked by failed sign-ins
    failed_sign_in: WindowRule | None = None  # from 2026.3: failed sign-ins from one client address, any account


class Thresholds(DatedVersion):
    """One dated version of the thresholds."""

    evidence_sample: int = Field(default=20, gt=0, le=1000)
    rules: RuleSet


# The versions follow one another (each lasts until the next starts); before the first, the first applies.
AccessRules: TypeAlias = Dated[Thresholds]
_FORMAT = DatedFormat(Thresholds, RulesError, chained=True, oldest_before=True)


def parse_access_rules(text: str, source: str = "<string>") -> AccessRules:
    return _FORMAT.parse(text, source)


def load_access_rules(path: Path = RULES_FILE) -> AccessRules:
    return _FORMAT.load(path)


def thresholds_on(day: dt.date, path: Path = RULES_FILE) -> Thresholds:
    return load_access_rules(path).on(day)
