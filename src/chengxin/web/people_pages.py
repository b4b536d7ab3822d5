"""The personal portal (个人中心, ``/me``): a person registers after a real-name check, signs in with
password + TOTP, and reads their own whole credit file with every query of their data.

A thin adapter over ``people.service`` and ``disclosure.service.own_file``. The session token is
kept in the HttpOnly cookie ``cx_person`` (separate from staff's ``cx_session``) and every
state-changing form of a signed-in person carries the session's CSRF token. Reading one's own
file is not written to the query log (which records reads *by others*), as ``own_file`` does not.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from chengxin.accounts.sign_in import AddressLimited
from chengxin.api.deps import client_address
from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.core.errors import DomainError, Unauthenticated
from chengxin.disclosure import service as disclosure
from chengxin.people import service as people
from chengxin.people.identity import PopulationRegisterProvider
from chengxin.people.models import PersonAccount
from chengxin.platform import Platform
from chengxin.reports.service import self_report_allowance
from chengxin.web.routes import _platform, _render, render_error

router = APIRouter(include_in_schema=False)

PERSON_COOKIE = "cx_person"
STATUS_ZH = {"active": "有效", "revoked": "已撤销"}
CHANGE_ZH = {"create": "新建", "correct": "更正", "revoke": "撤销"}
CATEGORY_ORDER = ("basic", "positive", "negative")


@dataclass(frozen=True)
class Person:
    account_id: int
    subject_id: int
    totp_enabled: bool
    csrf_token: str


def current_person(request: Request) -> Person | None:
    token = request.cookies.get(PERSON_COOKIE)
    if not token:
        return None
    with _platform(request).db.read() as session:
        try:
            account, person_session = people.account_for_token(session, token)
        except Unauthenticated:
            return None
        return Person(account.id, account.subject_id, account.totp_enabled, person_session.csrf_token)


def _csrf_ok(person: Person, presented: str) -> bool:
    return bool(presented) and secrets.compare_digest(presented.encode(), person.csrf_token.encode())


def _csrf_failed(request: Request) -> HTMLResponse:
    return render_error(request, 403, "安全校验失败（表单令牌缺失或不匹配），请刷新页面后重新提交", "auth.csrf")


def _to_login() -> RedirectResponse:
    return RedirectResponse("/me/login", status_code=303)


# -- registration and sign-in ---------------------------------------------------------------------


@router.get("/me/register", response_class=HTMLResponse)
def register_form(request: Request) -> HTMLResponse:
    return _render(request, "me_register.html", {"name": "", "error": None})


@router.post("/me/register", response_class=HTMLResponse)
def register_submit(
    request: Request,
    ric: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            people.register(session, platform.keyring, PopulationRegisterProvider(platform.keyring),
                            ric=ric, name=name, password=password)
    except DomainError as exc:
        return _render(request, "me_register.html", {"name": name, "error": exc}, status=exc.status)
    return RedirectResponse("/me/login?registered=1", status_code=303)


@router.get("/me/login", response_class=HTMLResponse)
def login_form(request: Request, registered: str = "") -> HTMLResponse:
    return _render(request, "me_login.html", {"error": None, "registered": bool(registered)})


@router.post("/me/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    ric: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    totp_code: Annotated[str, Form()] = "",
) -> Response:
    platform = _platform(request)
    error: Unauthenticated | AddressLimited | None = None
    with platform.db.write() as session:
        # The failure count must be committed even when sign-in fails: catch inside the transaction.
        try:
            account = people.sign_in(session, platform.keyring, ric=ric, password=password, totp_code=totp_code,
                                     address=client_address(request))
            issued = people.open_session(session, account, hours=platform.settings.session_hours)
        except (Unauthenticated, AddressLimited) as exc:
            error = exc
    if error is not None:
        return _render(request, "me_login.html", {"error": error, "registered": False}, status=error.status)
    response = RedirectResponse("/me", status_code=303)
    response.set_cookie(PERSON_COOKIE, issued.token, max_age=platform.settings.session_hours * 3600, path="/",
                        httponly=True, samesite="lax", secure=platform.settings.secure_cookies)
    return response


@router.post("/me/logout")
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    person = current_person(request)
    token = request.cookies.get(PERSON_COOKIE)
    if person is not None and token:
        if not _csrf_ok(person, csrf_token):
            return _csrf_failed(request)
        with _platform(request).db.write() as session:
            people.close_session(session, token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(PERSON_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=_platform(request).settings.secure_cookies)
    return response


# -- TOTP -----------------------------------------------------------------------------------------


@router.get("/me/totp", response_class=HTMLResponse)
def totp_page(request: Request) -> Response:
    person = current_person(request)
    if person is None:
        return _to_login()
    return _render(request, "me_totp.html", {"person": person, "setup": None, "error": None})


@router.post("/me/totp", response_class=HTMLResponse)
def totp_start(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    person = current_person(request)
    if person is None:
        return _to_login()
    if not _csrf_ok(person, csrf_token):
        return _csrf_failed(request)
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            setup = people.enable_totp(session, platform.keyring, session.get_one(PersonAccount, person.account_id))
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return _render(request, "me_totp.html", {"person": person, "setup": setup, "error": None})


@router.post("/me/totp/confirm", response_class=HTMLResponse)
def totp_confirm(request: Request, csrf_token: Annotated[str, Form()] = "",
                 code: Annotated[str, Form()] = "") -> Response:
    person = current_person(request)
    if person is None:
        return _to_login()
    if not _csrf_ok(person, csrf_token):
        return _csrf_failed(request)
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            people.confirm_totp(session, platform.keyring, session.get_one(PersonAccount, person.account_id), code)
    except DomainError as exc:
        return _render(request, "me_totp.html", {"person": person, "setup": None, "error": exc}, status=exc.status)
    return RedirectResponse("/me/totp", status_code=303)


# -- one's own file -------------------------------------------------------------------------------


# Features that add a section to /me (objections, repair, notices …) register a provider here at
# import time: it gets the read session, the platform and the person, and returns template variables
# for its own partial (see templates/_me_cases.html and the per-record action partials).
MeSection = Callable[[Session, Platform, Person, dt.date], dict[str, Any]]
ME_SECTIONS: list[MeSection] = []


@router.get("/me", response_class=HTMLResponse)
def my_file(request: Request) -> Response:
    person = current_person(request)
    if person is None:
        return _to_login()
    platform = _platform(request)
    today = today_cn()
    with platform.db.read() as session:
        file = disclosure.own_file(session, platform.catalog, platform.keyring, person.subject_id, today)
        allowance = self_report_allowance(session, person.subject_id, utcnow())
        extra: dict[str, Any] = {}
        for section in ME_SECTIONS:
            extra.update(section(session, platform, person, today))
    groups = file.by_category()
    return _render(request, "me_file.html", {
        "person": person, "file": file, "today": today, "STATUS_ZH": STATUS_ZH, "CHANGE_ZH": CHANGE_ZH,
        "allowance": allowance, **extra,
        "groups": [(c, groups.get(c, [])) for c in CATEGORY_ORDER],
    })


@router.get("/me/report.pdf")
def my_report(request: Request) -> Response:
    """本人信用报告 (see ``reports.service.issue_self_report``)."""
    from chengxin.api.reports import pdf_response
    from chengxin.reports.service import issue_self_report

    person = current_person(request)
    if person is None:
        return _to_login()
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            issued = issue_self_report(session, platform.catalog, platform.keyring, person.subject_id,
                                       base_url=str(request.base_url).rstrip("/"), now=utcnow())
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return pdf_response(issued)
