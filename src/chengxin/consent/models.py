"""Tables of consent (授权): a person's grants to named requesters, each use, and failed attempts.

Only a keyed hash (HMAC with the keyring's index key) of a consent code is stored: the code is
shown once to the person, who hands it to the requester. ``consent_attempt`` keeps every read
attempt by a requester (successful or not) for rate limiting — counted in the database so the
limit holds across workers — and for the abnormal-access monitor (``failed_consent`` rule).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chengxin.core.db import Base, BigId, JsonDoc, UtcDateTime, utcnow


class Consent(Base):
    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)  # 授权编号, shown to both sides and logged
    subject_id: Mapped[int] = mapped_column(BigId, ForeignKey("subject.id"), index=True)
    requester_uscc: Mapped[str] = mapped_column(String(18))
    purpose: Mapped[str] = mapped_column(String(200))  # one of rules.PURPOSES; 其他 carries the person's text
    categories: Mapped[list[str]] = mapped_column(JsonDoc)  # basic | positive | negative
    single_use: Mapped[bool] = mapped_column(Boolean)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)  # inclusive Beijing date; None for single use
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    consumed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)  # single use: when it was used


class ConsentUse(Base):
    """One read of a person's file under a consent (the person sees each)."""

    __tablename__ = "consent_use"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    consent_id: Mapped[int] = mapped_column(BigId, ForeignKey("consent.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    requester_uscc: Mapped[str] = mapped_column(String(18))
    requester_name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(200))
    items: Mapped[int] = mapped_column(Integer)


class ConsentAttempt(Base):
    """A requester's read attempt: ``ok`` or the reason it failed (never anything about the person)."""

    __tablename__ = "consent_attempt"
    __table_args__ = (
        Index("ix_consent_attempt_requester_at", "requester", "at"),
        Index("ix_consent_attempt_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    requester: Mapped[str] = mapped_column(String(32))  # normalised USCC, or the raw value (truncated) if invalid
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(32))  # ok | unknown_code | wrong_requester | … | rate_limited
    ip: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
