"""Portal pages of the measures and the credit check.

- ``/measures`` — the published measures list (奖惩措施清单), by list and scenario: only measures
  published in advance may be applied (浙江条例第二十八条).
- ``/office/checks`` — 联合奖惩成效统计 for staff: the credit office sees every department, a clerk
  their own.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from chengxin.checks.models import OUTCOMES
from chengxin.checks.service import check_stats, stats_scope
from chengxin.core.clock import today_cn
from chengxin.measures.loader import measure_book
from chengxin.measures.model import LIST_ZH, MEASURE_KIND_ZH
from chengxin.web.routes import _department_name, _platform, _render, _to_login, current_viewer

router = APIRouter(include_in_schema=False)


@router.get("/measures", response_class=HTMLResponse)
def measures_page(request: Request, scenario: str = "", list: str = "") -> Response:  # noqa: A002
    book = measure_book()
    today = today_cn()
    scenarios = book.scenarios_on(today)
    names = {s.code: s.name_zh for s in scenarios}
    catalog = _platform(request).catalog
    groups = []
    for kind in ("black", "watch", "red"):
        if list and list != kind:
            continue
        rows = [m for m in book.measures_on(today) if m.list_kind == kind and (not scenario or scenario in m.scenarios)]
        groups.append((kind, LIST_ZH[kind], rows))
    return _render(request, "checks_measures.html", {
        "groups": groups, "scenarios": scenarios, "scenario_names": names, "scenario": scenario, "list": list,
        "kind_zh": MEASURE_KIND_ZH, "today": today,
        "department_name": lambda code: _department_name(catalog, code),
    }, nav="measures")


@router.get("/office/checks", response_class=HTMLResponse)
def office_checks(request: Request, department: str = "", since: str = "", until: str = "") -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    platform = _platform(request)
    scope = stats_scope(viewer.actor, department or None)

    def day(text: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(text) if text else None
        except ValueError:
            return None

    with platform.db.read() as session:
        stats = check_stats(session, measure_book(), today_cn(), department=scope, since=day(since), until=day(until))
    names = {s.code: s.name_zh for s in measure_book().scenarios}
    return _render(request, "checks_office.html", {
        "stats": stats, "totals": stats.totals, "scope": scope, "scenario_names": names, "outcomes": OUTCOMES,
        "since": since, "until": until,
        "department_name": lambda code: (f"电商平台 {code[9:]}" if code.startswith("platform:")
                                         else _department_name(platform.catalog, code)),
    }, nav="office_checks")
