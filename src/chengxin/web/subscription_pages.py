"""订阅推送 pages for the credit office (/office/subscriptions): every subscription with its delivery
counts and recent failures; one subscription's deliveries with each attempt; re-deliver a delivery and
re-enable a disabled subscription (POST forms with the staff session's CSRF token). A thin adapter
over ``subscriptions.service``; subscribers themselves use the API (``/api/v1/subscriptions``).
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chengxin.core.db import utcnow
from chengxin.core.errors import DomainError
from chengxin.subscriptions import rules
from chengxin.subscriptions import service as subs
from chengxin.web.routes import Viewer, _csrf_failed, _platform, _render, _to_login, current_viewer, render_error

router = APIRouter(include_in_schema=False)
_GLOBALS = {"LIST_KIND_ZH": rules.LIST_KIND_ZH, "CHANGE_ZH": rules.CHANGE_ZH, "DELIVERY_STATES": rules.DELIVERY_STATES}


def _office(request: Request) -> Viewer | Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    if not viewer.is_office:
        return render_error(request, 403, "仅限市信用办查看订阅推送情况", "subscription.office_only")
    return viewer


@router.get("/office/subscriptions", response_class=HTMLResponse)
def overview(request: Request) -> Response:
    viewer = _office(request)
    if isinstance(viewer, Response):
        return viewer
    with _platform(request).db.read() as session:
        views = subs.office_overview(session)
        failures = subs.recent_failures(session)
    return _render(request, "subscriptions_office.html", {"views": views, "failures": failures, **_GLOBALS},
                   nav="office_subscriptions")


@router.get("/office/subscriptions/{subscription_id:int}", response_class=HTMLResponse)
def detail(request: Request, subscription_id: int, state: str = "", done: str = "") -> Response:
    viewer = _office(request)
    if isinstance(viewer, Response):
        return viewer
    state = state if state in rules.DELIVERY_STATES else ""
    try:
        with _platform(request).db.read() as session:
            view = subs.subscription_view(session, viewer.actor, subscription_id)
            deliveries = subs.deliveries(session, viewer.actor, subscription_id, state=state or None, limit=200)
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return _render(request, "subscriptions_detail.html", {
        "s": view, "deliveries": deliveries, "state": state, "done": done, **_GLOBALS}, nav="office_subscriptions")


def _act(request: Request, csrf_token: str, action: str, object_id: int, back: int) -> Response:
    viewer = _office(request)
    if isinstance(viewer, Response):
        return viewer
    if not secrets.compare_digest(csrf_token.encode(), viewer.csrf_token.encode()):
        return _csrf_failed(request)
    try:
        with _platform(request).db.write() as session:
            if action == "redeliver":
                back = subs.redeliver(session, actor=viewer.actor, delivery_id=object_id, now=utcnow()).subscription_id
            else:
                subs.enable(session, actor=viewer.actor, subscription_id=object_id, now=utcnow())
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return RedirectResponse(f"/office/subscriptions/{back}?done={action}", status_code=303)


@router.post("/office/subscriptions/deliveries/{delivery_id:int}/redeliver")
def redeliver(request: Request, delivery_id: int, csrf_token: Annotated[str, Form()] = "") -> Response:
    return _act(request, csrf_token, "redeliver", delivery_id, 0)


@router.post("/office/subscriptions/{subscription_id:int}/enable")
def enable(request: Request, subscription_id: int, csrf_token: Annotated[str, Form()] = "") -> Response:
    return _act(request, csrf_token, "enable", subscription_id, subscription_id)
