"""Demo data of e-commerce risk: one detection run over the demo platforms' orders, the shop risk levels, a
risk notice for the riskiest shop when the rule allows one, and the assessment of the current quarter — all
through the same services as the jobs and pages (one call from ``demo.load``; a second call finds the run done
and skips). First 12315 complaints about a few shops go in through the complaints intake, so they count in the
levels. Findings are left open on purpose: confirming one (as ``clerk_samr`` on /office/ecommerce/findings)
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
from chengxin.records.service import Receipt

__all__ = ["RiskDemoSummary", "load_risk_demo"]

# The demo regulator (the market regulator's key) publishes the notice.
REGULATOR = audit.Actor(kind="api_key", name="demo-samr", department_code="samr")
JOB = audit.Actor(kind="system", name="demo")


@dataclass
class RiskDemoSummary:
    batches: int = 0  # ingest batches (the complaints' one)
    complaints: int = 0
    detections: int = 0
    notices: int = 0
    assessed: int = 0
    by_level: dict[str, int] = field(default_factory=dict)


# 12315 complaints about a few demo shops (categories, statuses as the hotline records them): received through
# the complaints intake like a department's submission, before the levels are computed, so some shops carry
# the complaints reason on /office/ecommerce/risk and the list on /office/ecommerce/complaints is not empty.
_COMPLAINTS = (("not_as_described", "收到的商品与页面描述的材质不符"), ("after_sales", "申请退货后商家拒不处理"),
               ("counterfeit", "疑似假冒品牌商品，包装印刷粗糙"), ("price_fraud", "先提价后打折，优惠前价格虚构"),
               ("logistics", "显示已签收但未收到包裹"), ("false_advertising", "宣传“原产地直供”与实际不符"))
_STATUSES = ("received", "handling", "substantiated", "handling", "not_substantiated", "withdrawn")


def _load_complaints(platform: Platform, now: dt.datetime) -> Receipt | None:
    from chengxin.ecommerce.complaints.params import CLOSED_STATUSES
    from chengxin.ecommerce.complaints.service import ingest_complaints
    from chengxin.ecommerce.trade.models import EcPlatform, EcShop
    from chengxin.records.service import ApiRow

    with platform.db.read() as session:
        shops = session.execute(select(EcPlatform.code, EcShop.shop_code).join(EcPlatform, EcPlatform.id == EcShop.platform_id)
                                .order_by(EcShop.id).limit(8)).all()
    rows: list[ApiRow] = []
    for i, (platform_code, shop_code) in enumerate(shops):
        for j in range(1 + (7 * i) % 6):  # 1 to 6 complaints a shop
            n = len(rows) + 1
            category, summary = _COMPLAINTS[(i + j) % len(_COMPLAINTS)]
            received = (now - dt.timedelta(days=3 + 9 * j + i)).astimezone(CHINA).replace(microsecond=0)
            status = _STATUSES[(i + j) % len(_STATUSES)]
            values: dict[str, object] = {
                "source_complaint_id": f"12315-DEMO-{n:05d}", "channel": "12315", "received_at": received.isoformat(),
                "platform": platform_code, "shop_code": shop_code, "category": category, "status": status,
                "summary": summary}
            if status in CLOSED_STATUSES:  # closed ones carry their closing time
                values["closed_at"] = (received + dt.timedelta(days=2)).isoformat()
            rows.append(ApiRow(n, values))
    if not rows:
        return None
    return ingest_complaints(platform.db, rows, actor=REGULATOR, department="samr", channel="demo", now=now)


def load_risk_demo(platform: Platform, *, today: dt.date | None = None) -> RiskDemoSummary:
    summary = RiskDemoSummary()
    with platform.db.read() as session:
        if session.scalar(select(func.count()).select_from(EcDetectionRun)):
            return summary
    now = dt.datetime.now(dt.UTC)
    if today is not None and today < now.astimezone(CHINA).date():
        now = dt.datetime.combine(today, dt.time(21), CHINA).astimezone(dt.UTC)
    receipt = _load_complaints(platform, now)
    if receipt is not None:
        summary.batches, summary.complaints = 1, receipt.accepted
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
