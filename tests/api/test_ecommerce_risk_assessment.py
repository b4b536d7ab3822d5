"""Platform assessment end to end: the CLI job over two platforms, the comparable table on the portal and in
the API, and the CLI commands of detection and risk on a generated marketplace."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from tests.api.test_ecommerce_risk_support import bearer, load_market, seed_findings, small_world
from typer.testing import CliRunner

from chengxin.core.clock import CHINA
from chengxin.ecommerce.risk.models import EcDetectionRun, EcFinding, EcShopRisk
from chengxin.ecommerce.risk.rules import parse_period
from chengxin.ecommerce.trade.models import EcShop
from chengxin.platform import Platform
from factories import uscc_for


def _quarter(now: dt.datetime) -> str:
    day = now.astimezone(CHINA).date()
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def test_assess_two_platforms_and_compare(client: TestClient, platform: Platform, monkeypatch: Any,
                                          make_user: Callable[..., str]) -> None:
    import chengxin.platform
    from chengxin.cli.main import app

    monkeypatch.setattr(chengxin.platform, "open_platform", lambda: platform)
    world = small_world(platform)
    small_world(platform, code="othermall", operator_uscc=uscc_for(991))
    found = seed_findings(platform, world)
    confirmed = client.post(f"/api/v1/ecommerce/findings/{found['order_brushing']}/confirm",
                            headers=bearer(make_user("clerk", "samr")), json={"note": "核实属刷单"})
    assert confirmed.status_code == 200
    with platform.db.write() as s:  # the platform suspends the shop three days after the confirmation
        decided = s.get_one(EcFinding, found["order_brushing"]).decided_at
        assert decided is not None
        s.execute(update(EcShop).where(EcShop.id == world.shops["S1"]).values(
            status="suspended", updated_at=decided + dt.timedelta(days=3)))
    period = _quarter(dt.datetime.now(dt.UTC))
    result = CliRunner().invoke(app, ["ecommerce", "assess", "--period", period])
    assert result.exit_code == 0, result.output
    assert "电商平台信用状况评估" in result.output and "55.0" in result.output
    again = CliRunner().invoke(app, ["ecommerce", "assess", "--period", period])  # re-assessing replaces
    assert again.exit_code == 0
    rows = client.get("/api/v1/ecommerce/platform-assessments").json()
    assert [r["platform_code"] for r in rows] == ["othermall", "testmall"]  # best first
    mine = next(r for r in rows if r["platform_code"] == "testmall")
    assert (mine["shops_total"], mine["shops_with_findings"], mine["findings_confirmed"], mine["acted_timely"]) == (
        3, 2, 1, 1)
    assert mine["median_action_days"] == 3.0 and (mine["licensed_shops"], mine["open_shops"]) == (1, 2)
    # Complaints are connected: none received, so the component applies with full marks (weight 0.1).
    assert mine["complaints"] == 0 and mine["components"]["complaints"]["value"] == 1.0
    assert mine["components"]["findings"]["value"] == 0.0 and mine["components"]["action"]["value"] == 1.0
    # findings 0 × 0.3 + action 1 × 0.3 + licence 0.5 × 0.3 + complaints 1 × 0.1 = 0.55
    assert mine["score"] == 55.0 and mine["grade"] == "D" and mine["period"] == period
    other = rows[0]
    assert other["components"]["action"]["value"] is None and other["score"] > mine["score"]
    page = client.get("/platforms/assessment")
    assert page.status_code == 200 and "电商平台信用状况评估" in page.text and 'data-platform="testmall"' in page.text
    assert "不适用" in page.text and parse_period(period).label_zh in page.text
    bad = client.get("/api/v1/ecommerce/platform-assessments", params={"period": "2026-Q5"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "ecommerce.period_invalid"
    wrong = CliRunner().invoke(app, ["ecommerce", "assess", "--period", "next year"])
    assert wrong.exit_code == 2 and "2026-Q3" in wrong.output


def test_detect_and_recompute_commands(platform: Platform, monkeypatch: Any) -> None:
    import chengxin.platform
    from chengxin.cli.main import app

    monkeypatch.setattr(chengxin.platform, "open_platform", lambda: platform)
    db = load_market(platform)
    as_of = (db.market.spec.end - dt.timedelta(seconds=1)).astimezone(CHINA).date().isoformat()
    runner = CliRunner()
    first = runner.invoke(app, ["ecommerce", "detect", "--as-of", as_of])
    assert first.exit_code == 0, first.output
    flat = "".join(first.output.split())  # Rich wraps long lines at the terminal's width
    assert "监测批次1" in flat and "新增" in flat and "耗时" in flat
    second = runner.invoke(app, ["ecommerce", "detect", "--as-of", as_of])
    assert second.exit_code == 0 and "新增0，更新0" in "".join(second.output.split())
    risk = runner.invoke(app, ["ecommerce", "risk", "recompute", "--as-of", as_of])
    assert risk.exit_code == 0 and "等级变化0家" in "".join(risk.output.split())  # nothing moved since the last run
    with platform.db.read() as s:
        assert len(list(s.scalars(select(EcDetectionRun)))) == 2
        assert len(list(s.scalars(select(EcShopRisk)))) == db.market.shops.height
