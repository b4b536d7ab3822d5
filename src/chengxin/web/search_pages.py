"""Portal page of the public subject search: ``GET /search?q=``."""

from __future__ import annotations

import math

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from chengxin.core.errors import DomainError
from chengxin.search.service import search_subjects
from chengxin.web.routes import _page_number, _platform, _render, pager

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, q: str = "") -> HTMLResponse:
    page = min(_page_number(request.query_params.get("page")), 1000)
    ctx: dict[str, object] = {"q": q.strip()[:200], "page": page, "found": None, "error": None}
    if q.strip():
        platform = _platform(request)
        try:
            with platform.db.read() as session:
                found = search_subjects(session, q, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
                                        keyring=platform.keyring,
                                catalog=platform.catalog)
        except DomainError as exc:
            ctx["error"] = exc.message
            return _render(request, "search.html", ctx, status=exc.status, nav="search")
        pages = max(1, math.ceil(found.total_estimate / PAGE_SIZE))
        ctx.update(found=found, q=found.query, pages=pages, pager=pager(min(page, pages), pages))
    return _render(request, "search.html", ctx, nav="search")
