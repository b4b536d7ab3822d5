"""Issued credit reports: enough to verify a report online and to re-render it (no PDF bytes)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chengxin.core.db import Base, BigId, UtcDateTime


class CreditReport(Base):
    """One issued report. The verification code is printed on the report; only its hash is kept."""

    __tablename__ = "credit_report"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_no: Mapped[str] = mapped_column(String(32), unique=True)
    subject_id: Mapped[int] = mapped_column(BigId, index=True)
    audience: Mapped[str] = mapped_column(String(16))
    requester: Mapped[str | None] = mapped_column(String(200), nullable=True)
    generated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    content_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    key_id: Mapped[str] = mapped_column(String(32))
    verification_code_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    content: Mapped[str] = mapped_column(Text)  # the canonical JSON that was signed
