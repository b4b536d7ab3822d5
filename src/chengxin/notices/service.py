"""信用告知 use cases (issue #4 §4): a department issues a notice before a record of a
notice-required item is displayed; the subject replies (陈述申辩) or shows the obligation is met;
the department records or withdraws. Every state change goes through ``core.workflow`` (case
history + audit) in the caller's transaction — one use case, one transaction.

Also the staff console's lines for notices, interviews and complaints (``console_counts``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from chengxin.attachments.service import AttachmentInfo, Upload, attachments_of, read_attachment, store_attachments
from chengxin.catalog.model import Catalog
from chengxin.core import audit
from chengxin.core.clock import CHINA
from chengxin.core.crypto import KeyRing
from chengxin.core.errors import DomainError, NotFound, PermissionDenied
from chengxin.core.policy import policy_on
from chengxin.core.workflow import (
    DEPARTMENT,
    ROLE_ZH,
    SUBJECT,
    SYSTEM,
    ConsoleLine,
    Workflow,
    case_history,
    record_transition,
)
from chengxin.notices import access, hold, rules
from chengxin.notices.models import Complaint, CreditNotice, Interview
from chengxin.people.models import PersonAccount
from chengxin.people.orgs import can_act_for
from chengxin.people.service import actor_for
from chengxin.records.models import Record
from chengxin.subjects.service import ensure_subject
from chengxin.workdays.rules import Deadline, WorkCalendar, add_working_days

__all__ = [
    "QUEUES", "HistoryLine", "NoticeView", "console_counts", "expire_notices", "issue_notice", "list_notices", "notice_detail",
    "notices_for_person", "read_notice_attachment", "record_notice", "reply_to_notice", "withdraw_notice",
]

OWNER = rules.NOTICE.case_type
_NOT_FOUND = ("notice.not_found", "未找到该信用告知", "No such credit notice")


# -- views ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryLine:
    """One transition of a case, as shown to staff and to the subject."""

    at: dt.datetime
    action: str
    label_zh: str
    from_state: str | None
    to_state: str
    role: str
    actor: str
    reason: str | None


def history_of(session: Session, workflow: Workflow, case_id: int, *, show_actor: bool = True) -> list[HistoryLine]:
    labels = {t.action: t.label_zh for t in workflow.transitions}
    return [HistoryLine(e.at, e.action, labels.get(e.action, e.action), e.from_state, e.to_state, e.role,
                        e.actor if show_actor else access_role_zh(e.role), e.reason)
            for e in case_history(session, workflow.case_type, case_id)]


def access_role_zh(role: str) -> str:
    return ROLE_ZH.get(role, role)


@dataclass(frozen=True)
class NoticeView:
    id: int
    notice_no: str
    state: str  # as of today: a notice past its period reads "expired" even before the job has run
    state_zh: str
    department_code: str
    department_name_zh: str
    item_code: str
    item_name_zh: str
    subject: access.SubjectLine
    source_id: str | None
    facts: str
    obligation: str
    amount: Decimal | None
    issued_on: dt.date
    issued_by: str
    response_due: dt.date
    due_estimated: bool
    due_warning: str
    decide_due: dt.date | None
    reply: str | None
    replied_at: dt.datetime | None
    decision: str | None
    closed_on: dt.date | None
    record_id: int | None
    record_source_id: str | None
    record_status: str | None
    display_from: dt.date | None  # first day the covered record may be displayed; None: held
    due_state: str  # ok | due_soon | overdue (of the deadline that runs now), "" when closed
    actions: tuple[str, ...] = ()  # what the viewer may do now
    history: tuple[HistoryLine, ...] = ()
    attachments: tuple[AttachmentInfo, ...] = ()


def _estimate_warning(calendar: WorkCalendar, start: dt.date, due: dt.date, estimated: bool) -> str:
    if not estimated:
        return ""
    years = tuple(y for y in range(start.year, due.year + 1) if not calendar.is_published(y)) or (due.year,)
    return Deadline(start, 0, due, years).warning_zh()


def _soon_limit(calendar: WorkCalendar, today: dt.date) -> dt.date:
    return add_working_days(calendar, today, rules.DUE_SOON_WORKING_DAYS).due


def _view(session: Session, catalog: Catalog, calendar: WorkCalendar, notice: CreditNotice, today: dt.date, *,
          role: str | None = None, full: bool = False, show_actor: bool = True) -> NoticeView:
    item = catalog.items.get(notice.item_code)
    department = catalog.departments.get(notice.department_code)
    record = session.get(Record, notice.record_id) if notice.record_id is not None else None
    display_from = hold.display_from_of(notice)
    effective = _effective_state(notice, today)
    running = notice.decide_due
    if effective == "issued":
        running = notice.response_due
    elif notice.state == "issued":  # lapsed, the expiry job has not run: the deadline it will set
        running = rules.decide_deadline(calendar, policy_on(notice.response_due), notice.response_due).due
    due = rules.due_state(running, today, _soon_limit(calendar, today)) \
        if running is not None and notice.state in rules.NOTICE_OPEN else ""
    actions: tuple[str, ...] = ()
    if role is not None:
        actions = tuple(t.action for t in rules.NOTICE.actions_for(effective, role))
    return NoticeView(
        id=notice.id, notice_no=notice.notice_no, state=effective,
        state_zh=rules.label(rules.NOTICE.states, effective), department_code=notice.department_code,
        department_name_zh=department.name_zh if department else notice.department_code,
        item_code=notice.item_code, item_name_zh=item.latest.name_zh if item else notice.item_code,
        subject=access.subject_line(session, notice.subject_id), source_id=notice.source_id, facts=notice.facts,
        obligation=notice.obligation, amount=notice.amount, issued_on=notice.issued_on, issued_by=notice.issued_by,
        response_due=notice.response_due, due_estimated=notice.due_estimated,
        due_warning=_estimate_warning(calendar, notice.issued_on, notice.response_due, notice.due_estimated),
        decide_due=notice.decide_due, reply=notice.reply, replied_at=notice.replied_at, decision=notice.decision,
        closed_on=notice.closed_on, record_id=notice.record_id,
        record_source_id=record.source_id if record else None, record_status=record.status if record else None,
        display_from=None if display_from == rules.HELD else display_from, due_state=due, actions=actions,
        history=tuple(history_of(session, rules.NOTICE, notice.id, show_actor=show_actor)) if full else (),
        attachments=tuple(attachments_of(session, OWNER, notice.id)) if full else (),
    )


def _effective_state(notice: CreditNotice, today: dt.date) -> str:
    """A notice whose response period has passed is expired even before the job has marked it."""
    if notice.state == "issued" and today > notice.response_due:
        return "expired"
    return notice.state


# -- who may see a notice ----------------------------------------------------------------------------


def _notice(session: Session, notice_id: int, *, for_update: bool = False) -> CreditNotice:
    stmt = select(CreditNotice).where(CreditNotice.id == notice_id)
    if for_update:
        stmt = stmt.with_for_update()
    notice = session.scalars(stmt).first()
    if notice is None:
        raise NotFound(*_NOT_FOUND)
    return notice


def _staff_notice(session: Session, actor: audit.Actor, notice_id: int, *, for_update: bool = False) -> tuple[CreditNotice, str]:
    """The notice and the actor's role on it: its own department, or the credit office (read)."""
    role = access.staff_role(actor)
    notice = _notice(session, notice_id, for_update=for_update)
    if role == DEPARTMENT and notice.department_code != actor.department_code:
        raise PermissionDenied("notice.other_department", "无权查看或办理其他单位发出的信用告知",
                               "This notice belongs to another department")
    return notice, role


