"""The abnormal-access rules, table-driven from access_cases.yaml; and the thresholds loader."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import chinese_calendar
import pytest
import yaml

from chengxin.monitoring.config import RULES_FILE, RulesError, Thresholds, load_access_rules, parse_access_rules
from chengxin.monitoring.rules import FailedAttempt, ReadEvent, evaluate
from chengxin.workdays.rules import WorkCalendar

CASES = yaml.safe_load((Path(__file__).parent / "access_cases.yaml").read_text(encoding="utf-8"))


def _at(text: str) -> dt.datetime:
    at = dt.datetime.fromisoformat(text)
    assert at.tzinfo is not None, text
    return at


def _thresholds(overrides: dict[str, dict[str, Any]] | None) -> Thresholds:
    base = load_access_rules().on(dt.date(2026, 11, 28))
    rules = base.rules
    for name, changes in (overrides or {}).items():
        rules = rules.model_copy(update={name: getattr(rules, name).model_copy(update=changes)})
    return base.model_copy(update={"rules": rules})


def _events(case: dict[str, Any]) -> list[ReadEvent]:
    events = [ReadEvent(r, s, _at(at), p) for r, s, at, p in case.get("events", [])]
    for b in case.get("bursts", []):
        start = _at(b["start"])
        events += [
            ReadEvent(b["reader"], b["first_subject"] + i, start + dt.timedelta(seconds=i * b["step_seconds"]),
                      b.get("purpose", "核查"))
            for i in range(b["persons"])
        ]
    return events


# The State Council schedule as chinese-calendar has it (the platform's table adds later years).
CALENDAR = WorkCalendar(frozenset(chinese_calendar.holidays), frozenset(chinese_calendar.workdays),
                        frozenset(range(2004, 2027)))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_rule_table(case: dict[str, Any]) -> None:
    failed = [FailedAttempt(r, _at(at)) for r, at in case.get("failed", [])]
    locks = [FailedAttempt(r, _at(at)) for r, at in case.get("locks", [])]
    sign_ins = [FailedAttempt(r, _at(at)) for r, at in case.get("sign_in_failures", [])]
    found = evaluate(_events(case), _thresholds(case.get("overrides")), CALENDAR, failed, locks, sign_ins)
    assert len(found) == len(case["expect"]), found
    for f, want in zip(found, case["expect"], strict=True):
        assert (f.kind, f.reader, f.count) == (want["kind"], want["reader"], want["count"])
        if "first_at" in want:
            assert f.first_at == _at(want["first_at"])
        if "last_at" in want:
            assert f.last_at == _at(want["last_at"])
        assert f.severity in ("low", "medium", "high")
        assert len(f.times) <= 20 and len(f.subjects) <= 20


def test_evidence_is_sampled() -> None:
    start = dt.datetime(2026, 11, 25, 10, tzinfo=dt.UTC) - dt.timedelta(hours=8)
    events = [ReadEvent("staff:wang", i, start + dt.timedelta(seconds=i), "核查") for i in range(200)]
    (finding,) = evaluate(events, _thresholds(None), CALENDAR)
    assert finding.count == 200
    assert finding.subjects == tuple(range(20)) and len(finding.times) == 20


def test_shipped_rules_load_and_are_dated() -> None:
    rules = load_access_rules(RULES_FILE)
    current = rules.on(dt.date(2026, 11, 25))
    assert current.basis and current.rules.distinct_persons.max == 50
    assert current.rules.off_hours.working_hours == "08:00-18:00"
    assert rules.on(dt.date(2000, 1, 1)) == rules.versions[0]
    assert current.rules.locked_account is None  # added in 2026.2, from 2026-11-27
    newer = rules.on(dt.date(2026, 11, 27)).rules
    assert newer.locked_account is not None and newer.locked_account.enabled
    assert newer.model_copy(update={"locked_account": None}) == current.rules  # nothing else changed
    assert newer.failed_sign_in is None  # added in 2026.3, from 2026-11-28
    latest = rules.on(dt.date(2026, 11, 28)).rules
    assert latest.failed_sign_in is not None and latest.failed_sign_in.max == 20
    assert latest.model_copy(update={"failed_sign_in": None}) == newer


GOOD = RULES_FILE.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("max: 50", "max: -1"),
        ("08:00-18:00", "18:00-08:00"),
        ("08:00-18:00", "8h-18h"),
        ("Asia/Shanghai", "Mars/Olympus"),
        ("severity: high}", "severity: urgent}"),
        ("evidence_sample: 20", "evidence_sample: 20\n    surprise: 1"),
        ("    basis: ", "    basis: ''\n    comment: "),
    ],
)
def test_invalid_rules_are_refused(old: str, new: str) -> None:
    assert old in GOOD
    with pytest.raises(RulesError):
        parse_access_rules(GOOD.replace(old, new, 1))


def test_versions_must_be_in_date_order() -> None:
    doc = yaml.safe_load(GOOD)
    later = dict(doc["versions"][0], version="2027.1", effective_from=dt.date(2025, 1, 1))
    with pytest.raises(RulesError, match="oldest first"):
        parse_access_rules(yaml.safe_dump({"versions": [doc["versions"][0], later]}, allow_unicode=True))
