"""Signed checkpoints of the record ledger."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from chengxin.core.db import Base, BigId, UtcDateTime


class LedgerHead(Base):
    """A single row that every ledger writer locks first: writes to the chain are serial."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigId)
    last_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    last_record_id: Mapped[int] = mapped_column(BigId)
    last_subject_id: Mapped[int] = mapped_column(BigId)


class LedgerCheckpoint(Base):
    """Ed25519 signature over (sequence, chain hash) at the end of every batch."""

    __tablename__ = "ledger_checkpoint"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seq: Mapped[int] = mapped_column(BigId, index=True)
    chain_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    key_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
