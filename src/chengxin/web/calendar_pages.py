"""Portal pages 工作日安排 (/office/calendar): staff see which years' holiday schedules are known;
the credit office enters a year from the State Council notice (deadlines depend on it)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chengxin.core.clock import today_cn
from chengxin.core.errors import DomainError
from chengxin.web.routes import _csrf_failed, _platform, _render, _to_login, current_viewer, render_error
from chengxin.workdays import service as workdays

router = APIRouter(include_in_schema=False)
SOURCE_ZH = {"chinese_calendar": "已收录（chinese-calendar）", "platform": "本平台录入", None: "未录入"}


@router.get("/office/calendar", response_class=HTMLResponse)
def calendar_overview(request: Request) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    with _platform(request).db.read() as session:
        years = workdays.years_overview(session, today_cn())
    return _render(request, "calendar.html", {"years": years, "source_zh": SOURCE_ZH,
                                              "missing": [y.year for y in years if not y.published]},
                   nav="calendar")


def _year_page(request: Request, year: int, *, text: str | None = None, notice: str | None = None,
               error: DomainError | None = None, saved: bool = False, status: int = 200) -> HTMLResponse:
    with _platform(request).db.read() as session:
        schedule = workdays.year_schedule(session, year)
    return _render(request, "calendar_year.html", {
        "schedule": schedule, "source_zh": SOURCE_ZH, "error": error, "saved": saved,
        "text": schedule.text if text is None else text,
        "notice": (schedule.notice if schedule.source == "platform" else "") if notice is None else notice,
    }, nav="calendar", status=status)


@router.get("/office/calendar/{year:int}", response_class=HTMLResponse)
def calendar_year(request: Request, year: int, saved: str = "") -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    if not 2000 <= year <= 2200:
        return render_error(request, 404, "年份有误", "calendar.bad_year")
    return _year_page(request, year, saved=bool(saved))


@router.post("/office/calendar/{year:int}", response_class=HTMLResponse)
def calendar_year_save(request: Request, year: int, schedule: Annotated[str, Form()] = "",
                       notice: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "") -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    if not secrets.compare_digest(csrf_token.encode(), viewer.csrf_token.encode()):
        return _csrf_failed(request)
    if not viewer.is_office:
        return render_error(request, 403, "仅限市信用办或管理员录入节假日安排", "calendar.office_only")
    try:
        with _platform(request).db.write() as session:
            workdays.set_year_schedule(session, year=year, text=schedule, notice=notice, actor=viewer.actor,
                                       now=dt.datetime.now(dt.UTC))
    except DomainError as exc:
        return _year_page(request, year, text=schedule, notice=notice, error=exc, status=400)
    return RedirectResponse(f"/office/calendar/{year}?saved=1", status_code=303)
