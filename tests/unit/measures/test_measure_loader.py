"""The measures list and the scenarios as data: the shipped files load, bad data is refused by name."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from chengxin.catalog.loader import load_catalog
from chengxin.measures.loader import (
    DATA,
    MeasureDataError,
    load_book,
    parse_measures,
    parse_parameters,
    parse_scenarios,
)

DEPARTMENTS = set(load_catalog().departments)
SCENARIOS = parse_scenarios((DATA / "scenarios.yaml").read_text(encoding="utf-8"))
GOOD = {"code": "B-T-01", "name_zh": "测试", "name_en": "Test", "list": "black", "kind": "restriction",
        "subject_kinds": ["organization"], "scenarios": ["bidding"], "departments": ["finance"],
        "basis": "《浙江省公共信用信息管理条例》第二十六条", "references": ["RULES.md §5"], "tag": "P",
        "effective_from": dt.date(2026, 1, 1), "effective_to": None}


def _measures(*entries: dict[str, object]) -> str:
    return yaml.safe_dump(list(entries), allow_unicode=True)


def test_shipped_data_loads() -> None:
    book = load_book(DEPARTMENTS)
    assert len(book.measures) >= 30 and len(book.scenarios) >= 10
    day = dt.date(2026, 6, 1)
    assert len(book.applicable("high_consumption", {"black"}, "person", day)) == 9
    assert {m.kind for m in book.measures if m.list_kind == "red"} == {"convenience"}
    assert all(set(m.departments) <= DEPARTMENTS for m in book.measures)


@pytest.mark.parametrize(("change", "message"), [
    ({"list": "grey"}, "list"),
    ({"kind": "reward"}, "kind"),
    ({"departments": ["no_such_dept"]}, "unknown department(s) no_such_dept"),
    ({"scenarios": ["no_such_scenario"]}, "unknown scenario(s) no_such_scenario"),
    ({"effective_to": dt.date(2025, 1, 1)}, "before effective_from"),
    ({"basis": ""}, "basis"),
    ({"colour": "red"}, "colour"),
    ({"tag": "X"}, "tag"),
    ({"subject_kinds": ["robot"]}, "subject_kinds"),
])
def test_bad_measures_are_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(MeasureDataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_measures(_measures({**GOOD, **change}), SCENARIOS, DEPARTMENTS)


def test_overlapping_versions_are_refused() -> None:
    newer = {**GOOD, "effective_from": dt.date(2026, 6, 1)}
    with pytest.raises(MeasureDataError, match="two versions in force"):
        parse_measures(_measures(GOOD, newer), SCENARIOS, DEPARTMENTS)
    closed = {**GOOD, "effective_to": dt.date(2026, 5, 31)}
    assert len(parse_measures(_measures(closed, newer), SCENARIOS, DEPARTMENTS)) == 2


def test_bad_scenarios_are_refused() -> None:
    with pytest.raises(MeasureDataError, match="code"):
        parse_scenarios(yaml.safe_dump([{"code": "Bad Code", "name_zh": "x", "name_en": "x", "description_zh": "x",
                                         "subject_kinds": ["person"], "effective_from": "2026-01-01"}]))
    with pytest.raises(MeasureDataError, match="non-empty list"):
        parse_scenarios("{}")


def test_parameters_are_checked() -> None:
    with pytest.raises(MeasureDataError, match="missing parameters: batch_max_rows"):
        parse_parameters("feedback_due_days: {description: x, reference: y, values: {2026-01-01: 30}}")
    with pytest.raises(MeasureDataError, match="positive whole number"):
        parse_parameters("feedback_due_days: {description: x, reference: y, values: {2026-01-01: -1}}\n"
                         "batch_max_rows: {description: x, reference: y, values: {2026-01-01: 10}}")
