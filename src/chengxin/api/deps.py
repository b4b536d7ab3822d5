"""Request-scoped dependencies: the platform, the acting user or API key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from chengxin.accounts.service import actor_for_user, user_for_token
from chengxin.core import audit
from chengxin.core.errors import PermissionDenied, Unauthenticated
from chengxin.platform import Platform

SESSION_COOKIE = "cx_session"
# What a staff member whose password an administrator set may still call (accounts.change_password).
PASSWORD_FIRST_PATHS = frozenset({"/api/v1/auth/password", "/api/v1/auth/logout"})


# These two are ``async`` although they do no I/O of their own: FastAPI runs a plain ``def``
# dependency in the thread pool, and a yield dependency that holds a pooled connection across two
# thread-pool calls can deadlock under a burst (every thread waiting for a connection held by a
# request that waits for a thread). On the event loop they need no thread; the session connects
# lazily inside the endpoint's own thread call and is closed back on the loop.


async def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


async def read_session(platform: PlatformDep) -> AsyncIterator[Session]:
    with platform.db.read() as session:
        yield session


ReadSession = Annotated[Session, Depends(read_session)]


def client_address(request: Request) -> str | None:
    """The client's address as the server reports it (behind a proxy listed in ``CHENGXIN_TRUSTED_PROXIES``: the
    address that proxy forwarded). Sign-in failures are counted by it (accounts.sign_in) and consents record it."""
    return request.client.host if request.client else None


def _credentials(request: Request) -> tuple[str | None, str | None, bool]:
    """(presented key or token, portal cookie, whether it is an API key)."""
    presented = request.headers.get("x-api-key")
    auth = request.headers.get("authorization", "")
    if not presented and auth.lower().startswith("bearer "):
        presented = auth[7:].strip()
    # X-API-Key carries department keys only; a staff token there is refused like any bad key.
    is_key = request.headers.get("x-api-key") is not None or bool(presented and presented.startswith("cx_"))
    return presented, request.cookies.get(SESSION_COOKIE), is_key


def resolve_actor(request: Request, platform: Platform) -> audit.Actor | None:
    """The caller from ``X-API-Key``, ``Authorization: Bearer`` (API key or staff token) or the portal cookie."""
    presented, cookie, is_key = _credentials(request)
    if not presented and not cookie:
        return None
    if is_key:
        # Verified at most once per few seconds per process (settings.api_key_cache_seconds).
        return platform.api_keys.actor(presented or "")
    with platform.db.read() as session:
        user, _ = user_for_token(session, presented or cookie or "")
    if user.must_change_password and request.url.path not in PASSWORD_FIRST_PATHS:
        raise PermissionDenied("auth.password_change_required",
                               "请先修改管理员设置的初始密码（POST /api/v1/auth/password）",
                               "Change the password an administrator set first (POST /api/v1/auth/password)")
    return actor_for_user(user)


async def current_actor(request: Request, platform: PlatformDep) -> audit.Actor:
    """The caller, or 401. ``async``: an API key verified within the cache window is answered on the event
    loop (no database, no thread hop — most machine-to-machine calls); anything that needs the database
    (a first sight of a key, staff tokens, cookies) goes to the thread pool as a ``def`` dependency would."""
    presented, _, is_key = _credentials(request)
    actor = platform.api_keys.cached(presented) if is_key and presented else None
    if actor is None:
        actor = await run_in_threadpool(resolve_actor, request, platform)
    if actor is None:
        raise Unauthenticated("auth.required", "需要登录或提供 API 密钥", "Authentication required")
    return actor


ActorDep = Annotated[audit.Actor, Depends(current_actor)]


async def staff_actor(actor: ActorDep) -> audit.Actor:
    if actor.kind != "staff":
        raise PermissionDenied("auth.staff_only", "仅限工作人员使用", "Staff only")
    return actor


StaffDep = Annotated[audit.Actor, Depends(staff_actor)]


async def office_actor(actor: StaffDep) -> audit.Actor:
    if actor.role not in ("admin", "credit_office"):
        raise PermissionDenied("auth.office_only", "仅限信用办和管理员使用", "Credit office and administrators only")
    return actor


OfficeDep = Annotated[audit.Actor, Depends(office_actor)]
