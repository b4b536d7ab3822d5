"""异议 use cases: file, check and forward, decide, contest and review, escalate; 本人声明.

Each function works in the caller's transaction (the adapter opens one ``db.write()`` per use case)
and writes its audit trail there: every state change goes through ``core.workflow.record_transition``
(a ``case_event`` and an audit event). A decision that changes the record — a correction (a new
version through the normal ingest, so the ledger has it) or a revocation — runs ``records.service``
inside the same transaction (see :class:`_InTransaction`): the record change and the decision
commit together or not at all.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Engine, case, func, select, update
from sqlalchemy.orm import Session

from chengxin.attachments import service as attachments
from chengxin.catalog.model import Catalog, Category, FieldType, ItemVersion
from chengxin.core import audit
from chengxin.core import workflow as wf
from chengxin.core.clock import CHINA
from chengxin.core.crypto import KeyRing
from chengxin.core.db import Database
from chengxin.core.errors import DomainError, NotFound, PermissionDenied
from chengxin.core.policy import policy_on
from chengxin.disclosure.model import FieldLine, FileItem
from chengxin.disclosure.service import field_lines, own_file
from chengxin.objections import rules
from chengxin.objections.models import Objection, ObjectionNotice, RecordStatement
from chengxin.people.models import PersonAccount
from chengxin.people.orgs import can_act_for, represented_subjects
from chengxin.people.service import actor_for
from chengxin.records import service as records
from chengxin.records.models import Record, RecordVersion
from chengxin.subjects.models import Subject
from chengxin.subjects.service import decrypt_identity
from chengxin.workdays.rules import WorkCalendar
from chengxin.workdays.service import work_calendar

__all__ = [
    "EditableField", "EventView", "NoticeView", "ObjectionDetail", "ObjectionView", "StatementVersion",
    "console_counts", "escalate_overdue", "file_objection", "list_for_account", "notices_for", "queue",
    "read_objection_attachment", "set_statement", "staff_act", "staff_detail", "statement_history",
    "subject_act", "subject_detail", "subject_record", "withdraw_statement",
]

OWNER_TYPE = "objection"  # attachments.owner_type
ACTIVE = "active"


def _beijing(now: dt.datetime) -> dt.date:
    return now.astimezone(CHINA).date()


# -- views -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectionView:
    id: int
    record_id: int
    subject_id: int
    subject_name: str  # masked for persons
    subject_display_id: str
    item_code: str
    item_name_zh: str
    department_code: str
    department_name_zh: str
    source_id: str
    record_version: int
    record_status: str
    decision_date: dt.date
    grounds: str
    grounds_zh: str
    reason: str
    state: str
    state_zh: str
    filed_at: dt.datetime
    filed_on: dt.date
    check_due: dt.date
    forward_due: dt.date
    cap_due: dt.date
    forwarded_on: dt.date | None
    extended_on: dt.date | None
    decided_on: dt.date | None
    contest_due: dt.date | None
    contested_on: dt.date | None
    contest_reason: str | None
    closed_on: dt.date | None
    due_on: dt.date | None  # the deadline of the current stage
    due_estimated: bool
    due_warning: str  # non-empty when the deadline is an estimate (a year without a published schedule)
    urgency: str  # overdue | due_soon | ok
    escalated: bool
    check_note: str | None
    outcome: str | None
    outcome_zh: str | None
    outcome_reason: str | None
    review_outcome: str | None
    review_zh: str | None
    review_reason: str | None
    corrected_version: int | None
    marks_record: bool  # this objection puts (or keeps) the 异议中 mark on its record
    can_contest: bool

    @property
    def record_label(self) -> str:
        return f"{self.item_name_zh}（{self.decision_date.isoformat()}，来源编号 {self.source_id}）"

    @property
    def in_progress(self) -> bool:
        return self.state in rules.IN_PROGRESS

    @property
    def standing_note(self) -> str | None:
        """The note kept with the record after an unverifiable answer (征信业管理条例 Art. 25)."""
        if self.state in rules.IN_PROGRESS:
            return None
        if rules.effective_outcome(self.outcome, self.review_outcome) != rules.UNVERIFIABLE:
            return None
        return (f"{rules.OUTCOME_ZH[rules.UNVERIFIABLE]}：异议（{self.grounds_zh}）{self.reason}；"
                f"核查情况：{self.outcome_reason or '—'}")


@dataclass(frozen=True)
class EventView:
    action: str
    label_zh: str
    from_state: str | None
    to_state: str
    to_state_zh: str
    role: str
    role_zh: str
    actor: str
    at: dt.datetime
    reason: str | None


@dataclass(frozen=True)
class NoticeView:
    id: int
    objection_id: int
    kind: str
    text: str
    created_at: dt.datetime


@dataclass(frozen=True)
class EditableField:
    """A field a correction may change, with its current value (citizen IDs: blank, masked as a hint)."""

    code: str
    label_zh: str
    type: str
    current: str
    hint: str
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ObjectionDetail:
    view: ObjectionView
    role: str  # the caller's role: subject | department | office
    actions: tuple[wf.Transition, ...]  # what the caller may do now
    history: tuple[EventView, ...]
    notices: tuple[NoticeView, ...]
    attachments: tuple[attachments.AttachmentInfo, ...]
    record_fields: tuple[FieldLine, ...]
    editable: tuple[EditableField, ...]  # staff only: for the correction form


@dataclass(frozen=True)
class StatementVersion:
    id: int
    action: str
    text: str | None
    actor: str
    at: dt.datetime


# -- reading ---------------------------------------------------------------------------------------


def _views(session: Session, catalog: Catalog, where: Sequence[Any], today: dt.date,
           order: Sequence[Any] = (), limit: int | None = None) -> list[ObjectionView]:
    query = (select(Objection, Record.status, Record.decision_date, Subject.display_name, Subject.display_id)
             .join(Record, Record.id == Objection.record_id)
             .join(Subject, Subject.id == Objection.subject_id)
             .where(*where)
             .order_by(*(order or (Objection.id.desc(),))))
    if limit is not None:
        query = query.limit(limit)
    rows = session.execute(query).all()
    if not rows:
        return []
    soon = rules.due_soon_limit(work_calendar(session), today)
    return [_view(catalog, obj, status, decision_date, name, display_id, today, soon)
            for obj, status, decision_date, name, display_id in rows]


def _view(catalog: Catalog, o: Objection, record_status: str, decision_date: dt.date, subject_name: str,
          subject_display_id: str, today: dt.date, soon: dt.date) -> ObjectionView:
    item = catalog.items.get(o.item_code)
    department = catalog.departments.get(o.department_code)
    in_progress = o.state in rules.IN_PROGRESS
    return ObjectionView(
        id=o.id, record_id=o.record_id, subject_id=o.subject_id, subject_name=subject_name,
        subject_display_id=subject_display_id, item_code=o.item_code,
        item_name_zh=item.name_zh if item else o.item_code, department_code=o.department_code,
        department_name_zh=department.name_zh if department else o.department_code, source_id=o.source_id,
        record_version=o.record_version, record_status=record_status, decision_date=decision_date,
        grounds=o.grounds, grounds_zh=rules.GROUNDS.get(o.grounds, o.grounds), reason=o.reason, state=o.state,
        state_zh=rules.STATES.get(o.state, o.state), filed_at=o.filed_at, filed_on=o.filed_on, check_due=o.check_due,
        forward_due=o.forward_due, cap_due=o.cap_due, forwarded_on=o.forwarded_on, extended_on=o.extended_on,
        decided_on=o.decided_on, contest_due=o.contest_due, contested_on=o.contested_on,
        contest_reason=o.contest_reason, closed_on=o.closed_on, due_on=o.due_on, due_estimated=o.due_estimated,
        due_warning=rules.estimate_warning(o.due_estimated, o.due_on),
        urgency=rules.urgency(o.due_on, today, soon) if in_progress else "ok",
        escalated=o.escalated_at is not None, check_note=o.check_note, outcome=o.outcome,
        outcome_zh=rules.OUTCOME_ZH.get(o.outcome) if o.outcome else None, outcome_reason=o.outcome_reason,
        review_outcome=o.review_outcome,
        review_zh=rules.REVIEW_ZH.get(o.review_outcome) if o.review_outcome else None,
        review_reason=o.review_reason, corrected_version=o.corrected_version,
        marks_record=rules.marks_record(o.state, o.outcome, o.review_outcome),
        can_contest=o.state == rules.DECIDED and (o.contest_due is None or today <= o.contest_due),
    )


def _one_view(session: Session, catalog: Catalog, objection_id: int, today: dt.date) -> ObjectionView:
    views = _views(session, catalog, [Objection.id == objection_id], today)
    if not views:
        raise NotFound("objection.not_found", "异议不存在", "No such objection")
    return views[0]


def _history(session: Session, objection_id: int) -> tuple[EventView, ...]:
    out = []
    for e in wf.case_history(session, rules.CASE_TYPE, objection_id):
        label = rules.WORKFLOW.transition(e.action).label_zh
        out.append(EventView(e.action, label, e.from_state, e.to_state, rules.STATES.get(e.to_state, e.to_state),
                             e.role, wf.ROLE_ZH.get(e.role, e.role), e.actor, e.at, e.reason))
    return tuple(out)


def _notices(session: Session, where: Sequence[Any], limit: int = 200) -> tuple[NoticeView, ...]:
    rows = session.scalars(select(ObjectionNotice).where(*where).order_by(ObjectionNotice.id.desc()).limit(limit))
    return tuple(NoticeView(n.id, n.objection_id, n.kind, n.text, n.created_at) for n in rows)


def _record_parts(session: Session, catalog: Catalog, record: Record) -> tuple[ItemVersion | None, RecordVersion]:
    current = session.get(RecordVersion, record.version_id)
    assert current is not None
    item = catalog.items.get(record.item_code)
    version = next((v for v in item.versions if v.version == current.item_version), None) if item else None
    return version, current


def _editable(version: ItemVersion | None, current: RecordVersion) -> tuple[EditableField, ...]:
    if version is None:
        return ()
    out = [EditableField("decision_date", "决定日期", "date", current.decision_date.isoformat(), "YYYY-MM-DD")]
    if version.category is Category.NEGATIVE:
        out.append(EditableField("severity", "失信程度", "enum", current.severity or "", "",
                                 tuple((s.value, s.value) for s in version.severities)))
    for spec in version.fields:
        value = (current.fields or {}).get(spec.code)
        if spec.type is FieldType.RIC:
            masked = value.get("masked", "") if isinstance(value, dict) else ""
            out.append(EditableField(spec.code, spec.label_zh, spec.type.value, "",
                                     f"现为 {masked}，不更正请留空" if masked else "不更正请留空"))
            continue
        out.append(EditableField(spec.code, spec.label_zh, spec.type.value, "" if value is None else str(value),
                                 spec.help_zh, tuple((o.value, o.label_zh) for o in spec.options)))
    return tuple(out)


# -- the subject's side ----------------------------------------------------------------------------


def _subject_actor(account: PersonAccount) -> audit.Actor:
    return actor_for(account)


def _record_of_account(session: Session, account: PersonAccount, record_id: int, *, lock: bool = False) -> Record:
    record = session.get(Record, record_id, with_for_update=lock)
    if record is None or not can_act_for(session, account, record.subject_id):
        raise NotFound("objection.record_not_found", "未找到该记录，或该记录不属于您本人或您所代表的单位",
                       "No such record of yours or of an organisation you represent")
    return record


def subject_record(session: Session, catalog: Catalog, keyring: KeyRing, *, account: PersonAccount, record_id: int,
                   today: dt.date) -> FileItem:
    """One record as its subject sees it (for the objection and statement forms)."""
    record = _record_of_account(session, account, record_id)
    for item in own_file(session, catalog, keyring, record.subject_id, today).items:
        if item.record_id == record_id:
            return item
    raise NotFound("objection.record_not_found", "未找到该记录", "No such record")


def file_objection(session: Session, catalog: Catalog, keyring: KeyRing, *, account: PersonAccount, record_id: int,
                   grounds: str, reason: str, uploads: Sequence[attachments.Upload], now: dt.datetime,
                   subject_id: int | None = None) -> ObjectionView:
    """提出异议: the record is marked 异议中 in this same transaction (RULES §3: at once), the deadlines
    are set in working days from today, the evidence is stored encrypted (all files or none)."""
    today = _beijing(now)
    policy = policy_on(today).objection
    grounds = rules.check_grounds(grounds)
    reason = rules.clean_text(reason, field="reason", label_zh="异议理由", max_chars=policy.reason_max_chars)
    attachments.check_uploads(uploads, now)  # a bad file refuses the whole objection before anything is written
    # Row lock (PostgreSQL): two objections filed at once on one record cannot both pass the check below.
    record = _record_of_account(session, account, record_id, lock=True)
    if subject_id is not None and subject_id != record.subject_id:
        raise DomainError("objection.subject_mismatch", "所选信用主体与该记录的主体不一致",
                          "The record is not about the chosen subject", field="subject_id")
    if record.status != ACTIVE:
        raise DomainError("objection.record_not_active", "该记录已撤销，不再公示或共享，不能提出异议",
                          "The record is revoked", status=409)
    open_one = session.execute(select(Objection.id, Objection.state).where(
        Objection.record_id == record.id, Objection.state.in_(sorted(rules.OPEN_STATES)))).first()
    if open_one is not None:
        hint = "如对答复不服，请申请复核" if open_one.state == rules.DECIDED else "请等待办理结果"
        raise DomainError("objection.already_open",
                          f"该记录已有一件异议（编号 {open_one.id}，{rules.STATES[open_one.state]}）尚未办结，"
                          f"不能重复提出；{hint}",
                          f"Objection {open_one.id} on this record is still open", status=409)
    deadlines = rules.filing_deadlines(work_calendar(session), policy, today)
    actor = _subject_actor(account)
    obj = Objection(record_id=record.id, subject_id=record.subject_id, department_code=record.department_code,
                    item_code=record.item_code, source_id=record.source_id, record_version=record.version,
                    grounds=grounds, reason=reason, state=rules.FILED, filed_by=actor.label, filed_at=now,
                    filed_on=today, check_due=deadlines.check.due, forward_due=deadlines.forward.due,
                    cap_due=deadlines.cap.due, due_on=deadlines.forward.due,
                    due_estimated=deadlines.forward.estimated, updated_at=now)
    session.add(obj)
    session.flush()
    obj.state = wf.record_transition(session, rules.WORKFLOW, case_id=obj.id, state=None, action="file",
                                     role=wf.SUBJECT, actor=actor, now=now, subject_id=record.subject_id,
                                     detail={"record_id": record.id, "record_version": record.version,
                                             "grounds": grounds, "files": len(uploads)})
    attachments.store_attachments(session, keyring, owner_type=OWNER_TYPE, owner_id=obj.id, uploads=uploads,
                                  actor=actor, now=now)
    record.under_objection = True
    view = _one_view(session, catalog, obj.id, today)
    _notify(session, obj, "filed", rules.filed_notice(view.record_label, obj.forward_due, obj.cap_due), now)
    return view


def list_for_account(session: Session, catalog: Catalog, account: PersonAccount, today: dt.date) -> list[ObjectionView]:
    """The objections of the person and of the organisations they represent, newest first."""
    ids = [s.subject_id for s in represented_subjects(session, account)]
    return _views(session, catalog, [Objection.subject_id.in_(ids)], today)


def notices_for(session: Session, account: PersonAccount) -> tuple[NoticeView, ...]:
    ids = [s.subject_id for s in represented_subjects(session, account)]
    return _notices(session, [ObjectionNotice.subject_id.in_(ids)])


def _objection_of_account(session: Session, account: PersonAccount, objection_id: int, *,
                          lock: bool = False) -> Objection:
    obj = session.get(Objection, objection_id, with_for_update=lock)
    if obj is None or not can_act_for(session, account, obj.subject_id):
        raise NotFound("objection.not_found", "未找到该异议，或它不属于您本人或您所代表的单位",
                       "No such objection of yours")
    return obj


def subject_detail(session: Session, catalog: Catalog, *, account: PersonAccount, objection_id: int,
                   today: dt.date) -> ObjectionDetail:
    obj = _objection_of_account(session, account, objection_id)
    view = _one_view(session, catalog, obj.id, today)
    actions = tuple(t for t in rules.WORKFLOW.actions_for(obj.state, wf.SUBJECT)
                    if t.action != "contest" or view.can_contest)
    return ObjectionDetail(view, wf.SUBJECT, actions, _history(session, obj.id),
                           _notices(session, [ObjectionNotice.objection_id == obj.id]),
                           tuple(attachments.attachments_of(session, OWNER_TYPE, obj.id)), (), ())


def subject_act(session: Session, catalog: Catalog, keyring: KeyRing, *, account: PersonAccount, objection_id: int,
                action: str, reason: str | None, now: dt.datetime) -> ObjectionView:
    """The subject withdraws an objection, contests the answer (to the credit office), or accepts it."""
    obj = _objection_of_account(session, account, objection_id, lock=True)
    # Any other action is the staff's: the state machine refuses it with the role named (403).
    _apply(session, catalog, keyring, obj, action=action, role=wf.SUBJECT, actor=_subject_actor(account),
           reason=reason, corrections=None, now=now)
    return _one_view(session, catalog, obj.id, _beijing(now))


# -- the staff's side (department, credit office) ---------------------------------------------------


def _staff_role(actor: audit.Actor, obj: Objection) -> str:
    role = rules.staff_role(actor, obj.department_code)
    if role is None:
        raise PermissionDenied("objection.other_department", "只能查看和办理本单位报送记录的异议",
                               "Only the source department and the credit office may handle this objection")
    return role


def queue(session: Session, catalog: Catalog, *, actor: audit.Actor, today: dt.date,
          states: Collection[str] | None = None, department: str | None = None, overdue_only: bool = False,
          limit: int = 500) -> list[ObjectionView]:
    """A queue, overdue first, then by deadline: a department sees only its own records' objections,
    the credit office every department's (optionally one)."""
    where: list[Any] = []
    if actor.kind == "staff" and actor.role in ("admin", "credit_office"):
        if department:
            where.append(Objection.department_code == department)
    elif actor.kind in ("staff", "api_key") and actor.department_code:
        where.append(Objection.department_code == actor.department_code)
    else:
        raise PermissionDenied("objection.staff_only", "仅限数据提供单位和市信用办查看异议",
                               "Source departments and the credit office only")
    if states:
        unknown = set(states) - set(rules.STATES)
        if unknown:
            raise DomainError("objection.bad_state", f"未知的状态：{'、'.join(sorted(unknown))}",
                              f"Unknown states {sorted(unknown)}", field="state")
        where.append(Objection.state.in_(sorted(states)))
    if overdue_only:
        where += [Objection.state.in_(sorted(rules.IN_PROGRESS)), Objection.due_on < today]
    in_progress = Objection.state.in_(sorted(rules.IN_PROGRESS))
    order = (case((in_progress & (Objection.due_on < today), 0), (in_progress, 1), else_=2),
             Objection.due_on.is_(None), Objection.due_on, Objection.id)
    return _views(session, catalog, where, today, order=order, limit=limit)


