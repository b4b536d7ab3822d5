"""Table of abnormal-access alerts (异常访问告警), raised by ``chengxin monitor scan``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chengxin.core.db import Base, BigId, JsonDoc, UtcDateTime, utcnow

STATUSES = ("open", "acknowledged")


class AccessAlert(Base):
    __tablename__ = "access_alert"
    # Re-running a scan over the same window finds the same (kind, reader, first_at): no duplicates.
    __table_args__ = (UniqueConstraint("kind", "reader", "first_at", name="uq_access_alert_kind_reader_first_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # distinct_persons | off_hours | missing_purpose | failed_consent | locked_account | failed_sign_in
    reader: Mapped[str] = mapped_column(String(256))  # "staff:alice", "api_key:…", "requester:…"
    severity: Mapped[str] = mapped_column(String(16))  # low | medium | high
    first_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    count: Mapped[int] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)  # evidence sample, rule version
    raised_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | acknowledged
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
