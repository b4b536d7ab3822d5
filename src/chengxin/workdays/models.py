"""The platform's own holiday schedule (for years chinese-calendar does not know, or corrections)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from chengxin.core.db import Base, UtcDateTime


class CalendarYear(Base):
    """A year whose schedule the credit office entered from the State Council's notice."""

    __tablename__ = "work_calendar_year"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    notice: Mapped[str] = mapped_column(String(200))  # e.g. 国务院办公厅关于2027年部分节假日安排的通知
    entered_by: Mapped[str] = mapped_column(String(100))
    entered_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class CalendarDay(Base):
    """One day off (holiday) or one weekend day worked (workday) of an entered year."""

    __tablename__ = "work_calendar_day"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # holiday | workday
    name: Mapped[str] = mapped_column(String(40))
