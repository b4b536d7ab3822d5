"""Tables of objections (异议), the notices telling the subject of their progress, and the history of
statements (本人声明). Every state change of an objection is also a ``case_event`` (core.workflow)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from chengxin.core.db import Base, BigId, UtcDateTime


class Objection(Base):
    """One objection to one record. Deadlines are Beijing dates counted in working days; ``due_on`` is
    the deadline of the current stage (what the queues sort by and the console counts)."""

    __tablename__ = "objection"
    __table_args__ = (
        Index("ix_objection_record", "record_id"),
        Index("ix_objection_subject", "subject_id"),
        Index("ix_objection_queue", "department_code", "state", "due_on"),
        Index("ix_objection_state_due", "state", "due_on"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    department_code: Mapped[str] = mapped_column(String(64))
    item_code: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str] = mapped_column(String(64))
    record_version: Mapped[int] = mapped_column(Integer)  # the version objected to
    grounds: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(32))
    filed_by: Mapped[str] = mapped_column(String(128))
    filed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    filed_on: Mapped[dt.date] = mapped_column(Date)
    check_due: Mapped[dt.date] = mapped_column(Date)
    forward_due: Mapped[dt.date] = mapped_column(Date)
    cap_due: Mapped[dt.date] = mapped_column(Date)  # the whole first level, extension included
    forwarded_on: Mapped[dt.date | None] = mapped_column(Date)
    extended_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    contest_due: Mapped[dt.date | None] = mapped_column(Date)
    contested_on: Mapped[dt.date | None] = mapped_column(Date)
    contest_reason: Mapped[str | None] = mapped_column(Text)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    due_on: Mapped[dt.date | None] = mapped_column(Date)  # deadline of the current stage (None: nobody owes an act)
    due_estimated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    check_note: Mapped[str | None] = mapped_column(Text)  # the platform check: what was compared, what was found
    outcome: Mapped[str | None] = mapped_column(String(16))  # corrected | revoked | upheld | unverifiable | withdrawn
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    outcome_by: Mapped[str | None] = mapped_column(String(128))
    review_outcome: Mapped[str | None] = mapped_column(String(16))  # confirmed | corrected | revoked
    review_reason: Mapped[str | None] = mapped_column(Text)
    review_by: Mapped[str | None] = mapped_column(String(128))
    corrected_version: Mapped[int | None] = mapped_column(Integer)  # the record version the correction wrote
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ObjectionNotice(Base):
    """What the subject was told (receipt, answer, review): shown on /me and in the API."""

    __tablename__ = "objection_notice"
    __table_args__ = (Index("ix_objection_notice_subject", "subject_id", "id"),
                      Index("ix_objection_notice_objection", "objection_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    objection_id: Mapped[int] = mapped_column(ForeignKey("objection.id"))
    subject_id: Mapped[int] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(16))  # filed | decided | reviewed | withdrawn
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class RecordStatement(Base):
    """One version of a subject's statement on a record (本人声明); ``text`` None: withdrawn.
    The current one is copied to ``record.statement``, which the files and reports show."""

    __tablename__ = "record_statement"
    __table_args__ = (Index("ix_record_statement_record", "record_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"))
    subject_id: Mapped[int] = mapped_column(BigId)
    action: Mapped[str] = mapped_column(String(16))  # set | replace | withdraw
    text: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
