"""Dated parameter files (带生效日期的参数文件): one reader for every feature's versioned rules.

DESIGN.md: the rules the policy sets live in data files with effective dates, never as constants in
code. Several features keep such a file — YAML versions, each with ``version``, ``effective_from``,
``effective_to`` (inclusive Beijing dates; null: no end stated) and ``basis``, like OpenFisca's
parameters — and all of them need the same four things, done here once:

1. read the YAML (:func:`read_yaml`), refusing text that is not YAML;
2. validate every version with the feature's pydantic model, a :class:`DatedVersion` (it forbids
   extra keys, so an unknown field is refused and named);
3. check the spans (:func:`check_spans`): effective_from <= effective_to, oldest first, no two
   versions in force on one day; and distinct version names;
4. choose the version in force on a day (:meth:`Dated.on`), or refuse with a :class:`DatedError`
   in Chinese and English when there is none.

Two choices differ between features; each states them in its :class:`DatedFormat`:

- ``chained``: a version without ``effective_to`` lasts until the next one starts (True), or every
  version but the last must be closed with an ``effective_to`` before the next begins (False);
- ``oldest_before``: before the first version's date the first applies, no older rule being known
  (True), or no version is in force there (False).

A file is read once per process (:meth:`DatedFormat.load` caches per format and path).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar, cast

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chengxin.core.errors import Problem

__all__ = [
    "Dated", "DatedError", "DatedFormat", "DatedVersion", "Span", "Stated", "Strict", "check_spans", "explain", "index_on",
    "read_yaml", "spans_in_force",
]


class DatedError(ValueError):
    """A dated file is invalid, or holds no version for a day.

    Carries a :class:`~chengxin.core.errors.Problem` in ``problem`` (stable code, Chinese and English
    message, the field) like a ``DomainError``, but stays a ``ValueError``: a broken rule file is the installation's
    fault, not the user's input, so it must not be answered as a 400 by the API's DomainError handler.
    Each feature subclasses it (``ConfigError``, ``RulesError`` …) so its callers catch its own name.
    """

    def __init__(
        self,
        code: str,
        message_zh: str,
        message_en: str,
        *,
        source: str,
        field: str | None = None,
        detail: str | None = None,
    ) -> None:
        tail = f": {detail}" if detail else ""
        super().__init__(f"{source}: {message_zh} / {message_en}{tail}")
        self.source = source
        self.problem = Problem(
            code=code,
            message=f"{message_zh}：{detail}" if detail else message_zh,
            message_en=f"{message_en}{tail}",
            field=field,
        )


@dataclass(frozen=True, slots=True)
class Span:
    """The days a version is in force: ``start`` to ``end`` inclusive; ``end`` None: no end."""

    start: dt.date
    end: dt.date | None = None

    def holds(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


class Strict(BaseModel):
    """A part of a rule file: an unknown key is refused (a misspelt threshold must not pass silently)
    and the values, once loaded, are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DatedVersion(Strict):
    """What every dated version states: its name, the span the file gives it, and its legal basis."""

    version: str = Field(min_length=1)
    effective_from: dt.date
    effective_to: dt.date | None = None  # inclusive
    basis: str = Field(min_length=1)

    @property
    def span(self) -> Span:
        """The span as written; in a chained file an open version ends where the next begins (see :class:`Dated`)."""
        return Span(self.effective_from, self.effective_to)


V = TypeVar("V", bound=DatedVersion)


class Stated(NamedTuple):
    """One version's span as the file states it, and how a refusal names it."""

    label: str  # e.g. "'2026.1'", shown after 版本 / version
    field: str  # e.g. "versions[0]"
    span: Span


def explain(exc: ValidationError) -> str:
    """Pydantic's errors in one line, each as ``where: what`` (the field a clerk has to fix)."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '(version)'}: {e['msg']}" for e in exc.errors())


def read_yaml(text: str, *, source: str, error: type[DatedError]) -> Any:
    """The YAML document in ``text``, or ``error`` saying it is not YAML."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error("dated.yaml", "不是有效的 YAML", "not valid YAML", source=source, detail=str(exc)) from exc


def check_spans(stated: Sequence[Stated], *, chained: bool, source: str, error: type[DatedError]) -> None:
    """Refuse spans that cannot say which version is in force: an end before its start, versions not
    listed oldest first, or two versions in force on one day (with ``chained``, an open version ends
    where the next starts; without, it must be closed before the next starts)."""
    for s in stated:
        if s.span.end is not None and s.span.end < s.span.start:
            raise error("dated.reversed", f"版本 {s.label} 的失效日期 {s.span.end} 早于生效日期 {s.span.start}",
                        f"version {s.label}: effective_to {s.span.end} is before effective_from {s.span.start}",
                        source=source, field=f"{s.field}.effective_to")
    for a, b in pairwise(stated):
        if b.span.start <= a.span.start:
            raise error("dated.order",
                        f"版本须按生效日期从早到晚排列：版本 {b.label} 自 {b.span.start} 起，不晚于版本 {a.label}（{a.span.start}）",
                        f"versions must be listed oldest first, each starting after the one before: version {b.label} "
                        f"starts {b.span.start}, not after version {a.label} ({a.span.start})",
                        source=source, field=f"{b.field}.effective_from")
        if a.span.end is None and chained:
            continue
        if a.span.end is None or a.span.end >= b.span.start:
            ends_zh = "未写失效日期" if a.span.end is None else f"至 {a.span.end}"
            ends_en = "no effective_to" if a.span.end is None else f"to {a.span.end}"
            raise error("dated.overlap",
                        f"版本 {a.label}（{ends_zh}）与版本 {b.label}（自 {b.span.start} 起）同时有效："
                        f"须以 effective_to 在 {b.span.start} 之前结束版本 {a.label}",
                        f"version {a.label} ({ends_en}) overlaps version {b.label} (from {b.span.start}): "
                        f"it must end (effective_to) before {b.label} starts",
                        source=source, field=f"{a.field}.effective_to")


