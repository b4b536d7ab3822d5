"""Credit commitments API (信用承诺).

- ``GET /api/v1/commitments`` (``?q=`` number, USCC or part of an organisation's name; ``?kind=``) and
  ``GET /api/v1/commitments/{no}``: 信用承诺公示, for anyone, no sign-in. The detail carries the full
  text and its SHA-256 so anyone can check one against the other.
- ``GET /api/v1/commitments/templates``: the templates and their text in force.
- ``POST /api/v1/commitments``: a department (clerk or API key) records a commitment signed on paper.
- ``POST /api/v1/commitments/{no}/breach`` and ``/fulfil``: the accepting department or the credit
  office records a breach (→ a negative record of item ``commitment_breach``) or the fulfilment.
- ``GET /api/v1/commitments/{no}/case``: the accepting department and the office read any
  commitment (a person's read is logged).
- ``/api/v1/me/commitments``: the subject (person token; for an organisation, its linked
  representative) signs, lists its own, reads one, withdraws.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from chengxin.api.deps import ActorDep, PlatformDep, ReadSession
from chengxin.api.me import PersonDep
from chengxin.api.schemas import ErrorOut
from chengxin.catalog.rules import add_duration
from chengxin.commitments import service
from chengxin.commitments.templates import templates
from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow

router = APIRouter(prefix="/api/v1/commitments", tags=["commitments"])
me_router = APIRouter(prefix="/api/v1/me/commitments", tags=["commitments"])
_ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorOut} for s in (400, 401, 403, 404, 409, 422)}


class CommitmentOut(BaseModel):
    no: str = Field(description="公开编号", examples=["CN-2026-000123-3"])
    subject_kind: str = Field(description="person | organization")
    subject_name: str = Field(description="主体名称（自然人为脱敏姓名）")
    subject_display_id: str = Field(description="统一社会信用代码（自然人为脱敏身份号码）")
    kind: str = Field(description="承诺类型代码（模板代码）")
    kind_zh: str
    template_name: str
    template_version: str
    basis: str = Field(description="模板版本的法律政策依据")
    matter: str = Field(description="承诺事项")
    text: str = Field(description="签署的承诺书全文（与签署时逐字相同）")
    text_sha256: str = Field(description="全文（UTF-8）的 SHA-256，任何人可据以核对")
    department: str = Field(description="受理单位代码")
    department_name: str
    channel: str = Field(description="online | representative | paper")
    channel_zh: str
    document_no: str | None = Field(description="纸质承诺书编号")
    signed_at: dt.datetime
    signed_on: dt.date
    valid_until: dt.date | None = Field(description="有效期至（含当日）；空为长期")
    state: str = Field(description="signed | fulfilled | breached | expired | withdrawn（按今天计算）")
    state_zh: str
    state_on: dt.date | None
    breach_facts: str | None
    breach_document_no: str | None
    breach_department_name: str | None
    breach_record_id: int | None = Field(description="违诺形成的失信记录编号（commitment_breach）")


def _out(v: service.CommitmentView) -> CommitmentOut:
    return CommitmentOut(
        no=v.no, subject_kind=v.subject_kind, subject_name=v.subject_name, subject_display_id=v.subject_display_id,
        kind=v.template_code, kind_zh=v.kind_zh, template_name=v.template_name_zh,
        template_version=v.template_version, basis=v.basis, matter=v.matter, text=v.text,
        text_sha256=v.text_sha256, department=v.department_code, department_name=v.department_name_zh,
        channel=v.channel, channel_zh=v.channel_zh, document_no=v.document_no, signed_at=v.signed_at,
        signed_on=v.signed_on, valid_until=v.valid_until, state=v.state, state_zh=v.state_zh, state_on=v.state_on,
        breach_facts=v.breach_facts, breach_document_no=v.breach_document_no,
        breach_department_name=v.breach_department_name_zh, breach_record_id=v.breach_record_id)


class PageOut(BaseModel):
    items: list[CommitmentOut]
    total: int
    page: int
    per_page: int


class TemplateOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    kind_zh: str
    subject_kinds: list[str]
    public_for_persons: bool
    acceptors: list[str] = Field(description="受理单位代码")
    version: str = Field(description="现行版本")
    effective_from: dt.date
    effective_to: dt.date | None
    basis: str
    validity: str | None = Field(description="默认有效期（ISO 8601），空为长期")
    example_valid_until: dt.date | None = Field(description="今天签署时的有效期至")
    text: str = Field(description="含占位符的格式文本")
    text_sha256: str


@router.get("/templates", summary="信用承诺书格式文本 Templates in force", response_model=list[TemplateOut])
def list_templates() -> list[TemplateOut]:
    today = today_cn()
    out = []
    for t in templates().values():
        v = t.version_on(today)
        if v is None:
            continue
        until = add_duration(today, v.validity) - dt.timedelta(days=1) if v.validity else None
        out.append(TemplateOut(code=t.code, name_zh=t.name_zh, name_en=t.name_en, kind_zh=t.kind_zh,
                               subject_kinds=sorted(t.subject_kinds), public_for_persons=t.public_for_persons,
                               acceptors=list(t.acceptors), version=v.version, effective_from=v.effective_from,
                               effective_to=v.effective_to, basis=v.basis,
                               validity=v.validity.text if v.validity else None, example_valid_until=until,
                               text=v.text, text_sha256=v.sha256))
    return out


@router.get("", summary="信用承诺公示 Public commitments", response_model=PageOut, responses=_ERRORS)
def public_list(
    platform: PlatformDep,
    session: ReadSession,
    q: Annotated[str, Query(max_length=100, description="承诺编号、统一社会信用代码或单位名称的一部分")] = "",
    kind: Annotated[str, Query(max_length=32, description="承诺类型代码")] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = service.PER_PAGE,
) -> PageOut:
    """Newest first. Persons' commitments appear only where their template is public for persons, masked."""
    views, total = service.public_search(session, platform.catalog, q=q, kind=kind, page=page, per_page=per_page,
                                         today=today_cn())
    return PageOut(items=[_out(v) for v in views], total=total, page=page, per_page=per_page)


