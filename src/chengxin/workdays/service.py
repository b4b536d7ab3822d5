"""The working-day calendar in force: chinese-calendar's schedule (2004–2026) overlaid with the
platform's own table, which the credit office edits (every later year, and corrections)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import chinese_calendar
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from chengxin.core import audit
from chengxin.core.errors import DomainError
from chengxin.workdays import rules
from chengxin.workdays.models import CalendarDay, CalendarYear

__all__ = ["YearSchedule", "set_year_schedule", "work_calendar", "year_schedule", "years_overview"]

LIBRARY = "chinese_calendar"
PLATFORM = "platform"


# chinese-calendar names holidays in English; the schedule is shown and edited in Chinese.
_HOLIDAY_ZH = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
               "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "National Day": "国庆节",
               "Mid-autumn Festival": "中秋节", "Anti-Fascist 70th Day": "抗战胜利纪念日"}


@functools.cache
def _library_days() -> tuple[dict[dt.date, str], dict[dt.date, str], frozenset[int]]:
    holidays = {d: _HOLIDAY_ZH.get(str(name), str(name)) for d, name in chinese_calendar.holidays.items()}
    workdays = {d: _HOLIDAY_ZH.get(str(name), str(name)) for d, name in chinese_calendar.workdays.items()}
    # The years the library covers: it raises NotImplementedError for the others.
    years = frozenset(d.year for d in (*holidays, *workdays))
    return holidays, workdays, years


def work_calendar(session: Session) -> rules.WorkCalendar:
    """The calendar in force: a year the credit office entered replaces the library's for that year."""
    lib_holidays, lib_workdays, lib_years = _library_days()
    platform_years = set(session.scalars(select(CalendarYear.year)))
    holidays = {d for d in lib_holidays if d.year not in platform_years}
    workdays = {d for d in lib_workdays if d.year not in platform_years}
    for day, kind in session.execute(select(CalendarDay.day, CalendarDay.kind)):
        (holidays if kind == rules.HOLIDAY else workdays).add(day)
    return rules.WorkCalendar(frozenset(holidays), frozenset(workdays), frozenset(lib_years | platform_years))


@dataclass(frozen=True)
class YearSchedule:
    year: int
    source: str | None  # chinese_calendar | platform | None (not published)
    notice: str | None
    days: tuple[rules.ScheduleDay, ...]
    entered_by: str | None = None
    entered_at: dt.datetime | None = None

    @property
    def published(self) -> bool:
        return self.source is not None

    @property
    def text(self) -> str:
        return rules.format_schedule(self.days)


def year_schedule(session: Session, year: int) -> YearSchedule:
    row = session.get(CalendarYear, year)
    if row is not None:
        days = tuple(rules.ScheduleDay(d.day, d.kind, d.name) for d in session.scalars(
            select(CalendarDay).where(CalendarDay.day >= dt.date(year, 1, 1), CalendarDay.day <= dt.date(year, 12, 31))
            .order_by(CalendarDay.day)))
        return YearSchedule(year, PLATFORM, row.notice, days, row.entered_by, row.entered_at)
    lib_holidays, lib_workdays, lib_years = _library_days()
    if year not in lib_years:
        return YearSchedule(year, None, None, ())
    entries = [rules.ScheduleDay(d, rules.HOLIDAY, n) for d, n in lib_holidays.items() if d.year == year]
    entries += [rules.ScheduleDay(d, rules.WORKDAY, n) for d, n in lib_workdays.items() if d.year == year]
    return YearSchedule(year, LIBRARY, "国务院办公厅节假日安排通知（chinese-calendar 收录）",
                        tuple(sorted(entries, key=lambda d: d.day)))


def years_overview(session: Session, today: dt.date) -> list[YearSchedule]:
    """Last year, this year and the next two: what the credit office must keep published."""
    return [year_schedule(session, y) for y in range(today.year - 1, today.year + 3)]


def set_year_schedule(session: Session, *, year: int, text: str, notice: str, actor: audit.Actor,
                      now: dt.datetime) -> YearSchedule:
    """Enter (or replace) a year's schedule from the State Council notice; audited with the old text."""
    if not 2000 <= year <= 2200:
        raise DomainError("calendar.bad_year", "年份有误", "Bad year", field="year")
    notice = " ".join((notice or "").split())
    if not notice or len(notice) > 200:
        raise DomainError("calendar.notice_required", "请填写所依据的通知名称或文号（200 字以内）",
                          "Name the notice the schedule comes from (at most 200 characters)", field="notice")
    days = rules.parse_schedule(text, year)
    before = year_schedule(session, year)
    session.execute(delete(CalendarDay).where(CalendarDay.day >= dt.date(year, 1, 1),
                                              CalendarDay.day <= dt.date(year, 12, 31)))
    session.add_all(CalendarDay(day=d.day, kind=d.kind, name=d.name) for d in days)
    row = session.get(CalendarYear, year)
    if row is None:
        row = CalendarYear(year=year)
        session.add(row)
    row.notice, row.entered_by, row.entered_at = notice, actor.name, now
    session.flush()
    audit.write(session, actor=actor, action="calendar.set_year", object_type="work_calendar_year", object_id=year,
                detail={"notice": notice, "before": before.text, "source_before": before.source,
                        "after": rules.format_schedule(days)})
    return year_schedule(session, year)
