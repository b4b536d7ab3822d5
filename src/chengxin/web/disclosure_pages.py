"""Portal pages of disclosure: a subject's public credit information (``/subjects/{id}``).

A thin adapter: the same service as ``GET /api/v1/public/subjects/{id}``, rendered with the
portal's templates and helpers (``web.routes``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from chengxin.core.clock import today_cn
from chengxin.core.errors import NotFound
from chengxin.disclosure import service
from chengxin.web.routes import _platform, _render, render_error

router = APIRouter(include_in_schema=False)

CATEGORY_ORDER = ("basic", "positive", "negative")


@router.get("/subjects/{subject_id:int}", response_class=HTMLResponse)
def subject_page(request: Request, subject_id: int) -> HTMLResponse:
    platform = _platform(request)
    today = today_cn()
    if not 1 <= subject_id < 2**63:
        return render_error(request, 404, "未找到该信用主体的公开信用信息", "subject.not_found")
    with platform.db.read() as session:
        try:
            file = service.public_file(session, platform.catalog, subject_id, today)
        except NotFound as exc:
            return render_error(request, 404, exc.message, exc.code)
    groups = file.by_category()
    return _render(
        request,
        "subject_file.html",
        {"file": file, "groups": [(c, groups.get(c, [])) for c in CATEGORY_ORDER], "today": today},
    )
