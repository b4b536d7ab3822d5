"""Portal page 审计日志 (/office/audit): who did what, when and why — for the administrator and the credit office.

Filtered by a family of actions, the actor, the department, an object and Beijing days; newest first, paged. The
same query as ``GET /api/v1/audit`` (``core.audit.find_events``). Personal data is not in the log in clear:
subjects appear by their internal number, identifiers only masked.
"""

from __future__ import annotations

import datetime as dt
import math
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from chengxin.accounts.service import may_read_audit
from chengxin.core import audit
from chengxin.core.errors import DomainError
from chengxin.web.routes import _page_number, _platform, _render, _to_login, current_viewer, pager, render_error

router = APIRouter(include_in_schema=False)

PER_PAGE = 50


def _day(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@router.get("/office/audit", response_class=HTMLResponse)
def audit_page(request: Request, group: str = "", who: str = "", department: str = "", object_type: str = "",
               object_id: str = "", since: str = "", until: str = "") -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    if not may_read_audit(viewer.actor):
        return render_error(request, 403, "审计日志仅限系统管理员和市信用办查看", "audit.forbidden")
    catalog = _platform(request).catalog
    group = group if group in audit.ACTION_GROUPS else ""
    department = department if department in catalog.departments else ""
    first, last = _day(since), _day(until)
    error: DomainError | None = None
    try:
        start, end = audit.beijing_days(first, last)
    except DomainError as exc:
        error, start, end = exc, None, None
    what = audit.AuditFilter(group=group, actor=who.strip()[:128], department=department,
                             object_type=object_type.strip()[:32], object_id=object_id.strip()[:64], since=start,
                             until=end)
    page = _page_number(request.query_params.get("page"))
    with _platform(request).db.read() as session:
        events, total = audit.find_events(session, what, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    pages = max(1, math.ceil(min(total, audit.COUNT_CAP) / PER_PAGE))
    shown = {"group": group, "who": who.strip(), "department": department, "object_type": object_type.strip(),
             "object_id": object_id.strip(), "since": first.isoformat() if first else "",
             "until": last.isoformat() if last else ""}

    def query(n: int) -> str:
        return "?" + urlencode({k: v for k, v in {**shown, "page": n}.items() if v not in ("", 1)})

    return _render(request, "audit.html", {
        "events": events, "total": total, "cap": audit.COUNT_CAP, "page": min(page, pages), "pages": pages,
        "pager": pager(min(page, pages), pages), "query": query, "shown": shown, "error": error,
        "groups": [(code, name) for code, (name, _) in audit.ACTION_GROUPS.items()],
        "action_zh": audit.ACTION_ZH, "departments": list(catalog.departments.values()),
        "detail_text": lambda d: orjson.dumps(d).decode() if d else "",
    }, nav="audit")
