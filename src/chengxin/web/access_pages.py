"""Portal page 账号与密钥 (/office/access): who may sign in and which systems may submit.

- 接口密钥 (API keys): the credit office and the administrator issue a department's (or an e-commerce
  platform's) key — shown once, on the page that issued it, never again — and revoke keys.
- 工作人员账号 (staff accounts): the administrator opens accounts, stops and restarts them, and resets a
  forgotten password (a random one, shown once). Stopping an account or resetting its password ends its
  open sessions at once.

The same services as the ``chengxin users`` / ``chengxin api-keys`` commands (``accounts.service``), which
also decide who may do what; every change is in the audit log.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chengxin.accounts import rules as account_rules
from chengxin.accounts import service as accounts
from chengxin.accounts.service import Role
from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.core.errors import DomainError
from chengxin.web.routes import (
    Viewer,
    _csrf_failed,
    _page_number,
    _platform,
    _render,
    _to_login,
    current_viewer,
    pager,
    render_error,
    submitter_names,
)

router = APIRouter(include_in_schema=False)

# 有效期 offered when a key is issued (form value → days, label); one year is suggested: a key handed to another
# system should not work for ever unnoticed. The API and the CLI take any later day.
VALIDITY: dict[str, tuple[int, str]] = {"365": (365, "一年"), "730": (730, "两年"), "180": (180, "半年"),
                                        "90": (90, "三个月"), "0": (0, "长期有效")}
DEFAULT_VALIDITY = "365"

def _page(request: Request, viewer: Viewer, *, status: int = 200, error: DomainError | None = None,
          issued: accounts.IssuedKey | None = None, password: tuple[str, str] | None = None,
          done: str = "", form: dict[str, str] | None = None) -> HTMLResponse:
    """The page, with the keys (filtered by ``owner`` / ``state``, paged by ``page``) and the accounts (``upage``)
    named in the query string, so a form answered on the same URL keeps the list the clerk was looking at."""
    platform = _platform(request)
    catalog = platform.catalog
    query = request.query_params
    owner, state = query.get("owner", ""), query.get("state", "")
    if state not in accounts.KEY_STATES:
        state = ""
    users_of = {"query": query.get("q", "").strip()[:64], "role": query.get("role", ""),
                "department": query.get("department", "")}
    if users_of["role"] not in {r.value for r in Role}:
        users_of["role"] = ""
    today = today_cn()
    platform.api_keys.write_uses()  # this process's latest uses, before they are read
    manage_users = accounts.may_manage_users(viewer.actor)
    with platform.db.read() as session:
        key_total = accounts.count_api_keys(session, owner, state=state)
        key_pages = max(1, math.ceil(key_total / accounts.PER_PAGE))
        key_page = min(_page_number(query.get("page")), key_pages)
        keys = accounts.list_api_keys(session, owner, state=state, offset=(key_page - 1) * accounts.PER_PAGE,
                                      limit=accounts.PER_PAGE)
        user_total = accounts.count_users(session, **users_of) if manage_users else 0
        user_pages = max(1, math.ceil(user_total / accounts.PER_PAGE))
        user_page = min(_page_number(query.get("upage")), user_pages)
        users = accounts.list_users(session, **users_of, offset=(user_page - 1) * accounts.PER_PAGE,
                                    limit=accounts.PER_PAGE) if manage_users else []
        owner_name = submitter_names(session, catalog, short=False)
        key_owners = accounts.key_owners(session)

    shown = {"owner": owner, "state": state, "page": key_page, "q": users_of["query"], "role": users_of["role"],
             "department": users_of["department"], "upage": user_page}

    def link(anchor: str, **change: str | int) -> str:
        """This page with both lists' filters and pages kept, ``change`` applied (defaults left out)."""
        params = {k: v for k, v in {**shown, **change}.items() if v not in ("", 1)}
        return "/office/access" + ("?" + urlencode(params) if params else "") + anchor

    def keys_at(n: int) -> str:
        return link("#keys-title", page=n)

    def users_at(n: int) -> str:
        return link("#users-title", upage=n)

    response = _render(request, "access.html", {
        "keys": keys, "key_total": key_total, "owner": owner, "state": state,
        "key_owners": key_owners,
        "key_pager": {"page": key_page, "pages": key_pages, "pager": pager(key_page, key_pages), "query": keys_at},
        "users": users, "user_total": user_total, "users_of": users_of,
        "user_pager": {"page": user_page, "pages": user_pages, "pager": pager(user_page, user_pages),
                       "query": users_at},
        "departments": list(catalog.departments.values()),
        "owner_name": owner_name,
        "roles": list(Role),
        "role_zh": {r.value: r.label_zh for r in Role},
        "manage_users": manage_users,
        "error": error, "issued": issued, "password": password, "done": done, "form": form or {},
        "min_password": account_rules.MIN_PASSWORD,
        "validity": VALIDITY, "default_validity": DEFAULT_VALIDITY, "valid_until": account_rules.valid_until,
        "today": today, "now": utcnow(), "expiring_from": today + dt.timedelta(days=account_rules.RENEW_WITHIN_DAYS),
        # one per rendered form: sending the same form again (a refresh) issues no second key
        "issue_token": secrets.token_urlsafe(18),
    }, status=status, nav="access")
    if issued is not None or password is not None:
        response.headers["Cache-Control"] = "no-store"  # a secret shown once must not be kept by the browser
    return response


