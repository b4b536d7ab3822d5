"""投诉 use cases (issue #4 §5): a subject complains about how an objection or a repair was
handled; the credit office answers within the published deadline (``policy_on(day).complaint``);
the counts per month and per outcome are part of the office's statistics.

A complaint names its case loosely, by (case_type, case_id): the objections and repair features own
their tables, so only the case history (``core.workflow.case_event``) is consulted — the case must
exist there, and when its audit trail names a subject, that subject must be one the complainant may
act for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chengxin.attachments.service import AttachmentInfo, Upload, attachments_of, read_attachment, store_attachments
from chengxin.core import audit
from chengxin.core.audit import AuditEvent
from chengxin.core.crypto import KeyRing
from chengxin.core.errors import DomainError, NotFound
from chengxin.core.policy import policy_on
from chengxin.core.workflow import OFFICE, SUBJECT, case_history, record_transition
from chengxin.notices import access, rules
from chengxin.notices.models import Complaint
from chengxin.notices.service import HistoryLine, history_of
from chengxin.people.models import PersonAccount
from chengxin.people.orgs import can_act_for
from chengxin.people.service import actor_for
from chengxin.workdays.rules import Deadline, WorkCalendar, add_working_days

__all__ = ["ComplaintProcess", "ComplaintStats", "ComplaintView", "answer_complaint", "close_complaint",
           "complaint_detail", "complaint_process", "complaint_stats", "complaints_for_person", "file_complaint",
           "list_complaints", "read_complaint_attachment", "withdraw_complaint"]

OWNER = rules.COMPLAINT.case_type
_NOT_FOUND = ("complaint.not_found", "未找到该投诉", "No such complaint")
_NO_CASE = ("complaint.case_not_found", "未找到您的该项办理事项，请核对类型和编号（见办理结果通知）",
            "No such case of yours: check its type and number")


@dataclass(frozen=True)
class ComplaintProcess:
    """The published process (投诉处理流程) and contact, as in force on a day."""

    contact: str
    answer_working_days: int
    case_types: dict[str, str]
    steps: tuple[str, ...]


def complaint_process(day: dt.date) -> ComplaintProcess:
    policy = policy_on(day).complaint
    return ComplaintProcess(
        contact=policy.contact, answer_working_days=policy.answer_working_days, case_types=dict(rules.COMPLAINABLE),
        steps=(
            "登录个人中心，选择被投诉的办理事项（异议或信用修复）并填写其编号，说明投诉内容，可附证明材料（PDF 或图片）",
            "平台即时受理并告知答复期限",
            f"市信用办自受理之日起 {policy.answer_working_days} 个工作日内调查核实并书面答复（投诉成立、部分成立或不成立及理由）",
            "对答复无异议的，可确认办结；答复前可撤回投诉",
        ),
    )


@dataclass(frozen=True)
class ComplaintView:
    id: int
    state: str
    state_zh: str
    subject: access.SubjectLine
    case_type: str
    case_type_zh: str
    case_id: int
    content: str
    received_on: dt.date
    answer_due: dt.date
    due_estimated: bool
    due_warning: str
    due_state: str
    answer: str | None
    outcome: str | None
    outcome_zh: str | None
    answered_on: dt.date | None
    actions: tuple[str, ...] = ()
    history: tuple[HistoryLine, ...] = ()
    attachments: tuple[AttachmentInfo, ...] = ()


def _view(session: Session, calendar: WorkCalendar, complaint: Complaint, today: dt.date, *, role: str,
          full: bool = False) -> ComplaintView:
    soon = add_working_days(calendar, today, rules.DUE_SOON_WORKING_DAYS).due
    warning = ""
    if complaint.due_estimated:
        years = tuple(y for y in range(complaint.received_on.year, complaint.answer_due.year + 1)
                      if not calendar.is_published(y)) or (complaint.answer_due.year,)
        warning = Deadline(complaint.received_on, 0, complaint.answer_due, years).warning_zh()
    return ComplaintView(
        id=complaint.id, state=complaint.state, state_zh=rules.label(rules.COMPLAINT.states, complaint.state),
        subject=access.subject_line(session, complaint.subject_id), case_type=complaint.case_type,
        case_type_zh=rules.COMPLAINABLE.get(complaint.case_type, complaint.case_type), case_id=complaint.case_id,
        content=complaint.content, received_on=complaint.received_on, answer_due=complaint.answer_due,
        due_estimated=complaint.due_estimated, due_warning=warning,
        due_state=rules.due_state(complaint.answer_due, today, soon) if complaint.state == "received" else "",
        answer=complaint.answer, outcome=complaint.outcome,
        outcome_zh=rules.COMPLAINT_OUTCOMES.get(complaint.outcome or "") if complaint.outcome else None,
        answered_on=complaint.answered_on,
        actions=tuple(t.action for t in rules.COMPLAINT.actions_for(complaint.state, role)),
        history=tuple(history_of(session, rules.COMPLAINT, complaint.id, show_actor=role != SUBJECT)) if full else (),
        attachments=tuple(attachments_of(session, OWNER, complaint.id)) if full else (),
    )


def _get(session: Session, complaint_id: int, *, for_update: bool = False) -> Complaint:
    stmt = select(Complaint).where(Complaint.id == complaint_id)
    if for_update:
        stmt = stmt.with_for_update()
    complaint = session.scalars(stmt).first()
    if complaint is None:
        raise NotFound(*_NOT_FOUND)
    return complaint


def _own(session: Session, account: PersonAccount, complaint_id: int, *, for_update: bool = False) -> Complaint:
    complaint = _get(session, complaint_id, for_update=for_update)
    if not can_act_for(session, account, complaint.subject_id):
        raise NotFound(*_NOT_FOUND)
    return complaint


def _case_subject(session: Session, account: PersonAccount, case_type: str, case_id: int) -> int:
    """The subject the case is about, if the complainant may act for it (else: no such case of theirs)."""
    if not case_history(session, case_type, case_id):
        raise NotFound(*_NO_CASE, field="case_id")
    named = sorted({s for s in session.scalars(select(AuditEvent.subject_id).where(
        AuditEvent.object_type == case_type, AuditEvent.object_id == str(case_id),
        AuditEvent.subject_id.is_not(None)).distinct()) if s is not None})
    if not named:
        return account.subject_id  # the case's trail names no subject: the complaint is the person's own
    for subject_id in named:
        if can_act_for(session, account, subject_id):
            return subject_id
    raise NotFound(*_NO_CASE, field="case_id")


def file_complaint(session: Session, keyring: KeyRing, calendar: WorkCalendar, *, account: PersonAccount,
                   case_type: str, case_id: int | str, content: str, uploads: Sequence[Upload] = (),
                   today: dt.date, now: dt.datetime) -> ComplaintView:
    """投诉: received at once, with its answer deadline (working days from today)."""
    case_type = (case_type or "").strip()
    if case_type not in rules.COMPLAINABLE:
        raise DomainError("complaint.case_type", "请选择被投诉的办理事项类型：" + "、".join(rules.COMPLAINABLE.values()),
                          "case_type must be one of " + ", ".join(rules.COMPLAINABLE), field="case_type")
    try:
        number = int(str(case_id).strip())
    except ValueError:
        raise DomainError("complaint.case_id", f"办理事项编号应为数字：{case_id}", "case_id must be a number",
                          field="case_id") from None
    if not 0 < number < 2**63:
        raise NotFound(*_NO_CASE, field="case_id")
    content = rules.clean_text(content, field="content", label="投诉内容")
    subject_id = _case_subject(session, account, case_type, number)
    deadline = rules.complaint_deadline(calendar, policy_on(today), today)
    actor = actor_for(account)
    complaint = Complaint(subject_id=subject_id, case_type=case_type, case_id=number, content=content,
                          state=rules.COMPLAINT.initial, received_on=today, answer_due=deadline.due,
                          due_estimated=deadline.estimated, filed_by=actor.label, created_at=now)
    session.add(complaint)
    session.flush()
    complaint.state = record_transition(session, rules.COMPLAINT, case_id=complaint.id, state=None, action="file",
                                        role=SUBJECT, actor=actor, now=now, subject_id=subject_id,
                                        detail={"case_type": case_type, "case_id": number,
                                                "answer_due": deadline.due.isoformat()})
    if uploads:
        store_attachments(session, keyring, owner_type=OWNER, owner_id=complaint.id, uploads=uploads, actor=actor,
                          now=now)
    return _view(session, calendar, complaint, today, role=SUBJECT, full=True)


def answer_complaint(session: Session, calendar: WorkCalendar, *, actor: audit.Actor, complaint_id: int, outcome: str,
                     answer: str, today: dt.date, now: dt.datetime) -> ComplaintView:
    """答复: the credit office's finding (成立 / 部分成立 / 不成立) and its reasons."""
    access.require_office(actor)
    complaint = _get(session, complaint_id, for_update=True)
    if outcome not in rules.COMPLAINT_OUTCOMES:
        raise DomainError("complaint.outcome", "请选择处理结果：" + "、".join(rules.COMPLAINT_OUTCOMES.values()),
                          "Choose an outcome: " + ", ".join(rules.COMPLAINT_OUTCOMES), field="outcome")
    answer = rules.clean_text(answer, field="answer", label="答复意见", required=False)
    complaint.state = record_transition(session, rules.COMPLAINT, case_id=complaint.id, state=complaint.state,
                                        action="answer", role=OFFICE, actor=actor, now=now, reason=answer,
                                        subject_id=complaint.subject_id,
                                        detail={"outcome": outcome, "late": today > complaint.answer_due})
    complaint.answer, complaint.outcome, complaint.answered_on = answer, outcome, today
    return _view(session, calendar, complaint, today, role=OFFICE, full=True)


