"""Credit commitment use cases (信用承诺, E-III.1; 深圳条例第五十七条至第六十四条).

- Signing, through three channels: a person signed in (``sign_online``: for themself, or for an
  organisation they are the linked representative of — channel ``representative``), or a department
  recording a commitment signed on paper (``record_paper``: its clerk or API key, with the paper's
  document number). What is kept: template code + version, the filled text and its SHA-256, the
  matter, the accepting department, the signer, signed_at, valid_until, a public number.
- Public display (信用承诺公示): ``public_search`` / ``public_detail`` — organisations' commitments,
  and persons' where the template says so (masked; the text itself only ever holds masked forms).
- Breach (``record_breach``): the accepting department or the credit office records the finding →
  state ``breached`` and a negative record of catalog item ``commitment_breach`` submitted through
  the one record path (``records.service.ingest``), with a source id derived from the commitment
  number — so a repeat is "unchanged", the record is in the subject's file, objections and repair
  apply to it as to any record, and the lists' criteria can count it.
- Fulfilment (``fulfil``), withdrawal by the subject before it is used (``withdraw``, 深圳条例第六十二条)
  and expiry (``expire_due``; a reader sees ``expired`` at once anyway, ``rules.effective_state``).

Every state change goes through ``core.workflow`` (checked, in ``case_event`` and the audit log).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from chengxin.catalog.model import Catalog
from chengxin.commitments import rules
from chengxin.commitments.models import Commitment
from chengxin.commitments.templates import Template, TemplateVersion, templates
from chengxin.core import audit
from chengxin.core.clock import CHINA
from chengxin.core.crypto import KeyRing
from chengxin.core.db import Database
from chengxin.core.errors import DomainError, InvalidIdentifier, NotFound, PermissionDenied
from chengxin.core.identifiers import normalize_uscc
from chengxin.core.signed_text import text_sha256
from chengxin.core.workflow import DEPARTMENT, OFFICE, SUBJECT, SYSTEM, Transition, Workflow, record_transition
from chengxin.people import orgs
from chengxin.people.models import PersonAccount
from chengxin.people.service import actor_for
from chengxin.subjects.models import Subject
from chengxin.subjects.service import decrypt_identity, find_subject

__all__ = [
    "BREACH_ITEM", "CASE_TYPE", "WORKFLOW", "BreachIn", "CommitmentView", "PaperIn", "breach_source_id",
    "commitments_for_account", "commitments_of_subject", "expire_due", "fulfil", "public_detail", "public_search",
    "record_breach", "record_paper", "sign_online", "staff_detail", "withdraw",
]

CASE_TYPE = "commitment"
BREACH_ITEM = "commitment_breach"  # the catalog item a breach becomes
OFFICE_DEPARTMENT = "credit_office"  # the department code the credit office submits records as
CHANNEL_ZH = {"online": "网上签署", "representative": "经办人代表单位签署", "paper": "纸质承诺书（受理单位录入）"}
SEVERITIES = ("general", "serious")
MAX_FACTS = 2000  # the catalog field commitment_breach.breach holds 2000
MAX_MEASURES = 1000

_HANDLERS = frozenset({DEPARTMENT, OFFICE})
WORKFLOW = Workflow(
    case_type=CASE_TYPE,
    states=dict(rules.STATES_ZH),
    initial=rules.SIGNED,
    transitions=(
        # A subject signs online; a department (or the office for it) records one signed on paper.
        Transition("sign", "签署信用承诺", frozenset(), rules.SIGNED, frozenset({SUBJECT, DEPARTMENT, OFFICE})),
        Transition("fulfil", "确认已履行承诺", frozenset({rules.SIGNED, rules.EXPIRED}), rules.FULFILLED, _HANDLERS),
        # 深圳条例第六十四条: 核查或者日常监管中发现承诺不实或者未履行承诺 — also after a fulfilment was
        # confirmed (a false statement found later) or after the validity ended (found late).
        Transition("breach", "认定违反信用承诺", frozenset({rules.SIGNED, rules.EXPIRED, rules.FULFILLED}),
                   rules.BREACHED, _HANDLERS, needs_reason=True),
        Transition("expire", "有效期届满", frozenset({rules.SIGNED}), rules.EXPIRED, frozenset({SYSTEM})),
        # 深圳条例第六十二条第二款: 办结前，有合理理由的，可以撤回承诺.
        Transition("withdraw", "撤回信用承诺", frozenset({rules.SIGNED}), rules.WITHDRAWN, frozenset({SUBJECT}),
                   needs_reason=True),
    ),
)


def _today(now: dt.datetime) -> dt.date:
    return now.astimezone(CHINA).date()


# -- views ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommitmentView:
    no: str
    subject_id: int
    subject_kind: str
    subject_name: str  # masked for persons
    subject_display_id: str  # masked for persons
    template_code: str
    kind_zh: str
    template_name_zh: str
    template_version: str
    basis: str
    matter: str
    text: str
    text_sha256: str
    department_code: str
    department_name_zh: str
    channel: str
    channel_zh: str
    document_no: str | None
    signed_at: dt.datetime
    signed_on: dt.date
    valid_until: dt.date | None
    public: bool
    state: str  # as a reader sees it today (``expired`` past validity)
    state_zh: str
    state_on: dt.date | None
    breach_facts: str | None
    breach_document_no: str | None
    breach_department_name_zh: str | None
    breach_record_id: int | None

    @property
    def hash_ok(self) -> bool:
        """The kept hash is that of the kept text (what the detail page lets anyone check)."""
        return text_sha256(self.text) == self.text_sha256


def _department_name(catalog: Catalog, code: str | None) -> str | None:
    if code is None:
        return None
    department = catalog.departments.get(code)
    return department.name_zh if department is not None else code


def _view(catalog: Catalog, row: Commitment, subject: Subject, today: dt.date) -> CommitmentView:
    template = templates().get(row.template_code)
    version = template.version(row.template_version) if template is not None else None
    state = rules.effective_state(row.state, row.valid_until, today)
    return CommitmentView(
        no=row.no, subject_id=row.subject_id, subject_kind=row.subject_kind, subject_name=subject.display_name,
        subject_display_id=subject.display_id, template_code=row.template_code,
        kind_zh=template.kind_zh if template else row.template_code,
        template_name_zh=template.name_zh if template else row.template_code,
        template_version=row.template_version, basis=version.basis if version else "", matter=row.matter,
        text=row.text, text_sha256=row.text_sha256, department_code=row.department_code,
        department_name_zh=_department_name(catalog, row.department_code) or row.department_code,
        channel=row.channel, channel_zh=CHANNEL_ZH.get(row.channel, row.channel), document_no=row.document_no,
        signed_at=row.signed_at, signed_on=row.signed_on, valid_until=row.valid_until, public=row.public,
        state=state, state_zh=rules.STATES_ZH.get(state, state), state_on=row.state_on,
        breach_facts=row.breach_facts, breach_document_no=row.breach_document_no,
        breach_department_name_zh=_department_name(catalog, row.breach_department),
        breach_record_id=row.breach_record_id)


def _views(session: Session, catalog: Catalog, rows: Sequence[Commitment], today: dt.date) -> list[CommitmentView]:
    if not rows:
        return []
    subjects = {s.id: s for s in session.scalars(select(Subject).where(Subject.id.in_({r.subject_id for r in rows})))}
    return [_view(catalog, r, subjects[r.subject_id], today) for r in rows]


def _one(session: Session, no: str, *, lock: bool = False) -> Commitment:
    number = rules.parse_number(no)
    if number is None:
        raise NotFound("commitment.not_found", "承诺编号不正确或不存在", "No commitment with this number")
    query = select(Commitment).where(Commitment.no == number)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound("commitment.not_found", "承诺编号不正确或不存在", "No commitment with this number")
    return row


# -- signing ----------------------------------------------------------------------------------------


def _template(code: str) -> Template:
    template = templates().get(code)
    if template is None:
        raise NotFound("commitment.template_unknown", f"未知的承诺书类型“{code}”", f"Unknown template {code!r}",
                       field="template")
    return template


def _version_in_force(template: Template, label: str, day: dt.date) -> TemplateVersion:
    """The version the signer was shown must be the one in force on the day of signing: a stale form
    (or an old paper form recorded late) signs nothing."""
    current = template.version_on(day)
    if current is None:
        raise DomainError("commitment.template_not_in_force", f"“{template.name_zh}”在 {day} 没有有效的文本",
                          f"No version of {template.code} is in force on {day}", field="template", status=409)
    if (label or "").strip() != current.version:
        raise DomainError(
            "commitment.template_version_not_in_force",
            f"承诺书文本版本“{label}”在 {day} 不是现行版本（现行：{current.version}），请阅读现行文本后重新签署",
            f"Template version {label!r} is not the one in force on {day} ({current.version})",
            field="template_version", status=409)
    return current


def _check_kind(template: Template, subject: Subject) -> None:
    if subject.kind not in template.subject_kinds:
        label = "自然人" if subject.kind == "person" else "法人和非法人组织"
        raise DomainError("commitment.subject_kind_not_allowed", f"“{template.name_zh}”不适用于{label}",
                          f"{template.code} cannot be signed by a {subject.kind}", field="subject")


def _check_acceptor(template: Template, department: str) -> None:
    if department not in template.acceptors:
        raise DomainError("commitment.department_not_acceptor", f"该单位不受理“{template.name_zh}”",
                          f"Department {department!r} does not accept {template.code}", field="department")


def _sign(session: Session, catalog: Catalog, *, template: Template, version: TemplateVersion, subject: Subject,
          matter: str, department: str, channel: str, actor: audit.Actor, role: str, document_no: str | None,
          signed_on: dt.date, now: dt.datetime) -> Commitment:
    until = rules.valid_until(version, signed_on)
    text = rules.render(template, version, subject_name=subject.display_name, subject_id=subject.display_id,
                        matter=matter, acceptor=_department_name(catalog, department) or department,
                        signed_on=signed_on, until=until)
    public = rules.is_public(subject.kind, template.public_for_persons, rules.SIGNED)
    # The number is made from the row's id: insert under a unique placeholder, then number it.
    row = Commitment(no=f"TMP-{uuid.uuid4().hex[:24]}", subject_id=subject.id, subject_kind=subject.kind,
                     template_code=template.code, template_version=version.version, matter=matter, text=text,
                     text_sha256=text_sha256(text), department_code=department, channel=channel,
                     signed_by=actor.label, document_no=document_no, signed_at=now, signed_on=signed_on,
                     valid_until=until, public=public, state=rules.SIGNED, state_on=signed_on)
    session.add(row)
    session.flush()
    row.no = rules.format_number(signed_on.year, row.id)
    row.state = record_transition(
        session, WORKFLOW, case_id=row.id, state=None, action="sign", role=role, actor=actor, now=now,
        subject_id=subject.id,
        detail={"no": row.no, "template": template.code, "version": version.version, "sha256": row.text_sha256,
                "department": department, "channel": channel, "document_no": document_no})
    session.flush()
    return row


def sign_online(session: Session, catalog: Catalog, *, account: PersonAccount, subject_id: int | None,
                template_code: str, template_version: str, matter: str, department: str,
                now: dt.datetime) -> CommitmentView:
    """A signed-in person signs for themself, or for an organisation they represent now."""
    today = _today(now)
    template = _template(template_code)
    subject_id = subject_id or account.subject_id
    if not orgs.can_act_for(session, account, subject_id):
        raise PermissionDenied("commitment.not_your_subject",
                               "只能以本人名义或经授权代表的单位名义签署信用承诺",
                               "You may sign only for yourself or an organisation you represent")
    subject = session.get(Subject, subject_id)
    assert subject is not None  # can_act_for: own subject or a linked organisation
    _check_kind(template, subject)
    version = _version_in_force(template, template_version, today)
    _check_acceptor(template, department)
    row = _sign(session, catalog, template=template, version=version, subject=subject,
                matter=rules.clean_matter(matter), department=department,
                channel="online" if subject_id == account.subject_id else "representative",
                actor=actor_for(account), role=SUBJECT, document_no=None, signed_on=today, now=now)
    return _view(catalog, row, subject, today)


@dataclass(frozen=True)
class PaperIn:
    """A commitment signed on paper at a department's counter, recorded by that department."""

    template_code: str
    template_version: str
    matter: str
    document_no: str
    signed_on: dt.date
    ric: str | None = None
    uscc: str | None = None
    department: str | None = None  # default: the actor's own department


