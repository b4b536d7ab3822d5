"""The e-commerce demo: through the platforms' ingest path, nothing rejected, loaded once, pages render — with
the marketplace generator of helper "detection" and with the plain fallback market."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from chengxin.ecommerce.trade.demo import load_trade_demo
from chengxin.ecommerce.trade.models import EcOrder, EcPlatform, EcRating, EcShipment, EcShop
from chengxin.platform import Platform


@pytest.mark.parametrize("generator", ["marketgen", "simple"])
def test_demo_loads_once_through_the_ingest_path(client: TestClient, platform: Platform, monkeypatch: Any,
                                                 generator: str) -> None:
    if generator == "simple":
        import chengxin.ecommerce.marketgen as marketgen

        def broken(*_args: object, **_kw: object) -> None:
            raise RuntimeError("generator unavailable")

        monkeypatch.setattr(marketgen, "generate", broken)
    summary = load_trade_demo(platform, seed=11, orders=600, shops=30)
    assert summary.market == generator
    assert (summary.platforms, summary.shops, summary.rejected, summary.batches) == (3, 30, 0, 9)
    assert summary.orders >= 600 and summary.ratings > 300  # marketgen's injected fraud may add orders
    with platform.db.read() as session:
        assert session.scalar(select(func.count()).select_from(EcPlatform)) == 3
        assert session.scalar(select(func.count()).select_from(EcShop)) == 30
        assert session.scalar(select(func.count()).select_from(EcOrder)) == summary.orders
        assert session.scalar(select(func.count()).select_from(EcShipment)) > summary.orders * 0.6
        assert session.scalar(select(func.count()).select_from(EcRating)) == summary.ratings
        shop = session.execute(select(EcShop).join(EcRating, EcRating.shop_id == EcShop.id).limit(1)).scalars().first()
        code = session.get_one(EcPlatform, shop.platform_id).code if shop else ""
    assert load_trade_demo(platform, seed=11, orders=600, shops=30).platforms == 0  # once
    assert shop is not None
    page = client.get(f"/shops/{code}/{shop.shop_code}")
    assert page.status_code == 200 and "买家评价" in page.text
    listing = client.get("/shops").text
    assert "共 30 家店铺" in listing


def test_demo_as_of_an_earlier_day(platform: Platform) -> None:
    summary = load_trade_demo(platform, today=dt.date(2026, 6, 30), seed=3, orders=300, shops=12)
    assert summary.rejected == 0 and summary.orders >= 300
    with platform.db.read() as session:
        latest = session.scalar(select(func.max(EcOrder.placed_at)))
    assert latest is not None and latest.date() <= dt.date(2026, 6, 30)