def close_complaint(session: Session, calendar: WorkCalendar, *, today: dt.date, now: dt.datetime,
                    complaint_id: int, actor: audit.Actor | None = None,
                    account: PersonAccount | None = None) -> ComplaintView:
    """办结: the subject accepts the answer (or the credit office closes it)."""
    if account is not None:
        complaint = _own(session, account, complaint_id, for_update=True)
        role, who = SUBJECT, actor_for(account)
    elif actor is not None:
        access.require_office(actor)
        complaint = _get(session, complaint_id, for_update=True)
        role, who = OFFICE, actor
    else:
        raise NotFound(*_NOT_FOUND)
    complaint.state = record_transition(session, rules.COMPLAINT, case_id=complaint.id, state=complaint.state,
                                        action="close", role=role, actor=who, now=now, subject_id=complaint.subject_id)
    return _view(session, calendar, complaint, today, role=role, full=True)


def withdraw_complaint(session: Session, calendar: WorkCalendar, *, account: PersonAccount, complaint_id: int,
                       reason: str | None, today: dt.date, now: dt.datetime) -> ComplaintView:
    complaint = _own(session, account, complaint_id, for_update=True)
    complaint.state = record_transition(session, rules.COMPLAINT, case_id=complaint.id, state=complaint.state,
                                        action="withdraw", role=SUBJECT, actor=actor_for(account), now=now,
                                        reason=reason, subject_id=complaint.subject_id)
    return _view(session, calendar, complaint, today, role=SUBJECT, full=True)


