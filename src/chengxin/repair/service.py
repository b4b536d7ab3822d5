"""Credit repair use cases (信用修复, issue #4 §2). One use case, one transaction; every state change
through ``core.workflow`` (checked, written to ``case_event`` and the audit log).

- ``check`` (dry run) and ``apply``: the subject — a person, or the representative of a linked
  organisation — applies for one of its negative records with proof, the signed credit commitment
  and, where the item requires, training, a rectification report, a credit report. The platform
  decides at once (深圳条例第八十一条: 当场受理): accepted with a working-day deadline, or refused with
  every reason; refused applications are kept with their reasons.
- ``decide``: the source department (or the credit office, which relays and answers for the
  platform) approves, rejects with a reason, or extends once. Approval stops public display at once
  (停止公示, within ``stop_display_working_days`` as 上海条例第三十八条 requires).
- ``withdraw``: the subject withdraws an application not yet decided.

Display after repair (RULES §2, 深圳条例第八十二条(一) "不再公开或者共享"): approval sets
``record.display_stopped_on``; from that day the record is no longer displayed, and the disclosure
rules then keep it out of the public file, of consented (requester) reads and of government
sharing (政务共享) for every department alike. The record is kept: the subject sees it in their own
file, and authorised government use goes through the record itself — the source department and the
credit office read it with its whole history (``records.service.get_record``) and through the
repair case. tests/api/test_repair_api.py pins this.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chengxin.attachments.service import AttachmentInfo, Upload, attachments_of, check_uploads, read_attachment
from chengxin.attachments.service import store_attachments as _store
from chengxin.catalog.model import Catalog, ItemVersion
from chengxin.core import audit
from chengxin.core.clock import CHINA
from chengxin.core.crypto import KeyRing
from chengxin.core.errors import DomainError, NotFound, PermissionDenied
from chengxin.core.policy import load_parameters, policy_on
from chengxin.core.workflow import (
    DEPARTMENT,
    OFFICE,
    SUBJECT,
    SYSTEM,
    CaseEvent,
    ConsoleLine,
    Transition,
    Workflow,
    case_history,
    record_transition,
)
from chengxin.disclosure.rules import display_window, is_displayed
from chengxin.people import orgs
from chengxin.people.models import PersonAccount
from chengxin.people.service import actor_for
from chengxin.records.models import Record, RecordVersion
from chengxin.repair import rules
from chengxin.repair.commitment import Commitment, commitment_on
from chengxin.repair.models import RepairApplication
from chengxin.subjects.models import Subject
from chengxin.workdays.rules import WorkCalendar
from chengxin.workdays.service import work_calendar

__all__ = [
    "CASE_TYPE", "FILE_KINDS", "OPEN_STATES", "WORKFLOW", "Materials", "Offer", "RecordSummary", "RepairDetail",
    "RepairView", "applications_for", "apply", "case_record", "check", "console_counts", "decide",
    "detail_for_account", "detail_for_staff", "is_on_serious_list", "offers", "queue", "read_file", "record_summary",
    "staff_role", "withdraw",
]

CASE_TYPE = "repair"
SUBMITTED, REFUSED, ACCEPTED, EXTENDED = "submitted", "refused", "accepted", "extended"
APPROVED, REJECTED, WITHDRAWN = "approved", "rejected", "withdrawn"
OPEN_STATES = (ACCEPTED, EXTENDED)
DECISIONS = ("approve", "reject", "extend")

_DECIDERS = frozenset({DEPARTMENT, OFFICE})
WORKFLOW = Workflow(
    case_type=CASE_TYPE,
    states={SUBMITTED: "已提交", REFUSED: "不予受理", ACCEPTED: "已受理，待决定", EXTENDED: "已延期，待决定",
            APPROVED: "准予修复", REJECTED: "不予修复", WITHDRAWN: "已撤回"},
    initial=SUBMITTED,
    transitions=(
        Transition("apply", "提交信用修复申请", frozenset(), SUBMITTED, frozenset({SUBJECT})),
        # Decided at once by the platform's own check (深圳条例第八十一条: 材料齐全且符合条件的当场受理).
        Transition("refuse", "不予受理", frozenset({SUBMITTED}), REFUSED, frozenset({SYSTEM}), needs_reason=True),
        Transition("accept", "受理并转办", frozenset({SUBMITTED}), ACCEPTED, frozenset({SYSTEM})),
        # 深圳条例第八十二条: extendable once (only from ``accepted``), with the reason the head approved.
        Transition("extend", "延长办理期限", frozenset({ACCEPTED}), EXTENDED, _DECIDERS, needs_reason=True),
        Transition("approve", "准予修复", frozenset({ACCEPTED, EXTENDED}), APPROVED, _DECIDERS),
        Transition("reject", "不予修复", frozenset({ACCEPTED, EXTENDED}), REJECTED, _DECIDERS, needs_reason=True),
        Transition("withdraw", "撤回申请", frozenset({ACCEPTED, EXTENDED}), WITHDRAWN, frozenset({SUBJECT})),
    ),
)

# Uploaded files by what they prove; the attachment's owner type says which.
FILE_KINDS = {"proof": "履约证明材料", "training": "培训结业证明", "rectification": "整改报告",
              "credit_report": "信用报告"}
_OWNER = {kind: f"repair.{kind}" for kind in FILE_KINDS}
_MAX_NOTE = 2000


# -- the serious-dishonesty list seam -------------------------------------------------------------


def is_on_serious_list(session: Session, subject_id: int, today: dt.date) -> bool:
    """Is the subject on the serious-dishonesty list (严重失信主体名单) today? A listed black-list
    entry within its term (lists/); the eligibility rule (``rules.assess``: repair.serious_list)
    refuses repair while it is (浙江条例第三十二条)."""
    from chengxin.lists.service import is_on_black_list

    return is_on_black_list(session, subject_id, today)


# -- views ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepairView:
    """One application as shown in lists (subject, record, state, deadlines, outcome)."""

    id: int
    record_id: int
    subject_id: int
    subject_kind: str
    subject_name: str  # masked for persons
    subject_display_id: str
    department_code: str
    department_name_zh: str
    item_code: str
    item_name_zh: str
    severity: str | None
    decision_date: dt.date
    state: str
    state_zh: str
    applied_at: dt.datetime
    accepted_on: dt.date | None
    due_on: dt.date | None
    answer_due_on: dt.date | None
    due_estimated: bool
    extended_on: dt.date | None
    decided_on: dt.date | None
    decision_reason: str | None
    display_stopped_on: dt.date | None
    refusals: tuple[rules.Reason, ...]
    overdue: bool
    due_soon: bool

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def estimate_warning(self) -> str:
        if not self.due_estimated:
            return ""
        return "注意：期限跨越尚未录入节假日安排的年份，按周一至周五估算，国务院办公厅安排公布后以重新核对的期限为准"


@dataclass(frozen=True)
class HistoryLine:
    action: str
    label_zh: str
    from_state: str | None
    to_state: str
    to_state_zh: str
    role: str
    actor: str
    at: dt.datetime
    reason: str | None


@dataclass(frozen=True)
class RepairDetail:
    view: RepairView
    note: str | None
    training_record: str | None
    commitment_version: str | None
    commitment_sha256: str | None
    commitment_signed_at: dt.datetime | None
    files: tuple[tuple[str, AttachmentInfo], ...]  # (kind, file)
    history: tuple[HistoryLine, ...]
    actions: tuple[Transition, ...] = field(default=())  # what the reader may do now


@dataclass(frozen=True)
class Offer:
    """A record the subject may apply to repair (negative, active, displayed, repairable item)."""

    record_id: int
    subject_id: int
    item_name_zh: str
    repair_from: dt.date
    pending_case_id: int | None


@dataclass(frozen=True)
class RecordSummary:
    """The record applied for, as the application form and the decision page show it."""

    record_id: int
    subject_id: int
    subject_kind: str
    subject_name: str
    subject_display_id: str
    item_code: str
    item_name_zh: str
    department_name_zh: str
    decision_date: dt.date
    severity: str | None
    status: str
    decision_no: str | None
    repair_from: dt.date | None
    display_ends_on: dt.date | None
    display_stopped_on: dt.date | None


@dataclass(frozen=True)
class Materials:
    """What an application brings: files by kind, the commitment ticked, a training record number."""

    proof: Sequence[Upload] = ()
    training: Sequence[Upload] = ()
    rectification: Sequence[Upload] = ()
    credit_report: Sequence[Upload] = ()
    commitment_version: str = ""  # the version of the text the subject was shown and ticked
    commitment_signed: bool = False
    training_record: str = ""
    note: str = ""

    def by_kind(self) -> dict[str, Sequence[Upload]]:
        return {"proof": self.proof, "training": self.training, "rectification": self.rectification,
                "credit_report": self.credit_report}


def _today(now: dt.datetime) -> dt.date:
    return now.astimezone(CHINA).date()


def _department_name(catalog: Catalog, code: str) -> str:
    department = catalog.departments.get(code)
    return department.name_zh if department is not None else code


def _item_version(catalog: Catalog, item_code: str, label: str, decision_date: dt.date) -> ItemVersion | None:
    item = catalog.items.get(item_code)
    if item is None:
        return None
    return next((v for v in item.versions if v.version == label), None) or item.version_on(decision_date)


def _reasons(raw: list[dict[str, Any]] | None) -> tuple[rules.Reason, ...]:
    return tuple(rules.Reason(r["code"], r["message"], r["message_en"], r.get("clause", ""), r.get("kind", ""))
                 for r in raw or [])


def _view(catalog: Catalog, calendar: WorkCalendar | None, app: RepairApplication, record: Record, subject: Subject,
          today: dt.date) -> RepairView:
    item = catalog.items.get(app.item_code)
    open_ = app.state in OPEN_STATES and app.due_on is not None
    return RepairView(
        id=app.id, record_id=app.record_id, subject_id=app.subject_id, subject_kind=subject.kind,
        subject_name=subject.display_name, subject_display_id=subject.display_id,
        department_code=app.department_code, department_name_zh=_department_name(catalog, app.department_code),
        item_code=app.item_code, item_name_zh=item.name_zh if item is not None else app.item_code,
        severity=record.severity, decision_date=record.decision_date, state=app.state,
        state_zh=WORKFLOW.states.get(app.state, app.state), applied_at=app.applied_at, accepted_on=app.accepted_on,
        due_on=app.due_on, answer_due_on=app.answer_due_on, due_estimated=app.due_estimated,
        extended_on=app.extended_on, decided_on=app.decided_on, decision_reason=app.decision_reason,
        display_stopped_on=app.display_stopped_on, refusals=_reasons(app.refusals),
        overdue=open_ and app.due_on is not None and today > app.due_on,
        due_soon=(open_ and calendar is not None and app.due_on is not None
                  and rules.is_due_soon(calendar, app.due_on, today)),
    )


def _views(session: Session, catalog: Catalog, calendar: WorkCalendar | None, apps: Sequence[RepairApplication],
           today: dt.date) -> list[RepairView]:
    if not apps:
        return []
    records = {r.id: r for r in session.scalars(select(Record).where(Record.id.in_({a.record_id for a in apps})))}
    subjects = {s.id: s for s in session.scalars(select(Subject).where(Subject.id.in_({a.subject_id for a in apps})))}
    return [_view(catalog, calendar, a, records[a.record_id], subjects[a.subject_id], today) for a in apps]


def _history(session: Session, case_id: int) -> tuple[HistoryLine, ...]:
    def line(e: CaseEvent) -> HistoryLine:
        label = next((t.label_zh for t in WORKFLOW.transitions if t.action == e.action), e.action)
        return HistoryLine(e.action, label, e.from_state, e.to_state, WORKFLOW.states.get(e.to_state, e.to_state),
                           e.role, e.actor, e.at, e.reason)

    return tuple(line(e) for e in case_history(session, CASE_TYPE, case_id))


def _files(session: Session, case_id: int) -> tuple[tuple[str, AttachmentInfo], ...]:
    return tuple((kind, info) for kind, owner in _OWNER.items() for info in attachments_of(session, owner, case_id))


def _detail(session: Session, catalog: Catalog, app: RepairApplication, role: str, today: dt.date) -> RepairDetail:
    calendar = work_calendar(session)
    [view] = _views(session, catalog, calendar, [app], today)
    return RepairDetail(view, app.note, app.training_record, app.commitment_version, app.commitment_sha256,
                        app.commitment_signed_at, _files(session, app.id), _history(session, app.id),
                        tuple(WORKFLOW.actions_for(app.state, role)))


# -- who acts ---------------------------------------------------------------------------------------


def _is_office(actor: audit.Actor) -> bool:
    return actor.kind == "staff" and actor.role in ("admin", "credit_office")


def staff_role(actor: audit.Actor, department_code: str) -> str:
    """The workflow role of a staff member or API key on a case of ``department_code``'s record:
    the source department (its clerks and API keys) or the credit office; anyone else is refused."""
    if actor.kind in ("staff", "api_key") and actor.department_code == department_code:
        return DEPARTMENT
    if _is_office(actor):
        return OFFICE
    raise PermissionDenied("repair.other_department", "只有该记录的数据提供单位和市信用办可以办理此信用修复申请",
                           "Only the record's source department and the credit office may handle this application")


def _queue_department(actor: audit.Actor) -> str | None:
    """None: the whole city (credit office); else the department whose queue the actor sees."""
    if _is_office(actor):
        return None
    if actor.kind in ("staff", "api_key") and actor.department_code:
        return actor.department_code
    raise PermissionDenied("repair.staff_only", "仅限数据提供单位和市信用办办理信用修复",
                           "Source departments and the credit office only")


def _own_record(session: Session, account: PersonAccount, record_id: int, *, lock: bool = False) -> Record:
    query = select(Record).where(Record.id == record_id)
    record = session.scalar(query.with_for_update() if lock else query)
    if record is None:
        raise NotFound("record.not_found", "记录不存在", "No such record")
    if not orgs.can_act_for(session, account, record.subject_id):
        raise PermissionDenied("repair.not_your_record",
                               "只能为本人或经授权代表的单位的信用记录申请信用修复",
                               "You may apply only for your own records or those of an organisation you represent")
    return record


def _application(session: Session, case_id: int, *, lock: bool = False) -> RepairApplication:
    query = select(RepairApplication).where(RepairApplication.id == case_id)
    app = session.scalar(query.with_for_update() if lock else query)
    if app is None:
        raise NotFound("repair.not_found", "信用修复申请不存在", "No such repair application")
    return app


# -- eligibility --------------------------------------------------------------------------------------


def _cause(fields: dict[str, Any]) -> str | None:
    """The violation type, where the item records one (admin_penalty and others): what "the same
    cause" is compared on (rules.same_cause)."""
    value = fields.get("violation_type")
    return str(value) if value else None