def _person_notice(session: Session, account: PersonAccount, notice_id: int, *, for_update: bool = False) -> CreditNotice:
    """The notice, if it is addressed to the person or an organisation they represent (404 otherwise:
    another's notice is not even confirmed to exist)."""
    notice = _notice(session, notice_id, for_update=for_update)
    if not can_act_for(session, account, notice.subject_id):
        raise NotFound(*_NOT_FOUND)
    return notice


# -- use cases ------------------------------------------------------------------------------------


def _amount(raw: str | Decimal | None) -> Decimal | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = Decimal(str(raw).replace(",", "").strip())
    except InvalidOperation:
        raise DomainError("notice.amount", f"涉及金额不是有效数值：{raw}", "amount is not a number", field="amount") from None
    if not value.is_finite() or value < 0 or value >= Decimal("1e16"):
        raise DomainError("notice.amount", "涉及金额应为不小于 0 的金额（元）", "amount must be >= 0", field="amount")
    return value.quantize(Decimal("0.01"))


def issue_notice(session: Session, catalog: Catalog, keyring: KeyRing, calendar: WorkCalendar, *,
                 actor: audit.Actor, item_code: str, subject_name: str, facts: str, obligation: str,
                 ric: str | None = None, uscc: str | None = None, amount: str | Decimal | None = None,
                 source_id: str | None = None, today: dt.date, now: dt.datetime) -> NoticeView:
    """发出信用告知: by the department that will submit the record, for an item that needs one.

    The response period runs from ``today`` (working days, ``policy_on(today).notice``). If the
    department already submitted the record (held, "须先发出信用告知"), the notice covers it now.
    """
    if access.staff_role(actor) != DEPARTMENT:
        raise PermissionDenied("notice.department_only", "只有数据提供单位可以发出信用告知",
                               "Only a source department issues credit notices")
    department = actor.department_code or ""
    item = catalog.items.get((item_code or "").strip())
    if item is None:
        raise NotFound("item.unknown", f"未知的目录项：{item_code}", f"Unknown catalog item {item_code}", field="item")
    version = item.version_on(today) or item.latest
    if not version.notice_required:
        raise DomainError("notice.not_required", f"目录项“{version.name_zh}”不属于须先行信用告知的信息",
                          f"Catalog item {item.code} does not call for a credit notice", field="item")
    if department not in version.departments:
        raise PermissionDenied("notice.item_not_allowed", f"本单位不是目录项“{version.name_zh}”的数据提供单位",
                               f"Department {department} is not a source of {item.code}")
    facts = rules.clean_text(facts, field="facts", label="告知事实")
    obligation = rules.clean_text(obligation, field="obligation", label="应履行的义务", limit=1000)
    value = _amount(amount)
    source = (source_id or "").strip() or None
    if source is not None and len(source) > 64:
        raise DomainError("notice.source_id", "来源编号不能超过 64 个字符", "source_id too long", field="source_id")
    subject_id = ensure_subject(session, keyring, ric=ric, uscc=uscc, name=subject_name,
                                allowed=version.subject_kinds)
    if source is not None:
        _check_source(session, department, item.code, subject_id, source)
    deadline = rules.notice_deadline(calendar, policy_on(today), today)
    notice = CreditNotice(notice_no=f"tmp-{uuid.uuid4().hex[:24]}", department_code=department, item_code=item.code,
                          subject_id=subject_id, source_id=source, facts=facts, obligation=obligation, amount=value,
                          state=rules.NOTICE.initial, issued_on=today, response_due=deadline.due,
                          due_estimated=deadline.estimated, issued_by=actor.label, created_at=now)
    session.add(notice)
    session.flush()
    notice.notice_no = f"XYGZ{today:%Y%m%d}{notice.id:06d}"  # 告知书编号: date of issue + sequence
    notice.state = record_transition(session, rules.NOTICE, case_id=notice.id, state=None, action="issue",
                                     role=DEPARTMENT, actor=actor, now=now, subject_id=subject_id,
                                     detail={"notice_no": notice.notice_no, "item": item.code,
                                             "response_due": deadline.due.isoformat(),
                                             "estimated": deadline.estimated})
    record = hold.link_held_record(session, notice)
    if record is not None:
        audit.write(session, actor=actor, action="notice.link_record", subject_id=subject_id, object_type=OWNER,
                    object_id=notice.id, detail={"record_id": record.id, "source_id": record.source_id})
    return _view(session, catalog, calendar, notice, today, role=DEPARTMENT, full=True)


