"""Report verification API: anyone can check a report by number + verification code, and fetch the public key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from chengxin.api.deps import PlatformDep, ReadSession
from chengxin.reports.service import verify_report

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
