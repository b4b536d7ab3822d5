"""Portal page 报告核验: anyone enters a report number and verification code (or scans the QR code)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from chengxin.reports.service import verify_report
from chengxin.web.routes import _platform, _render

router = APIRouter(include_in_schema=False)


def _verify_page(request: Request, no: str, code: str) -> HTMLResponse:
    result = None
    if no.strip() and code.strip():
        with _platform(request).db.read() as session:
            result = verify_report(session, _platform(request).keyring, no[:64], code[:64])
    return _render(request, "verify.html", {"no": no, "code": code, "result": result,
                                            "key_id": _platform(request).keyring.key_id})


@router.get("/verify", response_class=HTMLResponse)
def verify_get(request: Request, no: str = "", code: str = "") -> HTMLResponse:
    return _verify_page(request, no, code)


@router.post("/verify", response_class=HTMLResponse)
def verify_post(request: Request, no: Annotated[str, Form()] = "", code: Annotated[str, Form()] = "") -> HTMLResponse:
    return _verify_page(request, no, code)