def _check_source(session: Session, department: str, item_code: str, subject_id: int, source_id: str) -> None:
    """A source id already submitted must be a record of this item and subject, and not covered yet."""
    record = session.scalars(select(Record).where(Record.department_code == department,
                                                  Record.source_id == source_id)).first()
    if record is None:
        return
    if record.item_code != item_code or record.subject_id != subject_id:
        raise DomainError("notice.source_mismatch", f"来源编号 {source_id} 的记录不是该信用主体的该类信息",
                          f"Record {source_id} is not of this item and subject", field="source_id")
    other = session.scalar(select(CreditNotice.notice_no).where(CreditNotice.record_id == record.id))
    if other is not None:
        raise DomainError("notice.source_covered", f"来源编号 {source_id} 的记录已有信用告知（{other}）",
                          f"Record {source_id} is already covered by notice {other}", field="source_id", status=409)


def _catch_up(session: Session, notice: CreditNotice, calendar: WorkCalendar, today: dt.date, now: dt.datetime) -> None:
    """Mark a notice whose period has passed as expired before anything else is done with it, so no
    late reply slips in whether or not ``chengxin notices expire`` has run."""
    if notice.state == "issued" and today > notice.response_due:
        _expire(session, notice, calendar, now)


def _expire(session: Session, notice: CreditNotice, calendar: WorkCalendar, now: dt.datetime) -> None:
    notice.state = record_transition(session, rules.NOTICE, case_id=notice.id, state=notice.state, action="expire",
                                     role=SYSTEM, actor=audit.SYSTEM, now=now, subject_id=notice.subject_id,
                                     detail={"response_due": notice.response_due.isoformat()})
    notice.decide_due = rules.decide_deadline(calendar, policy_on(notice.response_due), notice.response_due).due


