"""诚信约谈 use cases (issue #4 §4): the credit office schedules an interview with a subject (time,
place, participants, reason, the related records), the subject sees it on /me, the office records
the minutes (text + files) and then the outcome. Every change goes through ``core.workflow``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from chengxin.attachments.service import AttachmentInfo, Upload, attachments_of, read_attachment, store_attachments
from chengxin.catalog.model import Catalog
from chengxin.core import audit
from chengxin.core.clock import CHINA
from chengxin.core.crypto import KeyRing
from chengxin.core.errors import DomainError, NotFound
from chengxin.core.workflow import OFFICE, SUBJECT, record_transition
from chengxin.notices import access, rules
from chengxin.notices.models import Interview
from chengxin.notices.service import HistoryLine, history_of
from chengxin.people.models import PersonAccount
from chengxin.people.orgs import can_act_for
from chengxin.records.models import Record

__all__ = ["InterviewView", "RelatedRecord", "cancel_interview", "close_interview", "hold_interview",
           "interview_detail", "interviews_for_person", "list_interviews", "read_interview_attachment",
           "reschedule_interview", "schedule_interview"]

OWNER = rules.INTERVIEW.case_type
_NOT_FOUND = ("interview.not_found", "未找到该约谈", "No such interview")
MAX_RECORDS = 50


@dataclass(frozen=True)
class RelatedRecord:
    id: int
    item_name_zh: str
    department_name_zh: str
    decision_date: dt.date
    source_id: str
    status: str


@dataclass(frozen=True)
class InterviewView:
    id: int
    state: str
    state_zh: str
    subject: access.SubjectLine
    scheduled_at: dt.datetime
    place: str
    participants: str
    reason: str
    records: tuple[RelatedRecord, ...]
    minutes: str | None
    outcome: str | None
    outcome_zh: str | None
    outcome_note: str | None
    scheduled_by: str
    due_state: str  # upcoming (within 2 working days) | overdue (time passed, no minutes) | ""
    actions: tuple[str, ...] = ()
    history: tuple[HistoryLine, ...] = ()
    attachments: tuple[AttachmentInfo, ...] = ()


def _related(session: Session, catalog: Catalog, ids: list[int]) -> tuple[RelatedRecord, ...]:
    if not ids:
        return ()
    out = []
    for r in session.scalars(select(Record).where(Record.id.in_(ids)).order_by(Record.decision_date.desc())):
        item = catalog.items.get(r.item_code)
        dept = catalog.departments.get(r.department_code)
        out.append(RelatedRecord(r.id, item.latest.name_zh if item else r.item_code,
                                 dept.name_zh if dept else r.department_code, r.decision_date, r.source_id, r.status))
    return tuple(out)


def _view(session: Session, catalog: Catalog, interview: Interview, today: dt.date, *, role: str, full: bool = False,
          soon_limit: dt.date | None = None) -> InterviewView:
    day = interview.scheduled_at.astimezone(CHINA).date()
    due = ""
    if interview.state == "scheduled":
        if day < today:
            due = "overdue"
        elif soon_limit is not None and day <= soon_limit:
            due = "upcoming"
    return InterviewView(
        id=interview.id, state=interview.state, state_zh=rules.label(rules.INTERVIEW.states, interview.state),
        subject=access.subject_line(session, interview.subject_id), scheduled_at=interview.scheduled_at,
        place=interview.place, participants=interview.participants, reason=interview.reason,
        records=_related(session, catalog, [int(i) for i in interview.record_ids or []]),
        minutes=interview.minutes, outcome=interview.outcome,
        outcome_zh=rules.INTERVIEW_OUTCOMES.get(interview.outcome or "") if interview.outcome else None,
        outcome_note=interview.outcome_note, scheduled_by=interview.scheduled_by, due_state=due,
        actions=tuple(t.action for t in rules.INTERVIEW.actions_for(interview.state, role)),
        history=tuple(history_of(session, rules.INTERVIEW, interview.id, show_actor=role != SUBJECT)) if full else (),
        attachments=tuple(attachments_of(session, OWNER, interview.id)) if full and role != SUBJECT else (),
    )


def _get(session: Session, interview_id: int, *, for_update: bool = False) -> Interview:
    stmt = select(Interview).where(Interview.id == interview_id)
    if for_update:
        stmt = stmt.with_for_update()
    interview = session.scalars(stmt).first()
    if interview is None:
        raise NotFound(*_NOT_FOUND)
    return interview


def _when(scheduled_at: dt.datetime | None) -> dt.datetime:
    if scheduled_at is None:
        raise DomainError("form.required", "请填写约谈时间", "scheduled_at is required", field="scheduled_at")
    if scheduled_at.tzinfo is None:  # a time typed on the portal is Beijing time
        scheduled_at = scheduled_at.replace(tzinfo=CHINA)
    return scheduled_at.astimezone(dt.UTC)


def _check_future(when: dt.datetime, now: dt.datetime) -> None:
    if when <= now:
        raise DomainError("interview.time_past", "约谈时间应晚于当前时间", "The interview must be in the future",
                          field="scheduled_at")


def _record_ids(session: Session, subject_id: int, record_ids: Sequence[int]) -> list[int]:
    ids = sorted({int(i) for i in record_ids})
    if len(ids) > MAX_RECORDS:
        raise DomainError("interview.too_many_records", f"相关记录最多 {MAX_RECORDS} 条", "Too many records",
                          field="record_ids")
    if ids:
        found = set(session.scalars(select(Record.id).where(Record.id.in_(ids), Record.subject_id == subject_id)))
        missing = [i for i in ids if i not in found]
        if missing:
            raise DomainError("interview.record_not_of_subject",
                              f"记录 {'、'.join(map(str, missing))} 不存在或不是该信用主体的记录",
                              f"Records {missing} are not this subject's", field="record_ids")
    return ids


def schedule_interview(session: Session, catalog: Catalog, keyring: KeyRing, *, actor: audit.Actor,
                       scheduled_at: dt.datetime | None, place: str, participants: str, reason: str,
                       ric: str | None = None, uscc: str | None = None, record_ids: Sequence[int] = (),
                       today: dt.date, now: dt.datetime) -> InterviewView:
    """安排约谈: a subject the platform holds, a time to come, where, who takes part, why."""
    access.require_office(actor)
    subject_id = access.find_subject_id(session, keyring, ric=ric, uscc=uscc)
    when = _when(scheduled_at)
    _check_future(when, now)
    place = rules.clean_text(place, field="place", label="约谈地点", limit=200)
    participants = rules.clean_text(participants, field="participants", label="参加人员", limit=1000)
    reason = rules.clean_text(reason, field="reason", label="约谈事由")
    ids = _record_ids(session, subject_id, record_ids)
    interview = Interview(subject_id=subject_id, scheduled_at=when, place=place, participants=participants,
                          reason=reason, record_ids=ids, state=rules.INTERVIEW.initial, scheduled_by=actor.label,
                          created_at=now)
    session.add(interview)
    session.flush()
    interview.state = record_transition(session, rules.INTERVIEW, case_id=interview.id, state=None, action="schedule",
                                        role=OFFICE, actor=actor, now=now, subject_id=subject_id,
                                        detail={"scheduled_at": when.isoformat(), "place": place, "records": ids})
    return _view(session, catalog, interview, today, role=OFFICE, full=True)


def reschedule_interview(session: Session, catalog: Catalog, *, actor: audit.Actor, interview_id: int,
                         scheduled_at: dt.datetime | None, place: str | None, reason: str, today: dt.date,
                         now: dt.datetime) -> InterviewView:
    """改期: a new time (and place), with the reason; the subject sees the new time."""
    access.require_office(actor)
    interview = _get(session, interview_id, for_update=True)
    when = _when(scheduled_at)
    new_place = rules.clean_text(place, field="place", label="约谈地点", limit=200, required=False) or interview.place
    state = record_transition(session, rules.INTERVIEW, case_id=interview.id, state=interview.state,
                              action="reschedule", role=OFFICE, actor=actor, now=now, reason=reason,
                              subject_id=interview.subject_id,
                              detail={"from": interview.scheduled_at.isoformat(), "to": when.isoformat(),
                                      "place": new_place})
    _check_future(when, now)
    interview.state, interview.scheduled_at, interview.place = state, when, new_place
    return _view(session, catalog, interview, today, role=OFFICE, full=True)


def hold_interview(session: Session, catalog: Catalog, keyring: KeyRing, *, actor: audit.Actor, interview_id: int,
                   minutes: str, uploads: Sequence[Upload] = (), today: dt.date, now: dt.datetime) -> InterviewView:
    """记录约谈纪要: after the interview has taken place (text + signed minutes as files)."""
    access.require_office(actor)
    interview = _get(session, interview_id, for_update=True)
    rules.INTERVIEW.check(interview.state, "hold", OFFICE)
    if not rules.can_record_minutes(interview.scheduled_at, now):
        raise DomainError("interview.not_yet", "约谈时间未到，不能记录约谈纪要", "The interview has not taken place yet",
                          status=409)
    minutes = rules.clean_text(minutes, field="minutes", label="约谈纪要")
    interview.state = record_transition(session, rules.INTERVIEW, case_id=interview.id, state=interview.state,
                                        action="hold", role=OFFICE, actor=actor, now=now,
                                        subject_id=interview.subject_id, detail={"attachments": len(uploads)})
    if uploads:
        store_attachments(session, keyring, owner_type=OWNER, owner_id=interview.id, uploads=uploads, actor=actor,
                          now=now)
    interview.minutes = minutes
    return _view(session, catalog, interview, today, role=OFFICE, full=True)


def close_interview(session: Session, catalog: Catalog, *, actor: audit.Actor, interview_id: int, outcome: str,
                    note: str | None, today: dt.date, now: dt.datetime) -> InterviewView:
    """约谈结果: 整改承诺 / 无需处理 / 移交处理, with a note (required when referred: to whom, why)."""
    access.require_office(actor)
    interview = _get(session, interview_id, for_update=True)
    if outcome not in rules.INTERVIEW_OUTCOMES:
        raise DomainError("interview.outcome", "请选择约谈结果：" + "、".join(rules.INTERVIEW_OUTCOMES.values()),
                          "Choose an outcome: " + ", ".join(rules.INTERVIEW_OUTCOMES), field="outcome")
    text = rules.clean_text(note, field="note", label="结果说明", required=outcome == "referred") or None
    interview.state = record_transition(session, rules.INTERVIEW, case_id=interview.id, state=interview.state,
                                        action="close", role=OFFICE, actor=actor, now=now, reason=text,
                                        subject_id=interview.subject_id, detail={"outcome": outcome})
    interview.outcome, interview.outcome_note = outcome, text
    return _view(session, catalog, interview, today, role=OFFICE, full=True)


def cancel_interview(session: Session, catalog: Catalog, *, actor: audit.Actor, interview_id: int, reason: str,
                     today: dt.date, now: dt.datetime) -> InterviewView:
    access.require_office(actor)
    interview = _get(session, interview_id, for_update=True)
    interview.state = record_transition(session, rules.INTERVIEW, case_id=interview.id, state=interview.state,
                                        action="cancel", role=OFFICE, actor=actor, now=now, reason=reason,
                                        subject_id=interview.subject_id)
    return _view(session, catalog, interview, today, role=OFFICE, full=True)


# -- reading --------------------------------------------------------------------------------------

STATE_QUEUES: dict[str, tuple[str, ...]] = {"open": ("scheduled", "held"), "closed": ("closed", "cancelled")}


def list_interviews(session: Session, catalog: Catalog, soon_limit: dt.date, *, actor: audit.Actor, today: dt.date,
                    queue: str | None = None, offset: int = 0, limit: int = 50) -> tuple[list[InterviewView], int]:
    access.require_office(actor)
    condition: ColumnElement[bool] | None = None
    if queue:
        states = STATE_QUEUES.get(queue, (queue,))
        condition = Interview.state.in_(states)
    stmt = select(Interview).order_by(Interview.scheduled_at.desc(), Interview.id.desc())
    count = select(func.count()).select_from(Interview)
    if condition is not None:
        stmt, count = stmt.where(condition), count.where(condition)
    rows = session.scalars(stmt.offset(max(offset, 0)).limit(min(max(limit, 1), 200)))
    return ([_view(session, catalog, i, today, role=OFFICE, soon_limit=soon_limit) for i in rows],
            session.scalar(count) or 0)


def interview_detail(session: Session, catalog: Catalog, *, interview_id: int, today: dt.date,
                     actor: audit.Actor | None = None, account: PersonAccount | None = None) -> InterviewView:
    """For the credit office (everything), or the subject it is with (no internal files)."""
    interview = _get(session, interview_id)
    if account is not None:
        if not can_act_for(session, account, interview.subject_id):
            raise NotFound(*_NOT_FOUND)
        return _view(session, catalog, interview, today, role=SUBJECT, full=True)
    if actor is None:
        raise NotFound(*_NOT_FOUND)
    access.require_office(actor)
    return _view(session, catalog, interview, today, role=OFFICE, full=True)


def interviews_for_person(session: Session, catalog: Catalog, *, account: PersonAccount,
                          today: dt.date) -> list[InterviewView]:
    ids = access.subject_ids_of(session, account)
    rows = session.scalars(select(Interview).where(Interview.subject_id.in_(ids))
                           .order_by(Interview.scheduled_at.desc()))
    return [_view(session, catalog, i, today, role=SUBJECT) for i in rows]


def read_interview_attachment(session: Session, keyring: KeyRing, *, actor: audit.Actor, interview_id: int,
                              attachment_id: int) -> tuple[AttachmentInfo, bytes]:
    access.require_office(actor)
    interview = _get(session, interview_id)
    return read_attachment(session, keyring, owner_type=OWNER, owner_id=interview.id, attachment_id=attachment_id,
                           actor=actor, subject_id=interview.subject_id, purpose="查阅诚信约谈纪要")
