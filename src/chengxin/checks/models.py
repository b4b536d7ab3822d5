"""Tables of the credit check (联合奖惩核查).

- ``credit_check``: one row per check (single or batch): who asked (department or platform key), when,
  in which scenario, about which subject (masked form only; the subject id when known), and what was
  answered (lists in force, measures returned). Written behind the request in batches
  (:mod:`chengxin.checks.log`); the id is made in process so the caller has it at once.
- ``check_feedback``: the answer of the checking department — which of the returned measures it
  applied, to which case, with what outcome (one per check).
- ``check_batch``: a batch check of an uploaded file; its result file is kept encrypted (it carries the
  identifiers as the caller gave them).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chengxin.core.db import Base, BigId, JsonDoc, UtcDateTime, utcnow

# Outcomes a feedback may report (反馈结果).
OUTCOMES = {"applied": "已实施", "partially_applied": "部分实施", "not_applied": "未实施"}


class CreditCheck(Base):
    __tablename__ = "credit_check"
    __table_args__ = (
        Index("ix_credit_check_department_at", "department_code", "at"),
        Index("ix_credit_check_batch", "batch_id"),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True)  # time-ordered hex, made in process
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    day: Mapped[dt.date] = mapped_column(Date)  # the Beijing date the memberships and measures were read for
    department_code: Mapped[str] = mapped_column(String(64))  # a department code or platform:<USCC>
    caller: Mapped[str] = mapped_column(String(128))  # actor label (api_key:<key id>, cli:<user>)
    scenario: Mapped[str] = mapped_column(String(48))
    # No foreign key: like the query log, the check log outlives and is never cascaded.
    subject_id: Mapped[int | None] = mapped_column(BigId)
    subject_kind: Mapped[str] = mapped_column(String(20))
    display_id: Mapped[str] = mapped_column(String(32))  # masked citizen ID, or the USCC
    found: Mapped[bool] = mapped_column(Boolean)
    hit: Mapped[bool] = mapped_column(Boolean)  # at least one list membership in force
    lists: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    measures: Mapped[list[str]] = mapped_column(JsonDoc, default=list)  # codes returned
    batch_id: Mapped[int | None] = mapped_column(BigId)
    row_no: Mapped[int | None] = mapped_column(Integer)


class CheckFeedback(Base):
    __tablename__ = "check_feedback"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    check_id: Mapped[str] = mapped_column(String(24), ForeignKey("credit_check.id"), unique=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    department_code: Mapped[str] = mapped_column(String(64))
    caller: Mapped[str] = mapped_column(String(128))
    case_no: Mapped[str] = mapped_column(String(64))  # the department's case (办件编号)
    measures_applied: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    outcome: Mapped[str] = mapped_column(String(20))  # applied | partially_applied | not_applied
    result: Mapped[str | None] = mapped_column(Text)  # e.g. 不予许可, 取消投标资格, 绿色通道办结
    note: Mapped[str | None] = mapped_column(Text)


class CheckBatch(Base):
    __tablename__ = "check_batch"
    __table_args__ = (Index("ix_check_batch_department", "department_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    department_code: Mapped[str] = mapped_column(String(64))
    caller: Mapped[str] = mapped_column(String(128))
    scenario: Mapped[str] = mapped_column(String(48))
    filename: Mapped[str] = mapped_column(String(200))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    found: Mapped[int] = mapped_column(Integer, default=0)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[int] = mapped_column(Integer, default=0)  # milliseconds would be noise: whole seconds
    # The result CSV (UTF-8 with BOM), gzip-compressed and AES-GCM encrypted (it repeats the identifiers
    # as given): see chengxin.checks.batch.
    result_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    key_version: Mapped[int | None] = mapped_column(SmallInteger)
