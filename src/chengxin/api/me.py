"""The person's own API (个人中心接口): sign in, read one's own file, manage consents, take a report.

For apps and the government unified-identity front-end. A person session token (from
``POST /api/v1/me/sessions``, the same sessions as the portal's) is sent as ``Authorization:
Bearer``; these endpoints accept person tokens only, never cookies, so no CSRF token is needed.
Staff tokens and department API keys are refused here (401): a clerk's access is the logged
government read, never the subject's own view.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from chengxin.accounts.sign_in import AddressLimited
from chengxin.api.deps import PlatformDep, client_address
from chengxin.api.disclosure import CreditFileOut
from chengxin.api.reports import pdf_response
from chengxin.api.schemas import ErrorOut
from chengxin.consent import service as consents
from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.core.errors import Unauthenticated
from chengxin.disclosure import service as disclosure
from chengxin.people import service as people
from chengxin.people.models import PersonAccount
from chengxin.reports.service import issue_self_report, self_report_allowance

router = APIRouter(prefix="/api/v1/me", tags=["me"])
_ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorOut} for s in (400, 401, 404, 422, 429)}


def person_account(request: Request, platform: PlatformDep) -> PersonAccount:
    """The signed-in person, from ``Authorization: Bearer <person session token>``."""
    auth = request.headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    if not token:
        raise Unauthenticated("auth.required", "请先登录个人账户", "Sign in as a person first")
    with platform.db.read() as session:
        account, _ = people.account_for_token(session, token)
        session.expunge(account)
    return account


PersonDep = Annotated[PersonAccount, Depends(person_account)]


class SignInIn(BaseModel):
    ric: str = Field(min_length=1, max_length=32, description="公民身份号码")
    password: str = Field(min_length=1, max_length=256)
    totp_code: str = Field(default="", max_length=16, description="动态验证码（已启用时必填）")


class SessionOut(BaseModel):
    token: str = Field(description="会话令牌：Authorization: Bearer <token>")
    expires_at: dt.datetime


@router.post("/sessions", summary="个人登录 Person sign-in", response_model=SessionOut, status_code=201,
             responses=_ERRORS)
def sign_in(body: SignInIn, request: Request, platform: PlatformDep) -> SessionOut:
    """Password (+ TOTP when enabled). Failures count towards the lock-out like the portal's, and towards the
    caller's address (429 ``auth.address_limited`` after too many, whatever the accounts)."""
    error: Unauthenticated | AddressLimited | None = None
    with platform.db.write() as session:
        # The failure count must be committed even when sign-in fails: catch inside the transaction.
        try:
            account = people.sign_in(session, platform.keyring, ric=body.ric, password=body.password,
                                     totp_code=body.totp_code, address=client_address(request))
            issued = people.open_session(session, account, hours=platform.settings.session_hours)
        except (Unauthenticated, AddressLimited) as exc:
            error = exc
    if error is not None:
        raise error
    return SessionOut(token=issued.token, expires_at=issued.expires_at)


@router.delete("/sessions/current", summary="退出登录 Sign out", status_code=204, responses=_ERRORS)
def sign_out(request: Request, account: PersonDep, platform: PlatformDep) -> Response:
    del account  # authenticated above; the token itself is closed
    with platform.db.write() as session:
        people.close_session(session, request.headers["authorization"][7:].strip())
    return Response(status_code=204)


@router.get("/file", summary="本人信用档案 My whole file", response_model=CreditFileOut, responses=_ERRORS)
def my_file(account: PersonDep, platform: PlatformDep) -> CreditFileOut:
    """Every record held about me — public or not, revoked included — with its history, and every
    query of my data by others (who, when, purpose, basis)."""
    with platform.db.read() as session:
        file = disclosure.own_file(session, platform.catalog, platform.keyring, account.subject_id, today_cn())
    return CreditFileOut.model_validate(file)


class ConsentIn(BaseModel):
    requester_uscc: str = Field(min_length=1, max_length=32, description="被授权机构的统一社会信用代码")
    purpose: str = Field(min_length=1, max_length=20, description="用途：招聘录用、房屋租赁、信贷审批、商务合作、其他")
    purpose_note: str = Field(default="", max_length=200, description="用途为“其他”时的具体用途")
    categories: list[str] = Field(min_length=1, max_length=3, description="basic | positive | negative")
    validity: Literal["single", "until"] = "single"
    valid_until: dt.date | None = None


