"""Staff users (argon2id), their sessions, and department API keys (stored hashed, revocable)."""

from __future__ import annotations

import atexit
import datetime as dt
import enum
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, case, func, or_, select, update
from sqlalchemy.orm import Session

from chengxin.accounts.models import ApiKey, StaffSession, StaffUser
from chengxin.accounts.rules import RENEW_WITHIN_DAYS, address_key, end_of_day, password_problem, valid_until
from chengxin.accounts.sign_in import (
    dummy_hash,
    forget_address_failures,
    note_address_failure,
    note_failed_sign_in,
    note_sign_in,
    password_hasher,
    refuse_if_address_limited,
    refuse_if_locked,
)
from chengxin.checks.rules import PLATFORM_PREFIX
from chengxin.core import audit
from chengxin.core.db import Database, utcnow
from chengxin.core.errors import DomainError, NotFound, PermissionDenied, Unauthenticated
from chengxin.core.identifiers import normalize_uscc
from chengxin.core.workflow import ConsoleLine
from chengxin.workdays.rules import WorkCalendar

log = logging.getLogger("chengxin.accounts")

PER_PAGE = 50  # keys and accounts per page on /office/access


class Role(enum.StrEnum):
    ADMIN = "admin"  # 系统管理员
    CREDIT_OFFICE = "credit_office"  # 市信用办
    CLERK = "clerk"  # 部门经办人

    @property
    def label_zh(self) -> str:
        return {"admin": "系统管理员", "credit_office": "信用办工作人员", "clerk": "部门经办人"}[self.value]


def _sha256(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def actor_for_user(user: StaffUser) -> audit.Actor:
    return audit.Actor(kind="staff", name=user.username, role=user.role, department_code=user.department_code)


# Who manages access (账号与密钥): accounts are the administrator's; departments' API keys are also the credit
# office's, which onboards the departments. Operators at the console (``chengxin`` CLI) and the platform itself
# (demo data, migrations) act outside the roles.
USER_MANAGERS = frozenset({Role.ADMIN.value})
KEY_MANAGERS = frozenset({Role.ADMIN.value, Role.CREDIT_OFFICE.value})
_OUTSIDE_ROLES = frozenset({"cli", "system"})


def may_manage_users(actor: audit.Actor) -> bool:
    return actor.kind in _OUTSIDE_ROLES or actor.role in USER_MANAGERS


def may_manage_keys(actor: audit.Actor) -> bool:
    return actor.kind in _OUTSIDE_ROLES or actor.role in KEY_MANAGERS


def may_read_audit(actor: audit.Actor) -> bool:
    """审计日志: the administrator and the credit office, who answer for how the platform is used."""
    return actor.kind in _OUTSIDE_ROLES or (actor.kind == "staff" and actor.role in KEY_MANAGERS)


def require_audit_reader(actor: audit.Actor) -> None:
    """403 ``audit.forbidden`` unless ``actor`` may read the audit log."""
    if not may_read_audit(actor):
        raise PermissionDenied("audit.forbidden", "审计日志仅限系统管理员和市信用办查看",
                               "Only administrators and the credit office may read the audit log")


def require_user_manager(actor: audit.Actor) -> None:
    """403 ``user.forbidden`` unless ``actor`` may manage staff accounts."""
    if not may_manage_users(actor):
        raise PermissionDenied("user.forbidden", "只有系统管理员可以管理工作人员账号",
                               "Only administrators may manage staff accounts")


def require_key_manager(actor: audit.Actor) -> None:
    """403 ``api_key.forbidden`` unless ``actor`` may issue and revoke API keys."""
    if not may_manage_keys(actor):
        raise PermissionDenied("api_key.forbidden", "只有系统管理员或市信用办可以管理接口密钥",
                               "Only administrators or the credit office may manage API keys")


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str,
    department_code: str | None,
    actor: audit.Actor,
    temporary: bool = False,
) -> StaffUser:
    """Open an account. ``temporary``: the password is an administrator's choice, handed over — its owner must
    change it at the first sign-in (:func:`change_password`)."""
    require_user_manager(actor)
    username = username.strip()
    if not username or len(username) > 64:
        raise DomainError("user.username", "用户名不能为空且不超过 64 个字符", "Username must be 1–64 characters")
    problem = password_problem(username, password, field="password")
    if problem is not None:
        raise problem
    if role is Role.CLERK and not department_code:
        raise DomainError("user.department_required", "部门经办人必须属于一个数据提供单位",
                          "A clerk must belong to a department")
    if session.execute(select(StaffUser.id).where(StaffUser.username == username)).first():
        raise DomainError("user.exists", f"用户名 {username} 已存在", f"User {username} exists", status=409)
    user = StaffUser(username=username, display_name=display_name or username, password_hash=password_hasher().hash(password),
                     role=role.value, department_code=department_code if role is Role.CLERK else department_code,
                     must_change_password=temporary)
    session.add(user)
    session.flush()
    audit.write(session, actor=actor, action="user.create", object_type="staff_user", object_id=user.id,
                detail={"username": username, "role": role.value, "department": department_code})
    return user


