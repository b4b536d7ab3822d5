"""Collect the console lines of every case feature (objections, repair, notices …).

Counts are computed on the query path from each case's stored deadline and today's date, so the
console is right even when no scheduled job has run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from chengxin.core.workflow import ConsoleLine
from chengxin.workdays.rules import WorkCalendar
from chengxin.workdays.service import YearSchedule, work_calendar, years_overview

__all__ = ["Console", "console_for"]

CountsFn = Callable[[Session, WorkCalendar, dt.date, "str | None"], list[ConsoleLine]]


def _providers() -> list[tuple[str, CountsFn]]:
    """Each case feature's ``console_counts``, in the order the console shows them."""
    from chengxin.accounts import service as accounts
    from chengxin.lists import service as lists
    from chengxin.notices import service as notices
    from chengxin.objections import service as objections
    from chengxin.repair import service as repair

    return [("异议处理", objections.console_counts), ("信用修复", repair.console_counts),
            ("信用告知、约谈与投诉", notices.console_counts), ("信用名单", lists.console_counts),
            ("账号与密钥", accounts.console_counts)]


@dataclass(frozen=True)
class Console:
    today: dt.date
    department_code: str | None
    groups: list[tuple[str, list[ConsoleLine]]]
    calendar_years: list[YearSchedule]

    @property
    def overdue(self) -> int:
        return sum(line.overdue for _, lines in self.groups for line in lines)

    @property
    def unpublished_years(self) -> list[int]:
        return [y.year for y in self.calendar_years if not y.published]


def console_for(session: Session, today: dt.date, department_code: str | None) -> Console:
    """The whole city's queues (``department_code`` None: the credit office) or one department's."""
    calendar = work_calendar(session)
    groups = [(title, lines) for title, counts in _providers()
              if (lines := counts(session, calendar, today, department_code))]  # a group with no queue here: none
    return Console(today, department_code, groups, years_overview(session, today)[1:3])
