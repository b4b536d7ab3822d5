"""Staff users, their portal sessions, and department API keys."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column

from chengxin.core.db import Base, BigId, UtcDateTime, utcnow


class StaffUser(Base):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id
    role: Mapped[str] = mapped_column(String(20))  # admin | credit_office | clerk
    department_code: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    # set by whoever else chose the password (an administrator opening the account or resetting it): its owner
    # changes it before anything else (accounts.service.change_password)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # in a row (登录失败处理)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class StaffSession(Base):
    """An opaque bearer token (portal cookie or API ``Authorization: Bearer``), stored hashed."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class ApiKey(Base):
    """A department's (or platform's) API key: ``cx_<key_id>_<secret>``; only SHA-256 of the secret is kept."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    department_code: Mapped[str] = mapped_column(String(64), index=True)
    label: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)  # 有效期: refused from then on; NULL: no end
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)  # written behind requests (ApiKeyCache)
    issue_token: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)  # the form / Idempotency-Key it came from


class SignInFailure(Base):
    """One failed sign-in (staff or person) by the client address it came from (登录失败处理): counted per address
    over ``sign_in.address_window_minutes`` (accounts.sign_in). Never the username or citizen ID tried — only
    where it came from, which door and when; refusals of an address already over its limit are not rows (so an
    attacker cannot grow the table faster than the limit allows)."""

    __tablename__ = "sign_in_failure"
    __table_args__ = (Index("ix_sign_in_failure_address_at", "address", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    address: Mapped[str] = mapped_column(String(64))  # the client's IP address as the server saw it
    realm: Mapped[str] = mapped_column(String(16))  # staff | person
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
