"""Portal pages of credit notices (信用告知), integrity interviews (诚信约谈), complaints (投诉) and
display-period ends (公示期满) — a thin adapter over ``chengxin.notices`` and ``disclosure.expiry``.

Staff (cookie ``cx_session``): /dept/notices (a department's notices; the credit office sees all),
/office/interviews, /office/complaints (with the statistics), /office/display-ended.
The public: /complaints (the published process and contact; a signed-in person files there).
The person (cookie ``cx_person``): a section on /me, /me/notices/{id}, /me/interviews/{id},
/me/complaints/{id}. Every POST form carries the session's CSRF token; a refused form is shown
again with what was typed and the reason.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from chengxin.api.notices import attachment_response
from chengxin.attachments.service import Upload
from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.core.errors import DomainError
from chengxin.core.policy import policy_on
from chengxin.disclosure import expiry
from chengxin.notices import complaints, interviews, rules
from chengxin.notices import service as notices
from chengxin.people.models import PersonAccount
from chengxin.platform import Platform
from chengxin.web.people_pages import ME_SECTIONS, Person, _csrf_ok, current_person
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
)
from chengxin.workdays.rules import add_working_days
from chengxin.workdays.service import work_calendar

router = APIRouter(include_in_schema=False)

PER_PAGE = 50
MAX_PAGE = 100_000
DUE_ZH = {"overdue": "已逾期", "due_soon": "即将到期", "upcoming": "即将举行", "ok": "", "": ""}
CONTEXT = {"NOTICE_STATES": rules.NOTICE.states, "INTERVIEW_OUTCOMES": rules.INTERVIEW_OUTCOMES,
           "COMPLAINT_OUTCOMES": rules.COMPLAINT_OUTCOMES, "COMPLAINABLE": rules.COMPLAINABLE,
           "QUEUES": notices.QUEUES, "DUE_ZH": DUE_ZH, "MAX_TEXT": rules.MAX_TEXT}


def _page(request: Request, name: str, context: dict[str, Any], *, status: int = 200, nav: str = "") -> HTMLResponse:
    return _render(request, name, {**CONTEXT, **context}, status=status, nav=nav)


def _staff_csrf(viewer: Viewer, token: str) -> bool:
    return bool(token) and secrets.compare_digest(token.encode(), viewer.csrf_token.encode())


def _uploads(files: list[UploadFile] | None) -> list[Upload]:
    limit = policy_on(today_cn()).attachments.max_bytes
    return [Upload(f.filename or "file", f.file.read(limit + 1)) for f in files or [] if f.filename]


def _to_me_login() -> RedirectResponse:
    return RedirectResponse("/me/login", status_code=303)


def _person_account(session: Session, person: Person) -> PersonAccount:
    return session.get_one(PersonAccount, person.account_id)


# -- /me: the person's section ------------------------------------------------------------------


def _me_section(session: Session, platform: Platform, person: Person, today: dt.date) -> dict[str, Any]:
    """Variables of ``_me_notices.html``: the person's notices, interviews and complaints."""
    account = _person_account(session, person)
    calendar = work_calendar(session)
    return {
        "my_notices": notices.notices_for_person(session, platform.catalog, calendar, account=account, today=today),
        "my_interviews": interviews.interviews_for_person(session, platform.catalog, account=account, today=today),
        "my_complaints": complaints.complaints_for_person(session, calendar, account=account, today=today),
        **CONTEXT,
    }


ME_SECTIONS.append(_me_section)


# -- notices: staff -------------------------------------------------------------------------------


def _notice_items(platform: Platform, viewer: Viewer) -> list[Any]:
    """Items this clerk's department may issue notices for (in force today, notice required)."""
    if not viewer.department_code:
        return []
    today = today_cn()
    out = []
    for code in sorted(platform.catalog.items):
        version = platform.catalog.items[code].version_on(today)
        if version is not None and version.notice_required and viewer.department_code in version.departments:
            out.append(version)
    return out


