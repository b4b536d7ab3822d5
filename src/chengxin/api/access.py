"""Access management API (账号与密钥): departments' and platforms' API keys (credit office, administrator) and
staff accounts (administrator) — the same services as the portal page /office/access and the ``chengxin
users`` / ``chengxin api-keys`` commands, which decide who may do what. Staff bearer tokens only: an API key
never manages keys."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel, Field

from chengxin.accounts import rules as account_rules
from chengxin.accounts import service as accounts
from chengxin.accounts.models import ApiKey, StaffUser
from chengxin.accounts.service import Role
from chengxin.api.deps import PlatformDep, StaffDep
from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.core.errors import DomainError

router = APIRouter(prefix="/api/v1/access", tags=["access"])


class ApiKeyOut(BaseModel):
    key_id: str
    owner: str  # a department code, or ``platform:<USCC>``
    label: str
    created_by: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    valid_until: dt.date | None = Field(description="有效期至（含当日，北京时间）；空：长期有效 Last valid day")
    last_used_at: dt.datetime | None = Field(description="最近一次被接受的时间（每分钟写入一次） Last accepted use")

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return cls(key_id=key.key_id, owner=key.department_code, label=key.label, created_by=key.created_by,
                   created_at=key.created_at, revoked_at=key.revoked_at, valid_until=account_rules.valid_until(key.expires_at),
                   last_used_at=key.last_used_at)


class ApiKeyIn(BaseModel):
    department: str | None = Field(default=None, max_length=64, description="数据提供单位代码（与 platform_uscc 二选一）")
    platform_uscc: str | None = Field(default=None, max_length=40,
                                      description="电商平台统一社会信用代码：平台密钥只能核查和反馈")
    label: str = Field(default="", max_length=100, description="用途说明")
    valid_until: dt.date | None = Field(default=None, description="有效期至（含当日，北京时间），须晚于今天；不填：长期有效")


class IssuedKeyOut(BaseModel):
    key: str = Field(description="完整密钥，只在此处返回一次 The whole key, returned this once only")
    key_id: str
    owner: str
    valid_until: dt.date | None


class UserOut(BaseModel):
    username: str
    display_name: str
    role: str
    department: str | None
    active: bool
    created_at: dt.datetime
    must_change_password: bool = Field(description="密码由管理员设置，待本人修改 The owner has yet to choose a password")
    locked_until: dt.datetime | None = Field(description="连续登录失败锁定至 Locked by failed sign-ins until")

    @classmethod
    def of(cls, user: StaffUser) -> UserOut:
        locked = user.locked_until if user.locked_until is not None and user.locked_until > utcnow() else None
        return cls(username=user.username, display_name=user.display_name, role=user.role,
                   department=user.department_code, active=user.active, created_at=user.created_at,
                   must_change_password=user.must_change_password, locked_until=locked)


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    display_name: str = Field(default="", max_length=100)
    role: Role
    department: str | None = Field(default=None, max_length=64, description="部门经办人必填")
    password: str = Field(max_length=256, description=f"初始密码，至少 {account_rules.MIN_PASSWORD} 位")


class NewPasswordOut(BaseModel):
    username: str
    password: str = Field(description="新密码，只在此处返回一次；原有登录已全部失效")


_NO_STORE = {"Cache-Control": "no-store"}  # a secret returned once must not be kept by a cache


@router.get("/api-keys", summary="接口密钥列表 API keys (never their secrets)", response_model=list[ApiKeyOut],
            description="有效的在前、新的在前；总数在响应头 X-Total-Count。Valid keys first, newest first; the total "
                        "is in the X-Total-Count header.")
def list_keys(platform: PlatformDep, actor: StaffDep, response: Response, owner: str | None = None,
              state: Annotated[str, Query(description="active（有效）、expired（已过期）、revoked（已吊销）或留空（全部）")] = "",
              offset: Annotated[int, Query(ge=0)] = 0,
              limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[ApiKeyOut]:
    accounts.require_key_manager(actor)
    platform.api_keys.write_uses()  # this process's latest uses, before they are read
    with platform.db.read() as session:
        response.headers["X-Total-Count"] = str(accounts.count_api_keys(session, owner, state=state))
        return [ApiKeyOut.of(k) for k in accounts.list_api_keys(session, owner, state=state, offset=offset,
                                                                 limit=limit)]


@router.post("/api-keys", summary="签发接口密钥 Issue an API key (shown once)", response_model=IssuedKeyOut,
             status_code=201)
def issue_key(body: ApiKeyIn, platform: PlatformDep, actor: StaffDep, response: Response,
              idempotency_key: Annotated[str | None, Header(
                  max_length=64, description="可选：同一值再次请求不会再签发（409 并给出已签发的密钥编号） "
                                             "Optional: a retry with the same value issues nothing (409)")] = None,
              ) -> IssuedKeyOut:
    accounts.require_key_manager(actor)
    response.headers.update(_NO_STORE)
    owner = accounts.key_owner(platform.catalog.departments, body.department, body.platform_uscc)
    expires_at = account_rules.key_expiry(body.valid_until, today_cn())
    with platform.db.write() as session:
        issued = accounts.create_api_key(session, department_code=owner, label=body.label.strip(), actor=actor,
                                         issue_token=idempotency_key, expires_at=expires_at)
    return IssuedKeyOut(key=issued.key, key_id=issued.key_id, owner=issued.department_code,
                        valid_until=account_rules.valid_until(issued.expires_at))


@router.post("/api-keys/{key_id}/revoke", summary="吊销接口密钥 Revoke an API key", response_model=ApiKeyOut)
def revoke_key(key_id: str, platform: PlatformDep, actor: StaffDep) -> ApiKeyOut:
    with platform.db.write() as session:
        return ApiKeyOut.of(accounts.revoke_api_key(session, key_id, actor=actor))


@router.get("/users", summary="工作人员账号 Staff accounts", response_model=list[UserOut],
            description="在用的在前；总数在响应头 X-Total-Count。Active accounts first; the total is in X-Total-Count.")
def list_users(platform: PlatformDep, actor: StaffDep, response: Response,
               q: Annotated[str, Query(max_length=64, description="用户名或姓名包含")] = "",
               role: Annotated[str, Query(description="admin、credit_office 或 clerk")] = "",
               department: Annotated[str, Query(max_length=64, description="所属单位代码")] = "",
               offset: Annotated[int, Query(ge=0)] = 0,
               limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[UserOut]:
    accounts.require_user_manager(actor)
    with platform.db.read() as session:
        response.headers["X-Total-Count"] = str(accounts.count_users(session, query=q, role=role,
                                                                     department=department))
        return [UserOut.of(u) for u in accounts.list_users(session, query=q, role=role, department=department,
                                                           offset=offset, limit=limit)]


@router.post("/users", summary="新建工作人员账号 Open a staff account", response_model=UserOut, status_code=201)
def create_user(body: UserIn, platform: PlatformDep, actor: StaffDep) -> UserOut:
    accounts.require_user_manager(actor)
    if body.department and body.department not in platform.catalog.departments:
        raise DomainError("department.unknown", f"未知的数据提供单位：{body.department}",
                          f"Unknown department {body.department}", field="department")
    with platform.db.write() as session:
        user = accounts.create_user(session, username=body.username, password=body.password, role=body.role,
                                    display_name=body.display_name.strip(),
                                    department_code=body.department if body.role is Role.CLERK else None, actor=actor,
                                    temporary=True)  # handed over: its owner changes it at the first sign-in
        return UserOut.of(user)


@router.post("/users/{username}/deactivate", summary="停用账号（其登录立即失效）Stop an account", response_model=UserOut)
def deactivate(username: str, platform: PlatformDep, actor: StaffDep) -> UserOut:
    with platform.db.write() as session:
        return UserOut.of(accounts.set_user_active(session, username, False, actor=actor))


@router.post("/users/{username}/activate", summary="启用账号 Restart an account", response_model=UserOut)
def activate(username: str, platform: PlatformDep, actor: StaffDep) -> UserOut:
    with platform.db.write() as session:
        return UserOut.of(accounts.set_user_active(session, username, True, actor=actor))


@router.post("/users/{username}/unlock", summary="解除锁定（仍用原密码）Unlock an account", response_model=UserOut)
def unlock(username: str, platform: PlatformDep, actor: StaffDep) -> UserOut:
    with platform.db.write() as session:
        return UserOut.of(accounts.unlock_user(session, username, actor=actor))


@router.post("/users/{username}/reset-password", summary="重置密码（随机，只返回一次）Reset a password",
             response_model=NewPasswordOut)
def reset_password(username: str, platform: PlatformDep, actor: StaffDep, response: Response) -> NewPasswordOut:
    response.headers.update(_NO_STORE)
    with platform.db.write() as session:
        return NewPasswordOut(username=username, password=accounts.reset_password(session, username, actor=actor))
