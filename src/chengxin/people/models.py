"""Person accounts (自然人账户) bound to a verified identity, and their portal sessions.

No citizen ID or name is stored here: the login key is the blind index of the citizen ID (the
same ``person:<ric>`` index the subject table uses), the TOTP secret is AES-GCM encrypted with
the keyring, its associated data bound to the account id.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from chengxin.core.db import Base, BigId, UtcDateTime, utcnow


class PersonAccount(Base):
    __tablename__ = "person_account"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject_id: Mapped[int] = mapped_column(BigId, ForeignKey("subject.id"), unique=True)
    login_index: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)  # blind index of the citizen ID
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id
    totp_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)  # nonce || AES-GCM(secret), AAD = account id
    totp_key_version: Mapped[int | None] = mapped_column(Integer)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_step: Mapped[int | None] = mapped_column(BigId)  # last accepted 30-s step: a code is used once
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class PersonSession(Base):
    """A person's portal session (cookie ``cx_person``); only SHA-256 of the token is kept."""

    __tablename__ = "person_session"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("person_account.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