def reply_to_notice(session: Session, catalog: Catalog, keyring: KeyRing, calendar: WorkCalendar, *,
                    account: PersonAccount, notice_id: int, action: str, text: str, uploads: Sequence[Upload] = (),
                    today: dt.date, now: dt.datetime) -> NoticeView:
    """The subject's reply within the period: ``respond`` (陈述申辩) or ``settle`` (说明已履行, e.g. paid,
    with proof). The covered record stays held until the department has weighed the reply."""
    if action not in ("respond", "settle"):
        raise DomainError("workflow.unknown_action", f"未知的操作“{action}”", f"Unknown action {action!r}",
                          field="action")
    notice = _person_notice(session, account, notice_id, for_update=True)
    _catch_up(session, notice, calendar, today, now)
    rules.NOTICE.check(notice.state, action, SUBJECT, "-")  # state first: a late reply is 409, not 400
    label = "陈述申辩意见" if action == "respond" else "履行情况说明"
    text = rules.clean_text(text, field="text", label=label)
    actor = actor_for(account)
    notice.state = record_transition(session, rules.NOTICE, case_id=notice.id, state=notice.state, action=action,
                                     role=SUBJECT, actor=actor, now=now, reason=text, subject_id=notice.subject_id,
                                     detail={"attachments": len(uploads)})
    if uploads:
        store_attachments(session, keyring, owner_type=OWNER, owner_id=notice.id, uploads=uploads, actor=actor, now=now)
    notice.reply, notice.replied_at = text, now
    notice.decide_due = rules.decide_deadline(calendar, policy_on(today), today).due
    hold.sync_record(session, notice)
    return _view(session, catalog, calendar, notice, today, role=SUBJECT, full=True, show_actor=False)


def record_notice(session: Session, catalog: Catalog, calendar: WorkCalendar, *, actor: audit.Actor, notice_id: int,
                  opinion: str | None, today: dt.date, now: dt.datetime) -> NoticeView:
    """决定记入: the department keeps to recording; after a reply it must say why (处理意见). The covered
    record (now or when submitted) is displayed from the day after the period, or from today when a
    reply was weighed later than that."""
    notice, role = _staff_notice(session, actor, notice_id, for_update=True)
    _catch_up(session, notice, calendar, today, now)
    rules.NOTICE.check(notice.state, "record", role)  # state and role first: 409 / 403 before the form
    opinion = rules.clean_text(opinion, field="opinion", label="处理意见", required=False) or None
    if notice.state in ("responded", "settled") and opinion is None:
        raise DomainError("notice.opinion_required", "信用主体已陈述申辩或说明履行情况，请填写是否采纳及理由（处理意见）",
                          "The subject replied: state the department's opinion on the reply", field="opinion")
    notice.state = record_transition(session, rules.NOTICE, case_id=notice.id, state=notice.state, action="record",
                                     role=role, actor=actor, now=now, reason=opinion, subject_id=notice.subject_id)
    notice.decision, notice.closed_on = opinion, today
    hold.sync_record(session, notice)
    return _view(session, catalog, calendar, notice, today, role=role, full=True)


