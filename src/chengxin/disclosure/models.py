"""Tables of disclosure: the query log (查询使用登记).

``query_log`` is append-only: every read of a subject's file by someone other than the public
(a department, a requester, the person) leaves one row — who, whose, when, purpose, and the
consent or legal basis. Rows are kept at least 5 years (RULES §6) and nobody may change them:
the migration installs triggers that refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL).

The record's own display state (``record.display_stopped_on``) lives on the record head
(``records/models.py``); the display end date is computed from the catalog when a file is read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chengxin.core.db import Base, BigId, JsonDoc, UtcDateTime, utcnow

READER_KINDS = ("staff", "api_key", "requester", "person", "public")
CHANNELS = ("api", "portal", "report")


class QueryLog(Base):
    __tablename__ = "query_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    # No foreign key: the log outlives anything else and is never cascaded.
    subject_id: Mapped[int] = mapped_column(BigId, index=True)
    reader_kind: Mapped[str] = mapped_column(String(16))  # staff | api_key | requester | person | public
    reader_name: Mapped[str] = mapped_column(String(200))  # username, key id, organisation name
    reader_department: Mapped[str | None] = mapped_column(String(64))  # department code (staff, API keys)
    requester_uscc: Mapped[str | None] = mapped_column(String(18))  # the requesting organisation (consent)
    purpose: Mapped[str] = mapped_column(Text)
    basis: Mapped[str] = mapped_column(Text)  # consent id, or the legal basis
    channel: Mapped[str] = mapped_column(String(16))  # api | portal | report
    detail: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
