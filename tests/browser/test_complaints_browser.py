"""Issue #7 complaints about shops (电商投诉举报) in a real browser: a commerce-bureau clerk signs in, goes from 电商监测
to the complaints list, pages through it, filters it by status and by shop, and opens the shop the complaints are
about — and finds nothing about the complainants anywhere on the page. On the way: every item of the staff's
menu is on screen (the menu wraps on a desktop; it scrolled its last items out of sight).

The platform, its shops and the complaints (as the departments' intake files them) are set up through the service
layer; every step of the clerk is clicks and form fills."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from tests.browser.ec_support import push_shops, register_longcheng

from chengxin.core.audit import Actor
from chengxin.core.clock import CHINA
from chengxin.core.db import utcnow
from chengxin.ecommerce.complaints import service as complaints
from chengxin.platform import Platform
from chengxin.records.service import ApiRow
from factories import uscc_for

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
HANDLING = 53  # more than one page (complaints.PER_PAGE is 50)
SHOPS = {  # shop code: name, owner, the owner's USCC's number
    "TEA01": ("龙城碧螺春茶叶旗舰店", "常州龙城茶业有限公司", 4501),
    "TOY02": ("龙城益智玩具专营店", "常州龙城玩具有限公司", 4502),
}


def _received(days_ago: int) -> str:
    return (utcnow() - dt.timedelta(days=days_ago)).astimezone(CHINA).replace(microsecond=0).isoformat()


@pytest.fixture()
def filed(platform: Platform) -> None:
    """A platform with two shops; the 12315 hotline's complaints about them, as samr's intake files them."""
    register_longcheng(platform, 4500)
    push_shops(platform, [{"shop_code": code, "name": name, "url": f"https://shop.example.com/{code}",
                           "owner_uscc": uscc_for(n), "owner_name": owner, "licence_no": uscc_for(n),
                           "category": "食品/茶叶", "opened_on": "2020-05-01", "status": "open"}
                          for code, (name, owner, n) in SHOPS.items()])
    rows = [{"source_complaint_id": f"12315-{n:06d}", "channel": "12315", "received_at": _received(2 + n // 10),
             "platform": "longcheng", "shop_code": "TEA01", "category": "not_as_described", "status": "handling",
             "summary": f"收到的茶叶与商品页面描述的产地不符（第{n}件）"} for n in range(1, HANDLING + 1)]
    rows += [{"source_complaint_id": "12315-900001", "channel": "12315", "received_at": _received(30),
              "platform": "longcheng", "shop_code": "TOY02", "category": "price_fraud", "status": "withdrawn",
              "closed_at": _received(25), "summary": "先提价后打折"},
             {"source_complaint_id": "12315-900002", "channel": "12315", "received_at": _received(1),
              "platform": "longcheng", "shop_code": "TOY02", "category": "counterfeit", "status": "received",
              "summary": "玩具无3C标志"}]
    receipt = complaints.ingest_complaints(
        platform.db, [ApiRow(i, row) for i, row in enumerate(rows, start=1)], channel="api", now=utcnow(),
        actor=Actor(kind="api_key", name="12315 intake", department_code="samr"), department=None)
    assert receipt.rejected == 0, receipt.rejections


def _shot(pg: Page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{name}: a near-empty screenshot"


def test_a_clerk_pages_filters_and_follows_complaints_to_the_shop(
    server: str, page: Page, platform: Platform, filed: None, make_user: Callable[..., str], tmp_path: Path,
) -> None:
    make_user("clerk", "commerce", username="clerk_commerce_ec", password=PASSWORD)
    pg = page
    pg.goto(server + "/office/ecommerce/complaints")
    expect(pg).to_have_url(re.compile(r"/login"))  # signed out: the sign-in page, back afterwards
    pg.get_by_label("用户名").fill("clerk_commerce_ec")
    pg.get_by_label("密码").fill(PASSWORD)
    pg.get_by_role("button", name="登录").click()

    # Every item of both menus is on screen at 1280 px (not scrolled out of sight), and each menu is one row.
    for menu, least in (("主导航", 10), ("工作台导航", 6)):
        items = pg.get_by_role("navigation", name=menu).get_by_role("link")
        assert items.count() >= least, menu
        rows = set()
        for n in range(items.count()):
            box = items.nth(n).bounding_box()
            assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= 1280, items.nth(n).inner_text()
            rows.add(round(box["y"]))
        assert len(rows) == 1, f"{menu} wraps onto {len(rows)} rows"

    # 1. From the e-commerce monitoring menu to the complaints: newest first, a page of 50.
    pg.get_by_role("link", name="电商监测").click()
    pg.get_by_role("link", name="投诉举报").first.click()
    expect(pg).to_have_url(re.compile(r"/office/ecommerce/complaints"))
    expect(pg.get_by_role("heading", level=1)).to_contain_text("电商投诉举报")
    total = HANDLING + 2
    expect(pg.get_by_text(f"共 {total} 件")).to_be_visible()
    rows = pg.locator("#complaints tbody tr")
    expect(rows).to_have_count(complaints.PER_PAGE)
    expect(rows.first).to_contain_text("12315-900002")  # received yesterday: first
    expect(rows.first).to_contain_text("已受理")
    expect(rows.first).to_contain_text("常州市市场监督管理局")
    _shot(pg, tmp_path, "1-complaints")

    # 2. The next page holds the rest, the oldest last.
    pg.get_by_role("link", name="下一页").click()
    expect(rows).to_have_count(total - complaints.PER_PAGE)
    expect(rows.last).to_contain_text("12315-900001")
    expect(pg.get_by_role("link", name="上一页")).to_be_visible()

    # 3. Filtered by status: only the withdrawn one, with the day it was closed.
    pg.get_by_label("办理状态").select_option(label="已撤回")
    pg.get_by_role("button", name="筛选").click()
    expect(pg.get_by_text("共 1 件")).to_be_visible()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("已撤回")
    expect(rows.first).to_contain_text("办结")
    expect(rows.first).to_contain_text("价格欺诈")

    # 4. Filtered by shop instead: the tea shop's complaints, all 处理中, two pages of them.
    pg.get_by_label("办理状态").select_option(label="全部")
    pg.get_by_label("店铺编号").fill("TEA01")
    pg.get_by_role("button", name="筛选").click()
    expect(pg.get_by_text(f"共 {HANDLING} 件")).to_be_visible()
    expect(pg.locator('#complaints tbody tr[data-shop="TEA01"]')).to_have_count(complaints.PER_PAGE)
    expect(pg.locator('#complaints tbody tr[data-status="handling"]')).to_have_count(complaints.PER_PAGE)
    _shot(pg, tmp_path, "2-filtered")

    # 5. Nothing about who complained is on the page; the shop is one click away.
    assert not re.search(r"举报人|投诉人|联系电话|手机", pg.locator("#complaints").inner_text())
    rows.first.get_by_role("link", name="龙城碧螺春茶叶旗舰店").click()
    expect(pg).to_have_url(re.compile(r"/shops/longcheng/TEA01$"))
    expect(pg.locator("#shop-title")).to_contain_text("龙城碧螺春茶叶旗舰店")
    _shot(pg, tmp_path, "3-shop")
