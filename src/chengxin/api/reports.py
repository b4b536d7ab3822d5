"""Report verification API: anyone can check a report by number + verification code, and fetch the public key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from chengxin.api.deps import PlatformDep, ReadSession
from chengxin.core import audit
from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.disclosure.model import Audience
from chengxin.disclosure.service import public_file
from chengxin.reports.service import IssuedReport, issue_report, verify_report

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


class VerifyIn(BaseModel):
    report_no: str = Field(min_length=1, max_length=64, description="报告编号")
    code: str = Field(min_length=1, max_length=64, description="验证码")


class VerifyOut(BaseModel):
    valid: bool
    message: str
    message_en: str
    report_no: str | None = None
    subject_name: str | None = None
    generated_at: str | None = None
    valid_until: str | None = None
    key_id: str | None = None


@router.post("/verify", response_model=VerifyOut, summary="核验信用报告 Verify a report by number and code")
def verify(body: VerifyIn, session: ReadSession, platform: PlatformDep) -> dict[str, Any]:
    return verify_report(session, platform.keyring, body.report_no, body.code).as_dict()


@router.get("/public-key", response_class=PlainTextResponse, summary="平台签名公钥 The platform's signing public key")
def public_key(platform: PlatformDep) -> str:
    return platform.keyring.public_key_pem()


@router.get("/subjects/{subject_id}/public.pdf", response_class=Response,
            summary="公开信用报告（PDF，可验证）A subject's public credit report, signed")
def public_report(
    request: Request, platform: PlatformDep, subject_id: int = Path(ge=1, le=2**62)
) -> Response:
    """The report of what the public may see of a subject; its number and verification code are in
    the PDF (and in the ``X-Report-No`` / ``X-Verification-Code`` headers) for anyone to check."""
    base_url = str(request.base_url).rstrip("/")
    with platform.db.write() as session:
        file = public_file(session, platform.catalog, subject_id, today_cn())
        issued = issue_report(session, platform.keyring, file, audience=Audience.PUBLIC, base_url=base_url,
                              now=utcnow())
        audit.write(session, actor=audit.Actor(kind="public", name="portal"), action="report.issue",
                    subject_id=subject_id, object_type="credit_report", object_id=issued.report_no)
    return pdf_response(issued)


def pdf_response(issued: IssuedReport) -> Response:
    """A report as a download; its number and verification code also in headers for programs."""
    return Response(issued.pdf, media_type="application/pdf", headers={
        "Content-Disposition": f"attachment; filename={issued.report_no}.pdf",
        "X-Report-No": issued.report_no, "X-Verification-Code": issued.verification_code,
    })
