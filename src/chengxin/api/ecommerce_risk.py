"""E-commerce risk API (issue #7): findings, shop risk, risk notices, platform assessments.

- ``GET /api/v1/ecommerce/findings`` (``?kind=&status=&platform=&page=``) and ``GET …/findings/{id}``: the
  regulators' (市场监管、商务、网信 clerks and keys) and the credit office's queue and one finding's
  evidence; ``POST …/findings/{id}/confirm`` (a regulator's clerk: → a negative record through the record
  path), ``/dismiss`` and ``/reopen`` (with a reason).
- ``GET /api/v1/ecommerce/risk``: shops by risk level, highest first, with reasons (regulators, office).
- ``GET /api/v1/ecommerce/shops/{platform}/{shop}/risk``: a shop's risk level for the shop's own platform
  (its API key), the regulators and the office. Not in the credit check's answer: the check is one indexed
  read of the subject's list status (issue #5's latency budget), and a subject's shops, their platforms
  and their levels would be a second read per check — and a level concerns the platform the shop trades on,
  not every caller of the check. Platforms hear of changes through subscriptions (list kind ``shop_risk``).
- ``GET /api/v1/ecommerce/risk-notices`` and ``…/risk-notices/{no}``: 风险提示, for anyone;
  ``POST /api/v1/ecommerce/risk-notices`` (publish) and ``…/{no}/withdraw``: regulators and the office.
- ``GET /api/v1/ecommerce/platform-assessments?period=2026-Q3``: the comparable table (public).

401 without a credential; 403 for a caller who is none of those named.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from chengxin.api.deps import ActorDep, PlatformDep, ReadSession
from chengxin.api.schemas import ErrorOut
from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.ecommerce.risk import assessment, service, warning
from chengxin.platform import Platform

router = APIRouter(prefix="/api/v1/ecommerce", tags=["ecommerce-risk"])
_ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorOut} for s in (400, 401, 403, 404, 409, 422)}


def department_names(platform: Platform) -> dict[str, str]:
    return {code: d.name_zh for code, d in platform.catalog.departments.items()}


# -- findings ----------------------------------------------------------------------------------------------


class FindingOut(BaseModel):
    id: int
    kind: str = Field(description="order_brushing | fake_traffic | malicious_review | empty_parcel")
    kind_zh: str
    platform_code: str
    platform_name: str
    shop_code: str | None = Field(description="涉及的主要店铺")
    shop_name: str | None
    accounts: int = Field(description="涉及的买家账户数（平台的假名化账户）")
    order_count: int
    confidence: float = Field(description="置信度 0..1")
    status: str = Field(description="open | confirmed | dismissed")
    status_zh: str
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    resolved_at: dt.datetime | None = Field(description="不再被检出的时间")
    record_id: int | None = Field(description="确认后形成的失信记录编号")


def _finding(r: service.FindingRow) -> FindingOut:
    return FindingOut(id=r.id, kind=r.kind, kind_zh=r.kind_zh, platform_code=r.platform_code,
                      platform_name=r.platform_name, shop_code=r.shop_code, shop_name=r.shop_name, accounts=r.accounts,
                      order_count=r.order_count, confidence=r.confidence, status=r.status, status_zh=r.status_zh,
                      first_seen_at=r.first_seen_at, last_seen_at=r.last_seen_at, resolved_at=r.resolved_at,
                      record_id=r.record_id)


class FindingPageOut(BaseModel):
    items: list[FindingOut]
    total: int
    page: int
    per_page: int


@router.get("/findings", summary="监测线索 Findings (regulators)", response_model=FindingPageOut, responses=_ERRORS)
def findings(
    actor: ActorDep, session: ReadSession,
    kind: Annotated[str, Query(max_length=32)] = "",
    status: Annotated[str, Query(max_length=16)] = "",
    platform: Annotated[str, Query(max_length=32, description="平台代码")] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = service.PER_PAGE,
) -> FindingPageOut:
    """Most confident first."""
    rows, total = service.list_findings(session, actor=actor, day=today_cn(), kind=kind, status=status,
                                        platform=platform, page=page, per_page=per_page)
    return FindingPageOut(items=[_finding(r) for r in rows], total=total, page=page, per_page=per_page)


class ShopLineOut(BaseModel):
    code: str
    name: str
    role_zh: str = Field(description="涉事店铺 | 被评价店铺")
    status: str
    owner_kind: str
    owner_name: str = Field(description="经营者（自然人为脱敏姓名）")
    owner_id: str = Field(description="统一社会信用代码（自然人为脱敏身份号码）")
    licence_no: str | None


class AccountLineOut(BaseModel):
    id: int
    label: str = Field(description="账户假名（平台密钥哈希的前 8 位）")
    orders: int
    bound: bool = Field(description="平台已提供实名信息")


class TimeBinOut(BaseModel):
    start: dt.datetime
    count: int


class HistoryOut(BaseModel):
    action: str
    label_zh: str
    at: dt.datetime
    actor: str
    reason: str | None


class FindingDetailOut(FindingOut):
    item: str = Field(description="确认后形成记录的目录项")
    item_name: str
    against: str = Field(description="shops：店铺经营者 | buyers：买家账户的实名主体")
    summary: dict[str, Any]
    evidence: dict[str, Any] = Field(description="检测器给出的证据（仅计数，不含明文）")
    evidence_summary_zh: str | None = Field(description="检测器对证据的一句话说明")
    evidence_zh: list[tuple[str, str]]
    shops: list[ShopLineOut]
    account_lines: list[AccountLineOut]
    accounts_bound: int
    shared: dict[str, dict[str, int]] = Field(description="共用收货地址、设备、支付账户（仅计数）")
    density: dict[str, float] = Field(description="买家–店铺子图：买家数、店铺数、边数、密度")
    timeline: list[TimeBinOut]
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str | None
    decision_department: str | None
    severity: str | None
    record_ids: list[int]
    history: list[HistoryOut]
    actions: list[str] = Field(description="调用方现在可以做的操作")
    confirm_blocked: str | None = Field(description="调用方不能确认的原因")
    targets: list[dict[str, str]] = Field(description="确认后将被记录的主体（脱敏）")


def _detail(d: service.FindingDetail) -> FindingDetailOut:
    b, s, e, dens = d.density
    return FindingDetailOut(
        **_finding(d.row).model_dump(), item=d.item_code, item_name=d.item_name_zh, against=d.against,
        summary=d.summary, evidence=d.detector_evidence, evidence_summary_zh=d.detector_summary_zh,
        evidence_zh=d.evidence_lines,
        shops=[ShopLineOut(code=x.code, name=x.name, role_zh=x.role_zh, status=x.status, owner_kind=x.owner_kind,
                           owner_name=x.owner_name, owner_id=x.owner_id, licence_no=x.licence_no) for x in d.shops],
        account_lines=[AccountLineOut(id=a.id, label=a.label, orders=a.orders, bound=a.bound) for a in d.accounts],
        accounts_bound=d.accounts_bound, shared=d.shared,
        density={"buyers": b, "shops": s, "edges": e, "density": round(dens, 4)},
        timeline=[TimeBinOut(start=t.start, count=t.count) for t in d.bins], decided_by=d.decided_by,
        decided_at=d.decided_at, decision_note=d.decision_note, decision_department=d.decision_department,
        severity=d.severity, record_ids=d.record_ids,
        history=[HistoryOut(action=h.action, label_zh=h.label_zh, at=h.at, actor=h.actor, reason=h.reason)
                 for h in d.history],
        actions=d.actions, confirm_blocked=d.confirm_blocked,
        targets=[{"name": n, "id": i, "role": r} for n, i, r in d.targets])


def _read_detail(platform: Platform, finding_id: int, actor: Any) -> FindingDetailOut:
    with platform.db.write() as session:  # the read of a person-owned shop's finding is logged
        return _detail(service.finding_detail(session, platform.catalog, finding_id=finding_id, actor=actor,
                                              now=utcnow()))


@router.get("/findings/{finding_id}", summary="一条监测线索及证据 One finding", response_model=FindingDetailOut,
            responses=_ERRORS)
def finding(finding_id: int, actor: ActorDep, platform: PlatformDep) -> FindingDetailOut:
    return _read_detail(platform, finding_id, actor)


class ConfirmIn(BaseModel):
    note: str = Field(max_length=2000, description="研判意见（写入失信记录的失信事实）")
    severity: Literal["general", "serious"] = Field(default="general", description="一般失信 | 严重失信")
    decision_no: str | None = Field(default=None, max_length=64, description="认定（处罚）文书号")
    include_buyers: bool = Field(default=False, description="同时记录平台已提供实名信息的刷手账户（刷单类）")


@router.post("/findings/{finding_id}/confirm", summary="确认线索并形成失信记录 Confirm",
             response_model=FindingDetailOut, responses=_ERRORS)
def confirm(finding_id: int, body: ConfirmIn, actor: ActorDep, platform: PlatformDep) -> FindingDetailOut:
    """A regulator's clerk: negative records of the kind's catalog item, in the clerk's department's name,
    against the shops' real-name owners (or the bound subjects of the accounts): objection and repair apply."""
    service.confirm(platform.db, platform.catalog, platform.keyring, finding_id=finding_id, actor=actor, now=utcnow(),
                    body=service.ConfirmIn(note=body.note, severity=body.severity, decision_no=body.decision_no,
                                           include_buyers=body.include_buyers))
    return _read_detail(platform, finding_id, actor)


