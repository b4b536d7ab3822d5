"""信用记录 — records, their versions (the ledger), ingest batches and rejected rows.

- ``record`` is the head: one row per (department, source id), pointing at its current version.
- ``record_version`` keeps every version ever written; nothing is updated or deleted there.
  Its ``id`` is the ledger sequence number and ``chain_hash`` links it to the previous
  version (``ledger/``), so editing, inserting or removing a row behind the application's
  back is detected by ``chengxin verify``.
- Ids of both are allocated by the ingest under the ledger lock (contiguous, no gaps), which
  is what lets the ledger see a removed row as a gap.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from chengxin.core.db import Base, BigId, JsonDoc, JsonText, UtcDateTime, utcnow


class Record(Base):
    __tablename__ = "record"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(64))
    department_code: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)  # number of the current version
    version_id: Mapped[int] = mapped_column(BigId)  # record_version.id of the current version
    status: Mapped[str] = mapped_column(String(16))  # active | revoked
    category: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str | None] = mapped_column(String(16))
    decision_date: Mapped[dt.date] = mapped_column(Date)
    content_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    # 停止公示: from this day the record is no longer displayed (kept, never deleted; issue #4 sets it).
    display_stopped_on: Mapped[dt.date | None] = mapped_column(Date)
    # 信用告知: a record of an item that needs a notice is not displayed before this day (issue #4 §4).
    display_from: Mapped[dt.date | None] = mapped_column(Date)
    # 异议中: an objection is open; shown with the record wherever it is displayed (issue #4 §1).
    under_objection: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # 本人声明: the subject's own statement, shown with the record in files and reports.
    statement: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("department_code", "source_id", name="uq_record_department_source"),
    )


class RecordVersion(Base):
    __tablename__ = "record_version"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)  # ledger sequence
    record_id: Mapped[int] = mapped_column(BigId)  # indexed by uq(record_id, version)
    # A subject's history is reached through record.subject_id: one index less to keep on the hot path.
    subject_id: Mapped[int] = mapped_column(BigId)
    version: Mapped[int] = mapped_column(Integer)
    change: Mapped[str] = mapped_column(String(16))  # create | correct | revoke
    item_code: Mapped[str] = mapped_column(String(64))
    item_version: Mapped[str] = mapped_column(String(32))
    department_code: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str | None] = mapped_column(String(16))
    decision_date: Mapped[dt.date] = mapped_column(Date)
    fields: Mapped[dict[str, Any]] = mapped_column(JsonText)
    reason: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    chain_hash: Mapped[bytes] = mapped_column(LargeBinary(32))

    __table_args__ = (UniqueConstraint("record_id", "version", name="uq_record_version_record_version"),)


class IngestBatch(Base):
    """One submission (API batch, uploaded file, CLI file) and its receipt counts."""

    __tablename__ = "ingest_batch"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    department_code: Mapped[str] = mapped_column(String(64), index=True)
    item_code: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))  # api | file | cli | demo
    filename: Mapped[str | None] = mapped_column(String(255))
    file_format: Mapped[str | None] = mapped_column(String(8))
    actor: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    received: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)  # new records
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    corrected: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[list[Any]] = mapped_column(JsonDoc, default=list)


class IngestRejection(Base):
    """One problem with one rejected row (a row with three problems has three of these)."""

    __tablename__ = "ingest_rejection"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batch.id"), index=True)
    row_no: Mapped[int] = mapped_column(Integer)
    source_id: Mapped[str | None] = mapped_column(String(64))
    field: Mapped[str | None] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text)