def _handler_role(actor: audit.Actor, department: str) -> str:
    """The accepting department itself (its clerks and API keys), or the credit office."""
    if actor.kind in ("staff", "api_key") and actor.department_code == department:
        return DEPARTMENT
    if actor.kind == "staff" and actor.role in ("admin", "credit_office"):
        return OFFICE
    if actor.kind in ("cli", "system"):
        return OFFICE
    raise PermissionDenied("commitment.other_department", "只有受理单位和市信用办可以办理此信用承诺",
                           "Only the accepting department and the credit office may handle this commitment")


def record_paper(session: Session, catalog: Catalog, keyring: KeyRing, *, actor: audit.Actor, paper: PaperIn,
                 now: dt.datetime) -> CommitmentView:
    today = _today(now)
    department = paper.department or actor.department_code
    if not department:
        raise DomainError("commitment.department_required", "请指明受理单位", "Say which department accepted it",
                          field="department")
    if department not in catalog.departments:
        raise DomainError("commitment.department_unknown", f"未知的单位“{department}”", f"Unknown department {department!r}",
                          field="department")
    role = _handler_role(actor, department)
    template = _template(paper.template_code)
    _check_acceptor(template, department)
    if paper.signed_on > today:
        raise DomainError("commitment.signed_on_future", f"签署日期 {paper.signed_on} 晚于今天",
                          f"signed_on {paper.signed_on} is in the future", field="signed_on")
    document_no = rules.clean_document_no(paper.document_no, field="document_no", required=True)
    subject = find_subject(session, keyring, ric=paper.ric, uscc=paper.uscc)
    _check_kind(template, subject)
    version = _version_in_force(template, paper.template_version, paper.signed_on)
    row = _sign(session, catalog, template=template, version=version, subject=subject,
                matter=rules.clean_matter(paper.matter), department=department, channel="paper", actor=actor,
                role=role, document_no=document_no, signed_on=paper.signed_on, now=now)
    return _view(catalog, row, subject, today)


