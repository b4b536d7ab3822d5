"""电商平台信用状况评估 (第三方评估, 实施意见 四(一), 任务 12): one assessment per platform and period.

:func:`assess` (``chengxin ecommerce assess --period 2026-Q3``) gathers each platform's facts for the period
with aggregate queries and scores them with ``rules.assess_platform`` under the rule in force on the
period's last day (``data/assessment.yaml``, where every component is defined). Re-assessing a period
replaces its rows (unique per platform and period) — the figures can only improve in accuracy as late
actions arrive, and the row says when it was computed. :func:`assessments` is the portal's comparable
table (``/platforms/assessment``) and the API's answer.

What "acted on" means (the ``action`` component): a finding confirmed in the period is acted on when, after
its confirmation, the platform suspended or closed the shop (``ec_shop.status`` ≠ ``open``, last changed at
or after the confirmation — ``ec_shop.updated_at``), or a later detection run no longer detected it
(``ec_finding.resolved_at``); the days between confirmation and the earlier of the two are the time to act.
A finding whose deadline (``action_days``) has not passed yet when the assessment is made, and that is not
acted on, is left out rather than counted late. Caveat: the detection window (``findings.yaml``,
``lookback_days``) keeps a stopped ring detectable until its orders age out, so most timely actions show
as the shop's suspension.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chengxin.core import audit
from chengxin.core.clock import day_start_utc
from chengxin.core.db import Database
from chengxin.core.errors import DomainError
from chengxin.ecommerce.risk import rules
from chengxin.ecommerce.risk.config import assessment_params
from chengxin.ecommerce.risk.models import (
    ACTOR_ROLE,
    CONFIRMED,
    DISMISSED,
    EcFinding,
    EcFindingShop,
    EcPlatformAssessment,
)
from chengxin.ecommerce.risk.warning import COMPLAINTS, ComplaintSource
from chengxin.ecommerce.trade.models import EcOrder, EcPlatform, EcShop
from chengxin.subjects.models import Subject

__all__ = ["AssessmentRow", "assess", "assessments", "period_of", "periods"]

COMPONENT_ZH = {"findings": "店铺监测线索", "action": "线索处置时效", "licence": "亮照覆盖", "complaints": "投诉举报"}


def period_of(text: str) -> rules.Period:
    """The period named by ``text`` or a 400 error naming the accepted forms."""
    try:
        return rules.parse_period(text)
    except ValueError:
        raise DomainError("ecommerce.period_invalid", f"评估期间“{text}”格式不正确，应为 2026-Q3、2026-H1、2026-07 或 2026",
                          "The period must look like 2026-Q3, 2026-H1, 2026-07 or 2026", field="period") from None


def _utc(day: dt.date) -> dt.datetime:
    """Midnight (Beijing) at the start of ``day``, in UTC."""
    return day_start_utc(day)


def _facts(session: Session, platform: EcPlatform, period: rules.Period, now: dt.datetime, action_days: int,
           complaints: ComplaintSource) -> rules.PlatformFacts:
    start, end = _utc(period.start), _utc(period.end + dt.timedelta(days=1))
    shops_total = session.scalar(select(func.count()).select_from(EcShop).where(
        EcShop.platform_id == platform.id, EcShop.opened_on <= period.end)) or 0
    with_findings = session.scalar(
        select(func.count(func.distinct(EcFindingShop.shop_id)))
        .join(EcFinding, EcFinding.id == EcFindingShop.finding_id)
        .where(EcFinding.platform_id == platform.id, EcFindingShop.role == ACTOR_ROLE,
               EcFinding.status != DISMISSED, EcFinding.first_seen_at >= start, EcFinding.first_seen_at < end)) or 0
    actions = []
    for decided_at, resolved_at, shop_status, shop_changed in session.execute(
            select(EcFinding.decided_at, EcFinding.resolved_at, EcShop.status, EcShop.updated_at)
            .outerjoin(EcShop, EcShop.id == EcFinding.shop_id)
            .where(EcFinding.platform_id == platform.id, EcFinding.status == CONFIRMED,
                   EcFinding.decided_at >= start, EcFinding.decided_at < end)):
        if decided_at is None:  # a confirmed finding always has one; the type does not know it
            continue
        moments = []
        if shop_status in ("suspended", "closed") and shop_changed is not None and shop_changed >= decided_at:
            moments.append(shop_changed)
        if resolved_at is not None and resolved_at >= decided_at:
            moments.append(resolved_at)
        days = (min(moments) - decided_at).total_seconds() / 86400 if moments else None
        actions.append(rules.ActionFact(days, decided_at + dt.timedelta(days=action_days) <= now))
    open_rows = session.execute(
        select(EcShop.licence_no, Subject.kind, Subject.display_id).join(Subject, Subject.id == EcShop.owner_subject_id)
        .where(EcShop.platform_id == platform.id, EcShop.status == "open", EcShop.opened_on <= period.end)).all()
    licensed = sum(1 for licence, kind, display_id in open_rows if _licensed(licence, kind, display_id))
    orders = session.scalar(select(func.count()).select_from(EcOrder).where(
        EcOrder.platform_id == platform.id, EcOrder.placed_at >= start, EcOrder.placed_at < end)) or 0
    return rules.PlatformFacts(shops_total=shops_total, shops_with_findings=with_findings, actions=tuple(actions),
                               open_shops=len(open_rows), licensed_shops=licensed, orders=orders,
                               complaints=complaints.platform_complaints(session, platform.id, period.start,
                                                                         period.end))


def _licensed(licence: str | None, owner_kind: str, owner_id: str) -> bool:
    """亮照 with a verified owner: an organisation's licence number is its USCC (the business licence carries
    it); a person's number must be present (we hold no register of individual licences to match it to)."""
    number = (licence or "").strip().upper()
    if not number:
        return False
    return owner_kind != "organization" or number == owner_id.upper()


