"""The table of consumer complaints about shops (电商投诉举报), as the hotlines' departments hand them over.

One row per (department, the department's own complaint number): a resubmission with the same content is
``unchanged``, with different content a correction of the row in place (the batch and the audit trail say who
changed it when). The row names the shop by id (resolved from the platform code and shop code at intake),
never the complainant: reporter protection is a property of the table (see ``rules``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chengxin.core.db import Base, BigId, UtcDateTime, utcnow

__all__ = ["EcComplaint"]


class EcComplaint(Base):
    """A complaint or report (投诉举报) about a shop, from one department's intake."""

    __tablename__ = "ec_complaint"
    __table_args__ = (
        UniqueConstraint("department_code", "source_complaint_id", name="uq_ec_complaint_department_code"),
        # The risk warning counts per shop and window; the assessment per platform and period.
        Index("ix_ec_complaint_shop_received", "shop_id", "received_at", "status"),
        Index("ix_ec_complaint_platform_received", "platform_id", "received_at", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    department_code: Mapped[str] = mapped_column(String(64))  # the source department (samr for 12315 …)
    source_complaint_id: Mapped[str] = mapped_column(String(64))  # the department's own number
    channel: Mapped[str] = mapped_column(String(32))  # 12315 | 12345 | 12312 | online | platform … (data file)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    platform_id: Mapped[int] = mapped_column(BigId, ForeignKey("ec_platform.id"))
    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("ec_shop.id"))
    source_order_id: Mapped[str | None] = mapped_column(String(64))  # the platform's order id, if named
    category: Mapped[str] = mapped_column(String(32))  # counterfeit | false_advertising | … (data file)
    status: Mapped[str] = mapped_column(String(24))  # received | handling | substantiated | not_substantiated | withdrawn
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    summary: Mapped[str | None] = mapped_column(String(2000))  # short; the dated rule sets the limit (≤ 2000)
    content_hash: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[int] = mapped_column(BigId, ForeignKey("ingest_batch.id"))  # the last batch that wrote it
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