def staff_detail(session: Session, catalog: Catalog, *, actor: audit.Actor, objection_id: int,
                 today: dt.date) -> ObjectionDetail:
    """The case as the department or the office handles it: the record's fields, the evidence, the
    history and what the caller may do now. The read is audited (it shows the subject's data)."""
    obj = session.get(Objection, objection_id)
    if obj is None:
        raise NotFound("objection.not_found", "异议不存在", "No such objection")
    role = _staff_role(actor, obj)
    record = session.get_one(Record, obj.record_id)
    version, current = _record_parts(session, catalog, record)
    audit.write(session, actor=actor, action="objection.read", subject_id=obj.subject_id, object_type=rules.CASE_TYPE,
                object_id=obj.id, purpose="异议办理")
    return ObjectionDetail(
        _one_view(session, catalog, obj.id, today), role, tuple(rules.WORKFLOW.actions_for(obj.state, role)),
        _history(session, obj.id), _notices(session, [ObjectionNotice.objection_id == obj.id]),
        tuple(attachments.attachments_of(session, OWNER_TYPE, obj.id)),
        field_lines(version, current.fields or {}) if version else (), _editable(version, current))


def staff_act(session: Session, catalog: Catalog, keyring: KeyRing, *, actor: audit.Actor, objection_id: int,
              action: str, reason: str | None, corrections: Mapping[str, Any] | None, now: dt.datetime) -> ObjectionView:
    """A department's decision (correct / revoke / uphold / unverifiable / extend) or the office's act
    (forward after the check, correct at the check, review: confirm / correct / revoke)."""
    obj = session.get(Objection, objection_id, with_for_update=True)
    if obj is None:
        raise NotFound("objection.not_found", "异议不存在", "No such objection")
    role = _staff_role(actor, obj)
    _apply(session, catalog, keyring, obj, action=action, role=role, actor=actor, reason=reason,
           corrections=corrections, now=now)
    return _one_view(session, catalog, obj.id, _beijing(now))