def _facts(session: Session, catalog: Catalog, record: Record, today: dt.date, *, exclude_case: int | None = None,
           ) -> tuple[ItemVersion | None, rules.RecordFacts, rules.SubjectFacts]:
    current = session.get(RecordVersion, record.version_id)
    assert current is not None
    fields = current.fields or {}
    version = _item_version(catalog, record.item_code, current.item_version, record.decision_date)
    facts = rules.RecordFacts(
        item_code=record.item_code, category=record.category, severity=record.severity,
        decision_date=record.decision_date, status=record.status, display_stopped_on=record.display_stopped_on,
        display_from=record.display_from, cause=_cause(fields))
    # 同类信息: the last approved repair of the same catalog item for this subject (RULES §2: 1 year apart).
    last = session.scalar(select(func.max(RepairApplication.decided_on)).where(
        RepairApplication.subject_id == record.subject_id, RepairApplication.item_code == record.item_code,
        RepairApplication.state == APPROVED))
    pending = session.scalar(select(RepairApplication.id).where(
        RepairApplication.record_id == record.id, RepairApplication.state.in_(OPEN_STATES),
        RepairApplication.id != (exclude_case or 0)).limit(1))
    later = session.execute(
        select(Record.department_code, Record.source_id, Record.decision_date, RecordVersion.fields)
        .join(RecordVersion, RecordVersion.id == Record.version_id)
        .where(Record.subject_id == record.subject_id, Record.item_code == record.item_code, Record.id != record.id,
               Record.status == "active", Record.decision_date > record.decision_date)).all()
    penalties = tuple(
        rules.LaterPenalty(row.decision_date, _cause(row.fields or {}),
                           f"{_department_name(catalog, row.department_code)} "
                           f"{(row.fields or {}).get('decision_no') or row.source_id}")
        for row in later)
    subject = rules.SubjectFacts(last_repair_on=last, on_serious_list=is_on_serious_list(session, record.subject_id,
                                                                                          today),
                                 later_penalties=penalties, pending_case_id=pending)
    return version, facts, subject


