"""异议 pages: the subject files, follows, withdraws, contests and writes statements on /me; the source
department answers from its queue (/dept/objections); the credit office checks, forwards, reviews and
watches every queue (/office/objections). A thin adapter over ``objections.service``; every POST form
carries the CSRF token of the person's or the staff member's session, and a refused form comes back
with the message and what was typed.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from chengxin.api.objections import STAGES, read_uploads
from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.core.errors import DomainError
from chengxin.core.policy import policy_on
from chengxin.disclosure.model import FileItem
from chengxin.disclosure.service import own_file
from chengxin.objections import rules
from chengxin.objections import service as objections
from chengxin.people.models import PersonAccount
from chengxin.people.orgs import can_act_for, represented_subjects
from chengxin.people.service import actor_for
from chengxin.platform import Platform
from chengxin.web.people_pages import ME_SECTIONS, STATUS_ZH, Person, _csrf_failed, _csrf_ok, current_person
from chengxin.web.routes import Viewer, _platform, _render, _to_login, current_viewer, render_error

router = APIRouter(include_in_schema=False)
URGENCY_ZH = {"overdue": "已逾期", "due_soon": "即将到期", "ok": ""}
CORRECTION_PREFIX = "f_"
_GLOBALS = {"OBJECTION_GROUNDS": rules.GROUNDS, "OBJECTION_STATES": rules.STATES, "URGENCY_ZH": URGENCY_ZH,
            "STATUS_ZH": STATUS_ZH}


def _person_login() -> RedirectResponse:
    return RedirectResponse("/me/login", status_code=303)


def _account(session: Session, person: Person) -> PersonAccount:
    return session.get_one(PersonAccount, person.account_id)


# -- /me: the section and the per-record actions ---------------------------------------------------


def me_section(session: Session, platform: Platform, person: Person, today: dt.date) -> dict[str, Any]:
    """我的异议 on /me, and what the per-record action cell needs (open objections, standing notes)."""
    account = _account(session, person)
    views = objections.list_for_account(session, platform.catalog, account, today)
    return {
        "objections": views,
        "objection_notices": objections.notices_for(session, account)[:10],
        "objection_open": {v.record_id: v for v in views if v.state in rules.OPEN_STATES},
        "objection_notes": {v.record_id: v.standing_note for v in views if v.standing_note},
        "objection_orgs": [s for s in represented_subjects(session, account) if not s.own],
        **_GLOBALS,
    }


ME_SECTIONS.append(me_section)


@router.get("/me/represented/{subject_id:int}", response_class=HTMLResponse)
def represented_file(request: Request, subject_id: int) -> Response:
    """An organisation's records, for its representative: object or state on its behalf."""
    person = current_person(request)
    if person is None:
        return _person_login()
    platform = _platform(request)
    today = today_cn()
    with platform.db.read() as session:
        if not can_act_for(session, _account(session, person), subject_id):
            return render_error(request, 404, "您不能代表该信用主体", "subject.not_represented")
        file = own_file(session, platform.catalog, platform.keyring, subject_id, today)
        section = me_section(session, platform, person, today)
    return _render(request, "objection_org_file.html", {"person": person, "file": file, "today": today, **section})


# -- filing ----------------------------------------------------------------------------------------


def _record_for(request: Request, person: Person, record_id: int) -> FileItem:
    platform = _platform(request)
    with platform.db.read() as session:
        return objections.subject_record(session, platform.catalog, platform.keyring,
                                         account=_account(session, person), record_id=record_id, today=today_cn())


def _new_form(request: Request, person: Person, item: FileItem, *, form: dict[str, Any] | None = None,
              error: DomainError | None = None, status: int = 200) -> HTMLResponse:
    policy = policy_on(today_cn())
    return _render(request, "objection_new.html", {
        "person": person, "item": item, "form": form or {}, "error": error, "policy": policy.objection,
        "attachments": policy.attachments, **_GLOBALS}, status=status)