def read_objection_attachment(session: Session, keyring: KeyRing, *, objection_id: int, attachment_id: int,
                              actor: audit.Actor, account: PersonAccount | None = None
                              ) -> tuple[attachments.AttachmentInfo, bytes]:
    """An evidence file, to the subject (or its representative), the source department and the office
    only; each read is audited with its purpose."""
    if account is not None:
        obj = _objection_of_account(session, account, objection_id)
        purpose = "信用主体查看本人异议材料"
    else:
        found = session.get(Objection, objection_id)
        if found is None:
            raise NotFound("objection.not_found", "异议不存在", "No such objection")
        obj = found
        role = _staff_role(actor, obj)
        purpose = "异议办理：数据提供单位核查" if role == wf.DEPARTMENT else "异议办理：市信用办核查或复核"
    return attachments.read_attachment(session, keyring, owner_type=OWNER_TYPE, owner_id=obj.id,
                                       attachment_id=attachment_id, actor=actor, subject_id=obj.subject_id,
                                       purpose=purpose)


# -- one transition ---------------------------------------------------------------------------------


class _InTransaction(Database):
    """The caller's transaction offered as a :class:`Database`. ``records.service``'s use cases (ingest,
    revoke) open ``db.write()`` themselves; run through this they join the objection's transaction in a
    savepoint, so a correction or revocation and the decision that orders it commit together."""

    def __init__(self, session: Session) -> None:  # no engine or factories of its own
        self.engine = cast(Engine, session.get_bind())
        self._session = session

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._session.begin_nested():
            yield self._session

    @contextmanager
    def read(self, *, snapshot: bool = True) -> Iterator[Session]:  # noqa: ARG002 — always the one session
        yield self._session


