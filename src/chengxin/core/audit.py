"""The audit log: who did what to which subject, when, and why (purpose / legal basis).

Written by services in the same transaction as the change it describes. Every read of
personal data writes one too (DESIGN.md: "every read of personal data leaves a trace").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from chengxin.core.db import Base, BigId, JsonDoc, UtcDateTime, utcnow


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a staff user, a department API key, the CLI or the system itself."""

    kind: str  # staff | api_key | cli | system
    name: str  # username, key id, OS user…
    role: str | None = None  # admin | credit_office | clerk (staff), None otherwise
    department_code: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"


SYSTEM = Actor(kind="system", name="chengxin")


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    department_code: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[int | None] = mapped_column(BigId, index=True)
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)


def write(
    session: Session,
    *,
    actor: Actor,
    action: str,
    subject_id: int | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    purpose: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit event to the current transaction."""
    session.add(
        AuditEvent(
            actor=actor.label,
            department_code=actor.department_code,
            action=action,
            subject_id=subject_id,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            purpose=purpose,
            detail=detail or {},
        )
    )