# -- breach, fulfilment, withdrawal, expiry --------------------------------------------------------


def breach_source_id(no: str) -> str:
    """The breach record's source id: one per commitment, so recording it again changes nothing."""
    return f"CMT-{no}"


@dataclass(frozen=True)
class BreachIn:
    facts: str  # 失信情形
    decision_no: str  # 认定文书号
    severity: str = "general"
    found_on: dt.date | None = None  # the finding's date (default today)
    measures: str = ""  # 处理措施


def _clean_breach(body: BreachIn, signed_on: dt.date, today: dt.date) -> tuple[str, str, str, dt.date, str]:
    facts = (body.facts or "").strip()
    if not facts:
        raise DomainError("commitment.facts_required", "请写明违反承诺的事实", "State the facts of the breach",
                          field="facts")
    if len(facts) > MAX_FACTS:
        raise DomainError("commitment.facts_too_long", f"违诺事实不能超过 {MAX_FACTS} 字",
                          f"The facts are longer than {MAX_FACTS} characters", field="facts")
    if rules.unreadable(facts.replace("\n", " ").replace("\r", " ").replace("\t", " ")):
        raise DomainError("commitment.facts_control_chars", "违诺事实含有不可见的控制字符",
                          "The facts contain control characters", field="facts")
    measures = (body.measures or "").strip()
    if rules.unreadable(measures.replace("\n", " ").replace("\r", " ").replace("\t", " ")):
        raise DomainError("commitment.measures_control_chars", "处理措施含有不可见的控制字符",
                          "The measures contain control characters", field="measures")
    if len(measures) > MAX_MEASURES:
        raise DomainError("commitment.measures_too_long", f"处理措施不能超过 {MAX_MEASURES} 字",
                          f"The measures are longer than {MAX_MEASURES} characters", field="measures")
    decision_no = rules.clean_document_no(body.decision_no, field="decision_no", required=True)
    assert decision_no is not None
    if body.severity not in SEVERITIES:
        raise DomainError("commitment.severity_invalid", "失信程度只能是一般失信（general）或严重失信（serious）",
                          "severity must be general or serious", field="severity")
    found_on = body.found_on or today
    if found_on > today or found_on < signed_on:
        raise DomainError("commitment.found_on_invalid", f"认定日期须在签署日 {signed_on} 与今天之间",
                          f"found_on must lie between {signed_on} and today", field="found_on")
    return facts, decision_no, body.severity, found_on, measures


