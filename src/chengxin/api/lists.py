"""Lists API (红名单、严重失信主体名单、重点关注名单).

- Public: ``GET /api/v1/lists`` (published entries: ``kind``, ``q`` name or code search, ``page``;
  ``state=publicity`` for red-list candidates in their publicity window), ``GET /api/v1/lists/{id}``,
  ``GET /api/v1/lists/criteria`` (the criteria in force, with basis, entry/exit conditions, remedies).
  Subjects appear in their masked display forms only.
- Staff (``/api/v1/lists/entries``): a department (clerk token or API key) proposes and withdraws its
  own proposals; the credit office notices, publicises, records a defence, decides (list / reject),
  removes. Wrong state: 409; wrong role: 403; errors ``{"error": {code, message, message_en, field}}``.
- The subject (person token): ``GET /api/v1/me/lists`` (notices, listings, removals about oneself and
  the organisations one represents) and ``POST /api/v1/me/lists/{id}/defence`` (陈述申辩).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from chengxin.api.deps import ActorDep, PlatformDep
from chengxin.api.me import PersonDep
from chengxin.api.schemas import ErrorOut
from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.lists import rules
from chengxin.lists import service as lists
from chengxin.lists.criteria import Criterion
from chengxin.people import orgs
from chengxin.people.service import actor_for

router = APIRouter(prefix="/api/v1/lists", tags=["lists"])
me_router = APIRouter(prefix="/api/v1/me/lists", tags=["lists"])
_ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorOut} for s in (400, 401, 403, 404, 409, 422)}

Kind = Literal["red", "black", "watch"]


# -- shapes -------------------------------------------------------------------------------------------


class CriterionOut(BaseModel):
    code: str = Field(examples=["black.dishonest_debtor"])
    version: str
    effective_from: dt.date
    effective_to: dt.date | None
    kind: str = Field(description="red | black | watch")
    list_zh: str
    name_zh: str
    name_en: str
    domain: str | None = Field(description="严重失信主体名单的领域（国办发〔2020〕49号四类）")
    domain_zh: str
    subject_kinds: list[str]
    authority: str = Field(description="认定部门代码")
    items: list[str] = Field(description="所依据的目录项")
    score_bands: list[str] = Field(default=[], description="所依据的信用积分等级（score_band 条件；空：不看积分）")
    term: str | None = Field(description="默认有效期（ISO 8601，如 P3Y；空：至决定移出）")
    notice_required: bool = Field(description="列入前须告知并给予陈述申辩期")
    publicity: bool = Field(description="红名单：列入前公示")
    basis_zh: str = Field(description="认定依据")
    entry_zh: str = Field(description="列入条件")
    exit_zh: str = Field(description="移出条件")
    remedies_zh: str = Field(description="救济途径")


def _criterion(c: Criterion) -> CriterionOut:
    return CriterionOut(
        code=c.code, version=c.version, effective_from=c.effective_from, effective_to=c.effective_to,
        kind=c.list_kind, list_zh=rules.KIND_ZH[c.list_kind], name_zh=c.name_zh, name_en=c.name_en, domain=c.domain,
        domain_zh=c.domain_zh, subject_kinds=sorted(c.subject_kinds), authority=c.authority, items=sorted(c.items),
        score_bands=sorted(c.bands),
        term=c.term.text if c.term else None, notice_required=c.notice_required, publicity=c.publicity,
        basis_zh=c.basis_zh, entry_zh=c.entry_zh, exit_zh=c.exit_zh, remedies_zh=c.remedies_zh)


class PublicEntryOut(BaseModel):
    id: int
    kind: str = Field(description="red | black | watch")
    list_zh: str
    state: str = Field(description="listed | publicity")
    state_zh: str
    subject_kind: str
    subject_name: str = Field(description="主体名称（自然人为脱敏姓名）")
    subject_display_id: str = Field(description="统一社会信用代码，或脱敏的公民身份号码")
    criterion: str | None
    criterion_name: str | None
    basis_zh: str = Field(description="认定依据")
    department: str = Field(description="认定部门代码")
    department_name: str
    decision_no: str | None = Field(description="列入决定文号")
    decided_on: dt.date | None
    term_from: dt.date | None
    term_to: dt.date | None = Field(description="有效期最后一日（含）；空：至决定移出")
    publicity_from: dt.date | None
    publicity_to: dt.date | None = Field(description="公示期最后一日（含）")
    entry_zh: str | None = Field(description="列入条件")
    exit_zh: str | None = Field(description="移出条件")
    remedies_zh: str | None = Field(description="救济途径")


def _public(v: lists.EntryView) -> PublicEntryOut:
    c = v.criterion
    return PublicEntryOut(
        id=v.id, kind=v.list_kind, list_zh=v.list_zh, state=v.state, state_zh=v.state_zh, subject_kind=v.subject_kind,
        subject_name=v.subject_name, subject_display_id=v.subject_display_id, criterion=v.criterion_code,
        criterion_name=c.name_zh if c else None, basis_zh=v.basis_zh, department=v.department_code,
        department_name=v.department_name_zh, decision_no=v.decision_no, decided_on=v.decided_on,
        term_from=v.term_from, term_to=v.term_to, publicity_from=v.publicity_from, publicity_to=v.publicity_to,
        entry_zh=c.entry_zh if c else None, exit_zh=c.exit_zh if c else None, remedies_zh=c.remedies_zh if c else None)


class PublicPageOut(BaseModel):
    total: int
    page: int
    pages: int
    per_page: int
    items: list[PublicEntryOut]


class HistoryOut(BaseModel):
    action: str
    label_zh: str
    to_state: str
    role: str
    actor: str
    at: dt.datetime
    reason: str | None


class EntryOut(PublicEntryOut):
    subject_id: int
    source: str = Field(description="rule | department | office")
    criteria_version: str | None
    proposed_by: str
    proposed_at: dt.datetime
    record_ids: list[int]
    reasons: list[dict[str, Any]] = Field(description="[{code, zh, en}]")
    notice_sent_on: dt.date | None
    defence_due_on: dt.date | None = Field(description="陈述申辩期最后一日（工作日计算）")
    defence: str | None
    decision_note: str | None
    ended_on: dt.date | None
    end_kind: str | None = Field(description="expired | removed")
    end_reason: str | None
    related_persons: list[dict[str, Any]] = Field(description="法定代表人等（仅脱敏形式）")
    actions: list[str] = Field(description="调用者现在可以进行的操作")
    history: list[HistoryOut]


def _entry(v: lists.EntryView) -> EntryOut:
    return EntryOut(
        **_public(v).model_dump(), subject_id=v.subject_id, source=v.source, criteria_version=v.criteria_version,
        proposed_by=v.proposed_by, proposed_at=v.proposed_at, record_ids=list(v.record_ids), reasons=list(v.reasons),
        notice_sent_on=v.notice_sent_on, defence_due_on=v.defence_due_on, defence=v.defence,
        decision_note=v.decision_note, ended_on=v.ended_on, end_kind=v.end_kind, end_reason=v.end_reason,
        related_persons=list(v.related_persons), actions=list(v.actions),
        history=[HistoryOut(action=h.action, label_zh=h.label_zh, to_state=h.to_state, role=h.role, actor=h.actor,
                            at=h.at, reason=h.reason) for h in v.history])


class ProposalIn(BaseModel):
    kind: Kind
    criterion: str = Field(min_length=1, max_length=64, description="认定标准代码（GET /api/v1/lists/criteria）")
    uscc: str | None = Field(default=None, max_length=32, description="统一社会信用代码（组织）")
    ric: str | None = Field(default=None, max_length=32, description="公民身份号码（自然人）")
    record_ids: list[int] = Field(default_factory=list, max_length=200, description="所依据的信用记录编号")
    reason: str = Field(min_length=1, max_length=2000, description="拟列入理由")


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class RemovalIn(ReasonIn):
    decision_no: str | None = Field(default=None, max_length=64, description="移出决定文号")


class DefenceIn(BaseModel):
    text: str = Field(min_length=1, max_length=2000, description="陈述申辩内容")


class DecisionIn(BaseModel):
    action: Literal["list", "reject"]
    decision_no: str | None = Field(default=None, max_length=64, description="列入决定文号（列入时必填）")
    term_from: dt.date | None = Field(default=None, description="有效期起始日（默认：今天）")
    term_to: dt.date | None = Field(default=None, description="有效期最后一日（默认：按认定标准的默认有效期）")
    reason: str | None = Field(default=None, max_length=2000, description="不予列入的理由（必填）或列入说明")


# -- public ---------------------------------------------------------------------------------------------


@router.get("", summary="名单公示 Published list entries", response_model=PublicPageOut, responses=_ERRORS)
def public_list(platform: PlatformDep, kind: Kind | None = None,
                q: Annotated[str, Query(max_length=100, description="主体名称或代码")] = "",
                page: Annotated[int, Query(ge=1, le=10_000)] = 1,
                state: Literal["listed", "publicity"] = "listed") -> PublicPageOut:
    with platform.db.read() as session:
        found = lists.public_entries(session, platform.catalog, today=today_cn(), list_kind=kind or "", q=q, page=page,
                                     publicity=state == "publicity")
    return PublicPageOut(total=found.total, page=found.page, pages=found.pages, per_page=found.per_page,
                         items=[_public(v) for v in found.entries])


@router.get("/criteria", summary="认定标准 List criteria", response_model=list[CriterionOut], responses=_ERRORS)
def criteria(platform: PlatformDep, day: dt.date | None = None, kind: Kind | None = None) -> list[CriterionOut]:
    found = lists.criteria_of(platform.catalog)
    chosen = found.in_force(day or today_cn(), kind)
    return [_criterion(c) for c in chosen]


# -- staff ----------------------------------------------------------------------------------------------


@router.get("/entries", summary="名单办理队列 Entries for staff", response_model=list[EntryOut], responses=_ERRORS)
def staff_queue(actor: ActorDep, platform: PlatformDep, state: Annotated[str, Query(max_length=16)] = "open",
                kind: Kind | None = None) -> list[EntryOut]:
    with platform.db.write() as session:
        found = lists.queue(session, platform.catalog, actor=actor, state=state, list_kind=kind or "")
    return [_entry(v) for v in found]


@router.post("/entries", summary="提出拟列入 Propose an entry", response_model=EntryOut, status_code=201,
             responses=_ERRORS)
def propose(body: ProposalIn, actor: ActorDep, platform: PlatformDep) -> EntryOut:
    with platform.db.write() as session:
        view = lists.propose(session, platform.catalog, platform.keyring, actor=actor, list_kind=body.kind,
                             criterion_code=body.criterion, reason=body.reason, record_ids=body.record_ids,
                             ric=body.ric, uscc=body.uscc, now=utcnow())
    return _entry(view)


@router.get("/entries/{entry_id}", summary="名单条目（工作人员）Entry for staff", response_model=EntryOut,
            responses=_ERRORS)
def staff_entry(entry_id: int, actor: ActorDep, platform: PlatformDep) -> EntryOut:
    with platform.db.write() as session:
        return _entry(lists.entry_detail(session, platform.catalog, entry_id=entry_id, actor=actor))


@router.post("/entries/{entry_id}/notice", summary="告知 Send the notice", response_model=EntryOut, responses=_ERRORS)
def notice(entry_id: int, actor: ActorDep, platform: PlatformDep) -> EntryOut:
    with platform.db.write() as session:
        return _entry(lists.send_notice(session, platform.catalog, entry_id=entry_id, actor=actor, now=utcnow()))


@router.post("/entries/{entry_id}/publicity", summary="公示红名单拟列入对象 Start publicity", response_model=EntryOut,
             responses=_ERRORS)
def publicity(entry_id: int, actor: ActorDep, platform: PlatformDep) -> EntryOut:
    with platform.db.write() as session:
        return _entry(lists.start_publicity(session, platform.catalog, entry_id=entry_id, actor=actor, now=utcnow()))


@router.post("/entries/{entry_id}/defence", summary="记录陈述申辩 Record a defence", response_model=EntryOut,
             responses=_ERRORS)
def defence(entry_id: int, body: DefenceIn, actor: ActorDep, platform: PlatformDep) -> EntryOut:
    with platform.db.write() as session:
        return _entry(lists.record_defence(session, platform.catalog, entry_id=entry_id, text=body.text, actor=actor,
                                           now=utcnow()))


@router.post("/entries/{entry_id}/decision", summary="决定列入或不予列入 Decide", response_model=EntryOut,
             responses=_ERRORS)
def decision(entry_id: int, body: DecisionIn, actor: ActorDep, platform: PlatformDep) -> EntryOut:
    with platform.db.write() as session:
        return _entry(lists.decide(session, platform.catalog, entry_id=entry_id, action=body.action, actor=actor,
                                   now=utcnow(), decision_no=body.decision_no, term_from=body.term_from,
                                   term_to=body.term_to, reason=body.reason))


@router.post("/entries/{entry_id}/withdraw", summary="撤回拟列入 Withdraw", response_model=EntryOut, responses=_ERRORS)
def withdraw(entry_id: int, body: ReasonIn, actor: ActorDep, platform: PlatformDep) -> EntryOut:
    with platform.db.write() as session:
        return _entry(lists.withdraw(session, platform.catalog, entry_id=entry_id, reason=body.reason, actor=actor,
                                     now=utcnow()))


@router.post("/entries/{entry_id}/removal", summary="决定移出 Remove", response_model=EntryOut, responses=_ERRORS)
def removal(entry_id: int, body: RemovalIn, actor: ActorDep, platform: PlatformDep) -> EntryOut:
    with platform.db.write() as session:
        return _entry(lists.remove(session, platform.catalog, entry_id=entry_id, reason=body.reason, actor=actor,
                                   now=utcnow(), decision_no=body.decision_no))


# Declared last: ``/criteria`` and ``/entries`` above take precedence over the id.
@router.get("/{entry_id}", summary="名单条目 Published entry", response_model=PublicEntryOut, responses=_ERRORS)
def public_entry(entry_id: int, platform: PlatformDep) -> PublicEntryOut:
    with platform.db.read() as session:
        return _public(lists.public_entry(session, platform.catalog, entry_id=entry_id, today=today_cn()))


# -- the subject ----------------------------------------------------------------------------------------


@me_router.get("", summary="我的名单告知 My list notices", response_model=list[EntryOut], responses=_ERRORS)
def my_entries(account: PersonDep, platform: PlatformDep) -> list[EntryOut]:
    with platform.db.read() as session:
        ids = [s.subject_id for s in orgs.represented_subjects(session, account)]
        return [_entry(v) for v in lists.entries_for_subjects(session, platform.catalog, ids)]


@me_router.post("/{entry_id}/defence", summary="陈述申辩 State a defence", response_model=EntryOut,
                responses=_ERRORS)
def my_defence(entry_id: int, body: DefenceIn, account: PersonDep, platform: PlatformDep) -> EntryOut:
    with platform.db.write() as session:
        return _entry(lists.record_defence(session, platform.catalog, entry_id=entry_id, text=body.text,
                                           actor=actor_for(account), now=utcnow(), account=account))