def _assess(session: Session, catalog: Catalog, record: Record, submission: rules.Submission, today: dt.date, *,
            exclude_case: int | None = None) -> rules.Assessment:
    version, facts, subject = _facts(session, catalog, record, today, exclude_case=exclude_case)
    return rules.assess(version, facts, subject, submission, today=today, policy=policy_on(today).repair,
                        interval_clause=load_parameters()["repair.min_interval_days"].reference)


def check(session: Session, catalog: Catalog, *, account: PersonAccount, record_id: int,
          submission: rules.Submission, today: dt.date) -> rules.Assessment:
    """Dry run: would an application with ``submission`` be accepted today? Nothing is written."""
    return _assess(session, catalog, _own_record(session, account, record_id), submission, today)


def _summary(session: Session, catalog: Catalog, record: Record) -> RecordSummary:
    current = session.get(RecordVersion, record.version_id)
    subject = session.get(Subject, record.subject_id)
    assert current is not None and subject is not None
    version = _item_version(catalog, record.item_code, current.item_version, record.decision_date)
    repair_from = ends_on = None
    if version is not None:
        with contextlib.suppress(KeyError, ValueError):  # no period for this severity: shown without dates
            repair_from, ends_on = display_window(version, record.severity, record.decision_date)
    decision_no = (current.fields or {}).get("decision_no")
    return RecordSummary(
        record.id, record.subject_id, subject.kind, subject.display_name, subject.display_id, record.item_code,
        version.name_zh if version is not None else record.item_code,
        _department_name(catalog, record.department_code), record.decision_date, record.severity, record.status,
        str(decision_no) if decision_no else None, repair_from, ends_on, record.display_stopped_on)