def record_breach(db: Database, catalog: Catalog, keyring: KeyRing, *, no: str, body: BreachIn, actor: audit.Actor,
                  now: dt.datetime) -> CommitmentView:
    """认定违反信用承诺: the commitment becomes ``breached`` and a negative ``commitment_breach`` record
    is submitted through ``records.service.ingest`` in the department's name (the credit office's own
    when the office finds it). Two transactions — the record path keeps its own — in an order that
    is safe to repeat: the record first (idempotent by its source id), then the state change."""
    from chengxin.records.service import ApiRow, find_record_id, ingest

    today = _today(now)
    with db.read() as session:
        row = _one(session, no)
        role = _handler_role(actor, row.department_code)
        state = rules.effective_state(row.state, row.valid_until, today)
        WORKFLOW.check(state, "breach", role, body.facts)
        facts, decision_no, severity, found_on, measures = _clean_breach(body, row.signed_on, today)
        subject = session.get_one(Subject, row.subject_id)
        identifier, name = decrypt_identity(keyring, subject)  # audited below with the breach itself
        number, kind, matter, subject_kind = row.no, row.template_code, row.matter, subject.kind
    department = row.department_code if role == DEPARTMENT else OFFICE_DEPARTMENT
    values: dict[str, object] = {
        "source_id": breach_source_id(number), "subject_name": name,
        "ric" if subject_kind == "person" else "uscc": identifier,
        "decision_date": found_on.isoformat(), "severity": severity, "commitment_no": number,
        "commitment_kind": kind, "matter": matter, "breach": facts, "measures": measures or None,
        "decision_no": decision_no, "authority_name": _department_name(catalog, department) or department,
    }
    # The record path lets a department submit only in its own name: the office submits as the office.
    submitter = actor if role == DEPARTMENT or actor.kind in ("cli", "system") else audit.Actor(
        kind=actor.kind, name=actor.name, role=actor.role, department_code=OFFICE_DEPARTMENT)
    receipt = ingest(db, [ApiRow(row_no=1, values=values)], catalog=catalog, keyring=keyring, department=department,
                     item_code=BREACH_ITEM, actor=submitter, channel="commitment", today=today)
    if receipt.rejections:
        problem = receipt.rejections[0].problems[0]
        raise DomainError(problem.code, f"失信记录未能归集：{problem.message}",
                          f"The breach record was refused: {problem.message_en}", field=problem.field)
    with db.write() as session:
        row = _one(session, number, lock=True)
        record_id = find_record_id(session, department, breach_source_id(number))
        if row.state != rules.BREACHED:  # a repeat after a crash between the two steps finds it done
            row.state = record_transition(
                session, WORKFLOW, case_id=row.id, state=rules.effective_state(row.state, row.valid_until, today),
                action="breach", role=role, actor=actor, now=now, reason=facts, subject_id=row.subject_id,
                detail={"no": number, "record_id": record_id, "decision_no": decision_no, "severity": severity,
                        "department": department})
            row.state_on, row.breach_facts, row.breach_document_no = found_on, facts, decision_no
            row.breach_department, row.breach_record_id = department, record_id
        session.flush()
        return _view(catalog, row, session.get_one(Subject, row.subject_id), today)


