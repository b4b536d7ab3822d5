"""The pure rules of notices, interviews and complaints, read as the clauses read: the response
period across holidays and on its boundary day, when a covered record may be displayed, every
transition allowed and refused, and the display-end cut-off of the expiry job."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import chinese_calendar
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from chengxin.catalog.rules import add_duration, parse_duration
from chengxin.core.errors import DomainError, PermissionDenied
from chengxin.core.policy import policy_on
from chengxin.disclosure.expiry import last_decision_date_ended
from chengxin.notices import rules

CASES: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "notice_cases.yaml").read_text(encoding="utf-8"))
CALENDAR = rules.WorkCalendar(frozenset(chinese_calendar.holidays), frozenset(chinese_calendar.workdays),
                              frozenset(range(2004, 2027)))
WORKFLOWS = {"notice": rules.NOTICE, "interview": rules.INTERVIEW, "complaint": rules.COMPLAINT}


def _ids(section: str) -> list[str]:
    return [c["case"] for c in CASES[section]]


@pytest.mark.parametrize("case", CASES["notice_period"], ids=_ids("notice_period"))
def test_the_response_period_and_the_first_day_of_display(case: dict[str, Any]) -> None:
    deadline = rules.notice_deadline(CALENDAR, policy_on(case["issued"]), case["issued"])
    assert deadline.due == case["due"]
    assert list(deadline.estimated_years) == case.get("estimated", [])
    assert bool(deadline.warning_zh()) is bool(case.get("estimated"))
    # The boundary: the last day of the period is still held, the next day it is shown.
    shown = rules.record_display_from("issued", deadline.due, replied=False, closed_on=None)
    assert shown == case["shown_from"] == deadline.due + dt.timedelta(days=1)


@pytest.mark.parametrize("case", CASES["complaint_period"], ids=_ids("complaint_period"))
def test_the_complaint_answer_period(case: dict[str, Any]) -> None:
    deadline = rules.complaint_deadline(CALENDAR, policy_on(case["received"]), case["received"])
    assert deadline.due == case["due"]
    assert list(deadline.estimated_years) == case.get("estimated", [])


@pytest.mark.parametrize("case", CASES["display_from"], ids=_ids("display_from"))
def test_when_a_covered_record_is_displayed(case: dict[str, Any]) -> None:
    got = rules.record_display_from(case["state"], dt.date(2026, 3, 11), replied=case["replied"],
                                    closed_on=case["closed_on"])
    assert got == (rules.HELD if case["expect"] == "held" else case["expect"])


@pytest.mark.parametrize("row", CASES["transitions"], ids=[" ".join(map(str, r[:4])) for r in CASES["transitions"]])
def test_every_transition_allowed_and_refused(row: list[Any]) -> None:
    name, state, action, role, reason, outcome = row
    workflow = WORKFLOWS[name]
    if outcome in workflow.states:
        assert workflow.check(state, action, role, reason).target == outcome
        return
    with pytest.raises(DomainError) as err:
        workflow.check(state, action, role, reason)
    assert err.value.code == outcome
    assert err.value.message  # a Chinese sentence a clerk or a citizen can act on
    if outcome == "workflow.invalid_transition":
        assert err.value.status == 409 and workflow.states[state] in err.value.message
    if outcome == "workflow.role_not_allowed":
        assert isinstance(err.value, PermissionDenied)


def test_every_transition_of_every_workflow_is_in_the_table() -> None:
    covered = {(r[0], r[2]) for r in CASES["transitions"]}
    for name, workflow in WORKFLOWS.items():
        for t in workflow.transitions:
            if t.sources:  # the opening transitions are exercised by the service tests
                assert (name, t.action) in covered, (name, t.action)


def test_due_states_and_counts() -> None:
    today, soon = dt.date(2026, 3, 4), dt.date(2026, 3, 6)
    assert rules.due_state(dt.date(2026, 3, 3), today, soon) == "overdue"
    assert rules.due_state(today, today, soon) == "due_soon"  # the last day itself is not overdue
    assert rules.due_state(soon, today, soon) == "due_soon"
    assert rules.due_state(dt.date(2026, 3, 9), today, soon) == "ok"
    counts = rules.count_due([dt.date(2026, 3, 3), today, dt.date(2026, 3, 9), None], today, soon)
    assert (counts.open, counts.due_soon, counts.overdue) == (4, 1, 1)


def test_free_text_is_trimmed_and_limited() -> None:
    assert rules.clean_text("  说明  ", field="text", label="说明") == "说明"
    assert rules.clean_text("", field="text", label="说明", required=False) == ""
    with pytest.raises(DomainError) as err:
        rules.clean_text("   ", field="facts", label="告知事实")
    assert err.value.code == "form.required" and err.value.problem.field == "facts" and "告知事实" in err.value.message
    with pytest.raises(DomainError) as err:
        rules.clean_text("字" * (rules.MAX_TEXT + 1), field="facts", label="告知事实")
    assert err.value.code == "form.too_long" and "附件" in err.value.message


def test_minutes_only_after_the_interview() -> None:
    at = dt.datetime(2026, 12, 1, 2, tzinfo=dt.UTC)
    assert not rules.can_record_minutes(at, at - dt.timedelta(minutes=1))
    assert rules.can_record_minutes(at, at)


@pytest.mark.parametrize("case", CASES["display_cutoff"], ids=_ids("display_cutoff"))
def test_display_end_cutoff(case: dict[str, Any]) -> None:
    period = parse_duration(case["period"])
    cutoff = last_decision_date_ended(period, case["today"])
    assert cutoff == case["expect"]
    assert add_duration(cutoff, period) <= case["today"] < add_duration(cutoff + dt.timedelta(days=1), period)


@given(st.dates(dt.date(2005, 1, 1), dt.date(2040, 12, 31)),
       st.sampled_from(["P3M", "P1Y", "P3Y", "P5Y", "P2Y6M", "P1M", "P10D", "P1Y1M1D"]))
def test_display_end_cutoff_is_the_last_ended_day(today: dt.date, text: str) -> None:
    period = parse_duration(text)
    cutoff = last_decision_date_ended(period, today)
    assert add_duration(cutoff, period) <= today
    assert add_duration(cutoff + dt.timedelta(days=1), period) > today
