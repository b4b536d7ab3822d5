"""信用主体 — the subjects of credit records.

One table for every kind (person, organization; later shop, platform, logistics firm,
courier) so every record refers to one ``subject_id`` — the key a distributed PostgreSQL
shards on (DESIGN.md, scale-out path).

Persons' identifiers never appear in clear: ``id_cipher``/``name_cipher`` hold AES-GCM
ciphertext, ``lookup_index`` the HMAC blind index of ``kind:identifier``, ``name_index`` the
blind index of the name (for real-name checks), and the ``display_*`` columns the masked
forms. Organisations' codes and names are public information and are displayed in full.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, LargeBinary, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from chengxin.core.db import Base, BigId, UtcDateTime, utcnow


class Subject(Base):
    __tablename__ = "subject"
    __table_args__ = (
        # Public search (chengxin.search): exact / prefix look-ups of organisations by name and by USCC.
        # The substring index (the name-bigram table and its triggers) lives in migration 0008 and
        # chengxin.search.schema.
        Index("ix_subject_kind_display_name", "kind", "display_name"),
        Index("ix_subject_kind_display_id", "kind", "display_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(20))
    lookup_index: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    id_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    name_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    name_index: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    key_version: Mapped[int | None] = mapped_column(SmallInteger)
    display_id: Mapped[str] = mapped_column(String(32))  # masked RIC, or the USCC in full
    display_name: Mapped[str] = mapped_column(String(200))  # masked name, or the organisation's name
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
