"""Deadline arithmetic and the schedule parser (pure; the 2026 schedule from chinese-calendar)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import chinese_calendar
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from chengxin.core.errors import DomainError
from chengxin.workdays import rules

CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "deadlines.yaml").read_text(encoding="utf-8"))
LIBRARY = rules.WorkCalendar(frozenset(chinese_calendar.holidays), frozenset(chinese_calendar.workdays),
                             frozenset(range(2004, 2027)))


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_deadlines_on_the_state_council_schedule(case: dict[str, Any]) -> None:
    deadline = rules.add_working_days(LIBRARY, case["start"], case["n"])
    assert deadline.due == case["due"]
    assert list(deadline.estimated_years) == case.get("estimated", [])
    assert deadline.estimated is bool(case.get("estimated"))
    assert bool(deadline.warning_zh()) is deadline.estimated
    assert not deadline.is_overdue(case["due"]) and deadline.is_overdue(case["due"] + dt.timedelta(days=1))


def test_a_year_entered_by_the_office_replaces_the_weekday_estimate() -> None:
    estimated = rules.add_working_days(LIBRARY, dt.date(2026, 12, 30), 3)
    assert estimated.due == dt.date(2027, 1, 4) and "2027 年节假日安排尚未录入" in estimated.warning_zh()
    with_2027 = rules.WorkCalendar(LIBRARY.holidays | {dt.date(2027, 1, 1)}, LIBRARY.workdays,
                                   LIBRARY.published_years | {2027})
    entered = rules.add_working_days(with_2027, dt.date(2026, 12, 30), 3)
    assert entered.due == dt.date(2027, 1, 5) and not entered.estimated


def test_far_future_deadlines_do_not_crash_and_say_so() -> None:
    deadline = rules.add_working_days(LIBRARY, dt.date(2030, 6, 1), 20)
    assert deadline.due == dt.date(2030, 6, 28) and deadline.estimated_years == (2030,)
    with pytest.raises(ValueError):
        rules.add_working_days(LIBRARY, dt.date(2026, 1, 1), -1)


@given(st.dates(dt.date(2004, 1, 1), dt.date(2028, 12, 31)), st.integers(0, 40))
def test_counting_back_gives_the_same_number(start: dt.date, n: int) -> None:
    deadline = rules.add_working_days(LIBRARY, start, n)
    assert rules.working_days_after(LIBRARY, start, deadline.due) == n
    assert n == 0 or LIBRARY.is_working_day(deadline.due)
    assert rules.add_working_days(LIBRARY, start, n + 1).due > deadline.due


SCHEDULE_2027 = """
# 国务院办公厅关于2027年部分节假日安排的通知（示例录入）
2027-01-01 元旦 休
2027-02-06~2027-02-12 春节 休
2027-02-14 春节 班
2027-02-20 春节 班
"""


def test_a_schedule_is_read_range_by_range_and_written_back_the_same() -> None:
    days = rules.parse_schedule(SCHEDULE_2027, 2027)
    assert len(days) == 1 + 7 + 2
    assert days[1] == rules.ScheduleDay(dt.date(2027, 2, 6), rules.HOLIDAY, "春节")
    assert rules.format_schedule(days).splitlines() == [
        "2027-01-01 元旦 休", "2027-02-06~2027-02-12 春节 休", "2027-02-14 春节 班", "2027-02-20 春节 班"]
    assert rules.parse_schedule(rules.format_schedule(days), 2027) == days


@pytest.mark.parametrize(("text", "fragment"), [
    ("2027-01-01 元旦", "第 1 行：格式应为"),
    ("\n\n2027-02-30 春节 休", "第 3 行：日期不存在"),
    ("2026-12-31 元旦 休", "不在 2027 年内"),
    ("2027-02-12~2027-02-06 春节 休", "日期范围有误"),
    ("2027-01-01~2027-03-01 春节 休", "日期范围有误"),
    ("2027-02-15 春节 班", "是工作日"),
    ("2027-02-06 春节 休\n2027-02-06 春节 班", "第 2 行：2027-02-06 与前面的行冲突"),
    ("# nothing\n", "未填写"),
])
def test_schedule_mistakes_name_the_line(text: str, fragment: str) -> None:
    with pytest.raises(DomainError) as err:
        rules.parse_schedule(text, 2027)
    assert fragment in err.value.message


_names = st.sampled_from(["元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"])


@given(st.lists(st.tuples(st.dates(dt.date(2027, 1, 1), dt.date(2027, 12, 31)), st.booleans(), _names),
                min_size=1, max_size=30))
def test_format_and_parse_are_inverse(entries: list[tuple[dt.date, bool, str]]) -> None:
    days: dict[dt.date, rules.ScheduleDay] = {}
    for day, off, name in entries:
        if not off and day.weekday() < 5:
            continue  # a worked weekday is not a schedule entry
        days[day] = rules.ScheduleDay(day, rules.HOLIDAY if off else rules.WORKDAY, name)
    if not days:
        return
    expected = sorted(days.values(), key=lambda d: d.day)
    assert rules.parse_schedule(rules.format_schedule(expected), 2027) == expected


@given(st.text(max_size=200))
def test_any_text_is_parsed_or_refused_cleanly(text: str) -> None:
    try:
        rules.parse_schedule(text, 2027)
    except DomainError as exc:
        assert exc.code in ("calendar.bad_line", "calendar.empty")