def record_summary(session: Session, catalog: Catalog, *, account: PersonAccount, record_id: int) -> RecordSummary:
    """The record, for the subject (or its representative) about to apply."""
    return _summary(session, catalog, _own_record(session, account, record_id))


def case_record(session: Session, catalog: Catalog, *, case_id: int, actor: audit.Actor) -> RecordSummary:
    """The record of an application, for its source department and the credit office."""
    app = _application(session, case_id)
    staff_role(actor, app.department_code)
    record = session.get(Record, app.record_id)
    assert record is not None
    return _summary(session, catalog, record)


def _submission(materials: Materials, commitment: Commitment) -> rules.Submission:
    return rules.Submission(
        proof_files=len(materials.proof),
        # Signed only when the subject ticked the text in force (a stale form signs nothing).
        commitment_signed=materials.commitment_signed and materials.commitment_version == commitment.version,
        training_files=len(materials.training), training_record=materials.training_record.strip(),
        rectification_files=len(materials.rectification), credit_report_files=len(materials.credit_report))


def apply(session: Session, catalog: Catalog, keyring: KeyRing, *, account: PersonAccount, record_id: int,
          materials: Materials, now: dt.datetime) -> RepairDetail:
    """Apply; accepted or refused at once (both kept). Files are checked (type by content, size,
    count over the whole application) before anything is written."""
    today = _today(now)
    record = _own_record(session, account, record_id, lock=True)
    uploads = [u for files in materials.by_kind().values() for u in files]
    check_uploads(uploads, now)
    note = " ".join(materials.note.split())
    if len(note) > _MAX_NOTE:
        raise DomainError("repair.note_too_long", f"申请说明不能超过 {_MAX_NOTE} 字", f"At most {_MAX_NOTE} characters",
                          field="note")
    training_record = materials.training_record.strip()
    if len(training_record) > 100:
        raise DomainError("repair.training_record_too_long", "培训记录编号不能超过 100 个字符",
                          "Training record number: at most 100 characters", field="training_record")
    commitment = commitment_on(today)
    submission = _submission(materials, commitment)
    assessment = _assess(session, catalog, record, submission, today)
    current = session.get(RecordVersion, record.version_id)
    assert current is not None
    actor = actor_for(account)
    app = RepairApplication(
        record_id=record.id, subject_id=record.subject_id, department_code=record.department_code,
        item_code=record.item_code, item_version=current.item_version, state=SUBMITTED, applied_at=now,
        applied_by=actor.label, note=note or None, training_record=training_record or None, refusals=[],
        commitment_version=commitment.version if submission.commitment_signed else None,
        commitment_sha256=commitment.sha256 if submission.commitment_signed else None,
        commitment_signed_at=now if submission.commitment_signed else None)
    session.add(app)
    session.flush()
    app.state = record_transition(
        session, WORKFLOW, case_id=app.id, state=None, action="apply", role=SUBJECT, actor=actor, now=now,
        subject_id=record.subject_id,
        detail={"record_id": record.id, "on_behalf": record.subject_id != account.subject_id,
                "commitment": app.commitment_version, "files": {k: len(v) for k, v in materials.by_kind().items()}})
    for kind, files in materials.by_kind().items():
        if files:
            _store(session, keyring, owner_type=_OWNER[kind], owner_id=app.id, uploads=files, actor=actor, now=now)
    if not assessment.eligible:
        app.refusals = [{"code": r.code, "message": r.message, "message_en": r.message_en, "clause": r.clause,
                         "kind": r.kind} for r in assessment.reasons]
        app.state = record_transition(
            session, WORKFLOW, case_id=app.id, state=app.state, action="refuse", role=SYSTEM, actor=audit.SYSTEM,
            now=now, subject_id=record.subject_id, reason="；".join(r.message for r in assessment.reasons),
            detail={"codes": [r.code for r in assessment.reasons]})
    else:
        calendar = work_calendar(session)
        deadlines = rules.deadlines_on_acceptance(calendar, today, policy_on(today).repair)
        app.accepted_on, app.due_on, app.answer_due_on = today, deadlines.decide.due, deadlines.answer.due
        app.due_estimated = deadlines.estimated
        app.state = record_transition(
            session, WORKFLOW, case_id=app.id, state=app.state, action="accept", role=SYSTEM, actor=audit.SYSTEM,
            now=now, subject_id=record.subject_id,
            detail={"department": record.department_code, "due_on": app.due_on.isoformat(),
                    "answer_due_on": app.answer_due_on.isoformat(), "estimated": app.due_estimated})
    session.flush()
    return _detail(session, catalog, app, SUBJECT, today)


