"""The e-commerce risk demo: one detection run over the trade demo, levels, the assessment table — loaded once
(findings left open for the tour, no record added), and the pages render on it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from chengxin.ecommerce.complaints.models import EcComplaint
from chengxin.ecommerce.risk.demo import load_risk_demo
from chengxin.ecommerce.risk.models import EcPlatformAssessment, EcShopRisk
from chengxin.ecommerce.trade.demo import load_trade_demo
from chengxin.platform import Platform
from chengxin.records.models import Record


def test_the_risk_demo_loads_once_and_renders(client: TestClient, platform: Platform) -> None:
    load_trade_demo(platform, seed=11, orders=1200, shops=40)
    summary = load_risk_demo(platform)
    assert summary.detections > 0 and summary.assessed == 3
    with platform.db.read() as s:
        assert s.scalar(select(func.count()).select_from(EcShopRisk)) == 40
        assert s.scalar(select(func.count()).select_from(EcComplaint)) == summary.complaints > 8  # 1–6 for 8 shops
        reasons = [r for rs in s.scalars(select(EcShopRisk.reasons)) for r in rs]
        assert any(r["code"] == "complaints" for r in reasons)  # counted ones reach the levels
        assert s.scalar(select(func.count()).select_from(EcPlatformAssessment)) == 3
        records = s.scalar(select(func.count()).select_from(Record).where(Record.item_code.like("ec_%")))
    assert records == 0  # confirming is the tour's step
    assert load_risk_demo(platform).detections == 0  # once
    assert client.get("/platforms/assessment").status_code == 200
    assert client.get("/risk-notices").status_code == 200
    assert load_risk_demo(platform).complaints == 0  # not sent twice
