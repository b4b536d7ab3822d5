"""办理台 (/office): the staff console — every case queue with open, due-soon and overdue counts.

A department clerk sees their department's queues; the credit office and admins see the city's.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from chengxin.console.service import console_for
from chengxin.core.clock import today_cn
from chengxin.web.routes import _platform, _render, _to_login, current_viewer

router = APIRouter(include_in_schema=False)


@router.get("/office", response_class=HTMLResponse)
def console(request: Request) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    department = None if viewer.is_office else viewer.department_code
    with _platform(request).db.read() as session:
        board = console_for(session, today_cn(), department)
    return _render(request, "console.html", {"board": board}, nav="office")
