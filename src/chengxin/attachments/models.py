"""Attachments, encrypted at rest (they often carry personal data), with their SHA-256."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from chengxin.core.db import Base, BigId, UtcDateTime


class Attachment(Base):
    __tablename__ = "attachment"
    __table_args__ = (Index("ix_attachment_owner", "owner_type", "owner_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(32))  # objection | repair | complaint | interview …
    owner_id: Mapped[int] = mapped_column(BigId)
    filename: Mapped[str] = mapped_column(String(120))
    mime: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    key_version: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)  # AES-256-GCM, AAD binds owner + sha256
    uploaded_by: Mapped[str] = mapped_column(String(128))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