def spans_in_force(written: Sequence[Span], *, chained: bool) -> tuple[Span, ...]:
    """The spans in which the versions are in force, from the spans as written (already checked).

    With ``chained``, a version with no end lasts until the day before the next one starts."""
    if not chained:
        return tuple(written)
    return tuple(
        Span(s.start, nxt.start - dt.timedelta(days=1)) if s.end is None and nxt is not None else s
        for s, nxt in zip(written, [*written[1:], None], strict=True)
    )


def index_on(spans: Sequence[Span], day: dt.date, *, oldest_before: bool) -> int | None:
    """Which of ``spans`` (oldest first, none overlapping) holds ``day``: its index, or None.

    With ``oldest_before``, a day before the first span gets the first (no older rule is known)."""
    i = bisect.bisect_right([s.start for s in spans], day) - 1
    if i < 0:
        return 0 if oldest_before and spans else None
    # Only the last span starting on or before the day can hold it: every earlier one ends before it starts.
    return i if spans[i].holds(day) else None


@dataclass(frozen=True)
class Dated(Generic[V]):
    """A checked dated file: its versions, oldest first, and the span each is in force."""

    versions: tuple[V, ...]
    spans: tuple[Span, ...]
    source: str
    error: type[DatedError]
    oldest_before: bool

    def in_force(self, day: dt.date) -> V | None:
        """The version in force on the Beijing date ``day``, or None."""
        i = index_on(self.spans, day, oldest_before=self.oldest_before)
        return None if i is None else self.versions[i]

    def on(self, day: dt.date) -> V:
        """The version in force on ``day``; the feature's error (code ``dated.none_in_force``) if none is."""
        found = self.in_force(day)
        if found is None:
            raise self.error("dated.none_in_force", f"{day.isoformat()} 没有现行有效的版本",
                             f"no version in force on {day.isoformat()}", source=self.source)
        return found


@dataclass(frozen=True)
class DatedFormat(Generic[V]):
    """How one feature's dated file is laid out and read.

    ``model`` validates each version; ``error`` is the feature's :class:`DatedError` subclass; ``key`` is
    the mapping key holding the list of versions (None: the file is the bare list); ``chained`` and
    ``oldest_before`` as in the module's docstring."""

    model: type[V]
    error: type[DatedError]
    chained: bool
    oldest_before: bool
    key: str | None = "versions"

    def parse(self, text: str, source: str = "<string>") -> Dated[V]:
        """The file's checked versions, or ``error`` naming the file, the version and the field."""
        entries = self._entries(read_yaml(text, source=source, error=self.error), source)
        versions: list[V] = []
        stated: list[Stated] = []
        for i, entry in enumerate(entries):
            name = entry.get("version") if isinstance(entry, dict) else None
            label = repr(name) if name is not None else f"#{i + 1}"
            field = f"{self.key}[{i}]" if self.key else f"[{i}]"
            try:
                version = self.model.model_validate(entry)
            except ValidationError as exc:
                raise self.error("dated.invalid", f"版本 {label} 不符合规则", f"version {label} is invalid",
                                 source=source, field=field, detail=explain(exc)) from exc
            if earlier := next((s for s, v in zip(stated, versions, strict=True) if v.version == version.version),
                               None):
                raise self.error("dated.duplicate", f"版本名 {label} 重复（另见 {earlier.field}）",
                                 f"duplicate version {label} (also at {earlier.field})", source=source,
                                 field=f"{field}.version")
            versions.append(version)
            stated.append(Stated(label, field, version.span))
        check_spans(stated, chained=self.chained, source=source, error=self.error)
        spans = spans_in_force([s.span for s in stated], chained=self.chained)
        return Dated(tuple(versions), spans, source, self.error, self.oldest_before)

    def load(self, path: Path) -> Dated[V]:
        """:meth:`parse` of the file at ``path``, read once per process (the files ship with the code)."""
        return cast("Dated[V]", _load(self, path))

    def _entries(self, raw: Any, source: str) -> list[Any]:
        if self.key is None:
            if not isinstance(raw, list) or not raw:
                raise self.error("dated.shape", "文件应为非空的版本列表", "expected a non-empty list of versions",
                                 source=source)
            return raw
        if not isinstance(raw, dict) or not isinstance(raw.get(self.key), list) or not raw[self.key]:
            raise self.error("dated.shape", f"文件应为含非空 {self.key} 列表的映射",
                             f"expected a mapping with a non-empty list '{self.key}' of versions", source=source)
        if unknown := sorted(map(str, set(raw) - {self.key})):
            raise self.error("dated.unknown_key", f"未知的键：{', '.join(unknown)}（只允许 {self.key}）",
                             f"unknown key(s) {', '.join(unknown)} (only '{self.key}')", source=source,
                             field=unknown[0])
        entries: list[Any] = raw[self.key]
        return entries


@functools.lru_cache(maxsize=32)
def _load(fmt: DatedFormat[Any], path: Path) -> Dated[Any]:
    return fmt.parse(path.read_text(encoding="utf-8"), str(path))
