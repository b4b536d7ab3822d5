"""Portal pages 记录查询 (/records): a department finds one of its records by its source id (来源编号), reads
its whole history — every version the ledger holds — and revokes it (撤销) with a reason; the credit office
does the same for any department. The same services as ``GET /api/v1/records/by-source/…`` and ``POST
/api/v1/records/{id}/revoke`` (``records.service``), which also decide who may.

Citizen IDs inside a record's fields are shown masked, as they are stored for display; nothing is decrypted
here.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chengxin.core.errors import DomainError
from chengxin.disclosure.service import field_lines
from chengxin.records import service as records
from chengxin.subjects.models import Subject
from chengxin.web.people_pages import CHANGE_ZH, STATUS_ZH
from chengxin.web.routes import (
    Viewer,
    _csrf_failed,
    _department_name,
    _platform,
    _render,
    _to_login,
    batch_item_names,
    current_viewer,
    render_error,
)

router = APIRouter(include_in_schema=False)


@router.get("/records", response_class=HTMLResponse)
def find_record(request: Request, source_id: str = "", department: str = "") -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    catalog = _platform(request).catalog
    own = viewer.department_code if not viewer.is_office else None
    department = own or (department if department in catalog.departments else "")
    source_id = source_id.strip()
    error: DomainError | None = None
    if source_id:
        if not department:
            error = DomainError("record.department_required", "请选择数据提供单位", "Choose the department",
                                field="department")
        else:
            try:
                with _platform(request).db.read() as session:
                    record_id = records.find_record_id(session, department, source_id)
            except DomainError as exc:
                error = exc
            else:
                return RedirectResponse(f"/records/{record_id}", status_code=303)
    return _render(request, "record_find.html", {
        "source_id": source_id, "department": department, "own": own, "error": error,
        "departments": list(catalog.departments.values()),
    }, status=error.status if error else 200, nav="batches")


def _record_page(request: Request, viewer: Viewer, record_id: int, *, status: int = 200,
                 error: DomainError | None = None, reason: str = "") -> Response:
    platform = _platform(request)
    try:
        with platform.db.read() as session:
            detail = records.get_record(session, record_id, actor=viewer.actor)
            subject = session.get(Subject, detail.subject_id)
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    item = platform.catalog.items.get(detail.item_code)
    current = detail.versions[-1]
    version = next((v for v in item.versions if v.version == current.item_version), None) if item else None
    return _render(request, "record.html", {
        "r": detail, "subject": subject, "current": current,
        # As the record is disclosed: catalog order, options by label, citizen IDs masked.
        "fields": field_lines(version, current.fields) if version else (),
        "item_name": batch_item_names(platform.catalog).get(detail.item_code, detail.item_code),
        "department_name": _department_name(platform.catalog, detail.department_code, short=False),
        "status_zh": STATUS_ZH, "change_zh": CHANGE_ZH, "error": error, "reason": reason,
        "done": request.query_params.get("done", ""),
    }, status=status, nav="batches")


@router.get("/records/{record_id:int}", response_class=HTMLResponse)
def record(request: Request, record_id: int) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    return _record_page(request, viewer, record_id)


@router.post("/records/{record_id:int}/revoke", response_class=HTMLResponse)
def revoke(request: Request, record_id: int, reason: Annotated[str, Form()] = "",
           csrf_token: Annotated[str, Form()] = "") -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    if not secrets.compare_digest(csrf_token.encode(), viewer.csrf_token.encode()):
        return _csrf_failed(request)
    platform = _platform(request)
    try:
        records.revoke_record(platform.db, keyring=platform.keyring, record_id=record_id, actor=viewer.actor,
                              reason=reason)
    except DomainError as exc:
        return _record_page(request, viewer, record_id, status=exc.status, error=exc, reason=reason)
    return RedirectResponse(f"/records/{record_id}?done=revoked", status_code=303)
