"""Demo list entries from the demo's records: the rule scan as of 30 days ago, then a realistic
handful of entries taken through the real service (so the history, feed and status rows are real):
listed black and watch entries after notice and defence period, red entries listed after publicity,
entries still in their defence period or publicity window, plain proposals, and one removal.

Called once after the records are loaded (``demo/load.py``); running it again proposes nothing new
(the scan is idempotent) and moves no entry twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from chengxin.core.audit import Actor
from chengxin.core.errors import DomainError
from chengxin.lists import service as lists
from chengxin.lists.models import BLACK, PROPOSED, RED, WATCH, ListEntry
from chengxin.platform import Platform

OFFICE = Actor(kind="staff", name="office", role="credit_office")


@dataclass
class ListDemoSummary:
    proposed: int = 0
    listed: dict[str, int] = field(default_factory=dict)
    noticed: int = 0
    publicity: int = 0
    removed: int = 0


def load_list_demo(platform: Platform, *, now: dt.datetime | None = None, limit: int | None = 100,
                   ) -> ListDemoSummary:
    """Create the demo entries (see the module doc); returns what was done. ``limit`` caps the
    scan's proposals per list (the full demo data set qualifies thousands of subjects: the rest
    are proposed by the next ``chengxin lists propose``)."""
    now = now or dt.datetime.now(dt.UTC)
    start = now - dt.timedelta(days=30)
    summary = ListDemoSummary()
    with platform.db.write() as session:
        run = lists.propose_by_rules(session, platform.catalog, now=start, limit=limit)
        summary.proposed = len(run.proposals)
        fresh = {kind: list(session.scalars(
            select(ListEntry).where(ListEntry.list_kind == kind, ListEntry.state == PROPOSED).order_by(ListEntry.id)))
            for kind in (BLACK, WATCH, RED)}
        year = now.year
        number = 0
        for kind in (BLACK, WATCH):
            entries = fresh[kind]
            for i, entry in enumerate(entries[:5]):
                try:
                    if i < 3:  # told 29 days ago, defence period over, listed 14 days ago
                        lists.send_notice(session, platform.catalog, entry_id=entry.id, actor=OFFICE,
                                          now=start + dt.timedelta(days=1))
                        number += 1
                        lists.decide(session, platform.catalog, entry_id=entry.id, action="list", actor=OFFICE,
                                     now=start + dt.timedelta(days=16),
                                     decision_no=f"常信用{'黑' if kind == BLACK else '关'}〔{year}〕{number}号")
                        summary.listed[kind] = summary.listed.get(kind, 0) + 1
                    else:  # told yesterday: the defence period runs
                        lists.send_notice(session, platform.catalog, entry_id=entry.id, actor=OFFICE,
                                          now=now - dt.timedelta(days=1))
                        summary.noticed += 1
                except DomainError:
                    continue
        for i, entry in enumerate(fresh[RED][:4]):
            try:
                if i < 2:  # displayed 29 days ago for 7 days, then listed
                    lists.start_publicity(session, platform.catalog, entry_id=entry.id, actor=OFFICE,
                                          now=start + dt.timedelta(days=1))
                    number += 1
                    lists.decide(session, platform.catalog, entry_id=entry.id, action="list", actor=OFFICE,
                                 now=start + dt.timedelta(days=10), decision_no=f"常信用红〔{year}〕{number}号")
                    summary.listed[RED] = summary.listed.get(RED, 0) + 1
                else:  # in its publicity window now
                    lists.start_publicity(session, platform.catalog, entry_id=entry.id, actor=OFFICE,
                                          now=now - dt.timedelta(days=2))
                    summary.publicity += 1
            except DomainError:
                continue
        listed_watch = [e for e in fresh[WATCH][:3] if e.state == "listed"]
        if listed_watch:
            lists.remove(session, platform.catalog, entry_id=listed_watch[0].id, actor=OFFICE,
                         now=now - dt.timedelta(days=1), reason="已缴清欠款并纠正失信行为，经申请提前移出",
                         decision_no=f"常信用移〔{year}〕1号")
            summary.removed = 1
    return summary
