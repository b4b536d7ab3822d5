"""Portal pages of credit repair (信用修复).

- ``/repair``: how repair works (conditions per catalog item, deadlines from the dated policy, the
  positive-acts path), for everyone. Repair is free of charge.
- The subject on ``/me``: the per-record action "申请信用修复", the section "我的信用修复", the
  application form (uploads, the commitment ticked, every refusal reason listed with what was typed
  kept), one application, withdrawal.
- Staff: ``/dept/repairs`` (a department's own queue), ``/office/repairs`` (the credit office: the
  whole city), one application with its files, and the decision (approve / reject / extend once).

A thin adapter over ``repair.service``; every POST form carries the session's CSRF token.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from chengxin.api.repair import file_response, read_uploads
from chengxin.catalog.model import Catalog, Category, ItemVersion
from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.core.errors import DomainError
from chengxin.core.policy import load_parameters, policy_on
from chengxin.core.workflow import DEPARTMENT, OFFICE, ROLE_ZH
from chengxin.people import orgs
from chengxin.people.models import PersonAccount
from chengxin.people.service import actor_for
from chengxin.platform import Platform
from chengxin.repair import rules
from chengxin.repair import service as repair
from chengxin.repair.commitment import commitment_on
from chengxin.web.people_pages import ME_SECTIONS, Person, _csrf_ok, current_person
from chengxin.web.routes import _csrf_failed, _platform, _render, _to_login, current_viewer, render_error

router = APIRouter(include_in_schema=False)

POSITIVE_ACT_ITEMS = ("volunteer_service", "charity_donation")  # 志愿服务, 慈善捐赠 (catalog items)


def _person_login() -> RedirectResponse:
    return RedirectResponse("/me/login", status_code=303)


# -- /me: the per-record action and the section -----------------------------------------------------


def _me_section(session: Session, platform: Platform, person: Person, today: dt.date) -> dict[str, Any]:
    """Variables of ``_repair_actions.html`` and ``_me_repairs.html``."""
    account = session.get_one(PersonAccount, person.account_id)
    subjects = orgs.represented_subjects(session, account)
    offers = repair.offers(session, platform.catalog, [s.subject_id for s in subjects], today)
    org_names = {s.subject_id: s.display_name for s in subjects if not s.own}
    cases = repair.applications_for(session, platform.catalog, account, today)
    return {
        "repair_offers": offers,
        "repair_today": today,
        "repair_cases": cases,
        "repair_approved": {c.record_id: c for c in cases if c.state == repair.APPROVED},
        "repair_org_offers": [(org_names[o.subject_id], o) for o in offers.values() if o.subject_id in org_names],
    }


ME_SECTIONS.append(_me_section)


# -- /repair: how repair works ------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemPath:
    version: ItemVersion
    periods: list[tuple[str, str, str]]  # (severity label, minimum before applying, display stops after)
    needs: rules.Needs


def _paths(catalog: Catalog, today: dt.date) -> tuple[list[ItemPath], list[ItemVersion], list[ItemVersion]]:
    repairable, not_repairable, positive = [], [], []
    for code in sorted(catalog.items):
        version = catalog.items[code].version_on(today)
        if version is None:
            continue
        if version.category is Category.NEGATIVE:
            if version.repairable:
                periods = [(rules.SEVERITY_ZH.get(str(sev.value) if sev else "", "—"),
                            rules.duration_zh(p.min) if p.min else "无（可随时申请）",
                            rules.duration_zh(p.max) if p.max else "长期")
                           for sev, p in version.display_periods.items()]
                repairable.append(ItemPath(version, periods, rules.needs_of(version)))
            else:
                not_repairable.append(version)
        elif code in POSITIVE_ACT_ITEMS:
            positive.append(version)
    return repairable, not_repairable, positive


@router.get("/repair", response_class=HTMLResponse)
def repair_info(request: Request) -> HTMLResponse:
    platform = _platform(request)
    today = today_cn()
    repairable, not_repairable, positive = _paths(platform.catalog, today)
    parameters = load_parameters()
    return _render(request, "repair_info.html", {
        "today": today, "policy": policy_on(today).repair, "repairable": repairable,
        "not_repairable": not_repairable, "positive": positive, "commitment": commitment_on(today),
        "references": {name.split(".", 1)[1]: p.reference for name, p in parameters.items()
                       if name.startswith("repair.")},
        "person": current_person(request),
    })


# -- the subject: apply, follow, withdraw -----------------------------------------------------------


def _apply_page(request: Request, person: Person, record_id: int, *, form: dict[str, Any] | None = None,
                error: DomainError | None = None, refused: repair.RepairDetail | None = None,
                status: int = 200) -> Response:
    platform = _platform(request)
    today = today_cn()
    with platform.db.read() as session:
        account = session.get_one(PersonAccount, person.account_id)
        try:
            summary = repair.record_summary(session, platform.catalog, account=account, record_id=record_id)
            assessment = repair.check(session, platform.catalog, account=account, record_id=record_id,
                                      submission=rules.Submission(), today=today)
        except DomainError as exc:
            return render_error(request, exc.status, exc.message, exc.code)
    return _render(request, "repair_apply.html", {
        "person": person, "summary": summary, "assessment": assessment,
        "blocking": assessment.of_kind(rules.RECORD, rules.TIMING, rules.SUBJECT),
        "commitment": commitment_on(today), "policy": policy_on(today).repair, "today": today,
        "attachments": policy_on(today).attachments, "form": form or {}, "error": error, "refused": refused, "SEVERITY_ZH": rules.SEVERITY_ZH,
    }, status=status)


@router.get("/me/repairs/new", response_class=HTMLResponse)
def apply_form(request: Request, record_id: int) -> Response:
    person = current_person(request)
    if person is None:
        return _person_login()
    return _apply_page(request, person, record_id)


@router.post("/me/repairs", response_class=HTMLResponse)
def apply_submit(
    request: Request,
    record_id: Annotated[int, Form()],
    csrf_token: Annotated[str, Form()] = "",
    commitment_version: Annotated[str, Form()] = "",
    commitment_signed: Annotated[str, Form()] = "",
    training_record: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    proof: Annotated[list[UploadFile] | None, File()] = None,
    training: Annotated[list[UploadFile] | None, File()] = None,
    rectification: Annotated[list[UploadFile] | None, File()] = None,
    credit_report: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    person = current_person(request)
    if person is None:
        return _person_login()
    if not _csrf_ok(person, csrf_token):
        return _csrf_failed(request)
    form = {"commitment_signed": bool(commitment_signed), "training_record": training_record, "note": note}
    platform = _platform(request)
    try:
        uploads = read_uploads(proof=proof, training=training, rectification=rectification,
                               credit_report=credit_report)
        materials = repair.Materials(**uploads, commitment_version=commitment_version,
                                     commitment_signed=bool(commitment_signed), training_record=training_record,
                                     note=note)
        with platform.db.write() as session:
            account = session.get_one(PersonAccount, person.account_id)
            detail = repair.apply(session, platform.catalog, platform.keyring, account=account, record_id=record_id,
                                  materials=materials, now=utcnow())
    except DomainError as exc:
        if exc.status in (403, 404):
            return render_error(request, exc.status, exc.message, exc.code)
        return _apply_page(request, person, record_id, form=form, error=exc, status=exc.status)
    if detail.view.state == repair.REFUSED:
        # Kept as refused, with every reason: show them on the form with what was typed.
        return _apply_page(request, person, record_id, form=form, refused=detail, status=200)
    return RedirectResponse(f"/me/repairs/{detail.view.id}?applied=1", status_code=303)


@router.get("/me/repairs/{case_id:int}", response_class=HTMLResponse)
def my_case(request: Request, case_id: int, applied: str = "") -> Response:
    person = current_person(request)
    if person is None:
        return _person_login()
    platform = _platform(request)
    with platform.db.read() as session:
        account = session.get_one(PersonAccount, person.account_id)
        detail = repair.detail_for_account(session, platform.catalog, account=account, case_id=case_id,
                                           today=today_cn())
        summary = repair.record_summary(session, platform.catalog, account=account, record_id=detail.view.record_id)
    return _render(request, "repair_case.html", {
        "person": person, "viewer_is_subject": True, "detail": detail, "summary": summary, "applied": bool(applied),
        "files_base": f"/me/repairs/{case_id}/files", "ROLE_ZH": ROLE_ZH, "FILE_KINDS": repair.FILE_KINDS,
        "policy": policy_on(today_cn()).repair, "SEVERITY_ZH": rules.SEVERITY_ZH, "error": None, "form": {},
    })


@router.post("/me/repairs/{case_id:int}/withdraw")
def my_case_withdraw(request: Request, case_id: int, csrf_token: Annotated[str, Form()] = "") -> Response:
    person = current_person(request)
    if person is None:
        return _person_login()
    if not _csrf_ok(person, csrf_token):
        return _csrf_failed(request)
    platform = _platform(request)
    with platform.db.write() as session:
        account = session.get_one(PersonAccount, person.account_id)
        repair.withdraw(session, platform.catalog, account=account, case_id=case_id, now=utcnow())
    return RedirectResponse(f"/me/repairs/{case_id}", status_code=303)


@router.get("/me/repairs/{case_id:int}/files/{file_id:int}")
def my_case_file(request: Request, case_id: int, file_id: int) -> Response:
    person = current_person(request)
    if person is None:
        return _person_login()
    platform = _platform(request)
    with platform.db.write() as session:
        account = session.get_one(PersonAccount, person.account_id)
        info, data = repair.read_file(session, platform.keyring, case_id=case_id, attachment_id=file_id,
                                      actor=actor_for(account), account=account)
    return file_response(info, data)


# -- staff: queues and decisions ----------------------------------------------------------------------


def _queue_page(request: Request, *, office: bool, state: str) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    if office and not viewer.is_office:
        return render_error(request, 403, "仅限市信用办查看全市信用修复队列；数据提供单位请使用“本单位信用修复”",
                            "repair.office_only")
    if not office and viewer.is_office:
        return RedirectResponse("/office/repairs" + (f"?state={state}" if state != "open" else ""), status_code=303)
    platform = _platform(request)
    today = today_cn()
    with platform.db.read() as session:
        cases = repair.queue(session, platform.catalog, actor=viewer.actor, today=today, state=state)
    return _render(request, "repair_queue.html", {
        "cases": cases, "state": state, "office": office, "today": today, "states": repair.WORKFLOW.states,
        "base": "/office/repairs" if office else "/dept/repairs", "SEVERITY_ZH": rules.SEVERITY_ZH,
        "policy": policy_on(today).repair,
    }, nav="office")


@router.get("/dept/repairs", response_class=HTMLResponse)
def department_queue(request: Request, state: str = "open") -> Response:
    return _queue_page(request, office=False, state=state)


@router.get("/office/repairs", response_class=HTMLResponse)
def office_queue(request: Request, state: str = "open") -> Response:
    return _queue_page(request, office=True, state=state)


def _decision_page(request: Request, case_id: int, *, error: DomainError | None = None,
                   form: dict[str, Any] | None = None, done: str = "", status: int = 200) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    platform = _platform(request)
    today = today_cn()
    with platform.db.read() as session:
        detail = repair.detail_for_staff(session, platform.catalog, case_id=case_id, actor=viewer.actor, today=today)
        summary = repair.case_record(session, platform.catalog, case_id=case_id, actor=viewer.actor)
    role = repair.staff_role(viewer.actor, detail.view.department_code)
    return _render(request, "repair_case.html", {
        "viewer_is_subject": False, "detail": detail, "summary": summary, "error": error, "form": form or {},
        "done": done, "role_zh": ROLE_ZH[role], "is_department": role == DEPARTMENT, "is_office": role == OFFICE,
        "files_base": f"/dept/repairs/{case_id}/files", "ROLE_ZH": ROLE_ZH, "FILE_KINDS": repair.FILE_KINDS,
        "policy": policy_on(today).repair, "SEVERITY_ZH": rules.SEVERITY_ZH, "applied": False,
        "queue_url": "/office/repairs" if viewer.is_office else "/dept/repairs",
    }, nav="office", status=status)


@router.get("/dept/repairs/{case_id:int}", response_class=HTMLResponse)
def case_page(request: Request, case_id: int, done: str = "") -> Response:
    return _decision_page(request, case_id, done=done)


@router.post("/dept/repairs/{case_id:int}/decision", response_class=HTMLResponse)
def case_decision(request: Request, case_id: int, action: Annotated[str, Form()] = "",
                  reason: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "") -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    if not secrets.compare_digest(csrf_token.encode(), viewer.csrf_token.encode()):
        return _csrf_failed(request)
    platform = _platform(request)
    try:
        with platform.db.write() as session:
            repair.decide(session, platform.catalog, case_id=case_id, action=action, reason=reason,
                          actor=viewer.actor, now=utcnow())
    except DomainError as exc:
        if exc.status in (403, 404):
            return render_error(request, exc.status, exc.message, exc.code)
        return _decision_page(request, case_id, error=exc, form={"action": action, "reason": reason},
                              status=exc.status)
    return RedirectResponse(f"/dept/repairs/{case_id}?done={action}", status_code=303)


@router.get("/dept/repairs/{case_id:int}/files/{file_id:int}")
def case_file(request: Request, case_id: int, file_id: int) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    platform = _platform(request)
    with platform.db.write() as session:
        info, data = repair.read_file(session, platform.keyring, case_id=case_id, attachment_id=file_id,
                                      actor=viewer.actor)
    return file_response(info, data)
