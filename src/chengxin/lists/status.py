"""The precomputed list status of a subject and the change feed — kept in step with every entry change.

Every service function that changes a ``list_entry``'s state calls :func:`entry_changed` in the
same transaction: it appends the change to ``list_change`` (subscriptions deliver from it) and
rebuilds the subject's ``subject_list_status`` row (the credit check's one read).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from chengxin.core.db import utcnow
from chengxin.lists.models import LISTED, ListChange, ListEntry, SubjectListStatus


def membership_of(entry: ListEntry) -> dict[str, Any]:
    """The membership as the status row (and the credit check) carries it."""
    return {
        "list": entry.list_kind,
        "entry_id": entry.id,
        "term_from": entry.term_from.isoformat() if entry.term_from else None,
        "term_to": entry.term_to.isoformat() if entry.term_to else None,
        "decision_no": entry.decision_no,
        "department_code": entry.department_code,
        "basis_zh": entry.basis_zh,
    }


def refresh_status(session: Session, subject_id: int) -> list[dict[str, Any]]:
    """Rebuild one subject's status row from its listed entries; returns the memberships."""
    session.flush()
    entries = session.execute(
        select(ListEntry).where(ListEntry.subject_id == subject_id, ListEntry.state == LISTED).order_by(ListEntry.id)
    ).scalars()
    memberships = [membership_of(e) for e in entries]
    row = session.get(SubjectListStatus, subject_id)
    if not memberships:
        if row is not None:
            session.execute(delete(SubjectListStatus).where(SubjectListStatus.subject_id == subject_id))
        return []
    if row is None:
        session.add(SubjectListStatus(subject_id=subject_id, memberships=memberships, updated_at=utcnow()))
    else:
        row.memberships = memberships
        row.updated_at = utcnow()
    return memberships


def current_memberships(memberships: list[dict[str, Any]], day: dt.date) -> list[dict[str, Any]]:
    """The memberships in force on ``day`` (a term past its end no longer counts, job or no job)."""
    today = day.isoformat()
    return [
        m for m in memberships
        if (m["term_from"] is None or m["term_from"] <= today) and (m["term_to"] is None or today <= m["term_to"])
    ]


def entry_changed(session: Session, entry: ListEntry, change: str, payload: dict[str, Any] | None = None) -> ListChange:
    """Record that ``entry`` moved to state ``change``: the feed row, and the subject's status."""
    session.flush()
    row = ListChange(entry_id=entry.id, subject_id=entry.subject_id, list_kind=entry.list_kind, change=change,
                     occurred_at=utcnow(), payload=payload or {})
    session.add(row)
    refresh_status(session, entry.subject_id)
    session.flush()
    return row
