"""Portal page 修改密码 (/account/password): a staff member changes their own password.

A password an administrator set (a new account opened on 账号与密钥, a reset) is changed before anything else:
:class:`PasswordFirst` sends every other portal page to this one until it is (the API answers 403
``auth.password_change_required`` the same way: ``api.deps``). Changing it ends the member's other sessions.
"""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from chengxin.accounts import rules as account_rules
from chengxin.accounts import service as accounts
from chengxin.api.deps import SESSION_COOKIE
from chengxin.core.errors import DomainError
from chengxin.web.routes import _csrf_failed, _platform, _render, _safe_next, _to_login, current_viewer

router = APIRouter(include_in_schema=False)

PAGE = "/account/password"
# Reachable with a password still to change: this page, signing out, and what pages load (styles, scripts).
_OPEN_PATHS = frozenset({PAGE, "/logout", "/login", "/favicon.ico"})
_OPEN_PREFIXES = ("/static/", "/api/")  # the API refuses on its own (api.deps.resolve_actor)


def _page(request: Request, *, next_: str = "", status: int = 200, error: DomainError | None = None,
          done: bool = False) -> HTMLResponse:
    return _render(request, "account_password.html", {
        "next": _safe_next(next_) or "", "error": error, "done": done, "min_password": account_rules.MIN_PASSWORD,
    }, status=status)


@router.get(PAGE, response_class=HTMLResponse)
def password_form(request: Request, next: str = "", done: str = "") -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    return _page(request, next_=next, done=bool(done))


@router.post(PAGE, response_class=HTMLResponse)
def change_password(request: Request, csrf_token: Annotated[str, Form()] = "",
                    current_password: Annotated[str, Form()] = "", new_password: Annotated[str, Form()] = "",
                    repeat_password: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "") -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    if not secrets.compare_digest(csrf_token.encode(), viewer.csrf_token.encode()):
        return _csrf_failed(request)
    try:
        if new_password != repeat_password:
            raise DomainError("user.password_mismatch", "两次输入的新密码不一致", "The two new passwords differ",
                              field="repeat_password")
        with _platform(request).db.write() as session:
            accounts.change_password(session, viewer.username, current=current_password, new=new_password,
                                     actor=viewer.actor, keep_token=request.cookies.get(SESSION_COOKIE))
    except DomainError as exc:
        return _page(request, next_=next, status=exc.status, error=exc)
    target = _safe_next(next)
    return RedirectResponse(target or PAGE + "?done=1", status_code=303)


class PasswordFirst:
    """ASGI middleware: a signed-in staff member whose password an administrator set is sent to 修改密码 from any
    other portal page (303, the page asked for kept as ``next``). Everyone else passes untouched; the viewer it
    looks up is the one the page then uses (``request.state``), so no second read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path not in _OPEN_PATHS and not path.startswith(_OPEN_PREFIXES):
                request = Request(scope)
                if SESSION_COOKIE in request.cookies:
                    viewer = await run_in_threadpool(current_viewer, request)
                    if viewer is not None and viewer.must_change_password:
                        asked = path + (f"?{scope['query_string'].decode('latin-1')}" if scope["query_string"] else "")
                        target = PAGE + "?" + urlencode({"next": asked if request.method == "GET" else ""})
                        await RedirectResponse(target, status_code=303)(scope, receive, send)
                        return
        await self.app(scope, receive, send)
