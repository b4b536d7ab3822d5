"""Portal page 审计日志 (/office/audit): who did what, when and why — for the administrator and the credit office.

Filtered by a family of actions, the actor, the department, an object and Beijing days; newest first, paged. The
same query as ``GET /api/v1/audit`` (``core.audit.find_events``). Personal data is not in the log in clear:
subjects appear by their internal number, identifiers only masked.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from chengxin.accounts.service import may_read_audit
from chengxin.core import audit
from chengxin.core.csvout import excel_csv
from chengxin.core.errors import DomainError
from chengxin.web.routes import (
    Viewer,
    _page_number,
    _platform,
    _render,
    _to_login,
    beijing_time,
    current_viewer,
    pager,
    render_error,
)

router = APIRouter(include_in_schema=False)

PER_PAGE = 50


def _day(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


EXPORT_HEADER = ("时间（北京时间） at", "操作人 actor", "单位 department", "事项 action", "事项名称 action name",
                 "对象类型 object type", "对象编号 object id", "主体编号 subject id", "目的 purpose", "详情 detail")


def _filter(request: Request, group: str, who: str, department: str, object_type: str, object_id: str, since: str,
            until: str) -> tuple[audit.AuditFilter, dict[str, str], DomainError | None]:
    """The filter the query string asks for (unknown choices dropped), what to show in the form, a date error."""
    group = group if group in audit.ACTION_GROUPS else ""
    department = department if department in _platform(request).catalog.departments else ""
    first, last = _day(since), _day(until)
    error: DomainError | None = None
    try:
        start, end = audit.beijing_days(first, last)
    except DomainError as exc:
        error, start, end = exc, None, None
    what = audit.AuditFilter(group=group, actor=who.strip()[:128], department=department,
                             object_type=object_type.strip()[:32], object_id=object_id.strip()[:64], since=start,
                             until=end)
    shown = {"group": group, "who": who.strip(), "department": department, "object_type": object_type.strip(),
             "object_id": object_id.strip(), "since": first.isoformat() if first else "",
             "until": last.isoformat() if last else ""}
    return what, shown, error


def _reader(request: Request) -> Viewer | Response:
    """The signed-in administrator or credit-office member; else the answer (sign in, or 403)."""
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    if not may_read_audit(viewer.actor):
        return render_error(request, 403, "审计日志仅限系统管理员和市信用办查看", "audit.forbidden")
    return viewer


@router.get("/office/audit.csv")
def audit_csv(request: Request, group: str = "", who: str = "", department: str = "", object_type: str = "",
              object_id: str = "", since: str = "", until: str = "") -> Response:
    """The events the page shows, as a CSV Excel opens (newest first, at most ``audit.EXPORT_CAP``), streamed."""
    viewer = _reader(request)
    if not isinstance(viewer, Viewer):
        return viewer
    what, _, error = _filter(request, group, who, department, object_type, object_id, since, until)
    if error is not None:
        return render_error(request, error.status, error.message, error.code)
    platform = _platform(request)

    def lines() -> Iterator[bytes]:
        with platform.db.read() as session:
            yield from excel_csv(EXPORT_HEADER, (
                (beijing_time(e.at, "%Y-%m-%d %H:%M:%S"), e.actor, e.department_code, e.action,
                 audit.ACTION_ZH.get(e.action, ""), e.object_type, e.object_id, e.subject_id, e.purpose,
                 orjson.dumps(e.detail).decode() if e.detail else "") for e in audit.iter_events(session, what)))

    with platform.db.write() as session:  # who took a copy of the log, and of what
        audit.write(session, actor=viewer.actor, action="audit.export",
                    detail={k: v for k, v in request.query_params.items() if v})
    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": "attachment; filename=audit-log.csv"})


@router.get("/office/audit", response_class=HTMLResponse)
def audit_page(request: Request, group: str = "", who: str = "", department: str = "", object_type: str = "",
               object_id: str = "", since: str = "", until: str = "") -> Response:
    viewer = _reader(request)
    if not isinstance(viewer, Viewer):
        return viewer
    catalog = _platform(request).catalog
    what, shown, error = _filter(request, group, who, department, object_type, object_id, since, until)
    page = _page_number(request.query_params.get("page"))
    with _platform(request).db.read() as session:
        events, total = audit.find_events(session, what, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    pages = max(1, math.ceil(min(total, audit.COUNT_CAP) / PER_PAGE))

    def query(n: int) -> str:
        return "?" + urlencode({k: v for k, v in {**shown, "page": n}.items() if v not in ("", 1)})

    return _render(request, "audit.html", {
        "events": events, "total": total, "cap": audit.COUNT_CAP, "page": min(page, pages), "pages": pages,
        "pager": pager(min(page, pages), pages), "query": query, "shown": shown, "error": error,
        "groups": [(code, name) for code, (name, _) in audit.ACTION_GROUPS.items()],
        "action_zh": audit.ACTION_ZH, "departments": list(catalog.departments.values()),
        "detail_text": lambda d: orjson.dumps(d).decode() if d else "", "export_cap": audit.EXPORT_CAP,
        "export": "/office/audit.csv" + query(1).rstrip("?"),
    }, nav="audit")
