"""异议 rules, pure: deadlines on the State Council's schedule (table), the state machine against its
table (every move allowed, every other refused: wrong state 409, wrong role 403, no reason 400), the
异议中 mark, escalation, the texts a subject types and the merge of a correction."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import chinese_calendar
import pytest
import yaml

from chengxin.core import workflow as wf
from chengxin.core.audit import Actor
from chengxin.core.errors import DomainError, PermissionDenied
from chengxin.core.policy import policy_on
from chengxin.objections import rules
from chengxin.workdays.rules import WorkCalendar

HERE = Path(__file__).parent
DEADLINES: list[dict[str, Any]] = yaml.safe_load((HERE / "deadlines.yaml").read_text(encoding="utf-8"))
TRANSITIONS: dict[str, dict[str, Any]] = yaml.safe_load((HERE / "transitions.yaml").read_text(encoding="utf-8"))
CALENDAR = WorkCalendar(frozenset(chinese_calendar.holidays), frozenset(chinese_calendar.workdays),
                        frozenset(range(2004, 2027)))
ROLES = (wf.SUBJECT, wf.DEPARTMENT, wf.OFFICE, wf.SYSTEM)


# -- deadlines --------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", DEADLINES, ids=[c["case"] for c in DEADLINES])
def test_deadlines(case: dict[str, Any]) -> None:
    policy = policy_on(case["filed_on"]).objection
    filing = rules.filing_deadlines(CALENDAR, policy, case["filed_on"])
    got = {"check": filing.check, "forward": filing.forward, "cap": filing.cap}
    if "forwarded_on" in case:
        got["decide"] = (rules.extended_deadline(CALENDAR, policy, case["filed_on"]) if case.get("extended")
                         else rules.decide_deadline(CALENDAR, policy, case["filed_on"], case["forwarded_on"]))
    if "decided_on" in case:
        got["contest"] = rules.contest_deadline(CALENDAR, policy, case["decided_on"])
    if "contested_on" in case:
        got["review"] = rules.review_deadline(CALENDAR, policy, case["contested_on"])
    for key, due in case["expect"].items():
        assert got[key].due == due, key
        assert got[key].estimated is (key in case.get("estimated", [])), key
    for key in case.get("estimated", []):
        warning = rules.estimate_warning(got[key].estimated, got[key].due)
        assert "2027 年节假日安排尚未录入" in warning and got[key].due.isoformat() in warning


def test_the_deadline_day_itself_is_in_time_and_the_next_day_is_overdue() -> None:
    due = dt.date(2026, 10, 9)
    soon = rules.due_soon_limit(CALENDAR, dt.date(2026, 10, 8))
    assert soon == dt.date(2026, 10, 10)  # 2 working days: 10-09 and the adjusted working Saturday
    assert rules.urgency(due, due, rules.due_soon_limit(CALENDAR, due)) == "due_soon"
    assert rules.urgency(due, due + dt.timedelta(days=1), soon) == "overdue"
    assert rules.urgency(dt.date(2026, 10, 12), dt.date(2026, 10, 8), soon) == "ok"
    assert rules.urgency(None, due, soon) == "ok"
    assert rules.estimate_warning(False, due) == ""


def test_the_cap_never_moves_with_a_late_forwarding() -> None:
    policy = policy_on(dt.date(2026, 11, 2)).objection
    cap = rules.filing_deadlines(CALENDAR, policy, dt.date(2026, 11, 2)).cap.due
    for forwarded in (dt.date(2026, 11, 2) + dt.timedelta(days=n) for n in range(0, 40)):
        assert rules.decide_deadline(CALENDAR, policy, dt.date(2026, 11, 2), forwarded).due <= cap


# -- the state machine -------------------------------------------------------------------------------


def test_the_workflow_is_exactly_the_table() -> None:
    actual = {t.action: {"from": sorted(t.sources), "to": t.target, "by": sorted(t.roles),
                         "reason": t.needs_reason} for t in rules.WORKFLOW.transitions}
    expected = {a: {"from": sorted(s["from"]), "to": s["to"], "by": sorted(s["by"]), "reason": s.get("reason", False)}
                for a, s in TRANSITIONS.items()}
    assert actual == expected


_CASES = [(action, state, role) for action, spec in TRANSITIONS.items() if spec["from"]
          for state in rules.STATES for role in ROLES]


@pytest.mark.parametrize(("action", "state", "role"), _CASES, ids=[f"{a}-{s}-{r}" for a, s, r in _CASES])
def test_each_move_is_allowed_or_refused_as_the_table_says(action: str, state: str, role: str) -> None:
    spec = TRANSITIONS[action]
    reason = "核查说明" if spec.get("reason") else None
    if state not in spec["from"]:
        with pytest.raises(DomainError) as err:
            rules.WORKFLOW.check(state, action, role, reason)
        assert err.value.code == "workflow.invalid_transition" and err.value.status == 409
        assert rules.STATES[state] in err.value.message
    elif role not in spec["by"]:
        with pytest.raises(PermissionDenied) as denied:
            rules.WORKFLOW.check(state, action, role, reason)
        assert denied.value.code == "workflow.role_not_allowed" and denied.value.status == 403
    else:
        assert rules.WORKFLOW.check(state, action, role, reason).target == spec["to"]
        if spec.get("reason"):
            with pytest.raises(DomainError) as missing:
                rules.WORKFLOW.check(state, action, role, "  ")
            assert missing.value.code == "workflow.reason_required" and missing.value.status == 400


def test_the_extension_is_possible_once() -> None:
    extended = rules.WORKFLOW.check(rules.FORWARDED, "extend", wf.DEPARTMENT, "需调取卷宗").target
    with pytest.raises(DomainError, match="invalid_transition"):
        rules.WORKFLOW.check(extended, "extend", wf.DEPARTMENT, "再延一次")


@pytest.mark.parametrize(("actor", "department", "role"), [
    (Actor("staff", "o", "credit_office"), "samr", wf.OFFICE),
    (Actor("staff", "a", "admin"), "samr", wf.OFFICE),
    (Actor("staff", "c", "clerk", "samr"), "samr", wf.DEPARTMENT),
    (Actor("api_key", "k", None, "samr"), "samr", wf.DEPARTMENT),
    (Actor("staff", "c", "clerk", "tax"), "samr", None),
    (Actor("api_key", "k", None, "tax"), "samr", None),
    (Actor("person", "3"), "samr", None),
    (Actor("cli", "root"), "samr", None),
])
def test_who_handles_a_case(actor: Actor, department: str, role: str | None) -> None:
    assert rules.staff_role(actor, department) == role


# -- the mark, escalation, finality -------------------------------------------------------------------


@pytest.mark.parametrize(("state", "outcome", "review", "marked"), [
    ("filed", None, None, True),
    ("dept_overdue", None, None, True),
    ("decided", "upheld", None, False),
    ("decided", "corrected", None, False),
    ("decided", "unverifiable", None, True),  # the permanent note of 征信业管理条例 Art. 25
    ("contested", "upheld", None, True),  # under objection again while the office reviews
    ("closed", "upheld", "confirmed", False),
    ("closed", "unverifiable", "confirmed", True),
    ("closed", "unverifiable", "corrected", False),  # the review corrected it: nothing left to note
    ("closed", "upheld", "revoked", False),
    ("closed", "withdrawn", None, False),
])
def test_the_objection_mark(state: str, outcome: str | None, review: str | None, marked: bool) -> None:
    assert rules.marks_record(state, outcome, review) is marked


@pytest.mark.parametrize(("state", "due", "today", "action"), [
    ("filed", "2026-11-30", "2026-11-30", None),  # the last day is still in time
    ("filed", "2026-11-30", "2026-12-01", "escalate_check"),
    ("forwarded", "2026-11-30", "2026-12-01", "escalate_department"),
    ("extended", "2026-11-30", "2026-12-01", "escalate_department"),
    ("contested", "2026-11-30", "2026-12-01", "escalate_review"),
    ("dept_overdue", "2026-11-30", "2026-12-09", None),  # escalated once
    ("decided", "2026-11-30", "2026-12-01", None),  # the subject's window: finalized, not escalated
])
def test_escalation(state: str, due: str, today: str, action: str | None) -> None:
    assert rules.escalation(state, dt.date.fromisoformat(due), dt.date.fromisoformat(today)) == action


def test_an_uncontested_answer_becomes_final_after_the_window() -> None:
    due = dt.date(2026, 12, 10)
    assert not rules.finalizes(rules.DECIDED, due, due)
    assert rules.finalizes(rules.DECIDED, due, due + dt.timedelta(days=1))
    assert not rules.finalizes(rules.CONTESTED, due, due + dt.timedelta(days=1))
    rules.check_contest_window(due, due)
    with pytest.raises(DomainError) as err:
        rules.check_contest_window(due, due + dt.timedelta(days=1))
    assert err.value.status == 409 and "2026-12-10" in err.value.message


# -- what the subject types ---------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "outcome"), [
    ("  处罚对象有误  ", "处罚对象有误"),
    ("第一行\r\n第二行", "第一行\n第二行"),
    ("", "statement.required"),
    ("   ", "statement.required"),
    ("含有\x07响铃", "statement.control_characters"),
    ("含有\u202e反向", "statement.control_characters"),
    ("字" * 500, "字" * 500),
    ("字" * 501, "statement.too_long"),
])
def test_statement_text(raw: str, outcome: str) -> None:
    limit = policy_on(dt.date(2026, 11, 1)).objection.statement_max_chars
    assert limit == 500
    if "." in outcome and outcome.startswith("statement."):
        with pytest.raises(DomainError) as err:
            rules.clean_text(raw, field="statement", label_zh="本人声明", max_chars=limit)
        assert err.value.code == outcome and err.value.problem.field == "statement"
        assert "本人声明" in err.value.message
    else:
        assert rules.clean_text(raw, field="statement", label_zh="本人声明", max_chars=limit) == outcome


def test_grounds_are_the_fixed_list() -> None:
    assert list(rules.GROUNDS.values())[0] == "信息错误" and "other" in rules.GROUNDS
    assert rules.check_grounds("wrongly_listed") == "wrongly_listed"
    with pytest.raises(DomainError) as err:
        rules.check_grounds("我不喜欢")
    assert err.value.problem.field == "grounds" and "信息错误" in err.value.message


def test_a_correction_merges_the_changed_values_only() -> None:
    base = {"source_id": "S1", "uscc": "X", "subject_name": "甲", "decision_date": "2026-03-01", "penalty_content": "罚款"}
    merged = rules.merge_correction(base, {"penalty_content": " 警告 ", "decision_date": ""},
                                    {"decision_date", "penalty_content"})
    assert merged == {**base, "penalty_content": "警告"}
    with pytest.raises(DomainError) as unknown:
        rules.merge_correction(base, {"uscc": "Y"}, {"decision_date"})
    assert unknown.value.code == "correction.unknown_field" and unknown.value.problem.field == "uscc"
    with pytest.raises(DomainError) as empty:
        rules.merge_correction(base, {"penalty_content": "  "}, {"penalty_content"})
    assert empty.value.code == "correction.empty"
    assert rules.merge_correction(base, {"penalty_content": "第一行\r\n第二行"}, {"penalty_content"})[
        "penalty_content"] == "第一行\n第二行"
    with pytest.raises(DomainError) as control:
        rules.merge_correction(base, {"penalty_content": "警告\x00"}, {"penalty_content"})
    assert control.value.code == "correction.control_characters" and control.value.problem.field == "penalty_content"