@router.get("/dept/notices", response_class=HTMLResponse)
def notice_list(request: Request, queue: str = "", page: str = "1") -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    platform = _platform(request)
    number = min(_page_number(page), MAX_PAGE)
    try:
        with platform.db.read() as session:
            views, total = notices.list_notices(session, platform.catalog, work_calendar(session),
                                                actor=viewer.actor, today=today_cn(), queue=queue or None,
                                                offset=(number - 1) * PER_PAGE, limit=PER_PAGE)
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    pages = max(1, -(-total // PER_PAGE))
    return _page(request, "notice_list.html", {
        "notices": views, "total": total, "queue": queue, "page": number, "pages": pages,
        "pager": pager(number, pages), "can_issue": bool(_notice_items(platform, viewer)) and not viewer.is_office,
        "query": lambda p: "?" + urlencode({"queue": queue, "page": p}),
    }, nav="office")


def _notice_form(request: Request, viewer: Viewer, form: dict[str, str], error: DomainError | None = None,
                 status: int = 200) -> HTMLResponse:
    platform = _platform(request)
    days = policy_on(today_cn()).notice.response_working_days
    return _page(request, "notice_form.html", {"items": _notice_items(platform, viewer), "form": form, "error": error,
                                               "response_days": days}, status=status, nav="office")


@router.get("/dept/notices/new", response_class=HTMLResponse)
def notice_new(request: Request, item: str = "", source_id: str = "") -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    if not _notice_items(_platform(request), viewer) or viewer.is_office:
        return render_error(request, 403, "只有须先行信用告知目录项的数据提供单位可以发出信用告知", "notice.department_only")
    return _notice_form(request, viewer, {"item": item, "source_id": source_id, "kind": "uscc"})


@router.post("/dept/notices", response_class=HTMLResponse)
def notice_issue(
    request: Request,
    csrf_token: Annotated[str, Form()] = "",
    item: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "uscc",
    identifier: Annotated[str, Form()] = "",
    subject_name: Annotated[str, Form()] = "",
    facts: Annotated[str, Form()] = "",
    obligation: Annotated[str, Form()] = "",
    amount: Annotated[str, Form()] = "",
    source_id: Annotated[str, Form()] = "",
) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    if not _staff_csrf(viewer, csrf_token):
        return _csrf_failed(request)
    # The identifier is kept in the re-shown form only for organisations (a citizen ID is retyped).
    form = {"item": item, "kind": kind, "identifier": identifier if kind == "uscc" else "", "subject_name": subject_name,
            "facts": facts, "obligation": obligation, "amount": amount, "source_id": source_id}
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            view = notices.issue_notice(
                session, platform.catalog, platform.keyring, work_calendar(session), actor=viewer.actor,
                item_code=item, uscc=identifier if kind == "uscc" else None, ric=identifier if kind == "ric" else None,
                subject_name=subject_name, facts=facts, obligation=obligation, amount=amount, source_id=source_id,
                today=today_cn(), now=utcnow())
    except DomainError as exc:
        return _notice_form(request, viewer, form, exc, status=exc.status)
    return RedirectResponse(f"/dept/notices/{view.id}?done=issue", status_code=303)


def _notice_page(request: Request, viewer: Viewer, notice_id: int, *, error: DomainError | None = None,
                 form: dict[str, str] | None = None, done: str = "", status: int = 200) -> HTMLResponse:
    platform = _platform(request)
    try:
        with platform.db.read() as session:
            view = notices.notice_detail(session, platform.catalog, work_calendar(session), notice_id=notice_id,
                                         today=today_cn(), actor=viewer.actor)
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return _page(request, "notice_detail.html", {"n": view, "error": error, "form": form or {}, "done": done},
                 status=status, nav="office")


@router.get("/dept/notices/{notice_id:int}", response_class=HTMLResponse)
def notice_detail(request: Request, notice_id: int, done: str = "") -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    return _notice_page(request, viewer, notice_id, done=done)


@router.post("/dept/notices/{notice_id:int}/{action}", response_class=HTMLResponse)
def notice_act(request: Request, notice_id: int, action: str, csrf_token: Annotated[str, Form()] = "",
               text: Annotated[str, Form()] = "") -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    if not _staff_csrf(viewer, csrf_token):
        return _csrf_failed(request)
    if action not in ("record", "withdraw"):
        return render_error(request, 404, "页面或资源不存在", "http.404")
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            calendar = work_calendar(session)
            if action == "record":
                notices.record_notice(session, platform.catalog, calendar, actor=viewer.actor, notice_id=notice_id,
                                      opinion=text, today=today_cn(), now=utcnow())
            else:
                notices.withdraw_notice(session, platform.catalog, calendar, actor=viewer.actor, notice_id=notice_id,
                                        reason=text, today=today_cn(), now=utcnow())
    except DomainError as exc:
        if exc.code in ("notice.not_found", "notice.other_department", "case.staff_only"):
            return render_error(request, exc.status, exc.message, exc.code)
        return _notice_page(request, viewer, notice_id, error=exc, form={"action": action, "text": text},
                            status=exc.status)
    return RedirectResponse(f"/dept/notices/{notice_id}?done={action}", status_code=303)


@router.get("/dept/notices/{notice_id:int}/attachments/{attachment_id:int}")
def notice_attachment(request: Request, notice_id: int, attachment_id: int) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            info, data = notices.read_notice_attachment(session, platform.keyring, notice_id=notice_id,
                                                        attachment_id=attachment_id, actor=viewer.actor)
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return attachment_response(info, data)


# -- notices: the person ----------------------------------------------------------------------------


def _my_notice_page(request: Request, person: Person, notice_id: int, *, error: DomainError | None = None,
                    form: dict[str, str] | None = None, done: str = "", status: int = 200) -> HTMLResponse:
    platform = _platform(request)
    try:
        with platform.db.read() as session:
            view = notices.notice_detail(session, platform.catalog, work_calendar(session), notice_id=notice_id,
                                         today=today_cn(), account=_person_account(session, person))
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    policy = policy_on(today_cn()).attachments
    return _page(request, "notice_me.html", {"n": view, "person": person, "error": error, "form": form or {},
                                             "done": done, "attachment_policy": policy}, status=status)


@router.get("/me/notices/{notice_id:int}", response_class=HTMLResponse)
def my_notice(request: Request, notice_id: int, done: str = "") -> Response:
    person = current_person(request)
    if person is None:
        return _to_me_login()
    return _my_notice_page(request, person, notice_id, done=done)


@router.post("/me/notices/{notice_id:int}/{action}", response_class=HTMLResponse)
def my_notice_reply(request: Request, notice_id: int, action: str, csrf_token: Annotated[str, Form()] = "",
                    text: Annotated[str, Form()] = "",
                    files: Annotated[list[UploadFile] | None, File()] = None) -> Response:
    person = current_person(request)
    if person is None:
        return _to_me_login()
    if not _csrf_ok(person, csrf_token):
        return render_error(request, 403, "安全校验失败（表单令牌缺失或不匹配），请刷新页面后重新提交", "auth.csrf")
    if action not in ("respond", "settle"):
        return render_error(request, 404, "页面或资源不存在", "http.404")
    platform = _platform(request)
    try:
        uploads = _uploads(files)
        with platform.db.write() as session:
            notices.reply_to_notice(session, platform.catalog, platform.keyring, work_calendar(session),
                                    account=_person_account(session, person), notice_id=notice_id, action=action,
                                    text=text, uploads=uploads, today=today_cn(), now=utcnow())
    except DomainError as exc:
        if exc.code == "notice.not_found":
            return render_error(request, exc.status, exc.message, exc.code)
        return _my_notice_page(request, person, notice_id, error=exc, form={"action": action, "text": text},
                               status=exc.status)
    return RedirectResponse(f"/me/notices/{notice_id}?done={action}", status_code=303)


@router.get("/me/notices/{notice_id:int}/attachments/{attachment_id:int}")
def my_notice_attachment(request: Request, notice_id: int, attachment_id: int) -> Response:
    person = current_person(request)
    if person is None:
        return _to_me_login()
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            info, data = notices.read_notice_attachment(session, platform.keyring, notice_id=notice_id,
                                                        attachment_id=attachment_id,
                                                        account=_person_account(session, person))
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return attachment_response(info, data)


@router.get("/me/interviews/{interview_id:int}", response_class=HTMLResponse)
def my_interview(request: Request, interview_id: int) -> Response:
    person = current_person(request)
    if person is None:
        return _to_me_login()
    platform = _platform(request)
    try:
        with platform.db.read() as session:
            view = interviews.interview_detail(session, platform.catalog, interview_id=interview_id, today=today_cn(),
                                               account=_person_account(session, person))
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return _page(request, "interview_me.html", {"i": view, "person": person})


# -- interviews: the credit office ----------------------------------------------------------------


def _office(request: Request) -> Viewer | Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    if not viewer.is_office:
        return render_error(request, 403, "仅限市信用办办理", "case.office_only")
    return viewer


@router.get("/office/interviews", response_class=HTMLResponse)
def interview_list(request: Request, queue: str = "", page: str = "1") -> Response:
    viewer = _office(request)
    if not isinstance(viewer, Viewer):
        return viewer
    platform = _platform(request)
    number = min(_page_number(page), MAX_PAGE)
    today = today_cn()
    with platform.db.read() as session:
        soon = add_working_days(work_calendar(session), today, rules.DUE_SOON_WORKING_DAYS).due
        views, total = interviews.list_interviews(session, platform.catalog, soon, actor=viewer.actor, today=today,
                                                  queue=queue or None, offset=(number - 1) * PER_PAGE, limit=PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    return _page(request, "interview_list.html", {
        "interviews": views, "total": total, "queue": queue, "page": number, "pages": pages,
        "pager": pager(number, pages), "query": lambda p: "?" + urlencode({"queue": queue, "page": p}),
    }, nav="office")


def _interview_form(request: Request, form: dict[str, str], error: DomainError | None = None,
                    status: int = 200) -> HTMLResponse:
    return _page(request, "interview_form.html", {"form": form, "error": error}, status=status, nav="office")


@router.get("/office/interviews/new", response_class=HTMLResponse)
def interview_new(request: Request, uscc: str = "") -> Response:
    viewer = _office(request)
    if not isinstance(viewer, Viewer):
        return viewer
    return _interview_form(request, {"kind": "uscc", "identifier": uscc})


def _parse_when(raw: str) -> dt.datetime | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return dt.datetime.fromisoformat(raw)
    except ValueError:
        raise DomainError("interview.bad_time", f"约谈时间格式不正确：{raw}（应为 YYYY-MM-DD HH:MM）",
                          "scheduled_at is not a date and time", field="scheduled_at") from None


def _record_ids(raw: str) -> list[int]:
    ids = []
    for part in raw.replace("，", ",").replace("、", ",").replace(" ", ",").split(","):
        if part.strip():
            if not part.strip().isdigit():
                raise DomainError("interview.record_ids", f"相关记录编号应为数字，以逗号分隔：{part.strip()}",
                                  "record ids must be numbers", field="record_ids")
            ids.append(int(part.strip()))
    return ids


@router.post("/office/interviews", response_class=HTMLResponse)
def interview_schedule(
    request: Request,
    csrf_token: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "uscc",
    identifier: Annotated[str, Form()] = "",
    scheduled_at: Annotated[str, Form()] = "",
    place: Annotated[str, Form()] = "",
    participants: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    record_ids: Annotated[str, Form()] = "",
) -> Response:
    viewer = _office(request)
    if not isinstance(viewer, Viewer):
        return viewer
    if not _staff_csrf(viewer, csrf_token):
        return _csrf_failed(request)
    form = {"kind": kind, "identifier": identifier if kind == "uscc" else "", "scheduled_at": scheduled_at,
            "place": place, "participants": participants, "reason": reason, "record_ids": record_ids}
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            view = interviews.schedule_interview(
                session, platform.catalog, platform.keyring, actor=viewer.actor,
                uscc=identifier if kind == "uscc" else None, ric=identifier if kind == "ric" else None,
                scheduled_at=_parse_when(scheduled_at), place=place, participants=participants, reason=reason,
                record_ids=_record_ids(record_ids), today=today_cn(), now=utcnow())
    except DomainError as exc:
        return _interview_form(request, form, exc, status=exc.status)
    return RedirectResponse(f"/office/interviews/{view.id}?done=schedule", status_code=303)


def _interview_page(request: Request, viewer: Viewer, interview_id: int, *, error: DomainError | None = None,
                    form: dict[str, str] | None = None, done: str = "", status: int = 200) -> HTMLResponse:
    platform = _platform(request)
    try:
        with platform.db.read() as session:
            view = interviews.interview_detail(session, platform.catalog, interview_id=interview_id,
                                               today=today_cn(), actor=viewer.actor)
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return _page(request, "interview_detail.html", {"i": view, "error": error, "form": form or {}, "done": done},
                 status=status, nav="office")


@router.get("/office/interviews/{interview_id:int}", response_class=HTMLResponse)
def interview_detail(request: Request, interview_id: int, done: str = "") -> Response:
    viewer = _office(request)
    if not isinstance(viewer, Viewer):
        return viewer
    return _interview_page(request, viewer, interview_id, done=done)


@router.post("/office/interviews/{interview_id:int}/{action}", response_class=HTMLResponse)
def interview_act(
    request: Request, interview_id: int, action: str,
    csrf_token: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
    scheduled_at: Annotated[str, Form()] = "",
    place: Annotated[str, Form()] = "",
    outcome: Annotated[str, Form()] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    viewer = _office(request)
    if not isinstance(viewer, Viewer):
        return viewer
    if not _staff_csrf(viewer, csrf_token):
        return _csrf_failed(request)
    platform = _platform(request)
    actions: dict[str, Callable[[Session], Any]] = {
        "reschedule": lambda s: interviews.reschedule_interview(
            s, platform.catalog, actor=viewer.actor, interview_id=interview_id, scheduled_at=_parse_when(scheduled_at),
            place=place, reason=text, today=today_cn(), now=utcnow()),
        "minutes": lambda s: interviews.hold_interview(
            s, platform.catalog, platform.keyring, actor=viewer.actor, interview_id=interview_id, minutes=text,
            uploads=_uploads(files), today=today_cn(), now=utcnow()),
        "outcome": lambda s: interviews.close_interview(
            s, platform.catalog, actor=viewer.actor, interview_id=interview_id, outcome=outcome, note=text,
            today=today_cn(), now=utcnow()),
        "cancel": lambda s: interviews.cancel_interview(
            s, platform.catalog, actor=viewer.actor, interview_id=interview_id, reason=text, today=today_cn(),
            now=utcnow()),
    }
    if action not in actions:
        return render_error(request, 404, "页面或资源不存在", "http.404")
    try:
        with platform.db.write() as session:
            actions[action](session)
    except DomainError as exc:
        if exc.code == "interview.not_found":
            return render_error(request, exc.status, exc.message, exc.code)
        return _interview_page(request, viewer, interview_id, error=exc, status=exc.status,
                               form={"action": action, "text": text, "scheduled_at": scheduled_at, "place": place,
                                     "outcome": outcome})
    return RedirectResponse(f"/office/interviews/{interview_id}?done={action}", status_code=303)


@router.get("/office/interviews/{interview_id:int}/attachments/{attachment_id:int}")
def interview_attachment(request: Request, interview_id: int, attachment_id: int) -> Response:
    viewer = _office(request)
    if not isinstance(viewer, Viewer):
        return viewer
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            info, data = interviews.read_interview_attachment(session, platform.keyring, actor=viewer.actor,
                                                              interview_id=interview_id, attachment_id=attachment_id)
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return attachment_response(info, data)


# -- complaints -----------------------------------------------------------------------------------


def _complaint_public(request: Request, *, form: dict[str, str] | None = None, error: DomainError | None = None,
                      status: int = 200) -> HTMLResponse:
    person = current_person(request)
    platform = _platform(request)
    today = today_cn()
    mine: list[complaints.ComplaintView] = []
    if person is not None:
        with platform.db.read() as session:
            mine = complaints.complaints_for_person(session, work_calendar(session),
                                                    account=_person_account(session, person), today=today)
    return _page(request, "complaint_public.html", {
        "process": complaints.complaint_process(today), "person": person, "mine": mine, "form": form or {},
        "error": error, "attachment_policy": policy_on(today).attachments}, status=status)


@router.get("/complaints", response_class=HTMLResponse)
def complaint_public(request: Request, case_type: str = "", case_id: str = "") -> Response:
    """The published process and contact (no sign-in); a signed-in person also gets the form."""
    return _complaint_public(request, form={"case_type": case_type, "case_id": case_id})


@router.post("/complaints", response_class=HTMLResponse)
def complaint_file(
    request: Request,
    csrf_token: Annotated[str, Form()] = "",
    case_type: Annotated[str, Form()] = "",
    case_id: Annotated[str, Form()] = "",
    content: Annotated[str, Form()] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    person = current_person(request)
    if person is None:
        return _to_me_login()
    if not _csrf_ok(person, csrf_token):
        return render_error(request, 403, "安全校验失败（表单令牌缺失或不匹配），请刷新页面后重新提交", "auth.csrf")
    form = {"case_type": case_type, "case_id": case_id, "content": content}
    platform = _platform(request)
    try:
        uploads = _uploads(files)
        with platform.db.write() as session:
            view = complaints.file_complaint(session, platform.keyring, work_calendar(session),
                                             account=_person_account(session, person), case_type=case_type,
                                             case_id=case_id, content=content, uploads=uploads, today=today_cn(),
                                             now=utcnow())
    except DomainError as exc:
        return _complaint_public(request, form=form, error=exc, status=exc.status)
    return RedirectResponse(f"/me/complaints/{view.id}?done=file", status_code=303)


@router.get("/me/complaints/{complaint_id:int}", response_class=HTMLResponse)
def my_complaint(request: Request, complaint_id: int, done: str = "") -> Response:
    person = current_person(request)
    if person is None:
        return _to_me_login()
    platform = _platform(request)
    try:
        with platform.db.read() as session:
            view = complaints.complaint_detail(session, work_calendar(session), complaint_id=complaint_id,
                                               today=today_cn(), account=_person_account(session, person))
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return _page(request, "complaint_me.html", {"c": view, "person": person, "done": done})


@router.post("/me/complaints/{complaint_id:int}/{action}", response_class=HTMLResponse)
def my_complaint_act(request: Request, complaint_id: int, action: str,
                     csrf_token: Annotated[str, Form()] = "", text: Annotated[str, Form()] = "") -> Response:
    person = current_person(request)
    if person is None:
        return _to_me_login()
    if not _csrf_ok(person, csrf_token):
        return render_error(request, 403, "安全校验失败（表单令牌缺失或不匹配），请刷新页面后重新提交", "auth.csrf")
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            account = _person_account(session, person)
            calendar = work_calendar(session)
            if action == "withdraw":
                complaints.withdraw_complaint(session, calendar, account=account, complaint_id=complaint_id,
                                              reason=text or None, today=today_cn(), now=utcnow())
            elif action == "close":
                complaints.close_complaint(session, calendar, today=today_cn(), now=utcnow(),
                                           complaint_id=complaint_id, account=account)
            else:
                return render_error(request, 404, "页面或资源不存在", "http.404")
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return RedirectResponse(f"/me/complaints/{complaint_id}?done={action}", status_code=303)


@router.get("/office/complaints", response_class=HTMLResponse)
def complaint_office(request: Request, state: str = "", page: str = "1") -> Response:
    viewer = _office(request)
    if not isinstance(viewer, Viewer):
        return viewer
    platform = _platform(request)
    number = min(_page_number(page), MAX_PAGE)
    today = today_cn()
    try:
        with platform.db.read() as session:
            views, total = complaints.list_complaints(session, work_calendar(session), actor=viewer.actor,
                                                      today=today, state=state or None,
                                                      offset=(number - 1) * PER_PAGE, limit=PER_PAGE)
            stats = complaints.complaint_stats(session, today=today)
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    pages = max(1, -(-total // PER_PAGE))
    return _page(request, "complaint_office.html", {
        "complaints": views, "total": total, "state": state, "stats": stats, "page": number, "pages": pages,
        "pager": pager(number, pages), "states": rules.COMPLAINT.states,
        "query": lambda p: "?" + urlencode({"state": state, "page": p}),
    }, nav="office")


def _complaint_page(request: Request, viewer: Viewer, complaint_id: int, *, error: DomainError | None = None,
                    form: dict[str, str] | None = None, done: str = "", status: int = 200) -> HTMLResponse:
    platform = _platform(request)
    try:
        with platform.db.read() as session:
            view = complaints.complaint_detail(session, work_calendar(session), complaint_id=complaint_id,
                                               today=today_cn(), actor=viewer.actor)
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return _page(request, "complaint_detail.html", {"c": view, "error": error, "form": form or {}, "done": done},
                 status=status, nav="office")


@router.get("/office/complaints/{complaint_id:int}", response_class=HTMLResponse)
def complaint_detail(request: Request, complaint_id: int, done: str = "") -> Response:
    viewer = _office(request)
    if not isinstance(viewer, Viewer):
        return viewer
    return _complaint_page(request, viewer, complaint_id, done=done)


@router.post("/office/complaints/{complaint_id:int}/{action}", response_class=HTMLResponse)
def complaint_act(request: Request, complaint_id: int, action: str, csrf_token: Annotated[str, Form()] = "",
                  outcome: Annotated[str, Form()] = "", text: Annotated[str, Form()] = "") -> Response:
    viewer = _office(request)
    if not isinstance(viewer, Viewer):
        return viewer
    if not _staff_csrf(viewer, csrf_token):
        return _csrf_failed(request)
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            calendar = work_calendar(session)
            if action == "answer":
                complaints.answer_complaint(session, calendar, actor=viewer.actor, complaint_id=complaint_id,
                                            outcome=outcome, answer=text, today=today_cn(), now=utcnow())
            elif action == "close":
                complaints.close_complaint(session, calendar, today=today_cn(), now=utcnow(),
                                           complaint_id=complaint_id, actor=viewer.actor)
            else:
                return render_error(request, 404, "页面或资源不存在", "http.404")
    except DomainError as exc:
        if exc.code == "complaint.not_found":
            return render_error(request, exc.status, exc.message, exc.code)
        return _complaint_page(request, viewer, complaint_id, error=exc, form={"outcome": outcome, "text": text},
                               status=exc.status)
    return RedirectResponse(f"/office/complaints/{complaint_id}?done={action}", status_code=303)


@router.get("/office/complaints/{complaint_id:int}/attachments/{attachment_id:int}")
def complaint_attachment(request: Request, complaint_id: int, attachment_id: int) -> Response:
    viewer = _office(request)
    if not isinstance(viewer, Viewer):
        return viewer
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            info, data = complaints.read_complaint_attachment(session, platform.keyring, complaint_id=complaint_id,
                                                              attachment_id=attachment_id, actor=viewer.actor)
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return attachment_response(info, data)


@router.get("/me/complaints/{complaint_id:int}/attachments/{attachment_id:int}")
def my_complaint_attachment(request: Request, complaint_id: int, attachment_id: int) -> Response:
    person = current_person(request)
    if person is None:
        return _to_me_login()
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            info, data = complaints.read_complaint_attachment(session, platform.keyring, complaint_id=complaint_id,
                                                              attachment_id=attachment_id,
                                                              account=_person_account(session, person))
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    return attachment_response(info, data)


# -- display periods that ended ---------------------------------------------------------------------


@router.get("/office/display-ended", response_class=HTMLResponse)
def display_ended(request: Request, days: str = "30") -> Response:
    """How many records left display each day (as noted by ``chengxin display expire``)."""
    viewer = _office(request)
    if not isinstance(viewer, Viewer):
        return viewer
    span = min(max(_page_number(days), 1), 366)
    until = today_cn()
    since = until - dt.timedelta(days=span - 1)
    with _platform(request).db.read() as session:
        rows = expiry.ended_per_day(session, since=since, until=until)
        runs = expiry.recent_runs(session)
    return _page(request, "notice_display_ended.html", {"rows": rows, "runs": runs, "since": since, "until": until,
                                                        "span": span, "total": sum(n for _, n in rows)}, nav="office")