@dataclass(frozen=True)
class AssessmentRow:
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
    complaints: int | None
    components: dict[str, Any]
    parameter_version: str
    computed_at: dt.datetime

    @property
    def licence_rate(self) -> float | None:
        return self.licensed_shops / self.open_shops if self.open_shops else None

    @property
    def findings_rate(self) -> float | None:
        return self.shops_with_findings / self.shops_total if self.shops_total else None


def assess(db: Database, *, period: str, now: dt.datetime, actor: audit.Actor,
           complaints: ComplaintSource | None = None) -> list[AssessmentRow]:
    """Assess every platform for ``period`` (one transaction) and return the table, best first."""
    p = period_of(period)
    params = assessment_params(p.end)
    with db.write() as session:
        platforms = list(session.scalars(select(EcPlatform).order_by(EcPlatform.id)))
        for platform in platforms:
            facts = _facts(session, platform, p, now, params.action_days, complaints or COMPLAINTS)
            result = rules.assess_platform(facts, params)
            values: dict[str, Any] = {
                "period_start": p.start, "period_end": p.end, "parameter_version": result.parameter_version,
                "shops_total": facts.shops_total, "shops_with_findings": facts.shops_with_findings,
                "findings_confirmed": len(facts.actions), "acted_timely": result.acted_timely,
                "median_action_days": result.median_action_days, "open_shops": facts.open_shops,
                "licensed_shops": facts.licensed_shops, "orders": facts.orders, "complaints": facts.complaints,
                "score": result.score, "grade": result.grade,
                "components": {k: {**c.as_json(), "name_zh": COMPONENT_ZH[k]} for k, c in result.components.items()},
                "computed_at": now, "computed_by": actor.label[:128]}
            row = session.scalar(select(EcPlatformAssessment).where(EcPlatformAssessment.platform_id == platform.id,
                                                                    EcPlatformAssessment.period == p.code))
            if row is None:
                session.add(EcPlatformAssessment(platform_id=platform.id, period=p.code, **values))
            else:
                for key, value in values.items():
                    setattr(row, key, value)
        audit.write(session, actor=actor, action="ec_platform_assessment.assess", object_type="ec_platform_assessment",
                    object_id=p.code, detail={"platforms": len(platforms), "version": params.version})
    with db.read() as session:
        return assessments(session, period=p.code)


def assessments(session: Session, *, period: str) -> list[AssessmentRow]:
    """The comparable table of one period, best score first."""
    p = period_of(period)
    grades = {g.code: g.name_zh for g in assessment_params(p.end).grades}
    rows = session.execute(select(EcPlatformAssessment, EcPlatform, Subject)
                           .join(EcPlatform, EcPlatform.id == EcPlatformAssessment.platform_id)
                           .join(Subject, Subject.id == EcPlatform.subject_id)
                           .where(EcPlatformAssessment.period == p.code)
                           .order_by(EcPlatformAssessment.score.desc(), EcPlatform.code)).all()
    return [AssessmentRow(
        platform_code=pl.code, platform_name=pl.name, operator_name=op.display_name, operator_uscc=op.display_id,
        period=a.period, period_label=p.label_zh, score=a.score, grade=a.grade, grade_zh=grades.get(a.grade, a.grade),
        shops_total=a.shops_total, shops_with_findings=a.shops_with_findings, findings_confirmed=a.findings_confirmed,
        acted_timely=a.acted_timely, median_action_days=a.median_action_days, open_shops=a.open_shops,
        licensed_shops=a.licensed_shops, orders=a.orders, complaints=a.complaints, components=dict(a.components or {}),
        parameter_version=a.parameter_version, computed_at=a.computed_at) for a, pl, op in rows]


def periods(session: Session) -> Sequence[str]:
    """The periods assessed so far, newest first."""
    found = session.execute(select(EcPlatformAssessment.period, func.max(EcPlatformAssessment.period_end))
                            .group_by(EcPlatformAssessment.period)).all()
    return [code for code, _ in sorted(found, key=lambda r: r[1], reverse=True)]
