"""授权管理 (``/me/consents``): a signed-in person grants consents, sees each use, and revokes.

The consent code is shown once, on the page answering the grant; only its keyed hash is kept.
Every form carries the person's session CSRF token (see ``people_pages``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chengxin.consent import rules
from chengxin.consent import service as consents
from chengxin.core.audit import Actor
from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.core.errors import DomainError
from chengxin.core.policy import policy_on
from chengxin.web.people_pages import Person, _csrf_failed, _csrf_ok, _to_login, current_person
from chengxin.web.routes import _platform, _render

router = APIRouter(include_in_schema=False)


def _actor(person: Person) -> Actor:
    return Actor(kind="person", name=str(person.account_id))


def _page(request: Request, person: Person, *, granted: consents.Granted | None = None,
          error: DomainError | None = None, form: dict[str, object] | None = None, status: int = 200) -> HTMLResponse:
    today = today_cn()
    policy = policy_on(today).consent
    with _platform(request).db.read() as session:
        items = consents.list_for(session, person.subject_id, today)
    return _render(request, "me_consents.html", {
        "person": person, "consents": items, "granted": granted, "error": error, "form": form or {},
        "PURPOSES": policy.purposes, "CATEGORIES": rules.CATEGORIES, "STATE_ZH": rules.STATE_ZH,
        "max_date": (today + dt.timedelta(days=policy.max_valid_days)).isoformat(), "today": today.isoformat(),
        "max_days": policy.max_valid_days,
    }, status=status)


@router.get("/me/consents", response_class=HTMLResponse)
def consent_page(request: Request) -> Response:
    person = current_person(request)
    if person is None:
        return _to_login()
    return _page(request, person)


@router.post("/me/consents", response_class=HTMLResponse)
def consent_grant(
    request: Request,
    csrf_token: Annotated[str, Form()] = "",
    requester_uscc: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form()] = "",
    purpose_note: Annotated[str, Form()] = "",
    categories: Annotated[list[str] | None, Form()] = None,
    validity: Annotated[str, Form()] = "single",
    valid_until: Annotated[str, Form()] = "",
) -> Response:
    person = current_person(request)
    if person is None:
        return _to_login()
    if not _csrf_ok(person, csrf_token):
        return _csrf_failed(request)
    form: dict[str, object] = {"requester_uscc": requester_uscc, "purpose": purpose, "purpose_note": purpose_note,
            "categories": categories or [], "validity": validity, "valid_until": valid_until}
    platform = _platform(request)
    try:
        until: dt.date | None = None
        if validity != "single":
            try:
                until = dt.date.fromisoformat(valid_until) if valid_until else None
            except ValueError:
                raise DomainError("consent.bad_valid_until", "有效期截止日期格式不正确", "Bad date",
                                  field="valid_until") from None
        with platform.db.write() as session:
            granted = consents.grant(session, platform.keyring, subject_id=person.subject_id,
                                     requester_uscc=requester_uscc, purpose=purpose, purpose_note=purpose_note,
                                     categories=categories or [], single_use=validity == "single",
                                     valid_until=until, now=utcnow(), actor=_actor(person))
            session.expunge(granted.consent)
    except DomainError as exc:
        return _page(request, person, error=exc, form=form, status=exc.status)
    return _page(request, person, granted=granted)


@router.post("/me/consents/{consent_id}/revoke")
def consent_revoke(request: Request, consent_id: int, csrf_token: Annotated[str, Form()] = "") -> Response:
    person = current_person(request)
    if person is None:
        return _to_login()
    if not _csrf_ok(person, csrf_token):
        return _csrf_failed(request)
    with _platform(request).db.write() as session:
        consents.revoke(session, subject_id=person.subject_id, consent_id=consent_id, now=utcnow(),
                        actor=_actor(person))
    return RedirectResponse("/me/consents", status_code=303)