def _base_row(session: Session, keyring: KeyRing, record: Record, current: RecordVersion) -> dict[str, Any]:
    """The record as its department would submit it again (template columns, identifiers in clear)."""
    subject = session.get_one(Subject, record.subject_id)
    identifier, name = decrypt_identity(keyring, subject)
    row: dict[str, Any] = {"source_id": record.source_id, "decision_date": current.decision_date.isoformat(),
                           "subject_name": name, ("ric" if subject.kind == "person" else "uscc"): identifier}
    if current.severity:
        row["severity"] = current.severity
    for code, value in (current.fields or {}).items():
        if isinstance(value, dict) and "cipher" in value:
            # A citizen ID inside the record (records.reader.protect_identifiers): bound to record and field.
            value = keyring.decrypt(base64.b64decode(value["cipher"]), int(value["key_version"]),
                                    f"record:{record.department_code}:{record.source_id}:{code}".encode())
        row[code] = value
    return row


def _correct(session: Session, catalog: Catalog, keyring: KeyRing, obj: Objection, *, actor: audit.Actor, role: str,
             corrections: Mapping[str, Any] | None, today: dt.date) -> int:
    """A correction is a re-submission of the record with the corrected values through the normal
    ingest: validated against the catalog, a new version in the ledger. Returns the new version."""
    record = session.get_one(Record, obj.record_id)
    version, current = _record_parts(session, catalog, record)
    if version is None:
        raise DomainError("correction.item_unknown", "该记录的目录项版本已不在目录中，无法在线更正",
                          "The record's catalog item version is no longer known", status=409)
    editable = {f.code for f in _editable(version, current)}
    row = rules.merge_correction(_base_row(session, keyring, record, current), corrections or {}, editable)
    # The department submits in its own name; the office corrects the platform's copy as the platform
    # (the ingest accepts only the department or the system), the office member named in the case event.
    submitter = actor if role == wf.DEPARTMENT else audit.Actor(
        kind="system", name=f"objection-{obj.id}/{actor.label}"[:100], department_code=record.department_code)
    receipt = records.ingest(_InTransaction(session), [records.ApiRow(1, row)], catalog=catalog, keyring=keyring,
                             department=record.department_code, item_code=record.item_code, actor=submitter,
                             channel="objection", today=today)
    if receipt.rejected:
        problems = receipt.rejections[0].problems if receipt.rejections else ()
        raise DomainError("correction.invalid",
                          "更正后的内容未通过校验：" + "；".join(p.message for p in problems),
                          "The corrected record is invalid: " + "; ".join(p.message_en for p in problems),
                          field=problems[0].field if problems else "corrections")
    if not receipt.corrected:
        raise DomainError("correction.unchanged", "更正后的内容与原记录相同：请填写需要更正的字段，或选择其他处理方式",
                          "The corrected values are the same as the record's", field="corrections", status=409)
    session.expire(record)
    return session.get_one(Record, obj.record_id).version


