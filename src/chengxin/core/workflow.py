"""Cases as explicit state machines (issue #4 §6): objections, repair applications, notices,
interviews, complaints. Each kind of case declares its states and allowed transitions as data;
every transition is checked here, refused with a clear error when not allowed, and written to the
append-only ``case_event`` table (who, role, when, why) in the same transaction as the change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from chengxin.core import audit
from chengxin.core.db import Base, BigId, JsonDoc, UtcDateTime
from chengxin.core.errors import DomainError, PermissionDenied

__all__ = ["CaseEvent", "ConsoleLine", "Transition", "Workflow", "case_history", "record_transition"]

# Who may act on a case. A role is decided by the adapter from the authenticated caller.
SUBJECT = "subject"  # the person or organisation the case is about
DEPARTMENT = "department"  # the source department (clerk or API key)
OFFICE = "office"  # the credit office (信用办) or an admin
SYSTEM = "system"  # scheduled jobs (deadlines, expiry)
ROLE_ZH = {SUBJECT: "信用主体", DEPARTMENT: "数据提供单位", OFFICE: "市信用办", SYSTEM: "系统"}


@dataclass(frozen=True)
class Transition:
    """``action`` moves a case from any of ``sources`` to ``target``; only ``roles`` may take it."""

    action: str
    label_zh: str
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    needs_reason: bool = False


@dataclass(frozen=True)
class Workflow:
    """The states (with Chinese labels) and transitions of one kind of case."""

    case_type: str
    states: dict[str, str]
    transitions: tuple[Transition, ...]
    initial: str

    def __post_init__(self) -> None:
        for t in self.transitions:
            unknown = (t.sources | {t.target}) - set(self.states)
            if unknown:
                raise ValueError(f"{self.case_type}.{t.action}: unknown states {sorted(unknown)}")
        if self.initial not in self.states:
            raise ValueError(f"{self.case_type}: unknown initial state {self.initial!r}")

    def transition(self, action: str) -> Transition:
        for t in self.transitions:
            if t.action == action:
                return t
        raise DomainError("workflow.unknown_action", f"未知的操作“{action}”", f"Unknown action {action!r}",
                          field="action")

    def check(self, state: str, action: str, role: str, reason: str | None = None) -> Transition:
        """The transition to take, or a clear refusal (409 wrong state, 403 wrong role, 400 no reason)."""
        t = self.transition(action)
        if state not in t.sources:
            raise DomainError(
                "workflow.invalid_transition",
                f"当前状态为“{self.states.get(state, state)}”，不能{t.label_zh}",
                f"Cannot {action} a {self.case_type} in state {state!r}", status=409)
        if role not in t.roles:
            allowed = "、".join(ROLE_ZH.get(r, r) for r in sorted(t.roles))
            raise PermissionDenied("workflow.role_not_allowed", f"只有{allowed}可以{t.label_zh}",
                                   f"Only {', '.join(sorted(t.roles))} may {action}")
        if t.needs_reason and not (reason or "").strip():
            raise DomainError("workflow.reason_required", f"{t.label_zh}须说明理由", f"{action} needs a reason",
                              field="reason")
        return t

    def actions_for(self, state: str, role: str) -> list[Transition]:
        """What ``role`` may do now (for the buttons on a page)."""
        return [t for t in self.transitions if state in t.sources and role in t.roles]


@dataclass(frozen=True)
class ConsoleLine:
    """One queue on the staff console (办理台): open cases, those due within 2 working days, overdue."""

    label_zh: str
    open: int
    due_soon: int
    overdue: int
    link: str  # the portal page listing that queue


class CaseEvent(Base):
    """One transition of one case. Append-only: the history of every case, with who and why."""

    __tablename__ = "case_event"
    __table_args__ = (Index("ix_case_event_case", "case_type", "case_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_type: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int] = mapped_column(BigId)
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)


def record_transition(session: Session, workflow: Workflow, *, case_id: int, state: str | None, action: str,
                      role: str, actor: audit.Actor, now: dt.datetime, reason: str | None = None,
                      subject_id: int | None = None, detail: dict[str, Any] | None = None) -> str:
    """Check and log one transition; returns the new state for the caller to set on its case row.

    ``state=None`` opens a case: ``action`` must then be the transition whose target is the
    workflow's initial state (conventionally ``open``/``file``/``apply``).
    """
    reason = (reason or "").strip() or None
    if state is None:
        t = workflow.transition(action)
        if t.target != workflow.initial or t.sources:
            raise ValueError(f"{workflow.case_type}.{action} does not open a case")
        if role not in t.roles:
            raise PermissionDenied("workflow.role_not_allowed", f"无权{t.label_zh}", f"May not {action}")
    else:
        t = workflow.check(state, action, role, reason)
    session.add(CaseEvent(case_type=workflow.case_type, case_id=case_id, action=action, from_state=state,
                          to_state=t.target, role=role, actor=actor.label, at=now, reason=reason,
                          detail=detail or {}))
    audit.write(session, actor=actor, action=f"{workflow.case_type}.{action}", subject_id=subject_id,
                object_type=workflow.case_type, object_id=case_id,
                detail={"from": state, "to": t.target, "reason": reason, **(detail or {})})
    return t.target


def case_history(session: Session, case_type: str, case_id: int) -> list[CaseEvent]:
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_type == case_type,
                                                        CaseEvent.case_id == case_id).order_by(CaseEvent.id)))
