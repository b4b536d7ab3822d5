"""Portal pages of the lists (信用名单).

- Public: ``/lists`` (tabs 红名单 / 黑名单 / 重点关注, search by name or code, pages; the red tab
  also shows the candidates in their publicity window, 河南条例第二十八条), ``/lists/{id}`` (basis,
  decision number, term, entry and exit conditions, remedies: 上海条例第二十五条) and
  ``/lists/criteria`` (the criteria in force).
- Staff: ``/office/lists`` (the queue by state and list, the proposal form) and ``/office/lists/{id}``
  (notice, publicity, defence, decision, withdrawal, removal). Every POST carries the CSRF token.
- The subject on ``/me``: the section "名单告知" (``_me_lists.html``) with the notices, listings and
  removals about them, and the defence form while a notice runs.

A thin adapter over ``lists.service``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.core.errors import DomainError
from chengxin.core.identifiers import is_valid_ric, is_valid_uscc
from chengxin.lists import rules
from chengxin.lists import service as lists
from chengxin.lists.models import LIST_KINDS
from chengxin.people import orgs
from chengxin.people.models import PersonAccount
from chengxin.people.service import actor_for
from chengxin.platform import Platform
from chengxin.web.people_pages import ME_SECTIONS, Person, _csrf_ok, current_person
from chengxin.web.routes import _csrf_failed, _platform, _render, _to_login, current_viewer, pager, render_error

router = APIRouter(include_in_schema=False)

TABS = (("red", "红名单"), ("black", "严重失信主体名单"), ("watch", "重点关注名单"))


# -- /me ------------------------------------------------------------------------------------------------


def _me_section(session: Session, platform: Platform, person: Person, today: dt.date) -> dict[str, Any]:
    """Variables of ``_me_lists.html``: entries about the person and the organisations they represent."""
    account = session.get_one(PersonAccount, person.account_id)
    ids = [s.subject_id for s in orgs.represented_subjects(session, account)]
    return {"list_entries": lists.entries_for_subjects(session, platform.catalog, ids), "lists_today": today}


ME_SECTIONS.append(_me_section)


@router.post("/me/lists/{entry_id:int}/defence")
def my_defence(request: Request, entry_id: int, text: Annotated[str, Form()] = "",
               csrf_token: Annotated[str, Form()] = "") -> Response:
    person = current_person(request)
    if person is None:
        return RedirectResponse("/me/login", status_code=303)
    if not _csrf_ok(person, csrf_token):
        return _csrf_failed(request)
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            account = session.get_one(PersonAccount, person.account_id)
            lists.record_defence(session, platform.catalog, entry_id=entry_id, text=text, actor=actor_for(account),
                                 now=utcnow(), account=account)
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return RedirectResponse(f"/me#list-{entry_id}", status_code=303)


# -- public ---------------------------------------------------------------------------------------------


@router.get("/lists", response_class=HTMLResponse)
def public_lists(request: Request, kind: str = "black", q: str = "", page: str = "1") -> Response:
    if kind not in LIST_KINDS:
        kind = "black"
    try:
        number = max(1, min(10_000, int(page or "1")))
    except ValueError:
        number = 1
    platform = _platform(request)
    today = today_cn()
    with platform.db.read() as session:
        found = lists.public_entries(session, platform.catalog, today=today, list_kind=kind, q=q, page=number)
        candidates = (lists.public_entries(session, platform.catalog, today=today, list_kind="red", q=q,
                                           publicity=True, per_page=50).entries if kind == "red" else [])

    def query(n: int) -> str:
        return "/lists?" + urlencode({"kind": kind, "q": q, "page": n})

    return _render(request, "lists_public.html", {
        "tabs": TABS, "kind": kind, "q": q, "found": found, "candidates": candidates, "today": today,
        "page": found.page, "pages": found.pages, "pager": pager(found.page, found.pages), "query": query,
        "KIND_ZH": rules.KIND_ZH,
    }, nav="lists")


@router.get("/lists/criteria", response_class=HTMLResponse)
def criteria_page(request: Request) -> Response:
    platform = _platform(request)
    today = today_cn()
    found = lists.criteria_of(platform.catalog)
    return _render(request, "lists_criteria.html", {
        "today": today, "groups": [(k, label, found.in_force(today, k)) for k, label in TABS],
        "defence_days": found.defence_working_days(today), "publicity_days": found.red_publicity_days(today),
        "parameters": found.parameters,
    }, nav="lists")


@router.get("/lists/{entry_id:int}", response_class=HTMLResponse)
def public_entry(request: Request, entry_id: int) -> Response:
    platform = _platform(request)
    with platform.db.read() as session:
        view = lists.public_entry(session, platform.catalog, entry_id=entry_id, today=today_cn())
    return _render(request, "lists_entry.html", {"e": view, "staff": False}, nav="lists")


@router.get("/lists/entries/{entry_id:int}")
def public_entry_alias(entry_id: int) -> RedirectResponse:
    """The address the change feed and webhooks link to (subscriptions.PUBLIC_ENTRY_PATH)."""
    return RedirectResponse(f"/lists/{entry_id}", status_code=308)


# -- staff ----------------------------------------------------------------------------------------------


def _queue_page(request: Request, *, state: str = "open", kind: str = "", error: DomainError | None = None,
                form: dict[str, Any] | None = None, status: int = 200) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    platform = _platform(request)
    today = today_cn()
    try:
        with platform.db.write() as session:  # the read of the queue is audited
            entries = lists.queue(session, platform.catalog, actor=viewer.actor, state=state, list_kind=kind)
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return _render(request, "lists_office.html", {
        "entries": entries, "state": state, "kind": kind, "states": rules.STATE_ZH, "tabs": TABS, "today": today,
        "criteria": lists.criteria_of(platform.catalog).in_force(today), "error": error, "form": form or {},
        "is_office": viewer.is_office,
    }, nav="office_lists", status=status)


@router.get("/office/lists", response_class=HTMLResponse)
def office_queue(request: Request, state: str = "open", kind: str = "") -> Response:
    return _queue_page(request, state=state, kind=kind)


def _check_csrf(request: Request, presented: str) -> Response | None:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    if not presented or not secrets.compare_digest(presented.encode(), viewer.csrf_token.encode()):
        return _csrf_failed(request)
    return None


@router.post("/office/lists", response_class=HTMLResponse)
def office_propose(request: Request, list_kind: Annotated[str, Form()] = "", criterion: Annotated[str, Form()] = "",
                   subject_code: Annotated[str, Form()] = "", record_ids: Annotated[str, Form()] = "",
                   reason: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "") -> Response:
    if (refused := _check_csrf(request, csrf_token)) is not None:
        return refused
    viewer = current_viewer(request)
    assert viewer is not None
    form = {"list_kind": list_kind, "criterion": criterion, "subject_code": subject_code, "record_ids": record_ids,
            "reason": reason}
    platform = _platform(request)
    code = subject_code.strip().upper()
    try:
        ids = [int(x) for x in record_ids.replace("，", ",").replace(" ", ",").split(",") if x.strip()]
    except ValueError:
        err = DomainError("lists.record_ids", "记录编号应为以逗号分隔的数字", "record_ids: comma-separated numbers",
                          field="record_ids")
        return _queue_page(request, error=err, form=form, status=400)
    # One box for both codes: a valid USCC is taken as one, else a code with letters; the rest is a citizen ID.
    as_uscc = is_valid_uscc(code) or (not is_valid_ric(code) and not code[:17].isdigit())
    try:
        with platform.db.write() as session:
            view = lists.propose(session, platform.catalog, platform.keyring, actor=viewer.actor, list_kind=list_kind,
                                 criterion_code=criterion, reason=reason, record_ids=ids,
                                 ric=None if as_uscc else code or None, uscc=code if as_uscc else None,
                                 now=utcnow())
    except DomainError as exc:
        if exc.status == 403:
            return render_error(request, exc.status, exc.message, exc.code)
        return _queue_page(request, error=exc, form=form, status=exc.status)
    return RedirectResponse(f"/office/lists/{view.id}?done=propose", status_code=303)


def _entry_page(request: Request, entry_id: int, *, done: str = "", error: DomainError | None = None,
                status: int = 200) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    platform = _platform(request)
    with platform.db.write() as session:  # the read is audited
        view = lists.entry_detail(session, platform.catalog, entry_id=entry_id, actor=viewer.actor)
    return _render(request, "lists_entry.html", {
        "e": view, "staff": True, "done": done, "error": error, "today": today_cn(), "ROLE_ZH": rules.KIND_ZH,
    }, nav="office_lists", status=status)


@router.get("/office/lists/{entry_id:int}", response_class=HTMLResponse)
def office_entry(request: Request, entry_id: int, done: str = "") -> Response:
    return _entry_page(request, entry_id, done=done)


_ACTIONS = ("notice", "publicity", "defence", "list", "reject", "withdraw", "remove")


@router.post("/office/lists/{entry_id:int}/{action}", response_class=HTMLResponse)
def office_action(request: Request, entry_id: int, action: str, csrf_token: Annotated[str, Form()] = "",
                  reason: Annotated[str, Form()] = "", decision_no: Annotated[str, Form()] = "",
                  term_from: Annotated[str, Form()] = "", term_to: Annotated[str, Form()] = "",
                  text: Annotated[str, Form()] = "") -> Response:
    if (refused := _check_csrf(request, csrf_token)) is not None:
        return refused
    if action not in _ACTIONS:
        return render_error(request, 404, "未知的操作", "lists.unknown_action")
    viewer = current_viewer(request)
    assert viewer is not None
    platform = _platform(request)
    now = utcnow()
    try:
        start = _date(term_from, "term_from")
        end = _date(term_to, "term_to")
        with platform.db.write() as session:
            kw: dict[str, Any] = {"entry_id": entry_id, "actor": viewer.actor, "now": now}
            if action == "notice":
                lists.send_notice(session, platform.catalog, **kw)
            elif action == "publicity":
                lists.start_publicity(session, platform.catalog, **kw)
            elif action == "defence":
                lists.record_defence(session, platform.catalog, text=text, **kw)
            elif action in ("list", "reject"):
                lists.decide(session, platform.catalog, action=action, decision_no=decision_no, term_from=start,
                             term_to=end, reason=reason, **kw)
            elif action == "withdraw":
                lists.withdraw(session, platform.catalog, reason=reason, **kw)
            else:
                lists.remove(session, platform.catalog, reason=reason, decision_no=decision_no, **kw)
    except DomainError as exc:
        if exc.status in (403, 404):
            return render_error(request, exc.status, exc.message, exc.code)
        return _entry_page(request, entry_id, error=exc, status=exc.status)
    return RedirectResponse(f"/office/lists/{entry_id}?done={action}", status_code=303)


def _date(raw: str, name: str) -> dt.date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise DomainError(f"lists.{name}", f"日期格式应为 YYYY-MM-DD：{raw}", f"{name}: expected YYYY-MM-DD",
                          field=name) from None