@router.get("/me/objections/new", response_class=HTMLResponse)
def new_objection(request: Request, record: int = 0) -> Response:
    person = current_person(request)
    if person is None:
        return _person_login()
    try:
        item = _record_for(request, person, record)
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return _new_form(request, person, item)


@router.post("/me/objections", response_class=HTMLResponse)
def file_objection(
    request: Request,
    csrf_token: Annotated[str, Form()] = "",
    record_id: Annotated[int, Form()] = 0,
    grounds: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    person = current_person(request)
    if person is None:
        return _person_login()
    if not _csrf_ok(person, csrf_token):
        return _csrf_failed(request)
    platform = _platform(request)
    form = {"grounds": grounds, "reason": reason}
    try:
        uploads = read_uploads(files)
        with platform.db.write() as session:
            view = objections.file_objection(session, platform.catalog, platform.keyring,
                                             account=_account(session, person), record_id=record_id,
                                             grounds=grounds, reason=reason, uploads=uploads, now=utcnow())
    except DomainError as exc:
        try:
            item = _record_for(request, person, record_id)
        except DomainError:
            return render_error(request, exc.status, exc.message, exc.code)
        return _new_form(request, person, item, form=form, error=exc, status=exc.status)
    return RedirectResponse(f"/me/objections/{view.id}?filed=1", status_code=303)


# -- following one's objection ---------------------------------------------------------------------


def _subject_page(request: Request, person: Person, objection_id: int, *, error: DomainError | None = None,
                  form: dict[str, Any] | None = None, status: int = 200, flash: str = "") -> HTMLResponse:
    platform = _platform(request)
    with platform.db.read() as session:
        detail = objections.subject_detail(session, platform.catalog, account=_account(session, person),
                                           objection_id=objection_id, today=today_cn())
    return _render(request, "objection_detail.html", {
        "person": person, "d": detail, "o": detail.view, "error": error, "form": form or {}, "flash": flash,
        **_GLOBALS}, status=status)


@router.get("/me/objections/{objection_id:int}", response_class=HTMLResponse)
def my_objection(request: Request, objection_id: int, filed: str = "", done: str = "") -> Response:
    person = current_person(request)
    if person is None:
        return _person_login()
    flash = "异议已提交，该信息已标注“异议中”。" if filed else ("已办理。" if done else "")
    try:
        return _subject_page(request, person, objection_id, flash=flash)
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)


@router.post("/me/objections/{objection_id:int}/act", response_class=HTMLResponse)
def my_objection_act(
    request: Request,
    objection_id: int,
    csrf_token: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    person = current_person(request)
    if person is None:
        return _person_login()
    if not _csrf_ok(person, csrf_token):
        return _csrf_failed(request)
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            objections.subject_act(session, platform.catalog, platform.keyring, account=_account(session, person),
                                   objection_id=objection_id, action=action, reason=reason or None, now=utcnow())
    except DomainError as exc:
        try:
            return _subject_page(request, person, objection_id, error=exc, form={"action": action, "reason": reason},
                                 status=exc.status)
        except DomainError:
            return render_error(request, exc.status, exc.message, exc.code)
    return RedirectResponse(f"/me/objections/{objection_id}?done={quote(action)}", status_code=303)


def _download(info: Any, data: bytes) -> Response:
    return Response(data, media_type=info.mime, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(info.filename)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})


@router.get("/me/objections/{objection_id:int}/attachments/{attachment_id:int}")
def my_attachment(request: Request, objection_id: int, attachment_id: int) -> Response:
    person = current_person(request)
    if person is None:
        return _person_login()
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            account = _account(session, person)
            info, data = objections.read_objection_attachment(
                session, platform.keyring, objection_id=objection_id, attachment_id=attachment_id,
                actor=actor_for(account), account=account)
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return _download(info, data)


# -- 本人声明 ---------------------------------------------------------------------------------------