class ReasonIn(BaseModel):
    reason: str = Field(max_length=2000, description="理由")


@router.post("/findings/{finding_id}/dismiss", summary="驳回线索 Dismiss", response_model=FindingDetailOut,
             responses=_ERRORS)
def dismiss(finding_id: int, body: ReasonIn, actor: ActorDep, platform: PlatformDep) -> FindingDetailOut:
    service.dismiss(platform.db, finding_id=finding_id, reason=body.reason, actor=actor, now=utcnow())
    return _read_detail(platform, finding_id, actor)


@router.post("/findings/{finding_id}/reopen", summary="重新研判 Reopen", response_model=FindingDetailOut,
             responses=_ERRORS)
def reopen(finding_id: int, body: ReasonIn, actor: ActorDep, platform: PlatformDep) -> FindingDetailOut:
    service.reopen(platform.db, finding_id=finding_id, reason=body.reason, actor=actor, now=utcnow())
    return _read_detail(platform, finding_id, actor)


# -- shop risk ---------------------------------------------------------------------------------------------


class ReasonOut(BaseModel):
    code: str
    points: float
    text_zh: str
    text_en: str


class BoardRowOut(BaseModel):
    platform_code: str
    platform_name: str
    shop_code: str
    shop_name: str
    shop_status: str
    owner_name: str
    owner_id: str
    level: str = Field(description="low | medium | high | severe")
    level_zh: str
    score: float
    reasons: list[ReasonOut]
    computed_at: dt.datetime
    level_since: dt.datetime
    notice_no: str | None = Field(description="生效中的风险提示编号")


