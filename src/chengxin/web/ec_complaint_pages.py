"""Portal page of complaints about shops (电商投诉举报, issue #7).

- Staff (the e-commerce regulators, the complaint departments — 市场监管、商务、政务办 12345 … — and the
  credit office; others 403, signed out → the sign-in page): ``/office/ecommerce/complaints``, the list with
  filters (platform, shop, status, category) and pages, newest first. Nothing about the complainants is shown:
  nothing about them is kept.

A thin adapter over ``ecommerce.complaints.service`` (not to be confused with ``notice_pages``' /office/complaints,
the complaints about how objections were handled).
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from chengxin.core.clock import today_cn
from chengxin.core.errors import DomainError
from chengxin.ecommerce.complaints import service
from chengxin.ecommerce.complaints.params import complaint_rules_on
from chengxin.ecommerce.complaints.rules import STATUS_ZH
from chengxin.web.risk_pages import _platforms
from chengxin.web.routes import _page_number, _platform, _render, _to_login, current_viewer, pager, render_error

router = APIRouter(include_in_schema=False)


@router.get("/office/ecommerce/complaints", response_class=HTMLResponse)
def complaints_page(request: Request, platform: str = "", shop: str = "", status: str = "", category: str = "",
                    page: str = "1") -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    number = _page_number(page)
    day = today_cn()
    try:
        with _platform(request).db.read() as session:
            rows, total = service.list_complaints(session, actor=viewer.actor, day=day, platform=platform, shop=shop,
                                                  status=status, category=category, page=number)
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    pages = max(1, math.ceil(total / service.PER_PAGE))

    def query(p: int) -> str:
        return "?" + urlencode({"platform": platform, "shop": shop, "status": status, "category": category, "page": p})

    departments = {code: d.name_zh for code, d in _platform(request).catalog.departments.items()}
    rules = complaint_rules_on(day)
    return _render(request, "ecommerce/complaints.html", {
        "rows": rows, "total": total, "page": number, "pages": pages, "pager": pager(number, pages), "query": query,
        "platform": platform, "shop": shop, "status": status, "category": category, "statuses": STATUS_ZH,
        "categories": [(c.code, c.name_zh) for c in rules.categories], "platforms": _platforms(request),
        "departments": departments, "counted": [STATUS_ZH[s] for s in rules.counted_statuses],
    }, nav="ecommerce_complaints")
