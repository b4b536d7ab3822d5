"""The rating points rule (信用互评积分) read as the rule reads, table-driven (points_cases.yaml), plus the
good-rating rate and the month arithmetic of the 6-month window."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from chengxin.ecommerce.trade import rules
from chengxin.ecommerce.trade.params import trade_rules_on
from chengxin.ecommerce.trade.service import months_before

CASES = yaml.safe_load((Path(__file__).parent / "points_cases.yaml").read_text(encoding="utf-8"))
RULE = trade_rules_on(dt.date(2026, 3, 1)).points


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_points_table(case: dict[str, Any]) -> None:
    rule = RULE.model_copy(update=case.get("rule", {}))
    facts = [rules.RatingFact(c, p, v, a) for c, p, v, a in case["ratings"]]
    assert rules.points(facts, rule) == case["expect"]


def test_the_rule_in_force_is_taobaos() -> None:
    assert RULE.values == {"good": 1, "neutral": 0, "bad": -1}
    assert RULE.pair_cap == 6 and RULE.min_amount_cents == 101
    assert "6 分" in RULE.basis


@given(st.lists(st.tuples(st.integers(1, 4), st.sampled_from(["2026-01", "2026-02"]),
                          st.sampled_from(rules.RATING_VALUES), st.integers(0, 10_000)), max_size=60))
def test_points_are_bounded_by_pairs_and_cap(raw: list[tuple[int, str, str, int]]) -> None:
    facts = [rules.RatingFact(*r) for r in raw]
    pairs = {(f.counterparty, f.period) for f in facts if f.amount_cents >= RULE.min_amount_cents}
    total = rules.points(facts, RULE)
    assert abs(total) <= RULE.pair_cap * len(pairs)
    assert rules.points(list(reversed(facts)), RULE) == total  # order does not matter


@pytest.mark.parametrize("good, neutral, bad, rate", [
    (0, 0, 0, None), (9, 0, 1, 0.9), (3, 1, 0, 0.75), (0, 0, 5, 0.0), (1, 0, 0, 1.0)])
def test_good_rate(good: int, neutral: int, bad: int, rate: float | None) -> None:
    assert rules.good_rate(good, neutral, bad) == rate


@pytest.mark.parametrize("day, months, expect", [
    (dt.date(2026, 8, 31), 6, dt.date(2026, 2, 28)),  # clamped to the month's end
    (dt.date(2028, 8, 29), 6, dt.date(2028, 2, 29)),  # leap year
    (dt.date(2026, 3, 15), 6, dt.date(2025, 9, 15)),  # across the year
    (dt.date(2026, 1, 31), 1, dt.date(2025, 12, 31)),
    (dt.date(2026, 12, 1), 12, dt.date(2025, 12, 1)),
])
def test_months_before(day: dt.date, months: int, expect: dt.date) -> None:
    assert months_before(day, months) == expect


@pytest.mark.parametrize("placed_at, period", [
    (dt.datetime(2026, 3, 31, 16, 30, tzinfo=dt.UTC), "2026-04"),  # 00:30 on April 1st in Beijing
    (dt.datetime(2026, 3, 31, 15, 59, tzinfo=dt.UTC), "2026-03"),
    (dt.datetime(2025, 12, 31, 23, 0, tzinfo=dt.UTC), "2026-01"),
])
def test_period_is_the_beijing_month_of_the_order(placed_at: dt.datetime, period: str) -> None:
    assert rules.period_of(placed_at) == period
