"""Pure rules of the check: reading the identifier, validating feedback, the unanswered cut-off."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chengxin.checks import rules
from chengxin.core.errors import DomainError
from chengxin.core.identifiers import make_ric, make_uscc


@given(st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2010, 12, 31)), st.integers(0, 999))
def test_every_valid_citizen_id_reads_as_a_person(birth: dt.date, seq: int) -> None:
    ric = make_ric("320402", birth, seq)
    subject = rules.parse_subject(ric)
    assert subject.kind == "person" and subject.identifier == ric and subject.display_id != ric


@given(st.integers(0, 99_999_999))
def test_every_valid_uscc_reads_as_an_organisation(n: int) -> None:
    uscc = make_uscc("9", "1", "320400", f"{n:08d}")
    assert rules.parse_subject(uscc).kind == "organization"
    assert rules.parse_subject(uscc, "organization").identifier == uscc


@given(st.text(max_size=30))
def test_anything_else_is_a_clear_400(text: str) -> None:
    try:
        subject = rules.parse_subject(text)
    except DomainError as exc:
        assert exc.status == 400 and exc.problem.field == "subject" and exc.message
    else:
        assert subject.kind in ("person", "organization")


@pytest.mark.parametrize(("body", "code"), [
    ({"measures_applied": ["A"], "outcome": "applied"}, "feedback.case_no_required"),
    ({"case_no": "1", "measures_applied": ["Z"], "outcome": "applied"}, "feedback.measure_not_returned"),
    ({"case_no": "1", "measures_applied": ["A", "A"], "outcome": "applied"}, "feedback.measure_repeated"),
    ({"case_no": "1", "measures_applied": [], "outcome": "applied"}, "feedback.measures_required"),
    ({"case_no": "1", "measures_applied": ["A"], "outcome": "not_applied", "note": "x"},
     "feedback.not_applied_with_measures"),
    ({"case_no": "1", "outcome": "not_applied"}, "feedback.note_required"),
    ({"case_no": "1", "measures_applied": ["A"], "outcome": "maybe"}, "feedback.outcome"),
    ({"case_no": "1", "measures_applied": "A", "outcome": "applied"}, "feedback.measures_invalid"),
])
def test_feedback_refusals(body: dict[str, object], code: str) -> None:
    with pytest.raises(DomainError) as info:
        rules.validate_feedback(body, ["A", "B"])
    assert info.value.code == code


def test_feedback_accepted_and_cutoff() -> None:
    fb = rules.validate_feedback({"case_no": " C-1 ", "measures_applied": ["B"], "outcome": "partially_applied"},
                                 ["A", "B"])
    assert fb.case_no == "C-1" and fb.measures_applied == ("B",)
    assert rules.unanswered_cutoff(dt.date(2026, 3, 31), 30) == dt.date(2026, 3, 1)


def test_check_ids_are_time_ordered_and_valid() -> None:
    a, b = rules.new_check_id(1_000_000_000), rules.new_check_id(2_000_000_000)
    assert a < b and rules.check_id_valid(a) and not rules.check_id_valid("x" * 24)