# -- the decision ------------------------------------------------------------------------------------


def decide(session: Session, catalog: Catalog, *, case_id: int, action: str, reason: str | None,
           actor: audit.Actor, now: dt.datetime) -> RepairDetail:
    """Approve (停止公示 at once), reject with a reason, or extend once with a reason."""
    if action not in DECISIONS:
        raise DomainError("repair.unknown_decision", "决定只能是准予修复、不予修复或延长办理期限",
                          "The decision must be approve, reject or extend", field="action")
    today = _today(now)
    app = _application(session, case_id, lock=True)
    role = staff_role(actor, app.department_code)
    reason = (reason or "").strip() or None
    WORKFLOW.check(app.state, action, role, reason)  # wrong state / role / no reason: refused before anything
    record = session.scalar(select(Record).where(Record.id == app.record_id).with_for_update())
    assert record is not None
    detail: dict[str, Any] = {"record_id": record.id}
    if action == "approve":
        # What may have changed since acceptance: the record revoked, corrected or no longer displayed,
        # a new penalty for the same cause during the process (RULES §2), another repair of the same
        # item approved meanwhile (the 1-year interval), the subject listed as seriously dishonest.
        assessment = _assess(session, catalog, record, _ALL_BROUGHT, today, exclude_case=app.id)
        blocking = assessment.of_kind(rules.RECORD, rules.TIMING, rules.SUBJECT)
        if blocking:
            raise DomainError(
                "repair.no_longer_eligible",
                "不能准予修复：" + "；".join(r.message for r in blocking) + "。请以此为由作出不予修复决定",
                "Cannot approve: " + "; ".join(r.message_en for r in blocking), status=409)
        policy = policy_on(today).repair
        stop_by = rules.stop_display_deadline(work_calendar(session), today, policy)
        if record.display_stopped_on is None or record.display_stopped_on > today:
            record.display_stopped_on = today  # at once: well within the stop_display_working_days limit
        app.display_stopped_on = record.display_stopped_on
        app.decided_on, app.decided_by = today, actor.label
        detail.update(display_stopped_on=today.isoformat(), stop_display_due=stop_by.due.isoformat())
        audit.write(session, actor=actor, action="record.stop_display", subject_id=record.subject_id,
                    object_type="record", object_id=record.id,
                    detail={"reason": "信用修复", "repair_application": app.id, "from": today.isoformat()})
    elif action == "reject":
        app.decided_on, app.decided_by, app.decision_reason = today, actor.label, reason
    else:
        assert app.due_on is not None and app.answer_due_on is not None
        extended = rules.extended_deadline(work_calendar(session), app.due_on, app.answer_due_on,
                                           policy_on(today).repair)
        detail.update(due_before=app.due_on.isoformat(), due_on=extended.due.isoformat())
        app.due_on, app.extended_on = extended.due, today
        app.due_estimated = app.due_estimated or extended.estimated
        app.decision_reason = reason
    app.state = record_transition(session, WORKFLOW, case_id=app.id, state=app.state, action=action, role=role,
                                  actor=actor, now=now, reason=reason, subject_id=app.subject_id, detail=detail)
    session.flush()
    return _detail(session, catalog, app, role, today)


