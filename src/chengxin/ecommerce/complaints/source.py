"""The complaint counts the shop risk warning and the platform assessment read (``ecommerce.risk.warning``'s
``ComplaintSource``), from ``ec_complaint``.

With the table in place the source is connected: a shop without a complaint in the window has 0, never
"unknown" — so these methods never answer ``None``. Which complaints count is the dated rule's
``counted_statuses`` (in force on the window's last day): received, handling and substantiated ones;
withdrawn ones (no claim stands) and not-substantiated ones (investigated and unfounded — counting them would
let groundless complaints, a competitor's for instance, raise a shop's risk) are left out. A complaint counts
in the window of its ``received_at`` (Beijing days ``since`` to ``until`` inclusive).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chengxin.core.clock import day_start_utc
from chengxin.ecommerce.complaints.models import EcComplaint
from chengxin.ecommerce.complaints.params import complaint_rules_on

__all__ = ["DbComplaintSource", "window"]


def window(since: dt.date, until: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in UTC of the Beijing days ``since`` .. ``until`` inclusive."""
    start = day_start_utc(since)
    end = day_start_utc(until + dt.timedelta(days=1))
    return start, end


class DbComplaintSource:
    """Counts of ``ec_complaint`` rows per shop or per platform."""

    def shop_complaints(self, session: Session, shop_ids: Sequence[int] | None, since: dt.date,
                        until: dt.date) -> dict[int, int] | None:
        """Counted complaints per shop received in the window (shops without any are absent: 0)."""
        start, end = window(since, until)
        counted = complaint_rules_on(until).counted_statuses
        query = (select(EcComplaint.shop_id, func.count())
                 .where(EcComplaint.received_at >= start, EcComplaint.received_at < end,
                        EcComplaint.status.in_(counted))
                 .group_by(EcComplaint.shop_id))
        if shop_ids is None:
            return {shop: int(n) for shop, n in session.execute(query)}
        out: dict[int, int] = {}
        ids = sorted(set(shop_ids))
        for i in range(0, len(ids), 900):  # bound the IN list (SQLite's variable limit)
            out.update({shop: int(n) for shop, n in session.execute(
                query.where(EcComplaint.shop_id.in_(ids[i:i + 900])))})
        return out

    def platform_complaints(self, session: Session, platform_id: int, since: dt.date, until: dt.date) -> int | None:
        """Counted complaints about the platform's shops received in the window."""
        start, end = window(since, until)
        counted = complaint_rules_on(until).counted_statuses
        return int(session.scalar(select(func.count()).select_from(EcComplaint).where(
            EcComplaint.platform_id == platform_id, EcComplaint.received_at >= start, EcComplaint.received_at < end,
            EcComplaint.status.in_(counted))) or 0)
