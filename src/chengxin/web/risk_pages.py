"""Portal pages of e-commerce risk (issue #7).

- Staff (the regulators' clerks — 市场监管、商务、网信 — and the credit office; others 403, signed out →
  the sign-in page): ``/office/ecommerce/findings`` (the queue: kind, state, platform, pages, most
  confident first), ``/office/ecommerce/findings/{id}`` (the evidence in Chinese: pseudonymous accounts,
  shared attributes, the orders' time pattern as a small SVG, the buyer–shop graph density, confidence;
  确认 / 驳回 / 重新研判 with a note), ``/office/ecommerce/risk`` (shops by risk level with reasons, the
  form to publish a 风险提示).
- Public: ``/risk-notices`` and ``/risk-notices/{no}`` (风险提示; withdrawal for staff on the notice page),
  ``/platforms/assessment`` (电商平台信用状况评估, the comparable table by period).

A thin adapter over ``ecommerce.risk``; every POST form carries the session's CSRF token.
"""

from __future__ import annotations

import math
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.core.errors import DomainError
from chengxin.ecommerce.risk import assessment, service, warning
from chengxin.ecommerce.risk.config import LEVEL_ORDER, assessment_params, warning_params
from chengxin.ecommerce.risk.models import FINDING_STATES
from chengxin.ecommerce.risk.rules import KIND_ZH, LEVEL_ZH, confidence_zh
from chengxin.ecommerce.trade.models import EcPlatform
from chengxin.web.commitment_pages import _staff_csrf_ok  # the staff session's CSRF check
from chengxin.web.routes import (
    _csrf_failed,
    _page_number,
    _platform,
    _render,
    _to_login,
    current_viewer,
    pager,
    render_error,
)

router = APIRouter(include_in_schema=False)

SHARED_ZH = {"address": "收货地址", "device": "设备", "payment": "支付账户"}
STATUS_ZH = {"open": "营业中", "suspended": "暂停经营", "closed": "已关闭"}


def _names(request: Request) -> dict[str, str]:
    return {code: d.name_zh for code, d in _platform(request).catalog.departments.items()}


def _platforms(request: Request) -> list[tuple[str, str]]:
    from sqlalchemy import select

    with _platform(request).db.read() as session:
        return [(c, n) for c, n in session.execute(select(EcPlatform.code, EcPlatform.name).order_by(EcPlatform.code))]


# -- findings ------------------------------------------------------------------------------------------


@router.get("/office/ecommerce/findings", response_class=HTMLResponse)
def findings_page(request: Request, kind: str = "", status: str = "open", platform: str = "",
                  page: str = "1") -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    number = _page_number(page)
    try:
        with _platform(request).db.read() as session:
            rows, total = service.list_findings(session, actor=viewer.actor, day=today_cn(), kind=kind,
                                                status=status, platform=platform, page=number)
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    pages = max(1, math.ceil(total / service.PER_PAGE))

    def query(p: int) -> str:
        return "?" + urlencode({"kind": kind, "status": status, "platform": platform, "page": p})

    return _render(request, "ecommerce/risk_findings.html", {
        "rows": rows, "total": total, "page": number, "pages": pages, "pager": pager(number, pages), "query": query,
        "kind": kind, "status": status, "platform": platform, "kinds": KIND_ZH, "states": FINDING_STATES,
        "platforms": _platforms(request), "confidence_zh": confidence_zh,
    }, nav="ecommerce_findings")


def _finding_page(request: Request, finding_id: int, *, error: DomainError | None = None, done: str = "",
                  status: int = 200) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    platform = _platform(request)
    try:
        with platform.db.write() as session:  # reading a person-owned shop's finding is logged
            detail = service.finding_detail(session, platform.catalog, finding_id=finding_id, actor=viewer.actor,
                                            now=utcnow(), channel="portal")
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return _render(request, "ecommerce/risk_finding.html", {
        "f": detail, "r": detail.row, "error": error, "done": done, "shared_zh": SHARED_ZH, "status_zh": STATUS_ZH,
        "confidence_zh": confidence_zh,
    }, nav="ecommerce_findings", status=status)


@router.get("/office/ecommerce/findings/{finding_id:int}", response_class=HTMLResponse)
def finding_page(request: Request, finding_id: int, done: str = "") -> Response:
    return _finding_page(request, finding_id, done=done)


@router.post("/office/ecommerce/findings/{finding_id:int}/{action}", response_class=HTMLResponse)
def finding_action(
    request: Request, finding_id: int, action: str,
    csrf_token: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    severity: Annotated[str, Form()] = "general",
    decision_no: Annotated[str, Form()] = "",
    include_buyers: Annotated[str, Form()] = "",
) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    if not _staff_csrf_ok(request, csrf_token):
        return _csrf_failed(request)
    platform = _platform(request)
    try:
        if action == "confirm":
            service.confirm(platform.db, platform.catalog, platform.keyring, finding_id=finding_id, actor=viewer.actor,
                            now=utcnow(), body=service.ConfirmIn(note=note, severity=severity,
                                                                 decision_no=decision_no or None,
                                                                 include_buyers=include_buyers == "1"))
        elif action == "dismiss":
            service.dismiss(platform.db, finding_id=finding_id, reason=note, actor=viewer.actor, now=utcnow())
        elif action == "reopen":
            service.reopen(platform.db, finding_id=finding_id, reason=note, actor=viewer.actor, now=utcnow())
        else:
            return render_error(request, 404, "未知的操作", "workflow.unknown_action")
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            return render_error(request, exc.status, exc.message, exc.code)
        return _finding_page(request, finding_id, error=exc, status=exc.status)
    return RedirectResponse(f"/office/ecommerce/findings/{finding_id}?done={action}", status_code=303)