# At decision time the materials were checked at acceptance: only the record and the subject matter.
_ALL_BROUGHT = rules.Submission(proof_files=1, commitment_signed=True, training_files=1, rectification_files=1,
                                credit_report_files=1)


def withdraw(session: Session, catalog: Catalog, *, account: PersonAccount, case_id: int,
             now: dt.datetime) -> RepairDetail:
    app = _application(session, case_id, lock=True)
    if not orgs.can_act_for(session, account, app.subject_id):
        raise PermissionDenied("repair.not_your_application", "只能撤回本人或所代表单位的申请",
                               "You may withdraw only your own applications")
    app.state = record_transition(session, WORKFLOW, case_id=app.id, state=app.state, action="withdraw",
                                  role=SUBJECT, actor=actor_for(account), now=now, subject_id=app.subject_id)
    app.decided_on = _today(now)
    session.flush()
    return _detail(session, catalog, app, SUBJECT, _today(now))


# -- reading --------------------------------------------------------------------------------------


def applications_for(session: Session, catalog: Catalog, account: PersonAccount, today: dt.date) -> list[RepairView]:
    """The applications of the person and of every organisation they represent now, newest first."""
    subject_ids = [s.subject_id for s in orgs.represented_subjects(session, account)]
    apps = list(session.scalars(select(RepairApplication).where(RepairApplication.subject_id.in_(subject_ids))
                                .order_by(RepairApplication.id.desc())))
    return _views(session, catalog, work_calendar(session), apps, today)