def _users_where(query: str, role: str, department: str) -> list[ColumnElement[bool]]:
    if role and role not in {r.value for r in Role}:
        raise DomainError("user.role", f"未知的角色：{role}", f"Unknown role {role}", field="role")
    where: list[ColumnElement[bool]] = []
    if query.strip():
        text = query.strip().lower()
        where.append(or_(func.lower(StaffUser.username).contains(text, autoescape=True),
                         func.lower(StaffUser.display_name).contains(text, autoescape=True)))
    if role:
        where.append(StaffUser.role == role)
    if department:
        where.append(StaffUser.department_code == department)
    return where


def list_users(session: Session, *, query: str = "", role: str = "", department: str = "", offset: int = 0,
               limit: int | None = None) -> list[StaffUser]:
    """Staff accounts whose username or name contains ``query`` (of ``role`` / ``department`` when given), active
    ones first, then by role and username (all of them unless ``limit``)."""
    stmt = (select(StaffUser).where(*_users_where(query, role, department))
            .order_by(StaffUser.active.desc(), StaffUser.role, StaffUser.username))
    return list(session.execute(stmt.offset(offset).limit(limit)).scalars())


def count_users(session: Session, *, query: str = "", role: str = "", department: str = "") -> int:
    stmt = select(func.count()).select_from(StaffUser).where(*_users_where(query, role, department))
    return session.execute(stmt).scalar_one()


