"""The audit log: who did what to which subject, when, and why (purpose / legal basis).

Written by services in the same transaction as the change it describes. Every read of
personal data writes one too (DESIGN.md: "every read of personal data leaves a trace").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, Text, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from chengxin.core.clock import day_start_utc
from chengxin.core.db import Base, BigId, JsonDoc, UtcDateTime, utcnow
from chengxin.core.errors import DomainError


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


# -- reading the log (审计日志: /office/audit, GET /api/v1/audit) ---------------------------------------

# What the log is looked through by: an action's family (its prefix) and the words for it. An action not named
# here is shown by its code.
ACTION_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "access": ("账号与密钥", ("user.", "api_key.", "audit.")),
    "records": ("归集与记录", ("records.", "record.", "statement.")),
    "reads": ("个人信息查阅", ("subject.look_up", "objection.read", "list_entry.read", "commitment.read",
                               "attachment.read", "ec_finding.identity_read", "consent.")),
    "lists": ("名单与核查", ("list_entry.", "lists.", "check.", "alert.")),
    "people": ("个人账户", ("person.", "org_link.")),
    "other": ("评分、电商、订阅与日历", ("scores.", "ec_", "subscription.", "calendar.", "report.", "notice.")),
}
ACTION_ZH: dict[str, str] = {
    "user.sign_in": "登录", "user.create": "新建账号", "user.activate": "启用账号", "user.deactivate": "停用账号",
    "user.reset_password": "重置密码", "user.change_password": "本人修改密码", "user.locked": "登录失败过多，账号锁定",
    "user.unlock": "解除账号锁定", "user.release_address": "解除网络地址登录限制",
    "api_key.create": "签发接口密钥", "api_key.revoke": "吊销接口密钥",
    "records.ingest": "报送一批记录", "record.revoke": "撤销记录", "record.stop_display": "停止公示",
    "subject.look_up": "按证件号查询主体", "report.issue": "出具信用报告",
    "person.register": "个人注册", "person.sign_in": "个人登录", "person.locked": "个人账户锁定",
    "consent.grant": "授权查询", "consent.revoke": "撤回授权", "calendar.set_year": "录入节假日安排",
    "audit.export": "导出审计日志",
}
COUNT_CAP = 10_000  # counted exactly up to here; beyond, "more than" (the log grows without end)


@dataclass(frozen=True)
class AuditFilter:
    """Which events: a family of actions (:data:`ACTION_GROUPS`), an actor (``staff:wang``, or any part of it),
    a department, an object (``api_key`` and its id), Beijing days."""

    group: str = ""
    actor: str = ""
    department: str = ""
    object_type: str = ""
    object_id: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def where(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if self.group in ACTION_GROUPS:
            prefixes = ACTION_GROUPS[self.group][1]
            where.append(or_(*(AuditEvent.action.startswith(p, autoescape=True) for p in prefixes)))
        if self.actor:
            where.append(AuditEvent.actor.contains(self.actor, autoescape=True))
        if self.department:
            where.append(AuditEvent.department_code == self.department)
        if self.object_type:
            where.append(AuditEvent.object_type == self.object_type)
        if self.object_id:
            where.append(AuditEvent.object_id == self.object_id)
        if self.since is not None:
            where.append(AuditEvent.at >= self.since)
        if self.until is not None:
            where.append(AuditEvent.at < self.until)
        return where


def beijing_days(since: dt.date | None, until: dt.date | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Beijing days, both included, as UTC instants for :class:`AuditFilter` (until: the midnight after)."""
    if since and until and since > until:
        raise DomainError("audit.dates", "起始日期晚于截止日期", "The first day is after the last", field="since")
    start = day_start_utc(since) if since else None
    end = day_start_utc(until + dt.timedelta(days=1)) if until else None
    return start, end


def find_events(session: Session, what: AuditFilter, *, offset: int, limit: int) -> tuple[list[AuditEvent], int]:
    """Events newest first, and how many there are — counted up to :data:`COUNT_CAP` (then ``COUNT_CAP + 1``)."""
    where = what.where()
    rows = session.execute(select(AuditEvent).where(*where).order_by(AuditEvent.id.desc())
                           .offset(offset).limit(limit)).scalars().all()
    capped = select(AuditEvent.id).where(*where).limit(COUNT_CAP + 1).subquery()
    total = session.execute(select(func.count()).select_from(capped)).scalar_one()
    return list(rows), total


EXPORT_CAP = 100_000  # events in one download: a wider range is narrowed first (the page says how many match)


def iter_events(session: Session, what: AuditFilter, *, cap: int | None = None, slice_rows: int = 2000
                ) -> Iterator[AuditEvent]:
    """Matching events newest first, at most ``cap`` (:data:`EXPORT_CAP`), read ``slice_rows`` at a time by id
    (no offset scans)."""
    where, below, left = what.where(), None, EXPORT_CAP if cap is None else cap
    while left > 0:
        stmt = select(AuditEvent).where(*where)
        if below is not None:
            stmt = stmt.where(AuditEvent.id < below)
        chunk = session.execute(stmt.order_by(AuditEvent.id.desc()).limit(min(slice_rows, left))).scalars().all()
        yield from chunk
        if len(chunk) < min(slice_rows, left):
            return
        below, left = chunk[-1].id, left - len(chunk)