def withdraw_notice(session: Session, catalog: Catalog, calendar: WorkCalendar, *, actor: audit.Actor,
                    notice_id: int, reason: str, today: dt.date, now: dt.datetime) -> NoticeView:
    """撤回: the department will not record (e.g. the reply was accepted, the arrears were paid). A record
    it already submitted under this notice must be revoked first — a withdrawn notice displays nothing."""
    notice, role = _staff_notice(session, actor, notice_id, for_update=True)
    _catch_up(session, notice, calendar, today, now)
    if notice.record_id is not None:
        record = session.get(Record, notice.record_id)
        if record is not None and record.status == "active" and role == DEPARTMENT:
            raise DomainError("notice.record_active",
                              f"该告知已对应报送的记录（来源编号 {record.source_id}），请先撤销该记录再撤回告知",
                              f"Revoke record {record.source_id} before withdrawing its notice", status=409)
    reason = rules.clean_text(reason, field="reason", label="撤回理由", required=False)
    notice.state = record_transition(session, rules.NOTICE, case_id=notice.id, state=notice.state, action="withdraw",
                                     role=role, actor=actor, now=now, reason=reason, subject_id=notice.subject_id)
    notice.decision, notice.closed_on = reason, today
    hold.sync_record(session, notice)
    return _view(session, catalog, calendar, notice, today, role=role, full=True)


def expire_notices(session: Session, calendar: WorkCalendar, *, today: dt.date, now: dt.datetime) -> int:
    """The scheduled job (``chengxin notices expire``): notices whose response period has passed
    without a reply become "expired" and wait for the department's decision. Idempotent. Display
    never waits for it: the covered record's first day of display was fixed at issue."""
    notices = session.scalars(select(CreditNotice).where(CreditNotice.state == "issued",
                                                         CreditNotice.response_due < today)
                              .order_by(CreditNotice.id).with_for_update()).all()
    for notice in notices:
        _expire(session, notice, calendar, now)
    return len(notices)


# -- reading --------------------------------------------------------------------------------------


def notice_detail(session: Session, catalog: Catalog, calendar: WorkCalendar, *, notice_id: int, today: dt.date,
                  actor: audit.Actor | None = None, account: PersonAccount | None = None) -> NoticeView:
    """One notice with its history and files: for its department, the credit office, or its subject."""
    if account is not None:
        notice = _person_notice(session, account, notice_id)
        return _view(session, catalog, calendar, notice, today, role=SUBJECT, full=True, show_actor=False)
    if actor is None:
        raise PermissionDenied("auth.required", "需要登录", "Authentication required")
    notice, role = _staff_notice(session, actor, notice_id)
    return _view(session, catalog, calendar, notice, today, role=role, full=True)


QUEUES = {
    "awaiting_reply": "待信用主体回复",
    "awaiting_decision": "待单位决定",
    "open": "全部在办",
    "closed": "已办结",
}


def _queue_condition(queue: str, today: dt.date) -> ColumnElement[bool]:
    """A queue of the list (a notice past its period is awaiting the department, job or no job)."""
    issued = CreditNotice.state == "issued"
    if queue == "awaiting_reply":
        return and_(issued, CreditNotice.response_due >= today)
    if queue == "awaiting_decision":
        return or_(CreditNotice.state.in_(rules.NOTICE_AWAITING_DEPARTMENT),
                   and_(issued, CreditNotice.response_due < today))
    if queue == "open":
        return CreditNotice.state.in_(rules.NOTICE_OPEN)
    if queue == "closed":
        return CreditNotice.state.in_(("recorded", "withdrawn"))
    if queue in rules.NOTICE.states:
        return CreditNotice.state == queue
    raise DomainError("notice.bad_queue", f"未知的队列：{queue}", f"Unknown queue {queue!r}", field="queue")


def list_notices(session: Session, catalog: Catalog, calendar: WorkCalendar, *, actor: audit.Actor, today: dt.date,
                 queue: str | None = None, offset: int = 0, limit: int = 50) -> tuple[list[NoticeView], int]:
    """A department's notices (the credit office: every department's), newest first, and their total.

    ``queue``: awaiting_reply | awaiting_decision | open | closed, or one state."""
    role = access.staff_role(actor)
    stmt = select(CreditNotice)
    count = select(func.count()).select_from(CreditNotice)
    if role == DEPARTMENT:
        stmt = stmt.where(CreditNotice.department_code == actor.department_code)
        count = count.where(CreditNotice.department_code == actor.department_code)
    if queue:
        condition = _queue_condition(queue, today)
        stmt = stmt.where(condition)
        count = count.where(condition)
    rows = session.scalars(stmt.order_by(CreditNotice.id.desc()).offset(max(offset, 0)).limit(min(max(limit, 1), 200)))
    return [_view(session, catalog, calendar, n, today, role=role) for n in rows], session.scalar(count) or 0


