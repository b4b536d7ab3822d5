"""The dated rules of complaint intake (``data/complaints.yaml``): the channels and who may submit from each,
the categories, which statuses count for the risk warning, the summary's length and the batch limit.

Read through ``core.dated`` like every other dated file: a version is in force from ``effective_from`` to
``effective_to`` (inclusive, Beijing dates), versions never overlap, before the first one the first applies.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import Field, model_validator

from chengxin.core.dated import DatedError, DatedFormat, DatedVersion
from chengxin.core.dated import Strict as _Strict

__all__ = ["CLOSED_STATUSES", "RULES_FILE", "STATUSES", "Category", "Channel", "ComplaintRules", "ComplaintRulesError",
           "complaint_rules_on", "parse_complaint_rules"]

RULES_FILE = Path(__file__).resolve().parent / "data" / "complaints.yaml"
# The life of a complaint at the department that handles it. A closed list in code, not data: the intake's
# checks depend on it (the last three are closed and carry closed_at).
STATUSES = ("received", "handling", "substantiated", "not_substantiated", "withdrawn")
CLOSED_STATUSES = frozenset({"substantiated", "not_substantiated", "withdrawn"})
_CODE = r"^[a-z0-9][a-z0-9_]{1,31}$"


class ComplaintRulesError(DatedError):
    """The complaints rule file is invalid (names the file, the version and the field)."""


class Channel(_Strict):
    """An intake channel (渠道): a hotline, the online report centre, a platform's forwarding, letters."""

    code: str = Field(pattern=_CODE)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    hotline: str | None = None
    departments: tuple[str, ...] = Field(min_length=1)  # who may submit rows from this channel


class Category(_Strict):
    code: str = Field(pattern=_CODE)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)


class ComplaintRules(DatedVersion):
    """One dated version of the intake rules."""

    version: str = Field(min_length=1, max_length=16)
    channels: tuple[Channel, ...] = Field(min_length=1)
    categories: tuple[Category, ...] = Field(min_length=1)
    counted_statuses: tuple[str, ...] = Field(min_length=1)
    summary_max_chars: int = Field(gt=0, le=2000)
    batch_max_rows: int = Field(gt=0, le=100_000)

    @model_validator(mode="after")
    def _consistent(self) -> ComplaintRules:
        for what, codes in (("channel", [c.code for c in self.channels]),
                            ("category", [c.code for c in self.categories])):
            if len(set(codes)) != len(codes):
                raise ValueError(f"duplicate {what} codes")
        if unknown := sorted(set(self.counted_statuses) - set(STATUSES)):
            raise ValueError(f"unknown counted_statuses {unknown} (known: {', '.join(STATUSES)})")
        return self

    @property
    def departments(self) -> frozenset[str]:
        """Every department that may submit complaints (from at least one channel)."""
        return frozenset(d for c in self.channels for d in c.departments)

    def channel(self, code: str) -> Channel | None:
        return next((c for c in self.channels if c.code == code), None)

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)


_FORMAT = DatedFormat(ComplaintRules, ComplaintRulesError, chained=False, oldest_before=True)


def parse_complaint_rules(text: str, source: str = "<string>") -> tuple[ComplaintRules, ...]:
    """Every version, oldest first, or :class:`ComplaintRulesError` saying what is wrong where."""
    return _FORMAT.parse(text, source).versions


def complaint_rules_on(day: dt.date, path: Path = RULES_FILE) -> ComplaintRules:
    """The version in force on the Beijing date ``day``."""
    return _FORMAT.load(path).on(day)
