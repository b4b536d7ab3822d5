"""The criteria loader (lists/criteria.py): the shipped file loads; bad data is refused with a
message naming the criterion and the field; overlapping versions are refused (property test)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from chengxin.catalog.loader import load_catalog
from chengxin.lists.criteria import CRITERIA_FILE, CriteriaError, load_criteria, parse_criteria

CATALOG = load_catalog()
PARAMETERS = {
    "defence_working_days": {"description_zh": "申辩期", "basis": "浙江第二十八条",
                             "values": [{"effective_from": dt.date(2017, 10, 1), "value": 5}]},
    "red_publicity_days": {"description_zh": "公示期", "basis": "河南第二十八条",
                           "values": [{"effective_from": dt.date(2019, 11, 29), "value": 7}]},
}
BASE: dict[str, Any] = {
    "code": "watch.x", "version": "1", "effective_from": dt.date(2021, 1, 1), "list": "watch", "name_zh": "测试",
    "name_en": "Test", "subject_kinds": ["organization"], "conditions": [{"records": {"items": ["tax_arrears"]}}],
    "term": "P1Y", "notice_required": True, "basis_zh": "依据", "entry_zh": "列入", "exit_zh": "移出",
    "remedies_zh": "救济",
}


def _parse(*criteria: dict[str, Any], parameters: dict[str, Any] | None = None) -> Any:
    doc = {"parameters": parameters or PARAMETERS, "criteria": list(criteria)}
    return parse_criteria(yaml.safe_dump(doc, allow_unicode=True), CATALOG, "test.yaml")


def _with(**changes: Any) -> dict[str, Any]:
    c = copy.deepcopy(BASE)
    c.update(changes)
    return c


def test_the_shipped_file_loads_with_every_list_and_the_black_domains() -> None:
    found = load_criteria(CATALOG, CRITERIA_FILE)
    today = dt.date(2026, 11, 25)
    kinds = {c.list_kind for c in found.in_force(today)}
    assert kinds == {"red", "black", "watch"}
    assert all(c.domain for c in found.in_force(today, "black"))
    assert all(c.notice_required for c in found.in_force(today) if c.list_kind != "red")
    assert all(c.publicity for c in found.in_force(today, "red"))
    # The commitments helper's item feeds a watch-list criterion.
    assert found.on("watch.commitment_breach", today) is not None
    # Scores feed the red list (issue #6): a person's civic band.
    civic = found.on("red.civic_excellent", today)
    assert civic is not None and civic.bands == {"excellent"} and civic.subject_kinds == {"person"}
    assert civic.publicity and not civic.notice_required and civic.term is not None and civic.term.text == "P1Y"
    assert found.defence_working_days(today) == 5 and found.red_publicity_days(today) == 7
    # Two versions of one criterion, one in force on each side of the change.
    assert found.on("red.tax_credit_a", dt.date(2020, 12, 31)).version == "2019.1"  # type: ignore[union-attr]
    assert found.on("red.tax_credit_a", dt.date(2021, 1, 1)).version == "2021.1"  # type: ignore[union-attr]


def test_a_minimal_file_loads() -> None:
    found = _parse(BASE)
    assert found.criteria[0].items == frozenset({"tax_arrears"})


@pytest.mark.parametrize(("changes", "message"), [
    ({"conditions": [{"records": {"items": ["no_such_item"]}}]}, "unknown catalog item 'no_such_item'"),
    ({"list": "grey"}, "list: expected one of"),
    ({"subject_kinds": ["robot"]}, "subject_kinds"),
    ({"effective_from": "2021-13-01"}, "effective_from: expected a date"),
    ({"effective_to": dt.date(2020, 1, 1)}, "is before effective_from"),
    ({"term": "3 years"}, "term:"),
    ({"conditions": [{"score_band": {"min": 600}}]}, "score_band: unknown keys: min"),
    ({"conditions": [{"score_band": {"bands": ["superb"]}}]},
     "conditions[0]: score_band.bands: ['superb'] is no band of a score model for organization"),
    # A person's civic band is no band of the organisations' grade model (and the other way round).
    ({"conditions": [{"score_band": {"bands": ["A", "excellent"]}}]}, "['excellent'] is no band"),
    ({"subject_kinds": ["person"], "conditions": [{"score_band": {"bands": ["A"]}}]}, "['A'] is no band"),
    ({"conditions": [{"score_band": {"bands": []}}]}, "score_band.bands: expected a non-empty list"),
    ({"conditions": [{"score_band": {"bands": "A"}}]}, "score_band.bands: expected a non-empty list"),
    ({"conditions": [{"score_band": ["A"]}]}, "score_band: expected a mapping"),
    ({"conditions": [{"score_band": {"bands": ["A", "A"]}}]}, "a band is named twice"),
    ({"conditions": [{"magic": {}}]}, "unknown condition kind 'magic'"),
    ({"conditions": [{"records": {"items": ["tax_credit_rating"], "fields": {"grade": ["Z"]}}}]}, "not among the options"),
    ({"conditions": [{"records": {"items": ["tax_arrears"], "fields": {"colour": ["red"]}}}]}, "has no field 'colour'"),
    ({"conditions": [{"records": {"items": ["tax_arrears"], "min_count": 0}}]}, "min_count"),
    ({"conditions": [{"records": {"items": ["tax_arrears"], "min_severity": "awful"}}]}, "min_severity"),
    ({"conditions": [{"no_negative": {"min_severity": "general", "within_days": 10}}]},
     "at least one 'records' or 'score_band'"),
    ({"notice_required": False}, "need notice and a defence period"),
    ({"list": "black"}, "domain"),
    ({"list": "black", "domain": "fair_competition", "conditions": [{"score_band": {"bands": ["D"]}}]},
     "a black-list criterion needs a 'records' condition"),
    ({"list": "red", "notice_required": False}, "publicity"),
    ({"authority": "nobody"}, "unknown department"),
    ({"basis_zh": ""}, "basis_zh: required"),
    ({"surprise": 1}, "unknown keys: surprise"),
])
def test_bad_criteria_are_refused_naming_the_criterion_and_field(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(CriteriaError) as refused:
        _parse(_with(**changes))
    assert "test.yaml" in str(refused.value)
    assert "watch.x" in str(refused.value)
    assert message in str(refused.value)


def test_a_score_band_criterion_loads_and_checks_bands_per_subject_kind() -> None:
    both = _parse(_with(subject_kinds=["person", "organization"],
                        conditions=[{"score_band": {"bands": ["excellent", "A"]}},
                                    {"no_negative": {"min_severity": "general", "within_days": 1095}}]))
    criterion = both.criteria[0]
    assert criterion.bands == frozenset({"excellent", "A"}) and criterion.items == frozenset()
    # The band codes can be given (a test or a tool checking a draft against draft models).
    doc = {"parameters": PARAMETERS, "criteria": [_with(conditions=[{"score_band": {"bands": ["gold"]}}])]}
    text = yaml.safe_dump(doc, allow_unicode=True)
    assert parse_criteria(text, CATALOG, "t.yaml", band_codes={"organization": frozenset({"gold"})}).criteria
    with pytest.raises(CriteriaError, match=r"\['gold'\] is no band .* \(known: none\)"):
        parse_criteria(text, CATALOG, "t.yaml", band_codes={})


def test_missing_or_unknown_parameters_are_refused() -> None:
    with pytest.raises(CriteriaError, match="missing red_publicity_days"):
        _parse(BASE, parameters={"defence_working_days": PARAMETERS["defence_working_days"]})
    with pytest.raises(CriteriaError, match="values must be oldest first"):
        _parse(BASE, parameters={**PARAMETERS, "red_publicity_days": {
            "description_zh": "x", "basis": "y", "values": [{"effective_from": dt.date(2020, 1, 1), "value": 7},
                                                         {"effective_from": dt.date(2019, 1, 1), "value": 5}]}})


def test_the_same_version_twice_is_refused() -> None:
    with pytest.raises(CriteriaError, match="the same version appears twice"):
        _parse(_with(effective_to=dt.date(2021, 6, 30)), _with(effective_from=dt.date(2021, 7, 1)))


_days = st.integers(min_value=0, max_value=4000)


@given(a_start=_days, a_len=st.one_of(st.none(), st.integers(0, 2000)), b_start=_days,
       b_len=st.one_of(st.none(), st.integers(0, 2000)))
def test_versions_are_accepted_exactly_when_they_do_not_overlap(a_start: int, a_len: int | None, b_start: int,
                                                                b_len: int | None) -> None:
    origin = dt.date(2015, 1, 1)

    def version(label: str, start: int, length: int | None) -> dict[str, Any]:
        end = origin + dt.timedelta(days=start + length) if length is not None else None
        return _with(version=label, effective_from=origin + dt.timedelta(days=start), effective_to=end)

    a, b = version("a", a_start, a_len), version("b", b_start, b_len)
    a_end = a["effective_to"] or dt.date.max
    b_end = b["effective_to"] or dt.date.max
    overlap = a["effective_from"] <= b_end and b["effective_from"] <= a_end
    if overlap:
        with pytest.raises(CriteriaError, match="overlap"):
            _parse(a, b)
    else:
        found = _parse(a, b)
        day = a["effective_from"]
        assert found.on("watch.x", day).version == "a"  # type: ignore[union-attr]