@router.get("/{no}", summary="一项信用承诺（全文及哈希）One public commitment", response_model=CommitmentOut,
            responses=_ERRORS)
def public_one(no: str, platform: PlatformDep, session: ReadSession) -> CommitmentOut:
    return _out(service.public_detail(session, platform.catalog, no=no, today=today_cn()))


class PaperIn(BaseModel):
    template: str = Field(max_length=32, description="承诺类型（模板）代码")
    template_version: str = Field(max_length=16, description="纸质承诺书所用文本版本（须为签署日现行版本）")
    matter: str = Field(max_length=400, description="承诺事项")
    document_no: str = Field(max_length=100, description="纸质承诺书编号")
    signed_on: dt.date = Field(description="签署日期")
    ric: str | None = Field(default=None, max_length=32, description="自然人：公民身份号码")
    uscc: str | None = Field(default=None, max_length=32, description="单位：统一社会信用代码")
    department: str | None = Field(default=None, max_length=64, description="受理单位（默认为调用方所属单位）")


@router.post("", summary="录入纸质信用承诺 Record a commitment signed on paper", response_model=CommitmentOut,
             status_code=201, responses=_ERRORS)
def record_paper(body: PaperIn, actor: ActorDep, platform: PlatformDep) -> CommitmentOut:
    """The accepting department (clerk or API key) or the credit office; the subject must be known."""
    paper = service.PaperIn(template_code=body.template, template_version=body.template_version, matter=body.matter,
                            document_no=body.document_no, signed_on=body.signed_on, ric=body.ric, uscc=body.uscc,
                            department=body.department)
    with platform.db.write() as session:
        return _out(service.record_paper(session, platform.catalog, platform.keyring, actor=actor, paper=paper,
                                         now=utcnow()))


class BreachIn(BaseModel):
    facts: str = Field(max_length=2000, description="违反承诺的事实（失信情形）")
    decision_no: str = Field(max_length=64, description="认定文书号")
    severity: Literal["general", "serious"] = Field(default="general", description="一般失信 | 严重失信")
    found_on: dt.date | None = Field(default=None, description="认定日期（默认今天）")
    measures: str = Field(default="", max_length=1000, description="处理措施")