def fulfil(session: Session, catalog: Catalog, *, no: str, actor: audit.Actor, now: dt.datetime,
           note: str | None = None) -> CommitmentView:
    """The accepting department (or the office) confirms the commitment was kept (已履行)."""
    today = _today(now)
    row = _one(session, no, lock=True)
    role = _handler_role(actor, row.department_code)
    note = " ".join((note or "").split()) or None
    if note is not None and rules.unreadable(note):
        raise DomainError("commitment.note_control_chars", "说明含有不可见的控制字符",
                          "The note contains control characters", field="note")
    row.state = record_transition(session, WORKFLOW, case_id=row.id,
                                  state=rules.effective_state(row.state, row.valid_until, today), action="fulfil",
                                  role=role, actor=actor, now=now, reason=note, subject_id=row.subject_id,
                                  detail={"no": row.no})
    row.state_on = today
    session.flush()
    return _view(catalog, row, session.get_one(Subject, row.subject_id), today)


def withdraw(session: Session, catalog: Catalog, *, account: PersonAccount, no: str, reason: str,
             now: dt.datetime) -> CommitmentView:
    """The subject withdraws a commitment still running, with a reason (then the matter goes the
    ordinary way, 深圳条例第六十二条)."""
    today = _today(now)
    row = _one(session, no, lock=True)
    if not orgs.can_act_for(session, account, row.subject_id):
        raise PermissionDenied("commitment.not_your_subject", "只能撤回本人或所代表单位的信用承诺",
                               "You may withdraw only your own commitments")
    reason = " ".join((reason or "").split())
    if rules.unreadable(reason):
        raise DomainError("commitment.reason_control_chars", "撤回理由含有不可见的控制字符",
                          "The reason contains control characters", field="reason")
    row.state = record_transition(session, WORKFLOW, case_id=row.id,
                                  state=rules.effective_state(row.state, row.valid_until, today), action="withdraw",
                                  role=SUBJECT, actor=actor_for(account), now=now, reason=reason,
                                  subject_id=row.subject_id, detail={"no": row.no})
    row.state_on = today
    session.flush()
    return _view(catalog, row, session.get_one(Subject, row.subject_id), today)


