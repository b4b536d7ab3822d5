"""Working days (工作日): deadlines counted on the State Council's holiday schedule.

Pure: the calendar is data handed in (``workdays.service`` builds it from chinese-calendar and the
platform's own table). Deadlines in the rules are "within N working days" (RULES §2, §3): counting
starts on the day after the event, and the Nth working day after it is the last day allowed.

A year whose schedule is not published (chinese-calendar stops at 2026; the platform's table has
nothing for it) is counted on weekdays, and every deadline that crossed it says so — an estimate
to be recomputed when the schedule is published, never a crash (issue #4).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from chengxin.core.errors import DomainError

HOLIDAY = "holiday"  # 放假: a day off, whatever the weekday
WORKDAY = "workday"  # 调休上班: a weekend day worked
KIND_ZH = {HOLIDAY: "休", WORKDAY: "班"}
_MAX_WORKING_DAYS = 3660  # ten years of working days: beyond that a deadline is a mistake


@dataclass(frozen=True)
class WorkCalendar:
    """Days off and adjusted working days, and the years whose schedule is known."""

    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()
    published_years: frozenset[int] = frozenset()

    def is_published(self, year: int) -> bool:
        return year in self.published_years

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5


@dataclass(frozen=True)
class Deadline:
    """The last day allowed for an act due within ``working_days`` working days of ``start``."""

    start: dt.date
    working_days: int
    due: dt.date
    estimated_years: tuple[int, ...] = field(default=())

    @property
    def estimated(self) -> bool:
        """True when the count crossed a year without a published schedule (weekdays assumed)."""
        return bool(self.estimated_years)

    def warning_zh(self) -> str:
        if not self.estimated:
            return ""
        years = "、".join(str(y) for y in self.estimated_years)
        return f"注意：{years} 年节假日安排尚未录入，期限按周一至周五估算，安排公布后请核对"

    def is_overdue(self, today: dt.date) -> bool:
        return today > self.due


def add_working_days(calendar: WorkCalendar, start: dt.date, working_days: int) -> Deadline:
    """The Nth working day after ``start`` (``start`` itself never counts; N = 0: ``start``)."""
    if working_days < 0 or working_days > _MAX_WORKING_DAYS:
        raise ValueError(f"working_days must be 0..{_MAX_WORKING_DAYS}, got {working_days}")
    day = start
    estimated: set[int] = set()
    left = working_days
    while left:
        day += dt.timedelta(days=1)
        if not calendar.is_published(day.year):
            estimated.add(day.year)
        if calendar.is_working_day(day):
            left -= 1
    return Deadline(start, working_days, day, tuple(sorted(estimated)))


def working_days_after(calendar: WorkCalendar, start: dt.date, end: dt.date) -> int:
    """How many working days lie in (start, end] — e.g. how late an act is (0 when ``end <= start``)."""
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        count += calendar.is_working_day(day)
    return count


# -- the credit office's entry of a year's schedule --------------------------------------------------

@dataclass(frozen=True)
class ScheduleDay:
    day: dt.date
    kind: str  # HOLIDAY | WORKDAY
    name: str


_LINE = re.compile(
    r"^(?P<start>\d{4}-\d{2}-\d{2})(?:\s*(?:~|～|至|--)\s*(?P<end>\d{4}-\d{2}-\d{2}))?\s+(?P<name>\S+?)\s+(?P<kind>休|班)$")
_MAX_SPAN = 31  # no holiday of the schedule is longer


def _schedule_error(line_no: int, message: str, message_en: str) -> DomainError:
    return DomainError("calendar.bad_line", f"第 {line_no} 行：{message}", f"line {line_no}: {message_en}",
                       field=f"line {line_no}")


def parse_schedule(text: str, year: int) -> list[ScheduleDay]:
    """Read a year's schedule as the credit office types it from the State Council notice, one line
    per day or range: ``2027-02-06~2027-02-12 春节 休`` / ``2027-02-14 春节 班``. Blank lines and
    lines starting with ``#`` are ignored. Raises with the line number of the first mistake."""
    days: dict[dt.date, ScheduleDay] = {}
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise _schedule_error(line_no, f"格式应为“日期[~日期] 名称 休/班”，实际为“{line[:60]}”",
                                  "expected 'DATE[~DATE] NAME 休|班'")
        try:
            start = dt.date.fromisoformat(match["start"])
            end = dt.date.fromisoformat(match["end"]) if match["end"] else start
        except ValueError:
            raise _schedule_error(line_no, "日期不存在", "no such date") from None
        if start.year != year or end.year != year:
            raise _schedule_error(line_no, f"日期不在 {year} 年内", f"date outside {year}")
        if end < start or (end - start).days >= _MAX_SPAN:
            raise _schedule_error(line_no, "日期范围有误（结束早于开始，或超过 31 天）", "bad date range")
        kind = HOLIDAY if match["kind"] == "休" else WORKDAY
        day = start
        while day <= end:
            if kind == WORKDAY and day.weekday() < 5:
                raise _schedule_error(line_no, f"{day.isoformat()} 是工作日（周一至周五），无需调休上班",
                                      f"{day.isoformat()} is a weekday already")
            if day in days and days[day].kind != kind:
                raise _schedule_error(line_no, f"{day.isoformat()} 与前面的行冲突（既休又班）",
                                      f"{day.isoformat()} contradicts an earlier line")
            days[day] = ScheduleDay(day, kind, match["name"])
            day += dt.timedelta(days=1)
    if not days:
        raise DomainError("calendar.empty", "未填写任何节假日或调休安排", "The schedule is empty", field="schedule")
    return sorted(days.values(), key=lambda d: d.day)


def format_schedule(days: Iterable[ScheduleDay]) -> str:
    """The inverse of :func:`parse_schedule`: consecutive days of one name and kind as one range."""
    lines: list[str] = []
    run: list[ScheduleDay] = []

    def flush() -> None:
        if run:
            span = run[0].day.isoformat() if len(run) == 1 else f"{run[0].day.isoformat()}~{run[-1].day.isoformat()}"
            lines.append(f"{span} {run[0].name} {KIND_ZH[run[0].kind]}")

    for d in sorted(days, key=lambda d: d.day):
        if run and (d.kind != run[-1].kind or d.name != run[-1].name or d.day - run[-1].day != dt.timedelta(days=1)):
            flush()
            run = []
        run.append(d)
    flush()
    return "\n".join(lines)