def detail_for_account(session: Session, catalog: Catalog, *, account: PersonAccount, case_id: int,
                       today: dt.date) -> RepairDetail:
    app = _application(session, case_id)
    if not orgs.can_act_for(session, account, app.subject_id):
        raise PermissionDenied("repair.not_your_application", "只能查看本人或所代表单位的信用修复申请",
                               "You may see only your own applications")
    return _detail(session, catalog, app, SUBJECT, today)


def detail_for_staff(session: Session, catalog: Catalog, *, case_id: int, actor: audit.Actor,
                     today: dt.date) -> RepairDetail:
    app = _application(session, case_id)
    return _detail(session, catalog, app, staff_role(actor, app.department_code), today)


def queue(session: Session, catalog: Catalog, *, actor: audit.Actor, today: dt.date, state: str = "open",
          limit: int = 500) -> list[RepairView]:
    """The department's cases (its clerks and API keys) or the whole city's (credit office).

    ``state``: ``open`` (accepted or extended, earliest deadline first), ``all``, or one state."""
    department = _queue_department(actor)
    query = select(RepairApplication)
    if department is not None:
        query = query.where(RepairApplication.department_code == department)
    if state == "open":
        query = query.where(RepairApplication.state.in_(OPEN_STATES)).order_by(RepairApplication.due_on,
                                                                                RepairApplication.id)
    else:
        if state != "all":
            if state not in WORKFLOW.states:
                raise DomainError("repair.unknown_state", f"未知的状态“{state}”", f"Unknown state {state!r}",
                                  field="state")
            query = query.where(RepairApplication.state == state)
        query = query.order_by(RepairApplication.id.desc())
    apps = list(session.scalars(query.limit(limit)))
    return _views(session, catalog, work_calendar(session), apps, today)


