"""Table of signed credit commitments (信用承诺).

One row per commitment signed: what template and version it was filled from, the exact filled text
and its SHA-256 (anyone can recompute it from the text shown on the public page), the matter, the
accepting department, who signed through which channel, validity, and — when it is broken — the
finding and the negative record (catalog item ``commitment_breach``) it became. Every change of
``state`` is in ``case_event`` (``core.workflow``, case type ``commitment``) with who, role and why.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chengxin.core.db import Base, BigId, UtcDateTime


class Commitment(Base):
    __tablename__ = "commitment"
    __table_args__ = (
        Index("ix_commitment_subject", "subject_id", "id"),
        # 信用承诺公示: the newest public ones first, per kind.
        Index("ix_commitment_public_kind", "public", "template_code", "id"),
        Index("ix_commitment_department_state", "department_code", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    no: Mapped[str] = mapped_column(String(32), unique=True)  # 公开编号 CN-<year>-<id>-<check>
    subject_id: Mapped[int] = mapped_column(BigId, ForeignKey("subject.id"))
    subject_kind: Mapped[str] = mapped_column(String(20))
    template_code: Mapped[str] = mapped_column(String(32))  # the kind (templates.yaml code)
    template_version: Mapped[str] = mapped_column(String(16))
    matter: Mapped[str] = mapped_column(String(200))  # 承诺事项
    text: Mapped[str] = mapped_column(Text)  # the filled text, exactly as signed
    text_sha256: Mapped[str] = mapped_column(String(64))
    department_code: Mapped[str] = mapped_column(String(64))  # 受理单位
    channel: Mapped[str] = mapped_column(String(16))  # online | representative | paper
    signed_by: Mapped[str] = mapped_column(String(128))  # actor label (person:<account>, staff:<user>, api_key:<id>)
    document_no: Mapped[str | None] = mapped_column(String(64))  # the paper commitment's number (paper channel)
    signed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    signed_on: Mapped[dt.date] = mapped_column(Date)  # Beijing date of signing
    valid_until: Mapped[dt.date | None] = mapped_column(Date)  # inclusive; None: 长期
    public: Mapped[bool] = mapped_column(Boolean)  # displayed publicly (decided at signing from the template)
    state: Mapped[str] = mapped_column(String(16))
    state_on: Mapped[dt.date | None] = mapped_column(Date)  # the day of the last change of state
    breach_facts: Mapped[str | None] = mapped_column(Text)
    breach_document_no: Mapped[str | None] = mapped_column(String(64))  # 认定文书号
    breach_department: Mapped[str | None] = mapped_column(String(64))  # who found the breach
    breach_record_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("record.id"))
