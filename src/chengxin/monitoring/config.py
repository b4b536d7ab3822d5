"""Load and validate the abnormal-access thresholds (``data/access_rules.yaml``, dated versions)."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

__all__ = ["RULES_FILE", "AccessRules", "RulesError", "Thresholds", "load_access_rules", "thresholds_on"]

RULES_FILE = Path(__file__).resolve().parent / "data" / "access_rules.yaml"
Severity = Literal["low", "medium", "high"]


class RulesError(ValueError):
    """The rules file is invalid (message names the file and the problem)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class Thresholds(_Strict):
    """One dated version of the thresholds."""

    version: str
    effective_from: dt.date
    basis: str = Field(min_length=1)
    evidence_sample: int = Field(default=20, gt=0, le=1000)
    rules: RuleSet


class AccessRules(_Strict):
    versions: tuple[Thresholds, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> AccessRules:
        dates = [v.effective_from for v in self.versions]
        if dates != sorted(dates) or len(set(dates)) != len(dates):
            raise ValueError("versions must be listed oldest first with distinct effective_from dates")
        if len({v.version for v in self.versions}) != len(self.versions):
            raise ValueError("duplicate version")
        return self

    def on(self, day: dt.date) -> Thresholds:
        """The version in force on ``day`` (the oldest one before the first effective date)."""
        current = self.versions[0]
        for v in self.versions:
            if v.effective_from <= day:
                current = v
        return current


def parse_access_rules(text: str, source: str = "<string>") -> AccessRules:
    try:
        raw = yaml.safe_load(text)
        return AccessRules.model_validate(raw)
    except (yaml.YAMLError, ValidationError) as exc:
        raise RulesError(f"{source}: {exc}") from exc


@functools.lru_cache(maxsize=4)
def load_access_rules(path: Path = RULES_FILE) -> AccessRules:
    return parse_access_rules(path.read_text(encoding="utf-8"), str(path))


def thresholds_on(day: dt.date, path: Path = RULES_FILE) -> Thresholds:
    return load_access_rules(path).on(day)