def _decided(obj: Objection, calendar: WorkCalendar, today: dt.date) -> None:
    policy = policy_on(obj.filed_on).objection
    deadline = rules.contest_deadline(calendar, policy, today)
    obj.decided_on, obj.contest_due = today, deadline.due
    obj.due_on, obj.due_estimated = deadline.due, deadline.estimated


def _closed(obj: Objection, today: dt.date) -> None:
    obj.closed_on, obj.due_on, obj.due_estimated = today, None, False


def _apply(session: Session, catalog: Catalog, keyring: KeyRing, obj: Objection, *, action: str, role: str,
           actor: audit.Actor, reason: str | None, corrections: Mapping[str, Any] | None, now: dt.datetime) -> None:
    today = _beijing(now)
    # Deadlines and limits in force when the objection was filed govern the whole case.
    policy = policy_on(obj.filed_on).objection
    if reason is not None and reason.strip():
        reason = rules.clean_text(reason, field="reason", label_zh="理由", max_chars=policy.reason_max_chars)
    else:
        reason = None
    # Checked before the record is touched: a wrong state, role or a missing reason changes nothing.
    rules.WORKFLOW.check(obj.state, action, role, reason)
    if action == "contest":
        rules.check_contest_window(obj.contest_due, today)
    detail: dict[str, Any] = {"record_id": obj.record_id}
    # The record changes first (it takes the ledger lock, then the record's row, like every ingest).
    if action in rules.CORRECTING:
        obj.corrected_version = _correct(session, catalog, keyring, obj, actor=actor, role=role,
                                         corrections=corrections, today=today)
        detail["record_version"] = obj.corrected_version
    elif action in rules.REVOKING:
        assert reason is not None  # needs_reason
        records.revoke_record(_InTransaction(session), keyring=keyring, record_id=obj.record_id, actor=actor,
                              reason=f"异议处理（编号 {obj.id}）：{reason}")
    from_state = obj.state
    obj.state = wf.record_transition(session, rules.WORKFLOW, case_id=obj.id, state=from_state, action=action,
                                     role=role, actor=actor, now=now, reason=reason, subject_id=obj.subject_id,
                                     detail=detail)
    obj.updated_at = now
    calendar = work_calendar(session)
    notice: tuple[str, str] | None = None
    if action == "forward":
        obj.forwarded_on, obj.check_note = today, reason
        deadline = rules.decide_deadline(calendar, policy, obj.filed_on, today)
        obj.due_on, obj.due_estimated = deadline.due, deadline.estimated
    elif action == "extend":
        obj.extended_on = today
        deadline = rules.extended_deadline(calendar, policy, obj.filed_on)
        obj.due_on, obj.due_estimated = deadline.due, deadline.estimated
    elif action in rules.OUTCOME_OF and action != "withdraw":
        if action == "check_correct":
            obj.check_note = reason
        obj.outcome, obj.outcome_reason, obj.outcome_by = rules.OUTCOME_OF[action], reason, actor.label
        _decided(obj, calendar, today)
        assert obj.contest_due is not None
        notice = ("decided", rules.outcome_notice(_label(session, catalog, obj), obj.outcome, reason, obj.contest_due))
    elif action == "withdraw":
        obj.outcome, obj.outcome_by = rules.WITHDRAWN, actor.label
        _closed(obj, today)
    elif action == "contest":
        obj.contested_on, obj.contest_reason = today, reason
        deadline = rules.review_deadline(calendar, policy, today)
        obj.due_on, obj.due_estimated = deadline.due, deadline.estimated
    elif action in rules.REVIEW_OF:
        obj.review_outcome, obj.review_reason, obj.review_by = rules.REVIEW_OF[action], reason, actor.label
        _closed(obj, today)
        notice = ("reviewed", rules.review_notice(_label(session, catalog, obj), obj.review_outcome, reason))
    elif action in ("accept", "finalize"):
        _closed(obj, today)
    elif action in rules.ESCALATION.values():
        obj.escalated_at = now
    session.flush()
    _refresh_mark(session, obj.record_id)
    if notice is not None:
        _notify(session, obj, notice[0], notice[1], now)