class ConsentUseOut(BaseModel):
    at: dt.datetime
    requester_uscc: str
    requester_name: str
    purpose: str


class ConsentOut(BaseModel):
    id: int
    reference: str
    requester_uscc: str
    purpose: str
    categories: list[str]
    single_use: bool
    valid_until: dt.date | None
    created_at: dt.datetime
    state: str = Field(description="valid | used | expired | revoked")
    uses: list[ConsentUseOut]


class GrantedOut(BaseModel):
    consent: ConsentOut
    code: str = Field(description="授权码：只显示这一次，请交给被授权机构")


def _consent_out(view: consents.ConsentView) -> ConsentOut:
    return ConsentOut(
        id=view.id, reference=view.reference, requester_uscc=view.requester_uscc, purpose=view.purpose,
        categories=list(view.categories), single_use=view.single_use, valid_until=view.valid_until,
        created_at=view.created_at, state=view.state,
        uses=[ConsentUseOut(at=u.at, requester_uscc=u.requester_uscc, requester_name=u.requester_name,
                            purpose=u.purpose) for u in view.uses])


def _one(platform: PlatformDep, subject_id: int, consent_id: int) -> ConsentOut:
    with platform.db.read() as session:
        views = consents.list_for(session, subject_id, today_cn())
    return next(_consent_out(v) for v in views if v.id == consent_id)


@router.get("/consents", summary="我的授权 My consents", response_model=list[ConsentOut], responses=_ERRORS)
def my_consents(account: PersonDep, platform: PlatformDep) -> list[ConsentOut]:
    with platform.db.read() as session:
        views = consents.list_for(session, account.subject_id, today_cn())
    return [_consent_out(v) for v in views]


@router.post("/consents", summary="授权查询 Grant a consent", response_model=GrantedOut, status_code=201,
             responses=_ERRORS)
def grant_consent(body: ConsentIn, account: PersonDep, platform: PlatformDep) -> GrantedOut:
    with platform.db.write() as session:
        granted = consents.grant(
            session, platform.keyring, subject_id=account.subject_id, requester_uscc=body.requester_uscc,
            purpose=body.purpose, purpose_note=body.purpose_note, categories=body.categories,
            single_use=body.validity == "single", valid_until=body.valid_until, now=utcnow(),
            actor=people.actor_for(account))
        consent_id = granted.consent.id
    return GrantedOut(consent=_one(platform, account.subject_id, consent_id), code=granted.code)


@router.post("/consents/{consent_id}/revoke", summary="撤销授权 Revoke a consent", response_model=ConsentOut,
             responses=_ERRORS)
def revoke_consent(consent_id: int, account: PersonDep, platform: PlatformDep) -> ConsentOut:
    with platform.db.write() as session:
        consents.revoke(session, subject_id=account.subject_id, consent_id=consent_id, now=utcnow(),
                        actor=people.actor_for(account))
    return _one(platform, account.subject_id, consent_id)


class AllowanceOut(BaseModel):
    year: int
    free: int = Field(description="本年度免费份数")
    issued: int
    left: int
    resets_on: dt.date


@router.get("/report-allowance", summary="本年度免费报告 My free reports this year", response_model=AllowanceOut,
            responses=_ERRORS)
def report_allowance(account: PersonDep, platform: PlatformDep) -> AllowanceOut:
    with platform.db.read() as session:
        a = self_report_allowance(session, account.subject_id, utcnow())
    return AllowanceOut(year=a.year, free=a.free, issued=a.issued, left=a.left, resets_on=a.resets_on)


@router.post("/reports", summary="获取本人信用报告 Take my signed report (PDF)", status_code=201,
             response_class=Response, responses={201: {"content": {"application/pdf": {}}}, **_ERRORS})
def take_report(request: Request, account: PersonDep, platform: PlatformDep) -> Response:
    """The signed PDF (records in force and the query log); report number and verification code in
    the ``X-Report-No`` / ``X-Verification-Code`` headers. Counts towards the year's free reports."""
    with platform.db.write() as session:
        issued = issue_self_report(session, platform.catalog, platform.keyring, account.subject_id,
                                   base_url=str(request.base_url).rstrip("/"), now=utcnow())
    response = pdf_response(issued)
    response.status_code = 201
    return response
