"""The case state machine: allowed transitions move and are logged; the others are refused clearly."""

from __future__ import annotations

import datetime as dt

import pytest

from chengxin.core import workflow as wf
from chengxin.core.audit import Actor
from chengxin.core.errors import DomainError, PermissionDenied
from chengxin.platform import Platform

SAMPLE = wf.Workflow(
    case_type="sample",
    states={"open": "待处理", "done": "已办结", "closed": "已关闭"},
    initial="open",
    transitions=(
        wf.Transition("file", "提交", frozenset(), "open", frozenset({wf.SUBJECT})),
        wf.Transition("finish", "办结", frozenset({"open"}), "done", frozenset({wf.DEPARTMENT}), needs_reason=True),
        wf.Transition("close", "关闭", frozenset({"open", "done"}), "closed", frozenset({wf.OFFICE, wf.SYSTEM})),
    ),
)


@pytest.mark.parametrize(("state", "action", "role", "reason", "outcome"), [
    ("open", "finish", wf.DEPARTMENT, "核实无误", "done"),
    ("open", "close", wf.SYSTEM, None, "closed"),
    ("done", "close", wf.OFFICE, None, "closed"),
    ("done", "finish", wf.DEPARTMENT, "x", "workflow.invalid_transition"),
    ("closed", "close", wf.OFFICE, None, "workflow.invalid_transition"),
    ("open", "finish", wf.SUBJECT, "x", "workflow.role_not_allowed"),
    ("open", "finish", wf.DEPARTMENT, "  ", "workflow.reason_required"),
    ("open", "fly", wf.OFFICE, None, "workflow.unknown_action"),
])
def test_transitions(state: str, action: str, role: str, reason: str | None, outcome: str) -> None:
    if outcome in SAMPLE.states:
        assert SAMPLE.check(state, action, role, reason).target == outcome
        return
    with pytest.raises(DomainError) as err:
        SAMPLE.check(state, action, role, reason)
    assert err.value.code == outcome
    if outcome == "workflow.invalid_transition":
        assert err.value.status == 409 and SAMPLE.states[state] in err.value.message
    if outcome == "workflow.role_not_allowed":
        assert isinstance(err.value, PermissionDenied) and "数据提供单位" in err.value.message


def test_a_workflow_with_an_unknown_state_is_refused_at_definition() -> None:
    with pytest.raises(ValueError, match="unknown states"):
        wf.Workflow("bad", {"a": "A"}, (wf.Transition("go", "走", frozenset({"a"}), "b", frozenset({wf.OFFICE})),),
                    initial="a")


def test_actions_for_a_role() -> None:
    assert [t.action for t in SAMPLE.actions_for("open", wf.DEPARTMENT)] == ["finish"]
    assert [t.action for t in SAMPLE.actions_for("done", wf.OFFICE)] == ["close"]
    assert SAMPLE.actions_for("closed", wf.OFFICE) == []


def test_transitions_are_written_to_the_case_history(platform: Platform) -> None:
    now = dt.datetime(2026, 11, 25, 8, tzinfo=dt.UTC)
    actor = Actor(kind="staff", name="clerk1", role="clerk", department_code="samr")
    with platform.db.write() as s:
        state = wf.record_transition(s, SAMPLE, case_id=7, state=None, action="file", role=wf.SUBJECT,
                                     actor=Actor(kind="person", name="3"), now=now)
        state = wf.record_transition(s, SAMPLE, case_id=7, state=state, action="finish", role=wf.DEPARTMENT,
                                     actor=actor, now=now, reason="核实无误", detail={"outcome": "uphold"})
        with pytest.raises(DomainError):
            wf.record_transition(s, SAMPLE, case_id=7, state=state, action="finish", role=wf.DEPARTMENT,
                                 actor=actor, now=now, reason="again")
    assert state == "done"
    with platform.db.read() as s:
        history = wf.case_history(s, "sample", 7)
    assert [(e.action, e.from_state, e.to_state, e.role) for e in history] == [
        ("file", None, "open", "subject"), ("finish", "open", "done", "department")]
    assert history[1].actor == "staff:clerk1" and history[1].reason == "核实无误"
    assert history[1].detail == {"outcome": "uphold"}
