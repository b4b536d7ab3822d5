"""信用告知 hold on the ingest path: a record of an item that needs a notice (catalog
``notice_required``) enters display only after the notice's response period (issue #4 §4).

How a record is matched to its notice — one rule, whichever comes first:
  same department, same catalog item, same subject, and, when the notice names a source id
  (来源编号), that source id; the oldest such notice not yet covering a record (and not withdrawn).
One notice covers one record (``credit_notice.record_id``).

- A new record with a matching notice: ``display_from`` = the notice's first day of display
  (``rules.record_display_from``: the day after the response deadline, or held while the
  department weighs the subject's reply).
- A new record without one: accepted, but held (``display_from`` = ``rules.HELD``, never shown)
  and the receipt says so — until the department issues a notice for it; the notice then covers
  it and its period runs from the notice.

Records whose notice was given on paper before they reached the platform (legacy data, and the
demo data set) are released with :func:`register_offline_notices`: the department states the
notices were served offline; each held record gets a recorded notice dated before its decision.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.orm import Session

from chengxin.catalog.model import Catalog
from chengxin.core import audit
from chengxin.core.errors import DomainError, Problem
from chengxin.core.policy import policy_on
from chengxin.notices import rules
from chengxin.notices.models import CreditNotice
from chengxin.records.models import Record
from chengxin.workdays.rules import WorkCalendar, add_working_days

__all__ = ["hold_new_records", "link_held_record", "register_offline_notices", "sync_record"]

_ID_SLICE = 5000
_SAMPLE = 10


def _needs_notice(catalog: Catalog, item_code: str) -> bool:
    item = catalog.items.get(item_code)
    return item is not None and any(v.notice_required for v in item.versions)


def display_from_of(notice: CreditNotice) -> dt.date:
    return rules.record_display_from(notice.state, notice.response_due, replied=notice.reply is not None,
                                     closed_on=notice.closed_on)


def hold_new_records(session: Session, catalog: Catalog, *, department: str, item_code: str, first_id: int,
                     last_id: int) -> list[Problem]:
    """Set ``display_from`` of the records this batch created (ids ``first_id < id <= last_id``, allocated
    contiguously under the ledger lock) when their item needs a notice; the receipt's warnings."""
    if last_id <= first_id or not _needs_notice(catalog, item_code):
        return []
    item = catalog.items[item_code]
    held: list[tuple[int, str]] = []
    linked = 0
    for start in range(first_id, last_id, _ID_SLICE):
        rows = session.execute(
            select(Record.id, Record.subject_id, Record.source_id, Record.decision_date)
            .where(Record.id > start, Record.id <= min(start + _ID_SLICE, last_id), Record.item_code == item_code)
            .order_by(Record.id)
        ).all()
        rows = [r for r in rows if (v := item.version_on(r.decision_date)) is not None and v.notice_required]
        if not rows:
            continue
        notices = _open_notices(session, department, item_code, sorted({r.subject_id for r in rows}))
        updates: list[dict[str, object]] = []
        for row in rows:
            notice = _take(notices.get(row.subject_id, []), row.source_id)
            if notice is None:
                held.append((row.id, row.source_id))
                updates.append({"b_id": row.id, "b_from": rules.HELD})
                continue
            notice.record_id = row.id
            updates.append({"b_id": row.id, "b_from": display_from_of(notice)})
            audit.write(session, actor=audit.SYSTEM, action="notice.link_record", subject_id=row.subject_id,
                        object_type="notice", object_id=notice.id,
                        detail={"record_id": row.id, "source_id": row.source_id, "notice_no": notice.notice_no})
            linked += 1
        session.flush()
        session.connection().execute(
            update(Record).where(Record.id == bindparam("b_id")).values(display_from=bindparam("b_from")), updates)
    if not held:
        return []
    sample = "、".join(source for _, source in held[:_SAMPLE]) + ("等" if len(held) > _SAMPLE else "")
    name = item.latest.name_zh
    return [Problem(
        "notice.required",
        f"{len(held)} 条“{name}”记录须先发出信用告知，暂不公示（来源编号：{sample}）。"
        "请在“信用告知”中向信用主体发出告知，告知期满后自动公示",
        f"{len(held)} {item_code} records are held: a credit notice must be issued first (source ids: "
        f"{', '.join(s for _, s in held[:_SAMPLE])})",
        "source_id",
    )]


