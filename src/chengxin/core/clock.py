"""The platform's notion of "today": dates of decisions and deadlines are Beijing dates."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def today_cn() -> dt.date:
    return dt.datetime.now(CHINA).date()
