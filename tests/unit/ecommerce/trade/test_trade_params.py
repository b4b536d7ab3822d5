"""The dated trade rules file: the shipped one loads, a bad one is refused with where and why, and the version
in force is chosen by day."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from chengxin.ecommerce.trade.params import RULES_FILE, TradeRulesError, load_trade_rules, parse_trade_rules

SHIPPED = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))


def _text(versions: list[dict[str, object]]) -> str:
    return yaml.safe_dump(versions, allow_unicode=True)


def test_the_shipped_rules_load_with_a_basis_everywhere() -> None:
    versions = load_trade_rules()
    assert versions and versions[0].effective_from <= dt.date(2026, 1, 1)
    for v in versions:
        assert v.basis and v.batch.basis and v.badge.basis and v.ratings.basis and v.points.basis
        assert v.aggregates.basis


def test_versions_are_chosen_by_day() -> None:
    first = dict(SHIPPED[0], effective_to=dt.date(2026, 6, 30))
    second = dict(SHIPPED[0], version="2026.7", effective_from=dt.date(2026, 7, 1),
                  ratings=dict(SHIPPED[0]["ratings"], follow_up_window_days=90))
    versions = parse_trade_rules(_text([first, second]))
    chosen = {v.version: v for v in versions}
    assert chosen["2025.1"].in_force_on(dt.date(2026, 6, 30)) and not chosen["2025.1"].in_force_on(dt.date(2026, 7, 1))
    assert chosen["2026.7"].ratings.follow_up_window_days == 90


@pytest.mark.parametrize("change, problem", [
    ({"colour": "red"}, "colour"),
    ({"points": dict(SHIPPED[0]["points"], values={"good": 1, "bad": -1})}, "values"),
    ({"ratings": dict(SHIPPED[0]["ratings"], follow_up_directions=["sideways"])}, "sideways"),
    ({"badge": {"link_valid_days": 0, "basis": "x"}}, "link_valid_days"),
    ({"effective_to": dt.date(2020, 1, 1)}, "effective_to"),
])
def test_bad_rules_are_refused(change: dict[str, object], problem: str) -> None:
    with pytest.raises(TradeRulesError, match=problem):
        parse_trade_rules(_text([dict(SHIPPED[0], **change)]))


def test_overlapping_versions_are_refused() -> None:
    with pytest.raises(TradeRulesError, match="overlaps"):
        parse_trade_rules(_text([SHIPPED[0], dict(SHIPPED[0], version="2026.1", effective_from=dt.date(2026, 1, 1))]))


def test_not_a_list() -> None:
    with pytest.raises(TradeRulesError, match="non-empty list"):
        parse_trade_rules("a: 1")