def _statement_page(request: Request, person: Person, record_id: int, *, text: str | None = None,
                    error: DomainError | None = None, status: int = 200, saved: bool = False) -> HTMLResponse:
    platform = _platform(request)
    with platform.db.read() as session:
        account = _account(session, person)
        item = objections.subject_record(session, platform.catalog, platform.keyring, account=account,
                                         record_id=record_id, today=today_cn())
        history = objections.statement_history(session, account=account, record_id=record_id)
    return _render(request, "objection_statement.html", {
        "person": person, "item": item, "history": history, "error": error, "saved": saved,
        "text": (item.statement or "") if text is None else text,
        "max_chars": policy_on(today_cn()).objection.statement_max_chars, **_GLOBALS}, status=status)


@router.get("/me/statements/{record_id:int}", response_class=HTMLResponse)
def statement_form(request: Request, record_id: int, saved: str = "") -> Response:
    person = current_person(request)
    if person is None:
        return _person_login()
    try:
        return _statement_page(request, person, record_id, saved=bool(saved))
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)


@router.post("/me/statements/{record_id:int}", response_class=HTMLResponse)
def statement_save(
    request: Request,
    record_id: int,
    csrf_token: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
    op: Annotated[str, Form()] = "save",
) -> Response:
    person = current_person(request)
    if person is None:
        return _person_login()
    if not _csrf_ok(person, csrf_token):
        return _csrf_failed(request)
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            account = _account(session, person)
            if op == "withdraw":
                objections.withdraw_statement(session, account=account, record_id=record_id, now=utcnow())
            else:
                objections.set_statement(session, account=account, record_id=record_id, text=text, now=utcnow())
    except DomainError as exc:
        try:
            return _statement_page(request, person, record_id, text=text, error=exc, status=exc.status)
        except DomainError:
            return render_error(request, exc.status, exc.message, exc.code)
    return RedirectResponse(f"/me/statements/{record_id}?saved=1", status_code=303)


# -- staff: queues -----------------------------------------------------------------------------------


def _staff_or_login(request: Request) -> Viewer | Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    if not (viewer.is_office or viewer.is_clerk):
        return render_error(request, 403, "仅限数据提供单位经办人和市信用办办理异议", "objection.staff_only")
    return viewer


@router.get("/dept/objections", response_class=HTMLResponse)
def department_queue(request: Request, all: str = "") -> Response:
    viewer = _staff_or_login(request)
    if isinstance(viewer, Response):
        return viewer
    if not viewer.is_clerk:
        return RedirectResponse("/office/objections", status_code=303)
    platform = _platform(request)
    today = today_cn()
    with platform.db.read() as session:
        views = objections.queue(session, platform.catalog, actor=viewer.actor, today=today,
                                 states=None if all else rules.DEPARTMENT_STAGE)
    return _render(request, "objection_queue.html", {
        "views": views, "today": today, "office": False, "show_all": bool(all), "filters": {},
        "departments": [], "STAGES_ZH": _STAGES_ZH, **_GLOBALS}, nav="office")


_STAGES_ZH = {"open": "全部办理中", "check": "待核查转办", "department": "待部门处理", "review": "待复核",
              "decided": "已答复（复核期内）", "closed": "已办结"}


@router.get("/office/objections", response_class=HTMLResponse)
def office_queue(request: Request, stage: str = "open", department: str = "", overdue: str = "") -> Response:
    viewer = _staff_or_login(request)
    if isinstance(viewer, Response):
        return viewer
    if not viewer.is_office:
        return RedirectResponse("/dept/objections", status_code=303)
    platform = _platform(request)
    today = today_cn()
    stage = stage if stage in STAGES or stage == "all" else "open"
    with platform.db.read() as session:
        views = objections.queue(session, platform.catalog, actor=viewer.actor, today=today,
                                 states=None if stage == "all" else STAGES[stage], department=department or None,
                                 overdue_only=bool(overdue))
    departments = sorted(platform.catalog.departments.values(), key=lambda d: d.code)
    return _render(request, "objection_queue.html", {
        "views": views, "today": today, "office": True, "show_all": False, "departments": departments,
        "filters": {"stage": stage, "department": department, "overdue": bool(overdue)},
        "STAGES_ZH": _STAGES_ZH, **_GLOBALS}, nav="office")