def _label(session: Session, catalog: Catalog, obj: Objection) -> str:
    item = catalog.items.get(obj.item_code)
    decision_date = session.scalar(select(Record.decision_date).where(Record.id == obj.record_id))
    name = item.name_zh if item else obj.item_code
    return f"{name}（{decision_date.isoformat() if decision_date else ''}，来源编号 {obj.source_id}）"


def _refresh_mark(session: Session, record_id: int) -> None:
    """异议中 on the record: while any objection to it is being handled, and for good after one answered
    as unverifiable (征信业管理条例 Art. 25); cleared otherwise."""
    rows = session.execute(select(Objection.state, Objection.outcome, Objection.review_outcome)
                           .where(Objection.record_id == record_id)).all()
    marked = any(rules.marks_record(state, outcome, review) for state, outcome, review in rows)
    session.execute(update(Record).where(Record.id == record_id).values(under_objection=marked)
                    .execution_options(synchronize_session="fetch"))


def _notify(session: Session, obj: Objection, kind: str, text: str, now: dt.datetime) -> None:
    """告知: what the subject is told is stored (shown on /me and in the API), not only sent."""
    session.add(ObjectionNotice(objection_id=obj.id, subject_id=obj.subject_id, kind=kind, text=text, created_at=now))


# -- deadlines: escalation and the console -----------------------------------------------------------