class BoardPageOut(BaseModel):
    items: list[BoardRowOut]
    total: int
    page: int
    per_page: int


@router.get("/risk", summary="商家信用风险预警 Shops by risk (regulators)", response_model=BoardPageOut,
            responses=_ERRORS)
def board(
    actor: ActorDep, platform_dep: PlatformDep,
    level: Annotated[str, Query(max_length=16, description="low | medium | high | severe；默认中及以上")] = "",
    platform: Annotated[str, Query(max_length=32)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = warning.PER_PAGE,
) -> BoardPageOut:
    with platform_dep.db.write() as session:  # the person owners shown are logged in their query logs
        rows, total = warning.risk_board(session, actor=actor, day=today_cn(), level=level, platform=platform,
                                         page=page, per_page=per_page)
    return BoardPageOut(items=[BoardRowOut(
        platform_code=r.platform_code, platform_name=r.platform_name, shop_code=r.shop_code, shop_name=r.shop_name,
        shop_status=r.shop_status, owner_name=r.owner_name, owner_id=r.owner_id, level=r.level, level_zh=r.level_zh,
        score=r.score, reasons=[ReasonOut(**x) for x in r.reasons], computed_at=r.computed_at,
        level_since=r.level_since, notice_no=r.notice_no) for r in rows], total=total, page=page, per_page=per_page)


class ShopRiskOut(BaseModel):
    platform_code: str
    shop_code: str
    shop_name: str
    level: str | None = Field(description="low | medium | high | severe；null：尚未评估")
    level_zh: str
    score: float | None
    reasons: list[ReasonOut]
    parameter_version: str | None = Field(description="计算所依据的预警规则版本")
    computed_at: dt.datetime | None
    level_since: dt.datetime | None
    notice_no: str | None


@router.get("/shops/{platform_code}/{shop_code}/risk", summary="店铺信用风险等级 A shop's risk level",
            response_model=ShopRiskOut, responses=_ERRORS)
def shop_risk(platform_code: str, shop_code: str, actor: ActorDep, platform: PlatformDep) -> ShopRiskOut:
    """For the shop's own platform (API key ``platform:<USCC>``), the regulators and the credit office.
    The read of a person-owned shop is entered in the owner's query log."""
    with platform.db.write() as session:
        v = warning.shop_risk_for(session, actor=actor, platform_code=platform_code, shop_code=shop_code,
                                  day=today_cn())
    return ShopRiskOut(platform_code=v.platform_code, shop_code=v.shop_code, shop_name=v.shop_name, level=v.level,
                       level_zh=v.level_zh, score=v.score, reasons=[ReasonOut(**x) for x in v.reasons],
                       parameter_version=v.parameter_version, computed_at=v.computed_at, level_since=v.level_since,
                       notice_no=v.notice_no)


# -- risk notices ------------------------------------------------------------------------------------------


class NoticeOut(BaseModel):
    no: str = Field(examples=["FX-2026-000001"])
    title: str
    text: str
    level: str
    level_zh: str
    score: float
    reasons: list[ReasonOut]
    platform_code: str
    platform_name: str
    shop_code: str
    shop_name: str
    owner_name: str = Field(description="经营者（自然人为脱敏姓名）")
    owner_id: str
    licence_no: str | None
    department: str
    department_name: str
    published_at: dt.datetime
    state: str = Field(description="published | withdrawn")
    state_zh: str
    withdrawn_at: dt.datetime | None
    withdraw_reason: str | None
    basis: str


def _notice(v: warning.NoticeView) -> NoticeOut:
    return NoticeOut(no=v.no, title=v.title, text=v.text, level=v.level, level_zh=v.level_zh, score=v.score,
                     reasons=[ReasonOut(**x) for x in v.reasons], platform_code=v.platform_code,
                     platform_name=v.platform_name, shop_code=v.shop_code, shop_name=v.shop_name,
                     owner_name=v.owner_name, owner_id=v.owner_id, licence_no=v.licence_no,
                     department=v.department_code, department_name=v.department_name, published_at=v.published_at,
                     state=v.state, state_zh=v.state_zh, withdrawn_at=v.withdrawn_at,
                     withdraw_reason=v.withdraw_reason, basis=v.basis)


class NoticePageOut(BaseModel):
    items: list[NoticeOut]
    total: int
    page: int
    per_page: int


@router.get("/risk-notices", summary="风险提示 Risk notices (public)", response_model=NoticePageOut, responses=_ERRORS)
def notices(
    platform: PlatformDep, session: ReadSession,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
    include_withdrawn: bool = False,
) -> NoticePageOut:
    rows, total = warning.public_notices(session, department_names=department_names(platform), page=page,
                                         per_page=per_page, include_withdrawn=include_withdrawn)
    return NoticePageOut(items=[_notice(v) for v in rows], total=total, page=page, per_page=per_page)


@router.get("/risk-notices/{no}", summary="一则风险提示 One risk notice", response_model=NoticeOut, responses=_ERRORS)
def notice(no: str, platform: PlatformDep, session: ReadSession) -> NoticeOut:
    return _notice(warning.public_notice(session, no=no, department_names=department_names(platform)))


class NoticeIn(BaseModel):
    platform: str = Field(max_length=32, description="平台代码")
    shop: str = Field(max_length=64, description="店铺编号（平台的店铺编号）")
    note: str = Field(default="", max_length=1000, description="监管部门提示（公开）")


@router.post("/risk-notices", summary="发布风险提示 Publish a risk notice", response_model=NoticeOut, status_code=201,
             responses=_ERRORS)
def publish(body: NoticeIn, actor: ActorDep, platform: PlatformDep) -> NoticeOut:
    with platform.db.write() as session:
        shop, _ = warning.shop_by_code(session, body.platform, body.shop)
        return _notice(warning.publish_notice(session, shop_id=shop.id, actor=actor, now=utcnow(), note=body.note,
                                              department_names=department_names(platform)))


@router.post("/risk-notices/{no}/withdraw", summary="撤回风险提示 Withdraw", response_model=NoticeOut,
             responses=_ERRORS)
def withdraw(no: str, body: ReasonIn, actor: ActorDep, platform: PlatformDep) -> NoticeOut:
    with platform.db.write() as session:
        return _notice(warning.withdraw_notice(session, no=no, actor=actor, now=utcnow(), reason=body.reason,
                                               department_names=department_names(platform)))


# -- platform assessment ----------------------------------------------------------------------------------


class ComponentOut(BaseModel):
    name_zh: str
    value: float | None = Field(description="0..1；null：不适用（权重分给其他项）")
    weight: float
    text_zh: str


class AssessmentOut(BaseModel):
    platform_code: str
    platform_name: str
    operator_name: str
    operator_uscc: str
    period: str
    period_label: str
    score: float
    grade: str
    grade_zh: str
    shops_total: int
    shops_with_findings: int
    findings_confirmed: int
    acted_timely: int
    median_action_days: float | None
    open_shops: int
    licensed_shops: int
    orders: int
    complaints: int | None = Field(description="null：投诉数据未接入")
    components: dict[str, ComponentOut]
    parameter_version: str
    computed_at: dt.datetime


@router.get("/platform-assessments", summary="电商平台信用状况评估 Platform assessments (public)",
            response_model=list[AssessmentOut], responses=_ERRORS)
def platform_assessments(
    session: ReadSession,
    period: Annotated[str, Query(max_length=8, description="2026-Q3 等；默认最近评估的期间")] = "",
) -> list[AssessmentOut]:
    if not period:
        known = assessment.periods(session)
        if not known:
            return []
        period = known[0]
    return [AssessmentOut(**{k: getattr(r, k) for k in AssessmentOut.model_fields if k != "components"},
                          components={k: ComponentOut(**c) for k, c in r.components.items()})
            for r in assessment.assessments(session, period=period)]
