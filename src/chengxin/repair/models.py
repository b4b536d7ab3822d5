"""Table of credit repair applications (信用修复申请).

One row per application, refused ones included (kept with every reason). The row carries the
current state, the deadlines and the signed commitment; the history of every state change (who,
role, when, why) is in ``case_event`` (``core.workflow``), the uploaded files in ``attachment``
(owner types ``repair.proof`` / ``repair.training`` / ``repair.rectification`` / ``repair.credit_report``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from chengxin.core.db import Base, BigId, JsonDoc, UtcDateTime


class RepairApplication(Base):
    __tablename__ = "repair_application"
    __table_args__ = (
        Index("ix_repair_application_department_state", "department_code", "state"),
        Index("ix_repair_application_subject_item", "subject_id", "item_code"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    record_id: Mapped[int] = mapped_column(BigId, ForeignKey("record.id"), index=True)
    subject_id: Mapped[int] = mapped_column(BigId, ForeignKey("subject.id"))
    # The record's source department decides (深圳条例第八十二条); the credit office relays and watches.
    department_code: Mapped[str] = mapped_column(String(64))
    item_code: Mapped[str] = mapped_column(String(64))
    item_version: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    applied_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    applied_by: Mapped[str] = mapped_column(String(128))  # person:<account id> (the subject or its representative)
    note: Mapped[str | None] = mapped_column(Text)  # the applicant's account of the correction
    training_record: Mapped[str | None] = mapped_column(String(100))  # 培训记录编号, where no certificate is attached
    # 信用承诺书: the version signed, the SHA-256 of its exact text, and when (None: not signed).
    commitment_version: Mapped[str | None] = mapped_column(String(16))
    commitment_sha256: Mapped[str | None] = mapped_column(String(64))
    commitment_signed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # Refused at once: every reason, as {code, message, message_en, clause, kind}.
    refusals: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    # Deadlines (Beijing dates). due_on: the department's decision; answer_due_on: the platform's total.
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    answer_due_on: Mapped[dt.date | None] = mapped_column(Date)
    # True when a deadline crossed a year without a published holiday schedule (weekdays assumed).
    due_estimated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    extended_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decision_reason: Mapped[str | None] = mapped_column(Text)  # rejection reason (or extension reason)
    display_stopped_on: Mapped[dt.date | None] = mapped_column(Date)  # what the approval set on the record