def _signed_in_manager(request: Request, csrf_token: str | None) -> Viewer | Response:
    """The viewer when they may open this page (and, for a form, sent the right CSRF token); else the answer."""
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    if csrf_token is not None and not secrets.compare_digest(csrf_token.encode(), viewer.csrf_token.encode()):
        return _csrf_failed(request)
    if not accounts.may_manage_keys(viewer.actor):
        return render_error(request, 403, "账号与密钥仅限系统管理员和市信用办管理", "access.office_only")
    return viewer


@router.get("/office/access", response_class=HTMLResponse)
def access(request: Request, done: str = "") -> Response:
    viewer = _signed_in_manager(request, None)
    if not isinstance(viewer, Viewer):
        return viewer
    return _page(request, viewer, done=done)


@router.post("/office/access/keys", response_class=HTMLResponse)
def issue_key(request: Request, csrf_token: Annotated[str, Form()] = "", department: Annotated[str, Form()] = "",
              platform_uscc: Annotated[str, Form()] = "", label: Annotated[str, Form()] = "",
              issue_token: Annotated[str, Form()] = "", valid_days: Annotated[str, Form()] = "") -> Response:
    viewer = _signed_in_manager(request, csrf_token)
    if not isinstance(viewer, Viewer):
        return viewer
    form = {"department": department, "platform_uscc": platform_uscc, "label": label, "valid_days": valid_days}
    try:
        owner = accounts.key_owner(_platform(request).catalog.departments, department, platform_uscc)
        valid_days = valid_days or DEFAULT_VALIDITY
        if valid_days not in VALIDITY:
            raise DomainError("api_key.valid_until", "请选择有效期", "Choose a validity period", field="valid_until")
        today = today_cn()
        days = VALIDITY[valid_days][0]
        expires_at = account_rules.key_expiry(today + dt.timedelta(days=days) if days else None, today)
        with _platform(request).db.write() as session:
            issued = accounts.create_api_key(session, department_code=owner, label=label.strip()[:100],
                                             actor=viewer.actor, issue_token=issue_token, expires_at=expires_at)
    except DomainError as exc:
        return _page(request, viewer, status=exc.status, error=exc, form=form)
    return _page(request, viewer, issued=issued)


@router.post("/office/access/keys/{key_id}/revoke", response_class=HTMLResponse)
def revoke_key(request: Request, key_id: str, csrf_token: Annotated[str, Form()] = "") -> Response:
    viewer = _signed_in_manager(request, csrf_token)
    if not isinstance(viewer, Viewer):
        return viewer
    try:
        with _platform(request).db.write() as session:
            accounts.revoke_api_key(session, key_id, actor=viewer.actor)
    except DomainError as exc:
        return _page(request, viewer, status=exc.status, error=exc)
    return RedirectResponse("/office/access?done=key_revoked", status_code=303)


@router.post("/office/access/users", response_class=HTMLResponse)
def create_user(request: Request, csrf_token: Annotated[str, Form()] = "", username: Annotated[str, Form()] = "",
                display_name: Annotated[str, Form()] = "", role: Annotated[str, Form()] = "",
                department: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "") -> Response:
    viewer = _signed_in_manager(request, csrf_token)
    if not isinstance(viewer, Viewer):
        return viewer
    form = {"username": username, "display_name": display_name, "role": role, "department": department}
    catalog = _platform(request).catalog
    try:
        if role not in {r.value for r in Role}:
            raise DomainError("user.role", "请选择角色", "Choose a role", field="role")
        if department and department not in catalog.departments:
            raise DomainError("department.unknown", f"未知的数据提供单位：{department}",
                              f"Unknown department {department}", field="department")
        with _platform(request).db.write() as session:
            accounts.create_user(session, username=username, password=password, role=Role(role),
                                 display_name=display_name.strip(),
                                 department_code=(department or None) if role == Role.CLERK.value else None,
                                 actor=viewer.actor, temporary=True)  # handed over: changed at first sign-in
    except DomainError as exc:
        return _page(request, viewer, status=exc.status, error=exc, form=form)
    return RedirectResponse("/office/access?done=user_created", status_code=303)


@router.post("/office/access/users/{username}/{action}", response_class=HTMLResponse)
def change_user(request: Request, username: str, action: str, csrf_token: Annotated[str, Form()] = "") -> Response:
    viewer = _signed_in_manager(request, csrf_token)
    if not isinstance(viewer, Viewer):
        return viewer
    if action not in ("deactivate", "activate", "reset-password", "unlock"):
        return render_error(request, 404, "页面不存在", "not_found")
    result: dict[str, Any] = {}
    try:
        with _platform(request).db.write() as session:
            if action == "reset-password":
                result["password"] = (username, accounts.reset_password(session, username, actor=viewer.actor))
            elif action == "unlock":
                accounts.unlock_user(session, username, actor=viewer.actor)
            else:
                accounts.set_user_active(session, username, action == "activate", actor=viewer.actor)
    except DomainError as exc:
        return _page(request, viewer, status=exc.status, error=exc)
    if "password" in result:
        return _page(request, viewer, password=result["password"])
    done = "user_unlocked" if action == "unlock" else f"user_{action}d"
    return RedirectResponse(f"/office/access?done={done}", status_code=303)
