"""Staff sign-in for API use (bearer tokens) and subject look-up by staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from chengxin.accounts import service as accounts
from chengxin.accounts.sign_in import AddressLimited
from chengxin.api.deps import PlatformDep, StaffDep, client_address
from chengxin.api.schemas import ErrorOut, PasswordChangeIn, SubjectOut, TokenIn, TokenOut
from chengxin.core.errors import Unauthenticated
from chengxin.subjects.service import look_up_subject

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post("/auth/token", summary="工作人员登录取令牌 Staff sign-in: bearer token", response_model=TokenOut,
             responses={status: {"model": ErrorOut} for status in (401, 422, 429)})
def token(body: TokenIn, request: Request, platform: PlatformDep) -> TokenOut:
    """401 for a wrong username or password or a locked account; 429 ``auth.address_limited`` after too many failed
    sign-ins from the caller's address (any account)."""
    refused: Unauthenticated | AddressLimited | None = None
    with platform.db.write() as session:
        try:  # inside the transaction: a failure is counted (and may lock the account) although it is refused
            user = accounts.authenticate(session, body.username, body.password,
                                         address=client_address(request))
            issued = accounts.open_session(session, user, hours=platform.settings.session_hours)
            must_change = user.must_change_password
        except (Unauthenticated, AddressLimited) as exc:
            refused = exc
    if refused is not None:
        raise refused
    return TokenOut(token=issued.token, expires_at=issued.expires_at, must_change_password=must_change)


@router.post("/auth/password", summary="修改本人密码 Change your own password", status_code=204,
             description="当前密码正确、新密码至少 10 位且不同于用户名和当前密码时生效；本人的其他登录随即失效，"
                         "本次令牌保留。Takes effect when the current password is right; your other sessions end.")
def change_password(body: PasswordChangeIn, request: Request, platform: PlatformDep, actor: StaffDep) -> None:
    auth = request.headers.get("authorization", "")
    with platform.db.write() as session:
        accounts.change_password(session, actor.name, current=body.current_password, new=body.new_password,
                                 actor=actor, keep_token=auth[7:].strip() if auth.lower().startswith("bearer ") else None)


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