# -- staff: one case -----------------------------------------------------------------------------------


def _case_page(request: Request, viewer: Viewer, objection_id: int, *, error: DomainError | None = None,
               form: dict[str, Any] | None = None, status: int = 200, done: str = "") -> HTMLResponse:
    platform = _platform(request)
    with platform.db.write() as session:  # the read of the subject's record is audited
        detail = objections.staff_detail(session, platform.catalog, actor=viewer.actor, objection_id=objection_id,
                                         today=today_cn())
    base = "/office" if viewer.is_office else "/dept"
    done_label = next((t.label_zh for t in rules.WORKFLOW.transitions if t.action == done), "")
    return _render(request, "objection_case.html", {
        "d": detail, "o": detail.view, "error": error, "form": form or {"corrections": {}}, "base": base,
        "done": done_label, "CORRECTING": rules.CORRECTING, "prefix": CORRECTION_PREFIX, **_GLOBALS},
        status=status, nav="office")


@router.get("/dept/objections/{objection_id:int}", response_class=HTMLResponse)
@router.get("/office/objections/{objection_id:int}", response_class=HTMLResponse)
def staff_case(request: Request, objection_id: int, done: str = "") -> Response:
    viewer = _staff_or_login(request)
    if isinstance(viewer, Response):
        return viewer
    try:
        return _case_page(request, viewer, objection_id, done=done)
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)


def _staff_act(request: Request, objection_id: int, fields: dict[str, str]) -> Response:
    viewer = _staff_or_login(request)
    if isinstance(viewer, Response):
        return viewer
    if not secrets.compare_digest(fields.get("csrf_token", "").encode(), viewer.csrf_token.encode()):
        return _csrf_failed(request)
    action, reason = fields.get("action", ""), fields.get("reason", "")
    corrections = {k[len(CORRECTION_PREFIX):]: v for k, v in fields.items()
                   if k.startswith(CORRECTION_PREFIX) and v.strip()} if action in rules.CORRECTING else {}
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            objections.staff_act(session, platform.catalog, platform.keyring, actor=viewer.actor,
                                 objection_id=objection_id, action=action, reason=reason or None,
                                 corrections=corrections, now=utcnow())
    except DomainError as exc:
        form = {"action": action, "reason": reason, "corrections": corrections}
        try:
            return _case_page(request, viewer, objection_id, error=exc, form=form, status=exc.status)
        except DomainError:
            return render_error(request, exc.status, exc.message, exc.code)
    base = "/office" if viewer.is_office else "/dept"
    return RedirectResponse(f"{base}/objections/{objection_id}?{urlencode({'done': action})}", status_code=303)


@router.post("/dept/objections/{objection_id:int}", response_class=HTMLResponse)
@router.post("/office/objections/{objection_id:int}", response_class=HTMLResponse)
async def staff_case_act(request: Request, objection_id: int) -> Response:
    # The correction form has one input per catalog field (``f_<code>``): read the whole form here,
    # then do the work (database, templates) in the thread pool like the sync endpoints.
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return await run_in_threadpool(_staff_act, request, objection_id, fields)


@router.get("/dept/objections/{objection_id:int}/attachments/{attachment_id:int}")
@router.get("/office/objections/{objection_id:int}/attachments/{attachment_id:int}")
def staff_attachment(request: Request, objection_id: int, attachment_id: int) -> Response:
    viewer = _staff_or_login(request)
    if isinstance(viewer, Response):
        return viewer
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            info, data = objections.read_objection_attachment(session, platform.keyring, objection_id=objection_id,
                                                              attachment_id=attachment_id, actor=viewer.actor)
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return _download(info, data)