# -- reading --------------------------------------------------------------------------------------


def list_complaints(session: Session, calendar: WorkCalendar, *, actor: audit.Actor, today: dt.date,
                    state: str | None = None, offset: int = 0, limit: int = 50) -> tuple[list[ComplaintView], int]:
    access.require_office(actor)
    stmt = select(Complaint).order_by(Complaint.id.desc())
    count = select(func.count()).select_from(Complaint)
    if state:
        if state not in rules.COMPLAINT.states:
            raise DomainError("complaint.bad_state", f"未知的状态：{state}", f"Unknown state {state!r}", field="state")
        stmt, count = stmt.where(Complaint.state == state), count.where(Complaint.state == state)
    rows = session.scalars(stmt.offset(max(offset, 0)).limit(min(max(limit, 1), 200)))
    return [_view(session, calendar, c, today, role=OFFICE) for c in rows], session.scalar(count) or 0


def complaint_detail(session: Session, calendar: WorkCalendar, *, complaint_id: int, today: dt.date,
                     actor: audit.Actor | None = None, account: PersonAccount | None = None) -> ComplaintView:
    if account is not None:
        return _view(session, calendar, _own(session, account, complaint_id), today, role=SUBJECT, full=True)
    if actor is None:
        raise NotFound(*_NOT_FOUND)
    access.require_office(actor)
    return _view(session, calendar, _get(session, complaint_id), today, role=OFFICE, full=True)


