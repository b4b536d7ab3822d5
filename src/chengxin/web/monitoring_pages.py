"""Portal page 异常访问告警 (/alerts): the credit office reviews and acknowledges abnormal-access alerts."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chengxin.core.errors import DomainError
from chengxin.monitoring import service as monitoring
from chengxin.web.routes import _csrf_failed, _platform, _render, _to_login, current_viewer, render_error

router = APIRouter(include_in_schema=False)

KIND_ZH = {
    "distinct_persons": "短时间内查询大量不同人员",
    "off_hours": "非工作时间查询",
    "missing_purpose": "未说明查询目的",
    "failed_consent": "多次输入错误授权码",
    "locked_account": "账户因连续登录失败被锁定（疑似猜测口令）",
    "failed_sign_in": "同一网络地址多次登录失败（疑似轮流猜测多个账户的口令）",
}
SEVERITY_ZH = {"low": "低", "medium": "中", "high": "高"}


@router.get("/alerts", response_class=HTMLResponse)
def alerts(request: Request, show: str = "open") -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    if not viewer.is_office:
        return render_error(request, 403, "仅限市信用办或管理员查看异常访问告警", "alert.office_only")
    status = None if show == "all" else "open"
    with _platform(request).db.read() as session:
        rows = monitoring.list_alerts(session, status=status)
        for row in rows:
            session.expunge(row)
    return _render(request, "alerts.html", {"rows": rows, "show": "all" if status is None else "open",
                                            "kind_zh": KIND_ZH, "severity_zh": SEVERITY_ZH}, nav="alerts")


@router.post("/alerts/{alert_id:int}/acknowledge")
def acknowledge(request: Request, alert_id: int, csrf_token: Annotated[str, Form()] = "") -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return RedirectResponse("/login?next=/alerts", status_code=303)
    if not secrets.compare_digest(csrf_token.encode(), viewer.csrf_token.encode()):
        return _csrf_failed(request)
    try:
        with _platform(request).db.write() as session:
            monitoring.acknowledge(session, alert_id, viewer.actor, dt.datetime.now(dt.UTC))
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return RedirectResponse("/alerts", status_code=303)