@dataclass(frozen=True)
class Escalated:
    escalated: tuple[int, ...]
    finalized: tuple[int, ...]


def escalate_overdue(session: Session, catalog: Catalog, keyring: KeyRing, *, now: dt.datetime) -> Escalated:
    """The scheduled job: escalate every case past its current deadline (a SYSTEM transition; it then
    shows as escalated on the credit office's console) and close answers no longer contestable.
    The console counts overdue cases on the query path, so nothing depends on this having run."""
    today = _beijing(now)
    escalated: list[int] = []
    finalized: list[int] = []
    due = session.scalars(select(Objection).where(
        Objection.state.in_(sorted(set(rules.ESCALATION) | {rules.DECIDED})), Objection.due_on < today)
        .order_by(Objection.id).with_for_update())
    for obj in list(due):
        action = rules.escalation(obj.state, obj.due_on, today)
        if action is None and rules.finalizes(obj.state, obj.contest_due, today):
            action = "finalize"
        if action is None:
            continue
        _apply(session, catalog, keyring, obj, action=action, role=wf.SYSTEM, actor=audit.SYSTEM, reason=None,
               corrections=None, now=now)
        (finalized if action == "finalize" else escalated).append(obj.id)
    return Escalated(tuple(escalated), tuple(finalized))