def complaints_for_person(session: Session, calendar: WorkCalendar, *, account: PersonAccount,
                          today: dt.date) -> list[ComplaintView]:
    ids = access.subject_ids_of(session, account)
    rows = session.scalars(select(Complaint).where(Complaint.subject_id.in_(ids)).order_by(Complaint.id.desc()))
    return [_view(session, calendar, c, today, role=SUBJECT) for c in rows]


def read_complaint_attachment(session: Session, keyring: KeyRing, *, complaint_id: int, attachment_id: int,
                              actor: audit.Actor | None = None,
                              account: PersonAccount | None = None) -> tuple[AttachmentInfo, bytes]:
    if account is not None:
        complaint = _own(session, account, complaint_id)
        reader, purpose = actor_for(account), "本人查看投诉材料"
    elif actor is not None:
        access.require_office(actor)
        complaint = _get(session, complaint_id)
        reader, purpose = actor, "办理投诉：审查投诉材料"
    else:
        raise NotFound(*_NOT_FOUND)
    return read_attachment(session, keyring, owner_type=OWNER, owner_id=complaint.id, attachment_id=attachment_id,
                           actor=reader, subject_id=complaint.subject_id, purpose=purpose)


# -- statistics -----------------------------------------------------------------------------------


@dataclass
class MonthStats:
    month: str  # YYYY-MM (Beijing), by the day the complaint was received
    received: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)  # upheld | partly_upheld | not_upheld
    withdrawn: int = 0
    open: int = 0  # not answered yet
    answered_late: int = 0  # answered after the deadline


@dataclass(frozen=True)
class ComplaintStats:
    months: tuple[MonthStats, ...]
    totals: MonthStats
    overdue_now: int  # received, past the deadline, still unanswered


def complaint_stats(session: Session, *, today: dt.date, months: int = 12) -> ComplaintStats:
    """Complaints per month received and per outcome (newest month first), for the credit office's
    statistics (one query; complaints are counted in hundreds, not millions)."""
    first = dt.date(today.year, today.month, 1)
    for _ in range(max(months, 1) - 1):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    rows = session.execute(
        select(Complaint.received_on, Complaint.state, Complaint.outcome, Complaint.answered_on, Complaint.answer_due)
        .where(Complaint.received_on >= first)
    ).all()
    by_month: dict[str, MonthStats] = {}
    totals = MonthStats("合计")
    for received_on, state, outcome, answered_on, answer_due in rows:
        month = by_month.setdefault(rules.month_of(received_on), MonthStats(rules.month_of(received_on)))
        for bucket in (month, totals):
            bucket.received += 1
            if outcome:
                bucket.by_outcome[outcome] = bucket.by_outcome.get(outcome, 0) + 1
            if state == "withdrawn":
                bucket.withdrawn += 1
            if state == "received":
                bucket.open += 1
            if answered_on is not None and answered_on > answer_due:
                bucket.answered_late += 1
    overdue = session.scalar(select(func.count()).select_from(Complaint).where(
        Complaint.state == "received", Complaint.answer_due < today)) or 0
    return ComplaintStats(tuple(sorted(by_month.values(), key=lambda m: m.month, reverse=True)), totals, overdue)
