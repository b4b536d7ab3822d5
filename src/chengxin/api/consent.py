"""Consent API (授权查询): a requester reads a person's file with the consent code the person gave."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from chengxin.api.deps import PlatformDep, client_address
from chengxin.api.disclosure import CreditFileOut
from chengxin.api.schemas import ErrorOut
from chengxin.consent import service
from chengxin.core.db import utcnow
from chengxin.core.errors import DomainError

router = APIRouter(prefix="/api/v1", tags=["consent"])


class ConsentReadIn(BaseModel):
    uscc: str = Field(min_length=1, max_length=32, description="查询机构（授权对象）的统一社会信用代码")
    code: str = Field(min_length=1, max_length=32, description="本人提供的授权码")
    ric: str = Field(min_length=1, max_length=32, description="被查询人的公民身份号码")


@router.post("/consent/file", summary="凭授权码查询 Read a person's file under consent", response_model=CreditFileOut,
             responses={status: {"model": ErrorOut} for status in (400, 403, 422, 429)})
def consent_file(body: ConsentReadIn, request: Request, platform: PlatformDep) -> CreditFileOut:
    """The person's file limited to the categories the consent covers (displayed items only, identity
    masked), written to the query log with the consent reference and purpose. A single-use consent is
    consumed. Any failure answers without anything about the person and is recorded; more than 10
    failures per requester or client IP in 15 minutes: 429."""
    with platform.db.write() as session:  # the attempt is committed whatever the outcome
        outcome = service.read_file(session, platform.catalog, platform.keyring, requester_uscc=body.uscc,
                                    code=body.code, ric=body.ric,
                                    ip=client_address(request), now=utcnow())
    if outcome.file is None:
        raise DomainError(outcome.code, outcome.message, outcome.message_en, status=outcome.status)
    return CreditFileOut.model_validate(outcome.file)