def expire_due(session: Session, *, now: dt.datetime) -> list[str]:
    """Mark every ``signed`` commitment past its last day ``expired`` (the nightly job); returns the numbers."""
    today = _today(now)
    rows = list(session.scalars(select(Commitment).where(Commitment.state == rules.SIGNED,
                                                         Commitment.valid_until < today).with_for_update()))
    for row in rows:
        row.state = record_transition(session, WORKFLOW, case_id=row.id, state=row.state, action="expire",
                                      role=SYSTEM, actor=audit.SYSTEM, now=now, subject_id=row.subject_id,
                                      detail={"no": row.no, "valid_until": str(row.valid_until)})
        row.state_on = row.valid_until + dt.timedelta(days=1) if row.valid_until else today
    session.flush()
    return [r.no for r in rows]


# -- reading --------------------------------------------------------------------------------------

PER_PAGE = 20


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def public_search(session: Session, catalog: Catalog, *, q: str = "", kind: str = "", page: int = 1,
                  per_page: int = PER_PAGE, today: dt.date) -> tuple[list[CommitmentView], int]:
    """信用承诺公示: public commitments, newest first; ``q`` is a commitment number, an organisation's
    USCC or part of its name (persons are never searched by name: theirs are masked)."""
    if kind and kind not in templates():
        raise DomainError("commitment.kind_unknown", f"未知的承诺类型“{kind}”", f"Unknown kind {kind!r}", field="kind")
    query = select(Commitment).join(Subject, Subject.id == Commitment.subject_id).where(
        Commitment.public.is_(True), Commitment.state != rules.WITHDRAWN)
    if kind:
        query = query.where(Commitment.template_code == kind)
    q = " ".join((q or "").split())[:100]
    if q:
        number = rules.parse_number(q)
        uscc: str | None = None
        if number is None and len(q) == 18:
            try:
                uscc = normalize_uscc(q)
            except InvalidIdentifier:
                uscc = None
        if number is not None:
            query = query.where(Commitment.no == number)
        elif uscc is not None:
            query = query.where(Subject.kind == "organization", Subject.display_id == uscc)
        else:
            query = query.where(Subject.kind == "organization",
                                or_(Subject.display_name.like(_like(q), escape="\\"), Commitment.no == q.upper()))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(session.scalars(query.order_by(Commitment.id.desc()).offset((max(page, 1) - 1) * per_page)
                                .limit(per_page)))
    return _views(session, catalog, rows, today), total