def _user(session: Session, username: str) -> StaffUser:
    user = session.execute(select(StaffUser).where(StaffUser.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound("user.not_found", f"用户 {username} 不存在", f"No user {username}")
    return user


def _end_sessions(session: Session, user: StaffUser) -> int:
    """Revoke the user's open sessions (portal cookies and API tokens); returns how many."""
    now = utcnow()
    open_ones = session.execute(select(StaffSession).where(StaffSession.user_id == user.id,
                                                           StaffSession.revoked_at.is_(None),
                                                           StaffSession.expires_at > now)).scalars().all()
    for staff_session in open_ones:
        staff_session.revoked_at = now
    return len(open_ones)


def set_user_active(session: Session, username: str, active: bool, *, actor: audit.Actor) -> StaffUser:
    """停用 / 启用 a staff account. A stopped account cannot sign in and its open sessions end at once; its
    history (audit, batches, decisions) stays under its name. Nobody stops their own account (an administrator
    would lock themselves out)."""
    require_user_manager(actor)
    user = _user(session, username)
    if not active and actor.kind == "staff" and actor.name == user.username:
        raise DomainError("user.self", "不能停用自己的账号", "You cannot deactivate your own account", status=409)
    user.active = active
    ended = 0 if active else _end_sessions(session, user)
    audit.write(session, actor=actor, action="user.activate" if active else "user.deactivate",
                object_type="staff_user", object_id=user.id, detail={"username": user.username, "sessions_ended": ended})
    return user


def unlock_user(session: Session, username: str, *, actor: audit.Actor) -> StaffUser:
    """解除锁定: the account may sign in again with its own password before the lock would end (its owner has
    been reached and the failures explained). Unlocking an account that is not locked changes nothing."""
    require_user_manager(actor)
    user = _user(session, username)
    was = user.locked_until
    note_sign_in(user)
    if was is not None:
        audit.write(session, actor=actor, action="user.unlock", object_type="staff_user", object_id=user.id,
                    detail={"username": user.username})
    return user


def release_address(session: Session, address: str, *, actor: audit.Actor) -> int:
    """解除地址限制: an address refused after too many failed sign-ins (``sign_in.address_max_failures``) may try
    again at once — e.g. an office whose staff share one network address, once the cause is known. Its failures
    within the window are dropped (the monitor's alert about them stays); how many, audited."""
    require_user_manager(actor)
    dropped = forget_address_failures(session, address, utcnow())
    if dropped:
        audit.write(session, actor=actor, action="user.release_address", object_type="sign_in_failure",
                    object_id=None, detail={"address": address_key(address), "failures": dropped})
    return dropped


def reset_password(session: Session, username: str, *, actor: audit.Actor) -> str:
    """A new random password for the account (returned once, to hand over; never stored in clear), and every open
    session of it ended — for a forgotten or leaked password."""
    require_user_manager(actor)
    user = _user(session, username)
    password = secrets.token_urlsafe(12)  # 16 characters, well above MIN_PASSWORD
    user.password_hash = password_hasher().hash(password)
    user.must_change_password = True  # handed over by someone else: its owner chooses their own first
    note_sign_in(user)  # a new password: a lock from the old one's failures ends
    ended = _end_sessions(session, user)
    audit.write(session, actor=actor, action="user.reset_password", object_type="staff_user", object_id=user.id,
                detail={"username": user.username, "sessions_ended": ended})
    return password


def change_password(session: Session, username: str, *, current: str, new: str, actor: audit.Actor,
                    keep_token: str | None = None) -> StaffUser:
    """修改密码 by the account's owner: the current password proves it is them; the new one is at least
    :data:`MIN_PASSWORD` characters, not the username, not the current one. Every other open session of the
    account ends (a password changed because it leaked); ``keep_token`` — the session asking — stays open."""
    if actor.kind != "staff" or actor.name != username:
        raise PermissionDenied("user.not_yours", "只能修改自己的密码", "You can only change your own password")
    user = _user(session, username)
    try:
        password_hasher().verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise DomainError("user.wrong_password", "当前密码不正确", "The current password is wrong",
                          field="current_password") from None
    problem = password_problem(username, new)
    if problem is not None:
        raise problem
    if new == current:
        raise DomainError("user.password_unchanged", "新密码不能与当前密码相同", "The new password is the current one",
                          field="new_password")
    user.password_hash = password_hasher().hash(new)
    user.must_change_password = False
    now = utcnow()
    kept = _sha256(keep_token) if keep_token else None
    others = session.execute(select(StaffSession).where(
        StaffSession.user_id == user.id, StaffSession.revoked_at.is_(None), StaffSession.expires_at > now)).scalars()
    ended = 0
    for staff_session in others:
        if staff_session.token_hash != kept:
            staff_session.revoked_at = now
            ended += 1
    audit.write(session, actor=actor, action="user.change_password", object_type="staff_user", object_id=user.id,
                detail={"username": user.username, "sessions_ended": ended})
    return user


def authenticate(session: Session, username: str, password: str, *, address: str | None = None) -> StaffUser:
    """The user with this username and password, or 401 (same answer and timing for both mistakes; ``auth.locked``
    after too many failures in a row; 429 ``auth.address_limited`` after too many from the client ``address``,
    whatever the accounts). Failures are counted on the user and the address: commit them although this raises."""
    now = utcnow()
    refuse_if_address_limited(session, address, now)
    user = session.execute(select(StaffUser).where(StaffUser.username == username)).scalar_one_or_none()
    refuse_if_locked(user, now)
    try:
        password_hasher().verify(user.password_hash if user else dummy_hash(), password)
        ok = user is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        note_address_failure(session, address, "staff", now)
    if user is not None and not ok and note_failed_sign_in(user, now):
        audit.write(session, actor=actor_for_user(user), action="user.locked", object_type="staff_user",
                    object_id=user.id, detail={"username": user.username})
    if user is None or not ok or not user.active:
        raise Unauthenticated("auth.bad_credentials", "用户名或密码错误", "Wrong username or password")
    note_sign_in(user)
    if password_hasher().check_needs_rehash(user.password_hash):
        user.password_hash = password_hasher().hash(password)
    return user


@dataclass(frozen=True)
class IssuedSession:
    token: str  # shown once: the cookie / bearer value
    csrf_token: str
    expires_at: dt.datetime


def open_session(session: Session, user: StaffUser, *, hours: int) -> IssuedSession:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    expires = utcnow() + dt.timedelta(hours=hours)
    session.add(StaffSession(token_hash=_sha256(token), user_id=user.id, csrf_token=csrf, expires_at=expires))
    audit.write(session, actor=actor_for_user(user), action="user.sign_in", object_type="staff_user", object_id=user.id)
    return IssuedSession(token, csrf, expires)


def user_for_token(session: Session, token: str) -> tuple[StaffUser, StaffSession]:
    row = session.execute(
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.user_id)
        .where(StaffSession.token_hash == _sha256(token))
    ).first()
    if row is None:
        raise Unauthenticated("auth.bad_token", "登录已失效，请重新登录", "Invalid or expired session")
    staff_session, user = row
    if staff_session.revoked_at is not None or staff_session.expires_at <= utcnow() or not user.active:
        raise Unauthenticated("auth.bad_token", "登录已失效，请重新登录", "Invalid or expired session")
    return user, staff_session


def close_session(session: Session, token: str) -> None:
    for staff_session in session.execute(select(StaffSession).where(StaffSession.token_hash == _sha256(token))).scalars():
        staff_session.revoked_at = utcnow()


# -- API keys --------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedKey:
    key: str  # cx_<key_id>_<secret>: shown once, never stored
    key_id: str
    department_code: str
    expires_at: dt.datetime | None = None


def key_owner(departments: Collection[str], department: str | None, platform_uscc: str | None) -> str:
    """Whom a new key is for: one of ``departments``, or an e-commerce platform by its USCC — exactly one of the
    two (the USCC is validated and normalised: GB 32100)."""
    department, platform_uscc = (department or "").strip(), (platform_uscc or "").strip()
    if bool(department) == bool(platform_uscc):
        raise DomainError("api_key.owner", "请选择数据提供单位，或填写电商平台的统一社会信用代码（二者选一）",
                          "Give a department or a platform's USCC (one of the two)", field="department")
    if platform_uscc:
        return PLATFORM_PREFIX + normalize_uscc(platform_uscc)  # checks and gives feedback, never submits
    if department not in departments:
        raise DomainError("department.unknown", f"未知的数据提供单位：{department}", f"Unknown department {department}",
                          field="department")
    return department


def create_api_key(session: Session, *, department_code: str, label: str, actor: audit.Actor,
                   issue_token: str | None = None, expires_at: dt.datetime | None = None) -> IssuedKey:
    """A new key for ``department_code`` (a department, or ``platform:<USCC>``), refused from ``expires_at`` on
    (:func:`key_expiry`; None: no end).

    ``issue_token`` names the request it comes from (the portal form's one-time token, the API's
    ``Idempotency-Key``): the same token again — a refreshed page, a retried call — issues nothing and is
    refused with the key's id (409), because a key is shown once and a second one would go unnoticed.
    """
    require_key_manager(actor)
    token = (issue_token or "").strip()[:64] or None
    if token is not None:
        earlier = session.execute(select(ApiKey).where(ApiKey.issue_token == token)).scalar_one_or_none()
        if earlier is not None:
            raise DomainError(
                "api_key.already_issued",
                f"这次签发已经完成：密钥 {earlier.key_id} 已签发，完整密钥只在签发时显示一次。"
                "如未保存，请吊销它后重新签发",
                f"This request already issued key {earlier.key_id}; the whole key is shown once only. "
                "If it was not kept, revoke it and issue a new one", status=409)
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    session.add(ApiKey(key_id=key_id, secret_hash=_sha256(secret), department_code=department_code,
                       label=label or department_code, created_by=actor.label[:64], issue_token=token,
                       expires_at=expires_at))
    audit.write(session, actor=actor, action="api_key.create", object_type="api_key", object_id=key_id,
                detail={"department": department_code, "label": label,
                        "expires_at": expires_at.isoformat() if expires_at else None})
    return IssuedKey(f"cx_{key_id}_{secret}", key_id, department_code, expires_at)


def revoke_api_key(session: Session, key_id: str, *, actor: audit.Actor) -> ApiKey:
    """Revoke the key (revoking it again changes nothing); returns it."""
    key = session.execute(select(ApiKey).where(ApiKey.key_id == key_id)).scalar_one_or_none()
    if key is None:
        raise NotFound("api_key.not_found", f"API 密钥 {key_id} 不存在", f"No API key {key_id}")
    require_key_manager(actor)
    key.revoked_at = key.revoked_at or utcnow()
    audit.write(session, actor=actor, action="api_key.revoke", object_type="api_key", object_id=key_id)
    return key


def trusted_api_key(session: Session, presented: str) -> ApiKey:
    """The key a presented ``cx_<key_id>_<secret>`` is, if it may be used now; else 401 saying what is wrong."""
    parts = presented.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != "cx":
        raise Unauthenticated("auth.bad_api_key", "API 密钥格式错误", "Malformed API key")
    key = session.execute(select(ApiKey).where(ApiKey.key_id == parts[1])).scalar_one_or_none()
    if key is None or not hmac.compare_digest(key.secret_hash, _sha256(parts[2])):
        raise Unauthenticated("auth.bad_api_key", "API 密钥无效", "Invalid API key")
    if key.revoked_at is not None:
        raise Unauthenticated("auth.revoked_api_key", "API 密钥已被吊销", "This API key has been revoked")
    if key.expires_at is not None and key.expires_at <= utcnow():
        until = valid_until(key.expires_at)
        raise Unauthenticated("auth.expired_api_key",
                              f"API 密钥已过期（有效期至 {until}），请联系市信用办签发新密钥",
                              f"This API key expired (valid until {until}); ask the credit office for a new one")
    return key


def key_actor(key: ApiKey) -> audit.Actor:
    return audit.Actor(kind="api_key", name=key.key_id, role=None, department_code=key.department_code)


class ApiKeyCache:
    """API keys verified against the database at most once per ``ttl`` seconds per key and process, and their use.

    Every API-key request (record submissions, government reads, credit checks …) would otherwise cost a
    read of ``api_key`` — as much CPU as the credit check's own read. A revoked key keeps working for at
    most ``ttl`` seconds in a process that verified it just before (``settings.api_key_cache_seconds``;
    tests/api/test_checks_api.py and tests/api/test_auth_api.py prove it stops after the window).
    Failures are never cached. Keys are held by their SHA-256, never in clear.

    Each trusted use is noted in memory and written to ``api_key.last_used_at`` by a thread every
    ``use_interval`` seconds (and at :meth:`close`), never in the request: a write per request would put the
    checks behind SQLite's write lock. The administrator's page therefore lags other processes by up to
    that interval; this process's uses are written when the page asks (:meth:`write_uses`).
    """

    def __init__(self, db: Database, ttl: float = 5.0, clock: Callable[[], float] = time.monotonic,
                 use_interval: float = 60.0) -> None:
        self.db, self.ttl, self.clock, self.use_interval = db, ttl, clock, use_interval
        self._entries: dict[bytes, tuple[audit.Actor, float]] = {}
        self._used: dict[str, float] = {}  # key id → epoch seconds of its latest trusted use
        self._used_lock = threading.Lock()
        self._writing = threading.Lock()  # one writer at a time (the thread, a page, close)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._atexit = False

    def cached(self, presented: str) -> audit.Actor | None:
        """The actor if this key was verified within the window, without touching the database."""
        hit = self._entries.get(hashlib.sha256(presented.encode()).digest())
        if hit is not None and hit[1] > self.clock():
            self._note_use(hit[0].name)
            return hit[0]
        return None

    def actor(self, presented: str) -> audit.Actor:
        """The department actor for a presented key (401 as :func:`trusted_api_key` says)."""
        hit = self.cached(presented)
        if hit is not None:
            return hit
        digest = hashlib.sha256(presented.encode()).digest()
        now = self.clock()
        with self.db.read() as session:
            key = trusted_api_key(session, presented)
            actor, expires_at = key_actor(key), key.expires_at
        if self.ttl > 0:
            if len(self._entries) > 10_000:
                self._entries.clear()
            trust = self.ttl  # never past the key's own end
            if expires_at is not None:
                trust = min(trust, (expires_at - utcnow()).total_seconds())
            self._entries[digest] = (actor, now + trust)
        self._note_use(actor.name)
        return actor

    def _note_use(self, key_id: str) -> None:
        with self._used_lock:
            self._used[key_id] = time.time()
            if self._thread is None and self.use_interval > 0:
                self._stop = threading.Event()
                self._thread = threading.Thread(target=self._write_periodically, args=(self._stop,),
                                                name="chengxin-api-key-use", daemon=True)
                self._thread.start()
                if not self._atexit:
                    atexit.register(self.close)
                    self._atexit = True

    def _write_periodically(self, stop: threading.Event) -> None:
        while not stop.wait(self.use_interval):
            self.write_uses()

    def write_uses(self) -> int:
        """Write the uses noted since the last write (``last_used_at`` only moves forward); the number of keys.
        A failed write (e.g. the database busy for longer than its timeout) keeps them for the next one."""
        with self._writing:
            with self._used_lock:
                used, self._used = self._used, {}
            if not used:
                return 0
            try:
                with self.db.write() as session:
                    for key_id, at in sorted(used.items()):
                        when = dt.datetime.fromtimestamp(at, dt.UTC)
                        session.execute(update(ApiKey)
                                        .where(ApiKey.key_id == key_id,
                                               or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < when))
                                        .values(last_used_at=when))
            except Exception:
                log.warning("API key use: writing last_used_at of %d keys failed; kept for the next write",
                            len(used), exc_info=True)
                with self._used_lock:
                    for key_id, at in used.items():
                        self._used[key_id] = max(at, self._used.get(key_id, 0.0))
                return 0
            return len(used)

    def close(self) -> None:
        """Stop the writer thread and write what is noted (shutdown); a later use starts it again."""
        with self._used_lock:
            thread, self._thread = self._thread, None
            self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self.write_uses()