# Console lines of the credit office (department_code None) and of a department.
_OFFICE_LINES = (("异议待核查转办", rules.CHECK_STAGE, "/office/objections?stage=check"),
                 ("异议待部门处理", rules.DEPARTMENT_STAGE, "/office/objections?stage=department"),
                 ("异议待复核", rules.REVIEW_STAGE, "/office/objections?stage=review"))
_DEPARTMENT_LINES = (("异议待本单位处理", rules.DEPARTMENT_STAGE, "/dept/objections"),)


def console_counts(session: Session, calendar: WorkCalendar, today: dt.date,
                   department_code: str | None) -> list[wf.ConsoleLine]:
    """Open, due within 2 working days, overdue — from the stored deadlines and today (query path)."""
    soon = rules.due_soon_limit(calendar, today)
    query = (select(Objection.state, func.count(),
                    func.sum(case((Objection.due_on < today, 1), else_=0)),
                    func.sum(case(((Objection.due_on >= today) & (Objection.due_on <= soon), 1), else_=0)))
             .where(Objection.state.in_(sorted(rules.IN_PROGRESS))).group_by(Objection.state))
    if department_code is not None:
        query = query.where(Objection.department_code == department_code)
    by_state = {state: (int(n), int(late or 0), int(soon_n or 0)) for state, n, late, soon_n in session.execute(query)}
    lines = []
    for label, states, link in (_OFFICE_LINES if department_code is None else _DEPARTMENT_LINES):
        counts = [by_state.get(s, (0, 0, 0)) for s in states]
        lines.append(wf.ConsoleLine(label, sum(c[0] for c in counts), sum(c[2] for c in counts),
                                    sum(c[1] for c in counts), link))
    return lines


# -- 本人声明 ---------------------------------------------------------------------------------------


def set_statement(session: Session, *, account: PersonAccount, record_id: int, text: str,
                  now: dt.datetime) -> str:
    """Attach or replace the subject's statement on one of its records; each version is kept."""
    policy = policy_on(_beijing(now)).objection
    record = _record_of_account(session, account, record_id, lock=True)
    text = rules.clean_text(text, field="statement", label_zh="本人声明", max_chars=policy.statement_max_chars)
    if record.statement == text:
        return text
    action = "replace" if record.statement else "set"
    actor = _subject_actor(account)
    session.add(RecordStatement(record_id=record.id, subject_id=record.subject_id, action=action, text=text,
                                actor=actor.label, at=now))
    record.statement = text
    audit.write(session, actor=actor, action=f"statement.{action}", subject_id=record.subject_id,
                object_type="record", object_id=record.id, detail={"chars": len(text)})
    return text


def withdraw_statement(session: Session, *, account: PersonAccount, record_id: int, now: dt.datetime) -> None:
    record = _record_of_account(session, account, record_id, lock=True)
    if record.statement is None:
        raise DomainError("statement.none", "该记录没有本人声明", "The record has no statement", status=409)
    actor = _subject_actor(account)
    session.add(RecordStatement(record_id=record.id, subject_id=record.subject_id, action="withdraw", text=None,
                                actor=actor.label, at=now))
    record.statement = None
    audit.write(session, actor=actor, action="statement.withdraw", subject_id=record.subject_id,
                object_type="record", object_id=record.id)


def statement_history(session: Session, *, account: PersonAccount, record_id: int) -> list[StatementVersion]:
    record = _record_of_account(session, account, record_id)
    rows = session.scalars(select(RecordStatement).where(RecordStatement.record_id == record.id)
                           .order_by(RecordStatement.id))
    return [StatementVersion(r.id, r.action, r.text, r.actor, r.at) for r in rows]