def public_detail(session: Session, catalog: Catalog, *, no: str, today: dt.date,
                  account: PersonAccount | None = None) -> CommitmentView:
    """One commitment with its full text and hash: public ones for anyone; others only for the subject
    (or its representative) — to everyone else they do not exist (404, not 403: no oracle)."""
    row = _one(session, no)
    shown = row.public and row.state != rules.WITHDRAWN
    if not shown and not (account is not None and orgs.can_act_for(session, account, row.subject_id)):
        raise NotFound("commitment.not_found", "承诺编号不正确或不存在", "No commitment with this number")
    return _view(catalog, row, session.get_one(Subject, row.subject_id), today)


def staff_detail(session: Session, catalog: Catalog, *, no: str, actor: audit.Actor, today: dt.date,
                 purpose: str = "办理信用承诺") -> CommitmentView:
    """Any commitment, for its accepting department and the credit office; a read of a person's
    commitment by staff is logged with its purpose."""
    row = _one(session, no)
    _handler_role(actor, row.department_code)
    if row.subject_kind == "person":
        audit.write(session, actor=actor, action="commitment.read", subject_id=row.subject_id,
                    object_type=CASE_TYPE, object_id=row.id, purpose=purpose)
    return _view(catalog, row, session.get_one(Subject, row.subject_id), today)


def commitments_of_subject(session: Session, catalog: Catalog, subject_ids: Collection[int], today: dt.date, *,
                           public_only: bool = False) -> list[CommitmentView]:
    """The commitments of these subjects, newest first (``public_only``: what the public may see)."""
    if not subject_ids:
        return []
    query = select(Commitment).where(Commitment.subject_id.in_(list(subject_ids)))
    if public_only:
        query = query.where(Commitment.public.is_(True), Commitment.state != rules.WITHDRAWN)
    return _views(session, catalog, list(session.scalars(query.order_by(Commitment.id.desc()))), today)


def commitments_for_account(session: Session, catalog: Catalog, account: PersonAccount,
                            today: dt.date) -> list[CommitmentView]:
    """The person's own and those of every organisation they represent now (for /me)."""
    ids = [s.subject_id for s in orgs.represented_subjects(session, account)]
    return commitments_of_subject(session, catalog, ids, today)
