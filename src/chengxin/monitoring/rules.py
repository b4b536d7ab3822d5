"""Abnormal-access rules (异常访问监测): pure functions from read events to findings.

No database here: :mod:`chengxin.monitoring.service` feeds the events (query log and staff
look-ups) and stores the findings as alerts.

* ``distinct_persons`` — a reader reading more than ``max`` distinct subjects within any window of
  ``window_minutes`` (two reads exactly ``window_minutes`` apart are *not* in the same window).
  Overlapping windows over the limit are merged into one finding (a burst).
* ``off_hours`` — reads before the start or at/after the end of working hours, or on a rest day;
  one finding per reader per local day.
* ``missing_purpose`` — reads with an empty purpose; one finding per reader per local day.
* ``failed_consent`` — more than ``max`` failed consent codes within the window (hook: fed with
  :class:`FailedAttempt` once the consent flow records failures).
* ``locked_account`` — an account locked by failed sign-ins in a row; one finding per account per local day.
* ``failed_sign_in`` — more than ``max`` failed sign-ins from one client address (any accounts, staff or person)
  within the window: password spraying, which tries a few passwords on each of many accounts and locks none.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from chengxin.monitoring.config import Thresholds
from chengxin.workdays.rules import WorkCalendar

__all__ = ["FailedAttempt", "Finding", "ReadEvent", "evaluate"]

KINDS = ("distinct_persons", "off_hours", "missing_purpose", "failed_consent", "locked_account", "failed_sign_in")


@dataclass(frozen=True, slots=True)
class ReadEvent:
    reader: str  # "staff:alice", "api_key:ak_…", "requester:<name>"
    subject_id: int
    at: dt.datetime  # timezone-aware
    purpose: str | None = None


@dataclass(frozen=True, slots=True)
class FailedAttempt:
    reader: str
    at: dt.datetime
    code_hint: str = ""


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    reader: str
    first_at: dt.datetime
    last_at: dt.datetime
    count: int
    severity: str
    subjects: tuple[int, ...] = ()  # evidence sample
    times: tuple[dt.datetime, ...] = ()  # evidence sample
    extra: dict[str, Any] = field(default_factory=dict)


def _finding(kind: str, reader: str, events: Sequence[ReadEvent], count: int, severity: str, sample: int,
             **extra: Any) -> Finding:
    subjects: list[int] = []
    for e in events:
        if e.subject_id not in subjects:
            subjects.append(e.subject_id)
        if len(subjects) >= sample:
            break
    return Finding(kind, reader, events[0].at, events[-1].at, count, severity, tuple(subjects),
                   tuple(e.at for e in events[:sample]), extra)


def _bursts(events: Sequence[Any], minutes: int, limit: int, key: Any) -> list[tuple[int, int]]:
    """(start, end) index spans where some window of ``minutes`` holds more than ``limit`` distinct keys."""
    width = dt.timedelta(minutes=minutes)
    inside: Counter[Any] = Counter()
    spans: list[tuple[int, int]] = []
    left = floor = 0
    start: int | None = None
    for right, event in enumerate(events):
        inside[key(event)] += 1
        while event.at - events[left].at >= width:
            k = key(events[left])
            inside[k] -= 1
            if not inside[k]:
                del inside[k]
            left += 1
        if len(inside) > limit:
            if start is None:
                start = max(left, floor)
            end = right
        elif start is not None:
            spans.append((start, end))
            floor, start = end + 1, None
    if start is not None:
        spans.append((start, end))
    return spans


def _by_reader(events: Iterable[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for e in sorted(events, key=lambda e: (e.reader, e.at)):
        out.setdefault(e.reader, []).append(e)
    return out


def evaluate(events: Iterable[ReadEvent], thresholds: Thresholds, calendar: WorkCalendar,
             failed_attempts: Iterable[FailedAttempt] = (), locks: Iterable[FailedAttempt] = (),
             sign_in_failures: Iterable[FailedAttempt] = ()) -> list[Finding]:
    """Every finding for the events, ordered by (kind, reader, first_at). Rest days come from the
    platform's working-day calendar (official holidays and adjusted working weekends). ``locks``: accounts
    locked after failed sign-ins (the account as ``reader``); ``sign_in_failures``: failed sign-ins (the client
    address as ``reader``)."""
    rules = thresholds.rules
    sample = thresholds.evidence_sample
    findings: list[Finding] = []
    readers = _by_reader(events)

    dp = rules.distinct_persons
    for reader, evs in readers.items():
        for s, e in _bursts(evs, dp.window_minutes, dp.max, key=lambda ev: ev.subject_id):
            span = evs[s:e + 1]
            findings.append(_finding("distinct_persons", reader, span, len({ev.subject_id for ev in span}),
                                     dp.severity, sample, window_minutes=dp.window_minutes, max=dp.max))

    oh = rules.off_hours
    zone = oh.zone

    def off(at: dt.datetime) -> bool:
        local = at.astimezone(zone)
        if oh.working_days_only and not calendar.is_working_day(local.date()):
            return True
        return not (oh.start <= local.time() < oh.end)

    def local_day(ev: ReadEvent) -> dt.date:
        return ev.at.astimezone(zone).date()

    for reader, evs in readers.items():
        for day, group in groupby((ev for ev in evs if off(ev.at)), key=local_day):
            span = list(group)
            findings.append(_finding("off_hours", reader, span, len(span), oh.severity, sample,
                                     day=day.isoformat(), working_hours=oh.working_hours, timezone=oh.timezone))

    mp = rules.missing_purpose
    if mp.enabled:
        for reader, evs in readers.items():
            blank = (ev for ev in evs if not (ev.purpose or "").strip())
            for day, group in groupby(blank, key=local_day):
                span = list(group)
                findings.append(_finding("missing_purpose", reader, span, len(span), mp.severity, sample,
                                         day=day.isoformat()))

    for kind, rule, failures in (("failed_consent", rules.failed_consent, failed_attempts),
                                 ("failed_sign_in", rules.failed_sign_in, sign_in_failures)):
        if rule is None:
            continue
        for reader, attempts in _by_reader(failures).items():
            for s, e in _bursts(attempts, rule.window_minutes, rule.max, key=id):
                span = attempts[s:e + 1]
                findings.append(Finding(kind, reader, span[0].at, span[-1].at, len(span), rule.severity, (),
                                        tuple(a.at for a in span[:sample]),
                                        {"window_minutes": rule.window_minutes, "max": rule.max}))

    la = rules.locked_account
    if la is not None and la.enabled:
        for reader, locked in _by_reader(locks).items():
            for day, group in groupby(locked, key=lambda a: a.at.astimezone(zone).date()):
                span = list(group)
                findings.append(Finding("locked_account", reader, span[0].at, span[-1].at, len(span), la.severity,
                                        (), tuple(a.at for a in span[:sample]), {"day": day.isoformat()}))

    findings.sort(key=lambda f: (KINDS.index(f.kind), f.reader, f.first_at))
    return findings
