"""Tables of the lists (名单): entries, the per-subject status the credit check reads, and the change feed.

- ``list_entry``: one row per proposal of one subject for one list, from proposal to its end
  (rejected, withdrawn, expired or removed proposals are kept). Its history (who moved it, when,
  why) is in ``case_event`` (``core.workflow``, case type ``list_entry``).
- ``subject_list_status``: the precomputed memberships of one subject (one indexed read per
  credit check, issue #5 speed target); rebuilt by ``lists.status.refresh_status`` in the same
  transaction as every change of an entry's state. Terms are checked again at read time, so an
  entry past its term never counts even before a job marks it ended.
- ``list_change``: an append-only feed of changes (monotonic id), read by subscriptions
  (webhooks) and exchange; nothing is updated or deleted there.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chengxin.core.db import Base, BigId, JsonDoc, UtcDateTime, utcnow

# List kinds (名单类型). Values are stable codes used in the API, data files and the change feed.
RED = "red"  # 守信激励对象名单（红名单）
BLACK = "black"  # 严重失信主体名单（黑名单）
WATCH = "watch"  # 重点关注名单
LIST_KINDS = (RED, BLACK, WATCH)

# States of an entry. A subject is a member while state == LISTED and the day lies in its term.
PROPOSED = "proposed"  # 拟列入: proposed by a rule or a department, awaiting the office
NOTICED = "noticed"  # 已告知: subject told the reasons and basis, may state a defence until defence_due_on
PUBLICITY = "publicity"  # 公示中: red-list candidate displayed publicly before confirmation
LISTED = "listed"  # 已列入: decided and published
ENDED = "ended"  # 已移出: term over, removed by decision, or repaired
REJECTED = "rejected"  # 不予列入
WITHDRAWN = "withdrawn"  # 撤回 (by the proposer)
OPEN_STATES = (PROPOSED, NOTICED, PUBLICITY, LISTED)


class ListEntry(Base):
    __tablename__ = "list_entry"
    __table_args__ = (
        Index("ix_list_entry_subject_kind", "subject_id", "list_kind"),
        Index("ix_list_entry_kind_state", "list_kind", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    list_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(BigId, ForeignKey("subject.id"))
    state: Mapped[str] = mapped_column(String(16))
    # Where the proposal came from: a criterion of lists/data/criteria.yaml (rule), a department, the office.
    source: Mapped[str] = mapped_column(String(16))  # rule | department | office
    criterion_code: Mapped[str | None] = mapped_column(String(64))
    criteria_version: Mapped[str | None] = mapped_column(String(32))
    proposed_by: Mapped[str] = mapped_column(String(128))  # actor label
    department_code: Mapped[str] = mapped_column(String(64))  # 认定部门: the authority that lists
    proposed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The facts: records that meet the criterion (ids) and the reasons as {code, zh, en}.
    record_ids: Mapped[list[int]] = mapped_column(JsonDoc, default=list)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    basis_zh: Mapped[str] = mapped_column(Text)  # 认定依据: the legal or policy basis, published with the entry
    # Due process (浙江条例第二十八条): notice of reasons and basis, then a defence period.
    notice_sent_on: Mapped[dt.date | None] = mapped_column(Date)
    defence_due_on: Mapped[dt.date | None] = mapped_column(Date)
    defence: Mapped[str | None] = mapped_column(Text)  # 陈述申辩
    # Red-list candidates are displayed before confirmation (河南条例第二十八条).
    publicity_from: Mapped[dt.date | None] = mapped_column(Date)
    publicity_to: Mapped[dt.date | None] = mapped_column(Date)
    # The decision (signed by the agency head, 浙江条例第二十四条): number, date, who, note.
    decision_no: Mapped[str | None] = mapped_column(String(64))  # 决定文号
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decision_note: Mapped[str | None] = mapped_column(Text)
    # The term (有效期): from the decision; term_to None means until removed by decision.
    term_from: Mapped[dt.date | None] = mapped_column(Date)
    term_to: Mapped[dt.date | None] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    end_kind: Mapped[str | None] = mapped_column(String(16))  # expired | removed | repaired
    end_reason: Mapped[str | None] = mapped_column(Text)
    # When an organisation is listed its legal representative / principal is recorded too
    # (上海条例第三十三条): [{role, subject_id, display_name, display_id}] — masked forms only.
    related_persons: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)


class SubjectListStatus(Base):
    """The current memberships of one subject, as the credit check returns them.

    ``memberships``: [{list, entry_id, term_from, term_to, decision_no, department_code, basis_zh}],
    dates as ISO strings. A subject with no membership has no row.
    """

    __tablename__ = "subject_list_status"

    subject_id: Mapped[int] = mapped_column(BigId, ForeignKey("subject.id"), primary_key=True, autoincrement=False)
    memberships: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class ListChange(Base):
    """One change of one entry, in order (the feed subscriptions deliver from)."""

    __tablename__ = "list_change"
    __table_args__ = (Index("ix_list_change_subject", "subject_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # None for a change that belongs to no list entry: a shop's risk level (list_kind "shop_risk", issue #7,
    # ecommerce.risk.warning), carried by the same feed so the subscriptions outbox delivers it too.
    entry_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("list_entry.id"))
    subject_id: Mapped[int] = mapped_column(BigId)
    list_kind: Mapped[str] = mapped_column(String(16))
    change: Mapped[str] = mapped_column(String(16))  # the entry's new state (proposed, listed, ended …)
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