@router.post("/{no}/breach", summary="认定违反信用承诺 Record a breach", response_model=CommitmentOut,
             responses=_ERRORS)
def breach(no: str, body: BreachIn, actor: ActorDep, platform: PlatformDep) -> CommitmentOut:
    """State ``breached``; a negative record of ``commitment_breach`` (its id in ``breach_record_id``)
    enters the subject's file through the normal collection path."""
    return _out(service.record_breach(
        platform.db, platform.catalog, platform.keyring, no=no, actor=actor, now=utcnow(),
        body=service.BreachIn(facts=body.facts, decision_no=body.decision_no, severity=body.severity,
                              found_on=body.found_on, measures=body.measures)))


class NoteIn(BaseModel):
    note: str = Field(default="", max_length=2000)


@router.post("/{no}/fulfil", summary="确认已履行 Confirm fulfilment", response_model=CommitmentOut,
             responses=_ERRORS)
def fulfil(no: str, body: NoteIn, actor: ActorDep, platform: PlatformDep) -> CommitmentOut:
    with platform.db.write() as session:
        return _out(service.fulfil(session, platform.catalog, no=no, actor=actor, now=utcnow(), note=body.note))


@router.get("/{no}/case", summary="办理查看（受理单位、信用办）Staff view", response_model=CommitmentOut,
            responses=_ERRORS)
def staff_one(no: str, actor: ActorDep, platform: PlatformDep) -> CommitmentOut:
    """Any commitment, public or not; reading a person's is written to the audit log."""
    with platform.db.write() as session:  # the read is audited
        return _out(service.staff_detail(session, platform.catalog, no=no, actor=actor, today=today_cn()))


# -- the subject ------------------------------------------------------------------------------------


class SignIn(BaseModel):
    template: str = Field(max_length=32, description="承诺类型（模板）代码")
    template_version: str = Field(max_length=16, description="已阅读的现行文本版本")
    matter: str = Field(max_length=400, description="承诺事项")
    department: str = Field(max_length=64, description="受理单位代码（须为该模板的受理单位）")
    subject_id: int | None = Field(default=None, description="代表单位签署时：该单位的主体编号（默认本人）")


@me_router.post("", summary="签署信用承诺 Sign a commitment", response_model=CommitmentOut, status_code=201,
                responses=_ERRORS)
def sign(body: SignIn, account: PersonDep, platform: PlatformDep) -> CommitmentOut:
    with platform.db.write() as session:
        return _out(service.sign_online(session, platform.catalog, account=account, subject_id=body.subject_id,
                                        template_code=body.template, template_version=body.template_version,
                                        matter=body.matter, department=body.department, now=utcnow()))


@me_router.get("", summary="我的信用承诺 My commitments", response_model=list[CommitmentOut], responses=_ERRORS)
def mine(account: PersonDep, platform: PlatformDep) -> list[CommitmentOut]:
    with platform.db.read() as session:
        return [_out(v) for v in service.commitments_for_account(session, platform.catalog, account, today_cn())]


@me_router.get("/{no}", summary="本人的一项信用承诺 One of mine", response_model=CommitmentOut, responses=_ERRORS)
def my_one(no: str, account: PersonDep, platform: PlatformDep) -> CommitmentOut:
    with platform.db.read() as session:
        return _out(service.public_detail(session, platform.catalog, no=no, today=today_cn(), account=account))


class WithdrawIn(BaseModel):
    reason: str = Field(max_length=2000, description="撤回理由")


@me_router.post("/{no}/withdraw", summary="撤回信用承诺 Withdraw", response_model=CommitmentOut, responses=_ERRORS)
def withdraw(no: str, body: WithdrawIn, account: PersonDep, platform: PlatformDep) -> CommitmentOut:
    with platform.db.write() as session:
        return _out(service.withdraw(session, platform.catalog, account=account, no=no, reason=body.reason,
                                     now=utcnow()))
