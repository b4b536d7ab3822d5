"""有效期 of an API key (pure): the last valid day, in Beijing, and the instant the key stops."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chengxin.accounts.rules import key_expiry, valid_until
from chengxin.core.errors import DomainError

TODAY = dt.date(2026, 11, 27)


@pytest.mark.parametrize(("until", "stops_utc"), [
    (dt.date(2026, 11, 28), dt.datetime(2026, 11, 28, 16, 0, tzinfo=dt.UTC)),  # Beijing midnight = 16:00 UTC
    (dt.date(2027, 11, 27), dt.datetime(2027, 11, 27, 16, 0, tzinfo=dt.UTC)),
    (dt.date(2028, 2, 29), dt.datetime(2028, 2, 29, 16, 0, tzinfo=dt.UTC)),  # leap day included
    (None, None),  # no end
])
def test_a_key_stops_at_the_beijing_midnight_after_its_last_day(until: dt.date | None,
                                                                 stops_utc: dt.datetime | None) -> None:
    assert key_expiry(until, TODAY) == stops_utc
    assert valid_until(stops_utc) == until


@pytest.mark.parametrize("until", [TODAY, TODAY - dt.timedelta(days=1), dt.date(2000, 1, 1)])
def test_the_last_day_must_be_after_today(until: dt.date) -> None:
    with pytest.raises(DomainError) as refused:
        key_expiry(until, TODAY)
    assert refused.value.code == "api_key.valid_until" and "须晚于今天（2026-11-27）" in refused.value.message


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2098, 12, 30)), st.integers(1, 3650))
def test_the_last_day_reads_back(today: dt.date, days: int) -> None:
    until = today + dt.timedelta(days=days)
    stops = key_expiry(until, today)
    assert stops is not None and valid_until(stops) == until
    assert stops.astimezone(dt.timezone(dt.timedelta(hours=8))).time() == dt.time(0, 0)  # a Beijing midnight
    assert valid_until(stops + dt.timedelta(seconds=1)) == until + dt.timedelta(days=1)  # a moment later: next day
