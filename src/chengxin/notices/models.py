"""Tables of credit notices (信用告知), integrity interviews (诚信约谈) and complaints (投诉).

Each row is the current state of one case; its history (who moved it, when, why) is in
``case_event`` (``core.workflow``), its files in ``attachment`` (owner_type = the case type).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from chengxin.core.db import Base, BigId, JsonDoc, UtcDateTime, utcnow


class CreditNotice(Base):
    """信用告知书: told to the subject before a record of a notice-required item is displayed.

    Matching a record to its notice (``notices.hold``): same department, item and subject, and —
    when the notice names one — the record's source id. One notice covers at most one record
    (``record_id``, unique), linked whichever comes first, the notice or the record.
    """

    __tablename__ = "credit_notice"
    __table_args__ = (
        Index("ix_credit_notice_match", "department_code", "item_code", "subject_id"),
        Index("ix_credit_notice_subject", "subject_id"),
        Index("ix_credit_notice_state", "state", "department_code"),
        UniqueConstraint("record_id", name="uq_credit_notice_record_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    notice_no: Mapped[str] = mapped_column(String(32), unique=True)  # 告知书编号
    department_code: Mapped[str] = mapped_column(String(64))
    item_code: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    source_id: Mapped[str | None] = mapped_column(String(64))  # the record's source id, when known
    facts: Mapped[str] = mapped_column(Text)  # 事实
    obligation: Mapped[str] = mapped_column(Text)  # 应履行的义务（如补缴税款）
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))  # 涉及金额（元）
    state: Mapped[str] = mapped_column(String(16))
    issued_on: Mapped[dt.date] = mapped_column(Date)
    response_due: Mapped[dt.date] = mapped_column(Date)  # last day to reply (working days)
    due_estimated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    decide_due: Mapped[dt.date | None] = mapped_column(Date)  # last day for the department's decision
    issued_by: Mapped[str] = mapped_column(String(128))
    reply: Mapped[str | None] = mapped_column(Text)  # 陈述申辩 or the statement of fulfilment
    replied_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    decision: Mapped[str | None] = mapped_column(Text)  # the department's opinion when recording / withdrawing
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    record_id: Mapped[int | None] = mapped_column(BigId)  # the record it covers (no FK: records are never deleted)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class Interview(Base):
    """诚信约谈 scheduled by the credit office with a subject."""

    __tablename__ = "interview"
    __table_args__ = (Index("ix_interview_subject", "subject_id"), Index("ix_interview_state", "state"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    scheduled_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    place: Mapped[str] = mapped_column(String(200))
    participants: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    record_ids: Mapped[list[Any]] = mapped_column(JsonDoc, default=list)  # the related records
    state: Mapped[str] = mapped_column(String(16))
    minutes: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(16))  # commitment | no_action | referred
    outcome_note: Mapped[str | None] = mapped_column(Text)
    scheduled_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class Complaint(Base):
    """投诉: a subject complains about how an objection or a repair was handled.

    The case is referenced loosely by (case_type, case_id) — the objections and repair features own
    their tables; a complaint only needs the case to exist in the case history.
    """

    __tablename__ = "complaint"
    __table_args__ = (Index("ix_complaint_subject", "subject_id"), Index("ix_complaint_state", "state"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    case_type: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int] = mapped_column(BigId)
    content: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    received_on: Mapped[dt.date] = mapped_column(Date)
    answer_due: Mapped[dt.date] = mapped_column(Date)
    due_estimated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    answer: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(16))  # upheld | partly_upheld | not_upheld
    answered_on: Mapped[dt.date | None] = mapped_column(Date)
    filed_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