def notices_for_person(session: Session, catalog: Catalog, calendar: WorkCalendar, *, account: PersonAccount,
                       today: dt.date) -> list[NoticeView]:
    """Every notice to the person or an organisation they represent, newest first."""
    ids = access.subject_ids_of(session, account)
    rows = session.scalars(select(CreditNotice).where(CreditNotice.subject_id.in_(ids))
                           .order_by(CreditNotice.id.desc()))
    return [_view(session, catalog, calendar, n, today, role=SUBJECT, show_actor=False) for n in rows]


def read_notice_attachment(session: Session, keyring: KeyRing, *, notice_id: int, attachment_id: int,
                           actor: audit.Actor | None = None,
                           account: PersonAccount | None = None) -> tuple[AttachmentInfo, bytes]:
    """A file of a notice, for whoever may see the notice; the read is audited with its purpose."""
    if account is not None:
        notice = _person_notice(session, account, notice_id)
        reader, purpose = actor_for(account), "本人查看信用告知回复材料"
    elif actor is not None:
        notice, _ = _staff_notice(session, actor, notice_id)
        reader, purpose = actor, "办理信用告知：审查陈述申辩材料"
    else:
        raise PermissionDenied("auth.required", "需要登录", "Authentication required")
    return read_attachment(session, keyring, owner_type=OWNER, owner_id=notice.id, attachment_id=attachment_id,
                           actor=reader, subject_id=notice.subject_id, purpose=purpose)


# -- the staff console (办理台) ---------------------------------------------------------------------


def console_counts(session: Session, calendar: WorkCalendar, today: dt.date,
                   department_code: str | None) -> list[ConsoleLine]:
    """Queues of this feature: notices awaiting the subject's reply (deadline: end of the response
    period) and awaiting the department's decision (deadline: ``notice.decide_working_days``); for
    the credit office also interviews (upcoming; overdue = time passed, no minutes) and complaints
    awaiting an answer. Computed from stored deadlines and ``today``: no job needs to have run."""
    soon = _soon_limit(calendar, today)
    stmt = select(CreditNotice.state, CreditNotice.response_due, CreditNotice.decide_due).where(
        CreditNotice.state.in_(rules.NOTICE_OPEN))
    if department_code is not None:
        stmt = stmt.where(CreditNotice.department_code == department_code)
    reply_dues: list[dt.date | None] = []
    decide_dues: list[dt.date | None] = []
    for state, response_due, decide_due in session.execute(stmt):
        if state == "issued" and today <= response_due:
            reply_dues.append(response_due)
        elif state == "issued":  # the period has passed, the expiry job has not run yet: the same deadline
            decide_dues.append(rules.decide_deadline(calendar, policy_on(response_due), response_due).due)
        else:
            decide_dues.append(decide_due)
    reply = rules.count_due(reply_dues, today, soon)
    decide = rules.count_due(decide_dues, today, soon)
    lines = [
        ConsoleLine("信用告知·待信用主体回复", reply.open, reply.due_soon, reply.overdue,
                    "/dept/notices?queue=awaiting_reply"),
        ConsoleLine("信用告知·待单位决定记入或撤回", decide.open, decide.due_soon, decide.overdue,
                    "/dept/notices?queue=awaiting_decision"),
    ]
    if department_code is not None:
        return lines
    upcoming = overdue = 0
    interviews = session.execute(select(Interview.state, Interview.scheduled_at)
                                 .where(Interview.state.in_(("scheduled", "held")))).all()
    for state, at in interviews:
        if state != "scheduled":
            continue
        day = at.astimezone(CHINA).date()
        overdue += day < today
        upcoming += today <= day <= soon
    lines.append(ConsoleLine("诚信约谈（待约谈或待定结果）", len(interviews), upcoming, overdue, "/office/interviews"))
    answers = rules.count_due(list(session.scalars(select(Complaint.answer_due).where(Complaint.state == "received"))),
                              today, soon)
    lines.append(ConsoleLine("投诉·待答复", answers.open, answers.due_soon, answers.overdue, "/office/complaints"))
    return lines