# -- shop risk board and notices --------------------------------------------------------------------------


@router.get("/office/ecommerce/risk", response_class=HTMLResponse)
def board_page(request: Request, level: str = "", platform: str = "", page: str = "1", done: str = "") -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    number = _page_number(page)
    day = today_cn()
    try:
        with _platform(request).db.write() as session:  # the person owners shown are logged (query log)
            rows, total = warning.risk_board(session, actor=viewer.actor, day=day, level=level, platform=platform,
                                             page=number, channel="portal")
            notices = warning.staff_notices(session, actor=viewer.actor, day=day, department_names=_names(request))
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    pages = max(1, math.ceil(total / warning.PER_PAGE))

    def query(p: int) -> str:
        return "?" + urlencode({"level": level, "platform": platform, "page": p})

    params = warning_params(day)
    return _render(request, "ecommerce/risk_board.html", {
        "rows": rows, "total": total, "page": number, "pages": pages, "pager": pager(number, pages), "query": query,
        "level": level, "platform": platform, "levels": [(c, LEVEL_ZH[c]) for c in reversed(LEVEL_ORDER)],
        "platforms": _platforms(request), "params": params, "notice_min_zh": LEVEL_ZH[params.notice_min_level],
        "notices": notices[:20], "done": done,
    }, nav="ecommerce_risk")


@router.post("/office/ecommerce/risk/{shop_id:int}/notice", response_class=HTMLResponse)
def publish_notice(request: Request, shop_id: int, csrf_token: Annotated[str, Form()] = "",
                   note: Annotated[str, Form()] = "") -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    if not _staff_csrf_ok(request, csrf_token):
        return _csrf_failed(request)
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            view = warning.publish_notice(session, shop_id=shop_id, actor=viewer.actor, now=utcnow(), note=note,
                                          department_names=_names(request))
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return RedirectResponse(f"/risk-notices/{view.no}", status_code=303)


@router.get("/risk-notices", response_class=HTMLResponse)
def notices_page(request: Request, page: str = "1", withdrawn: str = "") -> Response:
    number = _page_number(page)
    with _platform(request).db.read() as session:
        rows, total = warning.public_notices(session, department_names=_names(request), page=number,
                                             include_withdrawn=withdrawn == "1")
    pages = max(1, math.ceil(total / 20))

    def query(p: int) -> str:
        return "?" + urlencode({"withdrawn": withdrawn, "page": p})

    return _render(request, "ecommerce/risk_notices.html", {
        "rows": rows, "total": total, "page": number, "pages": pages, "pager": pager(number, pages), "query": query,
        "withdrawn": withdrawn,
    }, nav="risk_notices")


@router.get("/risk-notices/{no}", response_class=HTMLResponse)
def notice_page(request: Request, no: str) -> Response:
    viewer = current_viewer(request)
    try:
        with _platform(request).db.read() as session:
            view = warning.public_notice(session, no=no, department_names=_names(request))
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    can_withdraw = False
    if viewer is not None and view.state == "published":
        try:
            service.regulator_role(viewer.actor, today_cn())
            can_withdraw = True
        except DomainError:
            can_withdraw = False
    return _render(request, "ecommerce/risk_notice.html", {"n": view, "can_withdraw": can_withdraw},
                   nav="risk_notices")


@router.post("/risk-notices/{no}/withdraw", response_class=HTMLResponse)
def withdraw_notice(request: Request, no: str, csrf_token: Annotated[str, Form()] = "",
                    reason: Annotated[str, Form()] = "") -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    if not _staff_csrf_ok(request, csrf_token):
        return _csrf_failed(request)
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            view = warning.withdraw_notice(session, no=no, actor=viewer.actor, now=utcnow(), reason=reason,
                                           department_names=_names(request))
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return RedirectResponse(f"/risk-notices/{view.no}", status_code=303)


# -- platform assessment ----------------------------------------------------------------------------------


@router.get("/platforms/assessment", response_class=HTMLResponse)
def assessment_page(request: Request, period: str = "") -> Response:
    error = None
    with _platform(request).db.read() as session:
        known = list(assessment.periods(session))
        chosen = period or (known[0] if known else "")
        rows: list[assessment.AssessmentRow] = []
        if chosen:
            try:
                rows = assessment.assessments(session, period=chosen)
            except DomainError as exc:
                error = exc.message
    params = None
    if rows:
        params = assessment_params(assessment.period_of(chosen).end)
    return _render(request, "ecommerce/risk_assessment.html", {
        "rows": rows, "periods": known, "period": chosen, "error": error, "params": params,
        "component_zh": assessment.COMPONENT_ZH,
    }, nav="platform_assessment")