def read_file(session: Session, keyring: KeyRing, *, case_id: int, attachment_id: int, actor: audit.Actor,
              account: PersonAccount | None = None) -> tuple[AttachmentInfo, bytes]:
    """One uploaded file of an application: for its subject (``account``), its source department and
    the credit office. Every read is audited with its purpose."""
    app = _application(session, case_id)
    if account is not None:
        if not orgs.can_act_for(session, account, app.subject_id):
            raise PermissionDenied("repair.not_your_application", "只能查看本人或所代表单位的申请材料",
                                   "You may read only your own application's files")
        purpose = "信用主体查看本人信用修复申请材料"
    else:
        staff_role(actor, app.department_code)
        purpose = "审核信用修复申请材料"
    for owner in _OWNER.values():
        if any(info.id == attachment_id for info in attachments_of(session, owner, case_id)):
            return read_attachment(session, keyring, owner_type=owner, owner_id=case_id, attachment_id=attachment_id,
                                   actor=actor, subject_id=app.subject_id, purpose=purpose)
    raise NotFound("attachment.not_found", "附件不存在", "No such attachment")


def offers(session: Session, catalog: Catalog, subject_ids: Collection[int], today: dt.date) -> dict[int, Offer]:
    """Records of these subjects one may apply to repair — negative, active, displayed today, of an
    item the catalog says is repairable — by record id (for the per-record action on /me)."""
    from chengxin.disclosure.rules import display_window

    if not subject_ids:
        return {}
    rows = session.execute(
        select(Record.id, Record.subject_id, Record.item_code, Record.severity, Record.decision_date, Record.status,
               Record.display_stopped_on, Record.display_from, RecordVersion.item_version)
        .join(RecordVersion, RecordVersion.id == Record.version_id)
        .where(Record.subject_id.in_(list(subject_ids)), Record.category == "negative", Record.status == "active")
    ).all()
    pending = dict(session.execute(
        select(RepairApplication.record_id, RepairApplication.id)
        .where(RepairApplication.subject_id.in_(list(subject_ids)), RepairApplication.state.in_(OPEN_STATES))).all())
    found: dict[int, Offer] = {}
    for row in rows:
        version = _item_version(catalog, row.item_code, row.item_version, row.decision_date)
        if version is None or not version.repairable:
            continue
        try:
            repair_from, ends_on = display_window(version, row.severity, row.decision_date)
        except (KeyError, ValueError):
            continue
        if is_displayed(row.status, row.display_stopped_on, ends_on, today, row.display_from):
            found[row.id] = Offer(row.id, row.subject_id, version.name_zh, repair_from, pending.get(row.id))
    return found


# -- the staff console ---------------------------------------------------------------------------


def console_counts(session: Session, calendar: WorkCalendar, today: dt.date,
                   department_code: str | None) -> list[ConsoleLine]:
    """办理台: repair applications awaiting a decision — open, due within 2 working days, overdue.
    ``department_code`` None: the whole city (credit office)."""
    query = select(RepairApplication.due_on).where(RepairApplication.state.in_(OPEN_STATES))
    if department_code is not None:
        query = query.where(RepairApplication.department_code == department_code)
    dues = [d for d in session.scalars(query) if d is not None]
    return [ConsoleLine(
        label_zh="信用修复申请（待决定）", open=len(dues),
        due_soon=sum(1 for d in dues if rules.is_due_soon(calendar, d, today)),
        overdue=sum(1 for d in dues if today > d),
        link="/office/repairs" if department_code is None else "/dept/repairs")]
