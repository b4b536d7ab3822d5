"""Portal pages of e-commerce trade (网店信用, issue #7).

- ``/shops``: 网店信用查询 — shops by name or code and platform, paged, with their good-rating rate.
- ``/shops/{platform}/{shop}``: the licence display (亮照亮标) — the owner's verified identity (masked for
  persons), the licence number, the owner's credit grade (organisations), list memberships, the buyers'
  ratings over 30 days / 6 months / all time and the shop's points, and the badge with its embed code.
- ``/shops/{platform}/{shop}/badge.svg``: the embeddable badge; its link is signed afresh on every fetch.
- ``/shops/{platform}/{shop}/verify?t=…&sig=…``: what a buyer sees on opening a badge link: 有效 / 已过期 /
  签名无效 / 店铺已关闭, with the genuine shop's name and address to compare with the page they came from.
- ``/office/ecommerce/platforms``: the registered platforms with their counts (credit office).

A thin adapter over ``ecommerce.trade.service``.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.core.errors import DomainError
from chengxin.ecommerce.trade import service
from chengxin.ecommerce.trade.badge import badge_svg
from chengxin.ecommerce.trade.params import trade_rules_on
from chengxin.web.routes import _page_number, _platform, _render, _to_login, current_viewer, pager, render_error

router = APIRouter(include_in_schema=False)

LIST_ZH = {"red": "红名单（守信激励）", "black": "严重失信主体名单", "watch": "重点关注名单"}
STATUS_ZH = {"open": "正常营业", "suspended": "暂停经营", "closed": "已关闭"}
KIND_ZH = {"person": "自然人（个体经营者）", "organization": "法人和非法人组织"}


@router.get("/shops", response_class=HTMLResponse)
def shop_list(request: Request, q: str = "", platform: str = "", page: str = "1") -> Response:
    app = _platform(request)
    number = _page_number(page)
    q, platform = q[:100], platform[:32]
    error = None
    items: list[service.ShopSummary] = []
    total = 0
    with app.db.read() as session:
        platforms = service.list_platforms(session)
        try:
            items, total = service.search_shops(session, q=q, platform=platform, page=number)
        except DomainError as exc:
            error = exc.message
    pages = service.pages(total)
    return _render(request, "ecommerce/shop_list.html", {
        "q": q, "platform": platform, "platforms": platforms, "items": items, "total": total, "page": number,
        "pages": pages, "pager": pager(number, pages), "error": error, "STATUS_ZH": STATUS_ZH,
    }, nav="shops")


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("/shops/{platform_code}/{shop_code}", response_class=HTMLResponse)
def shop_page(request: Request, platform_code: str, shop_code: str) -> Response:
    app = _platform(request)
    now = utcnow()
    with app.db.read() as session:
        shop = service.shop_public(session, app.catalog, platform_code, shop_code, now=now)
    query = service.badge_query(app.keyring, shop.platform.code, shop.shop_code, now)
    path = f"/shops/{shop.platform.code}/{quote(shop.shop_code, safe='')}"
    return _render(request, "ecommerce/shop_page.html", {
        "s": shop, "a": shop.aggregates, "verify_url": f"{path}/verify?{query}", "badge_url": f"{path}/badge.svg",
        "absolute": _base(request) + path, "LIST_ZH": LIST_ZH, "STATUS_ZH": STATUS_ZH, "KIND_ZH": KIND_ZH,
        "rules": trade_rules_on(today_cn()),
    }, nav="shops")


@router.get("/shops/{platform_code}/{shop_code}/badge.svg")
def shop_badge(request: Request, platform_code: str, shop_code: str) -> Response:
    app = _platform(request)
    now = utcnow()
    with app.db.read() as session:
        view = service.badge_view(session, app.keyring, app.catalog, platform_code, shop_code, now=now)
    url = f"{_base(request)}/shops/{quote(platform_code, safe='')}/{quote(shop_code, safe='')}/verify?{view.query}"
    svg = badge_svg(shop_name=view.shop_name, platform_name=view.platform_name, grade=view.grade,
                    shop_status=view.shop_status, verify_url=url)
    # Short caching: every fetch carries a freshly signed link, so a live badge is always current.
    return Response(svg, media_type="image/svg+xml; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"})


@router.get("/shops/{platform_code}/{shop_code}/verify", response_class=HTMLResponse)
def shop_verify(request: Request, platform_code: str, shop_code: str, t: str = "", sig: str = "") -> Response:
    app = _platform(request)
    with app.db.read() as session:
        check = service.verify_badge(session, app.keyring, app.catalog, platform_code, shop_code, t=t[:20],
                                     sig=sig[:200], now=utcnow())
    return _render(request, "ecommerce/shop_verify.html", {
        "check": check, "s": check.shop, "platform_code": platform_code, "shop_code": shop_code,
        "LIST_ZH": LIST_ZH, "STATUS_ZH": STATUS_ZH, "KIND_ZH": KIND_ZH,
    }, nav="shops")


@router.get("/office/ecommerce/platforms", response_class=HTMLResponse)
def office_platforms(request: Request) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    if not viewer.is_office:
        return render_error(request, 403, "仅限信用办和管理员查看", "auth.office_only")
    app = _platform(request)
    with app.db.read() as session:
        rows = service.platform_summaries(session)
    return _render(request, "ecommerce/shop_platforms_office.html", {"rows": rows}, nav="office_ecommerce")
