"""The platform's notion of "today": dates of decisions and deadlines are Beijing dates."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def today_cn() -> dt.date:
    return dt.datetime.now(CHINA).date()


def day_start_utc(day: dt.date) -> dt.datetime:
    """The Beijing midnight that starts ``day``, in UTC: a Beijing day [start(d), start(d + 1)) as stored times."""
    return dt.datetime.combine(day, dt.time(), CHINA).astimezone(dt.UTC)
