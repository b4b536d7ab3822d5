"""Staff sign-in for API use (bearer tokens) and subject look-up by staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from chengxin.accounts import service as accounts
from chengxin.api.deps import PlatformDep, StaffDep
from chengxin.api.schemas import SubjectOut, TokenIn, TokenOut
from chengxin.subjects.service import look_up_subject

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post("/auth/token", summary="工作人员登录取令牌 Staff sign-in: bearer token", response_model=TokenOut)
def token(body: TokenIn, platform: PlatformDep) -> TokenOut:
    with platform.db.write() as session:
        user = accounts.authenticate(session, body.username, body.password)
        issued = accounts.open_session(session, user, hours=platform.settings.session_hours)
    return TokenOut(token=issued.token, expires_at=issued.expires_at)


@router.post("/auth/logout", summary="注销令牌 Revoke the bearer token", status_code=204)
def logout(request: Request, platform: PlatformDep) -> None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        with platform.db.write() as session:
            accounts.close_session(session, auth[7:].strip())


@router.get("/subjects/lookup", summary="按证件号查主体（记录查询目的）Look up a subject (purpose logged)",
            response_model=SubjectOut, tags=["subjects"])
def lookup(
    platform: PlatformDep,
    actor: StaffDep,
    purpose: Annotated[str, Query(min_length=2, max_length=200, description="查询目的（必填，记入查询记录）")],
    ric: Annotated[str | None, Query(max_length=20)] = None,
    uscc: Annotated[str | None, Query(max_length=20)] = None,
) -> SubjectOut:
    with platform.db.write() as session:  # the read of personal data is logged in the same transaction
        view = look_up_subject(session, platform.keyring, actor=actor, purpose=purpose, ric=ric, uscc=uscc)
    return SubjectOut(id=view.id, kind=view.kind, display_id=view.display_id, display_name=view.display_name)