def _open_notices(session: Session, department: str, item_code: str,
                  subject_ids: list[int]) -> dict[int, list[CreditNotice]]:
    found: dict[int, list[CreditNotice]] = defaultdict(list)
    for start in range(0, len(subject_ids), 900):
        part = subject_ids[start:start + 900]
        for notice in session.scalars(
            select(CreditNotice).where(
                CreditNotice.department_code == department, CreditNotice.item_code == item_code,
                CreditNotice.subject_id.in_(part), CreditNotice.record_id.is_(None),
                CreditNotice.state.in_(rules.NOTICE_MATCHABLE),
            ).order_by(CreditNotice.issued_on, CreditNotice.id)
        ):
            found[notice.subject_id].append(notice)
    return found


def _take(candidates: list[CreditNotice], source_id: str) -> CreditNotice | None:
    """The notice naming this source id, else the oldest naming none; removed from the candidates."""
    for wanted in (source_id, None):
        for i, notice in enumerate(candidates):
            if notice.source_id == wanted:
                return candidates.pop(i)
    return None


def link_held_record(session: Session, notice: CreditNotice) -> Record | None:
    """A new notice covers the oldest held record of its department, item and subject (and its source
    id, when it names one) that no notice covers yet; that record's period now runs from the notice."""
    covered = select(CreditNotice.record_id).where(CreditNotice.record_id.is_not(None))
    conditions = [Record.department_code == notice.department_code, Record.item_code == notice.item_code,
                  Record.subject_id == notice.subject_id, Record.display_from == rules.HELD,
                  Record.status == "active", Record.id.not_in(covered)]
    if notice.source_id:
        conditions.append(Record.source_id == notice.source_id)
    record = session.scalars(select(Record).where(and_(*conditions)).order_by(Record.id).limit(1)).first()
    if record is None:
        return None
    notice.record_id = record.id
    record.display_from = display_from_of(notice)
    session.flush()
    return record


def sync_record(session: Session, notice: CreditNotice) -> None:
    """After a transition: the covered record's first day of display follows the notice's state."""
    if notice.record_id is None:
        return
    record = session.get(Record, notice.record_id)
    if record is not None:
        record.display_from = display_from_of(notice)


def register_offline_notices(session: Session, calendar: WorkCalendar, *, department: str, item_code: str,
                             basis: str, actor: audit.Actor, now: dt.datetime, lead_days: int = 20) -> int:
    """线下告知补录: the department declares that every record of ``item_code`` it holds back for want
    of a notice was notified on paper ``lead_days`` before its decision (``basis`` names the register
    of served notices). Each such record gets a recorded notice with that date and its response
    period, and is displayed from the day after the period (so, in practice, from its decision).
    Returns the number of records released; one audit event covers the batch."""
    basis = " ".join((basis or "").split())
    if not basis:
        raise DomainError("notice.offline_basis_required", "请说明线下告知的依据（如送达登记簿编号）",
                          "State where the offline notices are registered", field="basis")
    released = 0
    last_id = 0
    while True:
        rows = session.execute(
            select(Record.id, Record.subject_id, Record.source_id, Record.decision_date)
            .where(Record.department_code == department, Record.item_code == item_code,
                   Record.display_from == rules.HELD, Record.id > last_id)
            .order_by(Record.id).limit(_ID_SLICE)).all()
        if not rows:
            break
        last_id = rows[-1].id
        notices: list[dict[str, object]] = []
        updates: list[dict[str, object]] = []
        for row in rows:
            issued_on = row.decision_date - dt.timedelta(days=lead_days)
            days = policy_on(issued_on).notice.response_working_days
            deadline = add_working_days(calendar, issued_on, days)
            shown_from = deadline.due + dt.timedelta(days=1)
            notices.append({
                "notice_no": f"XXGZ{issued_on:%Y%m%d}R{row.id}", "department_code": department,
                "item_code": item_code, "subject_id": row.subject_id, "source_id": row.source_id,
                "facts": "线下送达的信用告知（补录）", "obligation": f"依告知书履行（{basis}）", "amount": None,
                "state": "recorded", "issued_on": issued_on, "response_due": deadline.due,
                "due_estimated": deadline.estimated, "decide_due": None, "issued_by": actor.label, "reply": None,
                "replied_at": None, "decision": f"线下告知补录：{basis}", "closed_on": shown_from,
                "record_id": row.id, "created_at": now})
            updates.append({"b_id": row.id, "b_from": shown_from})
        session.execute(insert(CreditNotice), notices)
        session.connection().execute(
            update(Record).where(Record.id == bindparam("b_id")).values(display_from=bindparam("b_from")), updates)
        released += len(rows)
    if released:
        audit.write(session, actor=actor, action="notice.register_offline", object_type="notice",
                    detail={"department": department, "item": item_code, "records": released, "basis": basis})
    return released