KEY_STATES = ("active", "expired", "revoked")


def _keys_where(department_code: str | None, state: str) -> list[ColumnElement[bool]]:
    if state and state not in KEY_STATES:
        raise DomainError("api_key.state", f"未知的密钥状态：{state}（可选 active、expired、revoked）",
                          f"Unknown key state {state} (active, expired or revoked)", field="state")
    where: list[ColumnElement[bool]] = []
    if department_code:
        where.append(ApiKey.department_code == department_code)
    now = utcnow()
    if state == "active":
        where += [ApiKey.revoked_at.is_(None), or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now)]
    elif state == "expired":
        where += [ApiKey.revoked_at.is_(None), ApiKey.expires_at <= now]
    elif state == "revoked":
        where.append(ApiKey.revoked_at.is_not(None))
    return where


def console_counts(session: Session, calendar: WorkCalendar, today: dt.date,
                   department_code: str | None) -> list[ConsoleLine]:
    """办理台 of the credit office: keys to replace — ending within :data:`RENEW_WITHIN_DAYS` days or ended and not
    revoked (a system still using one is being refused); "due soon" end within 2 working days. A department's
    console has no line: its keys are the office's to issue."""
    if department_code is not None:
        return []
    from chengxin.objections.rules import due_soon_limit

    now = utcnow()
    ended = ApiKey.expires_at <= now
    soon = (ApiKey.expires_at > now) & (ApiKey.expires_at <= end_of_day(due_soon_limit(calendar, today)))
    row = session.execute(
        select(func.count(), func.sum(case((soon, 1), else_=0)), func.sum(case((ended, 1), else_=0)))
        .where(ApiKey.revoked_at.is_(None), ApiKey.expires_at <= end_of_day(today + dt.timedelta(days=RENEW_WITHIN_DAYS)))
    ).one()
    return [ConsoleLine(label_zh=f"接口密钥 · {RENEW_WITHIN_DAYS} 天内到期或已过期", open=int(row[0]),
                        due_soon=int(row[1] or 0), overdue=int(row[2] or 0), link="/office/access?state=active")]


def list_api_keys(session: Session, department_code: str | None = None, *, state: str = "", offset: int = 0,
                  limit: int | None = None) -> list[ApiKey]:
    """Keys of one owner (or all), ``state`` "active" / "expired" / "revoked" / "" for all: not revoked first, newest
    first."""
    stmt = (select(ApiKey).where(*_keys_where(department_code, state))
            .order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc()))
    return list(session.execute(stmt.offset(offset).limit(limit)).scalars())


def key_owners(session: Session) -> list[str]:
    """Everyone who holds or held a key (department codes and ``platform:<USCC>``), for the page's filter."""
    return list(session.execute(select(ApiKey.department_code).distinct().order_by(ApiKey.department_code)).scalars())


def count_api_keys(session: Session, department_code: str | None = None, *, state: str = "") -> int:
    stmt = select(func.count()).select_from(ApiKey).where(*_keys_where(department_code, state))
    return session.execute(stmt).scalar_one()
