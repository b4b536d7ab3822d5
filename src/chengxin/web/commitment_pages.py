"""Portal pages of credit commitments (信用承诺).

- ``/commitments``: 信用承诺公示 — public commitments, filter by kind, search by number, USCC or name,
  paged; ``/commitments/{no}``: one commitment with its full text and SHA-256 (the subject sees its
  own non-public ones there too; the accepting department and the office get the breach and
  fulfilment forms).
- ``/commitments/templates``: the templates in force, their text, acceptors, validity and basis.
- The subject on ``/me``: the section "我的信用承诺" (``_me_commitments.html``), the signing form
  ``/me/commitments/new`` and withdrawal.

A thin adapter over ``commitments.service``; every POST form carries the session's CSRF token.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from chengxin.commitments import rules, service
from chengxin.commitments.templates import templates
from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.core.errors import DomainError, PermissionDenied
from chengxin.people import orgs
from chengxin.people.models import PersonAccount
from chengxin.platform import Platform
from chengxin.web.people_pages import ME_SECTIONS, Person, _csrf_ok, current_person
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


def _me_section(session: Session, platform: Platform, person: Person, today: dt.date) -> dict[str, Any]:
    """Variables of ``_me_commitments.html``."""
    account = session.get_one(PersonAccount, person.account_id)
    return {"my_commitments": service.commitments_for_account(session, platform.catalog, account, today)}


ME_SECTIONS.append(_me_section)


def _kinds() -> list[tuple[str, str]]:
    return [(t.code, t.kind_zh) for t in templates().values()]


# -- the public display ----------------------------------------------------------------------------


@router.get("/commitments", response_class=HTMLResponse)
def public_list(request: Request, q: str = "", kind: str = "", page: str = "1") -> Response:
    platform = _platform(request)
    number = _page_number(page)
    q = q[:100]
    error = None
    views: list[service.CommitmentView] = []
    total = 0
    try:
        with platform.db.read() as session:
            views, total = service.public_search(session, platform.catalog, q=q, kind=kind, page=number,
                                                 today=today_cn())
    except DomainError as exc:
        error = exc.message
    pages = max(1, math.ceil(total / service.PER_PAGE))
    return _render(request, "commitments_list.html", {
        "q": q, "kind": kind, "kinds": _kinds(), "items": views, "total": total, "page": number, "pages": pages,
        "pager": pager(number, pages), "error": error, "person": current_person(request),
    }, nav="commitments")


@router.get("/commitments/templates", response_class=HTMLResponse)
def template_list(request: Request) -> HTMLResponse:
    platform = _platform(request)
    today = today_cn()
    rows = []
    for t in templates().values():
        v = t.version_on(today)
        if v is not None:
            rows.append((t, v, [platform.catalog.departments[a].name_zh for a in t.acceptors
                                if a in platform.catalog.departments]))
    return _render(request, "commitments_templates.html", {"rows": rows, "today": today}, nav="commitments")


def _staff_role(request: Request, view: service.CommitmentView) -> str | None:
    viewer = current_viewer(request)
    if viewer is None:
        return None
    if viewer.department_code == view.department_code:
        return "department"
    return "office" if viewer.is_office else None


@router.get("/commitments/{no}", response_class=HTMLResponse)
def detail(request: Request, no: str) -> Response:
    platform = _platform(request)
    person = current_person(request)
    viewer = current_viewer(request)
    today = today_cn()
    own = False
    try:
        if person is not None:
            with platform.db.read() as session:
                account = session.get_one(PersonAccount, person.account_id)
                view = service.public_detail(session, platform.catalog, no=no, today=today, account=account)
                own = orgs.can_act_for(session, account, view.subject_id)
        elif viewer is not None:
            with platform.db.write() as session:  # a staff read of a person's commitment is audited
                try:
                    view = service.staff_detail(session, platform.catalog, no=no, actor=viewer.actor, today=today)
                except PermissionDenied:  # another department: what the public sees
                    view = service.public_detail(session, platform.catalog, no=no, today=today)
        else:
            with platform.db.read() as session:
                view = service.public_detail(session, platform.catalog, no=no, today=today)
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    role = _staff_role(request, view) if person is None else None
    actions = [t.action for t in service.WORKFLOW.actions_for(view.state, role)] if role else []
    return _render(request, "commitments_detail.html", {
        "c": view, "person": person, "own": own, "today": today, "actions": actions,
        "can_withdraw": own and view.state == rules.SIGNED,
    }, nav="commitments")


def _staff_csrf_ok(request: Request, presented: str) -> bool:
    viewer = current_viewer(request)
    return viewer is not None and bool(presented) and secrets.compare_digest(presented.encode(),
                                                                             viewer.csrf_token.encode())


@router.post("/commitments/{no}/breach", response_class=HTMLResponse)
def breach(
    request: Request, no: str,
    csrf_token: Annotated[str, Form()] = "",
    facts: Annotated[str, Form()] = "",
    decision_no: Annotated[str, Form()] = "",
    severity: Annotated[str, Form()] = "general",
    measures: Annotated[str, Form()] = "",
) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    if not _staff_csrf_ok(request, csrf_token):
        return _csrf_failed(request)
    platform = _platform(request)
    try:
        view = service.record_breach(platform.db, platform.catalog, platform.keyring, no=no, actor=viewer.actor,
                                     now=utcnow(), body=service.BreachIn(facts=facts, decision_no=decision_no,
                                                                         severity=severity, measures=measures))
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return RedirectResponse(f"/commitments/{view.no}", status_code=303)


@router.post("/commitments/{no}/fulfil", response_class=HTMLResponse)
def fulfil(request: Request, no: str, csrf_token: Annotated[str, Form()] = "",
           note: Annotated[str, Form()] = "") -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    if not _staff_csrf_ok(request, csrf_token):
        return _csrf_failed(request)
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            view = service.fulfil(session, platform.catalog, no=no, actor=viewer.actor, now=utcnow(), note=note)
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return RedirectResponse(f"/commitments/{view.no}", status_code=303)


# -- the subject: sign, withdraw --------------------------------------------------------------------


def _sign_context(session: Session, platform: Platform, person: Person, today: dt.date,
                  form: dict[str, Any], error: DomainError | None) -> dict[str, Any]:
    account = session.get_one(PersonAccount, person.account_id)
    subjects = orgs.represented_subjects(session, account)
    choices = []
    for t in templates().values():
        v = t.version_on(today)
        if v is None:
            continue
        acceptors = [(a, platform.catalog.departments[a].name_zh) for a in t.acceptors
                     if a in platform.catalog.departments]
        choices.append((t, v, acceptors, rules.valid_until(v, today)))
    return {"person": person, "subjects": subjects, "choices": choices, "form": form, "error": error,
            "today": today}


@router.get("/me/commitments/new", response_class=HTMLResponse)
def sign_form(request: Request, template: str = "") -> Response:
    person = current_person(request)
    if person is None:
        return RedirectResponse("/me/login", status_code=303)
    platform = _platform(request)
    with platform.db.read() as session:
        ctx = _sign_context(session, platform, person, today_cn(), {"template": template}, None)
    return _render(request, "commitments_sign.html", ctx)


@router.post("/me/commitments", response_class=HTMLResponse)
def sign_submit(
    request: Request,
    csrf_token: Annotated[str, Form()] = "",
    template: Annotated[str, Form()] = "",
    template_version: Annotated[str, Form()] = "",
    subject_id: Annotated[str, Form()] = "",
    department: Annotated[str, Form()] = "",
    matter: Annotated[str, Form()] = "",
    agree: Annotated[str, Form()] = "",
) -> Response:
    person = current_person(request)
    if person is None:
        return RedirectResponse("/me/login", status_code=303)
    if not _csrf_ok(person, csrf_token):
        return _csrf_failed(request)
    platform = _platform(request)
    form = {"template": template, "subject_id": subject_id, "department": department, "matter": matter}
    try:
        if agree != "1":
            raise DomainError("commitment.not_agreed", "请阅读承诺书全文并勾选“本人（本单位）已阅读并承诺”",
                              "Read the text and tick the box to sign", field="agree")
        try:
            chosen = int(subject_id) if subject_id else None
        except ValueError:
            raise DomainError("commitment.subject_invalid", "请选择承诺主体", "Choose the subject",
                              field="subject_id") from None
        with platform.db.write() as session:
            view = service.sign_online(session, platform.catalog,
                                       account=session.get_one(PersonAccount, person.account_id), subject_id=chosen,
                                       template_code=template, template_version=template_version, matter=matter,
                                       department=department, now=utcnow())
    except DomainError as exc:
        with platform.db.read() as session:
            ctx = _sign_context(session, platform, person, today_cn(), form, exc)
        return _render(request, "commitments_sign.html", ctx, status=exc.status)
    return RedirectResponse(f"/commitments/{view.no}", status_code=303)


@router.post("/me/commitments/{no}/withdraw", response_class=HTMLResponse)
def withdraw(request: Request, no: str, csrf_token: Annotated[str, Form()] = "",
             reason: Annotated[str, Form()] = "") -> Response:
    person = current_person(request)
    if person is None:
        return RedirectResponse("/me/login", status_code=303)
    if not _csrf_ok(person, csrf_token):
        return _csrf_failed(request)
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            view = service.withdraw(session, platform.catalog, account=session.get_one(PersonAccount, person.account_id),
                                    no=no, reason=reason, now=utcnow())
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return RedirectResponse(f"/commitments/{view.no}", status_code=303)
