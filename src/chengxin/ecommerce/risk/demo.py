"""Demo data of e-commerce risk: one detection run over the demo platforms' orders, the shop risk levels, a
risk notice for the riskiest shop when the rule allows one, and the assessment of the current quarter — all
through the same services as the jobs and pages (one call from ``demo.load``; a second call finds the run done
and skips). Findings are left open on purpose: confirming one (as ``clerk_samr`` on /office/ecommerce/findings)
is the tour's step, and the demo's record counts stay those of the departments' submissions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select

from chengxin.core import audit
from chengxin.core.clock import CHINA
from chengxin.core.errors import DomainError
from chengxin.ecommerce.risk import assessment, service, warning
from chengxin.ecommerce.risk.models import EcDetectionRun, EcShopRisk
from chengxin.platform import Platform

__all__ = ["RiskDemoSummary", "load_risk_demo"]

# The demo regulator (the market regulator's key) publishes the notice.
REGULATOR = audit.Actor(kind="api_key", name="demo-samr", department_code="samr")
JOB = audit.Actor(kind="system", name="demo")


@dataclass
class RiskDemoSummary:
    detections: int = 0
    notices: int = 0
    assessed: int = 0
    by_level: dict[str, int] = field(default_factory=dict)


def load_risk_demo(platform: Platform, *, today: dt.date | None = None) -> RiskDemoSummary:
    summary = RiskDemoSummary()
    with platform.db.read() as session:
        if session.scalar(select(func.count()).select_from(EcDetectionRun)):
            return summary
    now = dt.datetime.now(dt.UTC)
    if today is not None and today < now.astimezone(CHINA).date():
        now = dt.datetime.combine(today, dt.time(21), CHINA).astimezone(dt.UTC)
    run = service.detect(platform.db, now=now, actor=JOB)
    summary.detections = run.detections
    names = {code: d.name_zh for code, d in platform.catalog.departments.items()}
    with platform.db.write() as session:
        top = session.scalar(select(EcShopRisk.shop_id).order_by(EcShopRisk.rank.desc(), EcShopRisk.score.desc())
                             .limit(1))
        if top is not None:
            try:
                warning.publish_notice(session, shop_id=top, actor=REGULATOR, now=now,
                                       note="该店铺监测线索较多、信用风险等级较高，请消费者审慎交易（演示数据）",
                                       department_names=names)
                summary.notices = 1
            except DomainError:
                pass  # below the notice level: no notice
        summary.by_level = dict(session.execute(select(EcShopRisk.level, func.count()).group_by(EcShopRisk.level))
                                .all())
    day = now.astimezone(CHINA).date()
    period = f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    summary.assessed = len(assessment.assess(platform.db, period=period, now=now, actor=JOB))
    return summary
