"""Issue #7 licence display (亮照亮标) in a real browser: a buyer finds a shop on /shops, sees its licence display
and badge, clicks the badge and reads 有效 with the shop's name and address; a copied old link reads 已过期, a
forged one 签名无效, and once the shop closes the same link reads 店铺已关闭.

The platform and its shop are set up through the service layer; every step of the buyer is clicks."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from tests.browser.ec_support import push_shops, register_longcheng

from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.ecommerce.trade import service
from chengxin.ecommerce.trade.params import trade_rules_on
from chengxin.platform import Platform
from factories import uscc_for

pytestmark = pytest.mark.browser

SHOP = {"shop_code": "TEA01", "name": "龙城碧螺春茶叶旗舰店", "url": "https://shop.example.com/TEA01",
        "owner_uscc": uscc_for(4401), "owner_name": "常州龙城茶业有限公司", "licence_no": uscc_for(4401),
        "category": "食品/茶叶", "opened_on": "2020-05-01", "status": "open"}


def _push_shop(platform: Platform, **change: str) -> None:
    push_shops(platform, [{**SHOP, **change}])


@pytest.fixture()
def shop(platform: Platform) -> None:
    register_longcheng(platform, 4400)
    _push_shop(platform)


def _shot(pg: Page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{name}: a near-empty screenshot"


def test_a_buyer_checks_a_shop_badge(server: str, page: Page, platform: Platform, shop: None, tmp_path: Path) -> None:
    page.goto(f"{server}/")
    page.get_by_role("link", name="网店信用").click()
    page.get_by_label("店铺名称或店铺编号").fill("碧螺春")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#shop-results")).to_contain_text("共 1 家店铺")
    page.get_by_role("link", name="龙城碧螺春茶叶旗舰店").click()
    expect(page.locator("#shop-title")).to_contain_text("龙城碧螺春茶叶旗舰店")
    expect(page.locator("#shop-owner")).to_contain_text("常州龙城茶业有限公司")
    expect(page.locator("#shop-licence")).to_have_text(uscc_for(4401))
    badge = page.locator("#badge-link img")
    expect(badge).to_be_visible()
    # visible is not loaded: wait until the browser has finished with it (complete is true on failure too)
    page.wait_for_function("document.querySelector('#badge-link img').complete")
    assert page.evaluate("document.querySelector('#badge-link img').naturalWidth") > 0  # the SVG was served
    _shot(page, tmp_path, "shop")

    page.locator("#badge-link").click()
    status = page.locator("#badge-status")
    expect(status).to_have_attribute("data-status", "valid")
    expect(status).to_contain_text("有效")
    expect(page.locator("#verify-shop-name")).to_have_text("龙城碧螺春茶叶旗舰店")
    expect(page.locator("#verify-shop-url")).to_have_text("https://shop.example.com/TEA01")
    _shot(page, tmp_path, "verify-valid")
    genuine = page.url

    # A forged link: the signature does not match what it claims.
    t = re.search(r"t=(\d+)", genuine)
    assert t is not None
    page.goto(genuine.replace(f"t={t.group(1)}", f"t={int(t.group(1)) + 86400}"))
    expect(page.locator("#badge-status")).to_have_attribute("data-status", "invalid")
    expect(page.locator("#badge-status")).to_contain_text("签名无效")
    expect(page.locator("#verify-shop-name")).to_have_count(0)

    # A copy of a genuine badge saved more than the dated validity ago.
    days = trade_rules_on(today_cn()).badge.link_valid_days
    old, sig = service.sign_badge_link(platform.keyring, "longcheng", "TEA01", utcnow() - dt.timedelta(days=days + 2))
    page.goto(f"{server}/shops/longcheng/TEA01/verify?t={old}&sig={sig}")
    expect(page.locator("#badge-status")).to_have_attribute("data-status", "expired")
    expect(page.locator("#badge-status")).to_contain_text("已过期")
    _shot(page, tmp_path, "verify-expired")

    # The shop closes: the very link that was valid now says so.
    _push_shop(platform, status="closed")
    page.goto(genuine)
    expect(page.locator("#badge-status")).to_have_attribute("data-status", "closed")
    expect(page.locator("#badge-status")).to_contain_text("店铺已关闭")
