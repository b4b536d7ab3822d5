"""订阅与推送 API (``/api/v1/subscriptions``): a department's or platform's system (API key) or the credit
office subscribes to list changes of the subjects it cares about and reads its delivery log. A thin
adapter over ``subscriptions.service``; notifications are signed per Standard Webhooks — how to verify
them: ``chengxin.subscriptions.rules`` (module docstring).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from chengxin.api.deps import ActorDep, PlatformDep
from chengxin.api.schemas import ErrorOut
from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.subscriptions import rules
from chengxin.subscriptions import service as subs
from chengxin.subscriptions.config import config_on, webhook_settings

router = APIRouter(prefix="/api/v1/subscriptions", tags=["subscriptions"])
_ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorOut} for s in (400, 401, 403, 404, 409, 422)}


class SubjectRefIn(BaseModel):
    """One subject: exactly one of ``uscc`` (统一社会信用代码) or ``ric`` (公民身份号码)."""

    model_config = ConfigDict(extra="forbid")

    uscc: str | None = Field(default=None, max_length=64)
    ric: str | None = Field(default=None, max_length=64)


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=rules.MAX_URL_CHARS, description="接收推送的 https 地址")
    list_kinds: list[str] = Field(min_length=1, max_length=4,
                                  description="red | black | watch | shop_risk（网店信用风险等级，issue #7）")
    changes: list[str] = Field(default=["listed", "ended"], min_length=1, max_length=10,
                               description="关心的变动（条目的新状态）：proposed | noticed | publicity | listed | ended | "
                                           "rejected | withdrawn；网店风险等级：risk_changed")
    scope: str = Field(default=rules.SCOPE_SUBJECTS, description="subjects（指定主体）| all（名单全部主体，仅市信用办）")
    subjects: list[SubjectRefIn] = Field(default=[], description="关心的信用主体；无法识别的逐项说明原因，其余照常订阅")
    description: str = Field(default="", max_length=200)


class SubjectsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    add: list[SubjectRefIn] = Field(default=[], description="增加的主体")
    remove: list[SubjectRefIn] = Field(default=[], description="移除的主体")


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    owner_code: str
    description: str
    url: str
    list_kinds: list[str]
    changes: list[str]
    scope: str
    state: str = Field(description="active | disabled | cancelled")
    state_zh: str
    state_reason: str | None = Field(description="停用或取消的原因（连续推送失败时由系统填写）")
    state_changed_at: dt.datetime | None
    created_at: dt.datetime
    created_by: str
    subject_count: int
    failed_in_row: int
    last_success_at: dt.datetime | None
    last_failure_at: dt.datetime | None
    counts: dict[str, int] = Field(description="各状态的推送条数 pending / delivered / failed")


class SubjectResultOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    index: int = Field(description="在请求列表中的位置（从 0 起）")
    status: str = Field(description="added | already | removed | not_subscribed | refused | subscribed")
    subject_id: int | None
    display_id: str | None = Field(description="脱敏显示的证件号码，或统一社会信用代码")
    display_name: str | None
    code: str | None
    message: str | None
    message_en: str | None


class SubjectsReportOut(BaseModel):
    added: int
    removed: int
    refused: int
    results: list[SubjectResultOut]


class CreatedOut(BaseModel):
    subscription: SubscriptionOut
    secret: str = Field(description="签名密钥（仅此一次显示，请妥善保存）whsec_…")
    subjects: SubjectsReportOut


class SecretOut(BaseModel):
    secret: str = Field(description="新的签名密钥（仅此一次显示）；旧密钥立即失效")


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempt_no: int
    started_at: dt.datetime
    duration_ms: int
    url: str
    address: str | None
    status_code: int | None
    ok: bool
    error: str | None
    response_excerpt: str | None


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subscription_id: int
    change_id: int
    msg_id: str = Field(description="webhook-id 头的值，重试时不变")
    state: str = Field(description="pending | delivered | failed")
    state_zh: str
    attempts: int = Field(description="本轮已失败的尝试次数")
    created_at: dt.datetime
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    failed_at: dt.datetime | None
    last_status_code: int | None
    last_error: str | None
    list_kind: str
    change: str
    entry_id: int
    subject_display_id: str
    subject_display_name: str
    attempt_log: list[AttemptOut]


def _report(report: subs.SubjectsReport) -> SubjectsReportOut:
    return SubjectsReportOut(added=report.count("added"), removed=report.count("removed"),
                             refused=report.count("refused"),
                             results=[SubjectResultOut.model_validate(r) for r in report.results])


def _refs(items: list[SubjectRefIn]) -> list[dict[str, Any]]:
    return [i.model_dump(exclude_none=True) for i in items]


@router.post("", summary="订阅名单变动 Subscribe to list changes", response_model=CreatedOut, status_code=201,
             responses=_ERRORS)
def create(body: SubscriptionIn, actor: ActorDep, platform: PlatformDep) -> CreatedOut:
    now, settings = utcnow(), webhook_settings()
    subs.check_target(body.url, settings, subs.system_resolve)  # DNS outside the transaction
    with platform.db.write() as session:
        created = subs.subscribe(session, platform.keyring, actor=actor, url=body.url, list_kinds=body.list_kinds,
                                 changes=body.changes, scope=body.scope, subjects=_refs(body.subjects),
                                 description=body.description, now=now, cfg=config_on(today_cn()),
                                 settings=settings)
    return CreatedOut(subscription=SubscriptionOut.model_validate(created.subscription), secret=created.secret,
                      subjects=_report(created.subjects))


@router.get("", summary="我的订阅 My subscriptions", response_model=list[SubscriptionOut], responses=_ERRORS)
def list_all(actor: ActorDep, platform: PlatformDep,
             state: Annotated[str | None, Query(description="active | disabled | cancelled")] = None,
             owner: Annotated[str | None, Query(max_length=64, description="（市信用办）只看某订阅方")] = None,
             ) -> list[SubscriptionOut]:
    with platform.db.read() as session:
        views = subs.list_subscriptions(session, actor, owner=owner, state=state)
    return [SubscriptionOut.model_validate(v) for v in views]


@router.get("/{subscription_id}", summary="订阅详情 One subscription", response_model=SubscriptionOut,
            responses=_ERRORS)
def get_one(subscription_id: int, actor: ActorDep, platform: PlatformDep) -> SubscriptionOut:
    with platform.db.read() as session:
        return SubscriptionOut.model_validate(subs.subscription_view(session, actor, subscription_id))


@router.delete("/{subscription_id}", summary="取消订阅 Cancel", response_model=SubscriptionOut, responses=_ERRORS)
def delete(subscription_id: int, actor: ActorDep, platform: PlatformDep) -> SubscriptionOut:
    with platform.db.write() as session:
        view = subs.cancel(session, actor=actor, subscription_id=subscription_id, now=utcnow())
    return SubscriptionOut.model_validate(view)


@router.post("/{subscription_id}/enable", summary="恢复已停用的订阅 Re-enable", response_model=SubscriptionOut,
             responses=_ERRORS)
def enable(subscription_id: int, actor: ActorDep, platform: PlatformDep) -> SubscriptionOut:
    with platform.db.write() as session:
        view = subs.enable(session, actor=actor, subscription_id=subscription_id, now=utcnow())
    return SubscriptionOut.model_validate(view)


@router.post("/{subscription_id}/secret", summary="更换签名密钥 Rotate the signing secret", response_model=SecretOut,
             responses=_ERRORS)
def rotate(subscription_id: int, actor: ActorDep, platform: PlatformDep) -> SecretOut:
    with platform.db.write() as session:
        secret = subs.rotate_secret(session, platform.keyring, actor=actor, subscription_id=subscription_id,
                                    now=utcnow())
    return SecretOut(secret=secret)


@router.get("/{subscription_id}/subjects", summary="订阅的信用主体 Subscribed subjects",
            response_model=list[SubjectResultOut], responses=_ERRORS)
def subjects(subscription_id: int, actor: ActorDep, platform: PlatformDep) -> list[SubjectResultOut]:
    with platform.db.read() as session:
        return [SubjectResultOut.model_validate(r) for r in subs.subscribed_subjects(session, actor, subscription_id)]


@router.post("/{subscription_id}/subjects", summary="增减信用主体 Add or remove subjects",
             response_model=SubjectsReportOut, responses=_ERRORS)
def change_subjects(subscription_id: int, body: SubjectsIn, actor: ActorDep, platform: PlatformDep,
                    ) -> SubjectsReportOut:
    now, cfg = utcnow(), config_on(today_cn())
    results: list[subs.SubjectResult] = []
    with platform.db.write() as session:
        if body.add:
            results += subs.add_subjects(session, platform.keyring, actor=actor, subscription_id=subscription_id,
                                         items=_refs(body.add), now=now, cfg=cfg).results
        if body.remove:
            removed = subs.remove_subjects(session, platform.keyring, actor=actor, subscription_id=subscription_id,
                                           items=_refs(body.remove), now=now, cfg=cfg).results
            # Positions in the remove list follow those of the add list.
            results += [subs.SubjectResult(**{**r.__dict__, "index": r.index + len(body.add)}) for r in removed]
        if not body.add and not body.remove:
            subs.add_subjects(session, platform.keyring, actor=actor, subscription_id=subscription_id, items=[],
                              now=now, cfg=cfg)  # raises: nothing listed
    return _report(subs.SubjectsReport(results))


@router.get("/{subscription_id}/deliveries", summary="推送记录 Delivery log (each attempt)",
            response_model=list[DeliveryOut], responses=_ERRORS)
def deliveries(subscription_id: int, actor: ActorDep, platform: PlatformDep,
               state: Annotated[str | None, Query(description="pending | delivered | failed")] = None,
               limit: Annotated[int, Query(ge=1, le=500)] = 100,
               before_id: Annotated[int | None, Query(ge=1, description="翻页：只列出编号小于此值的推送")] = None,
               ) -> list[DeliveryOut]:
    with platform.db.read() as session:
        views = subs.deliveries(session, actor, subscription_id, state=state, limit=limit, before_id=before_id)
    return [DeliveryOut.model_validate(v) for v in views]


@router.post("/deliveries/{delivery_id}/redeliver", summary="重新推送 Send a delivery again",
             response_model=DeliveryOut, responses=_ERRORS)
def redeliver(delivery_id: int, actor: ActorDep, platform: PlatformDep) -> DeliveryOut:
    with platform.db.write() as session:
        view = subs.redeliver(session, actor=actor, delivery_id=delivery_id, now=utcnow())
    return DeliveryOut.model_validate(view)
