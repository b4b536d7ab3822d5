"""Pure rules of commitments: validity, the state a reader sees, the public number, filling a text."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chengxin.catalog.rules import parse_duration
from chengxin.commitments import rules
from chengxin.commitments.templates import TemplateVersion, templates
from chengxin.core.errors import DomainError

D = dt.date


def _version(validity: str | None) -> TemplateVersion:
    return TemplateVersion("t", D(2026, 1, 1), None, "b", parse_duration(validity) if validity else None,
                           "{subject_name}{matter}")


@pytest.mark.parametrize("validity, signed, until", [
    ("P1Y", D(2026, 3, 1), D(2027, 2, 28)),  # a year: up to the day before the anniversary
    ("P1Y", D(2028, 2, 29), D(2029, 2, 27)),  # a leap day: Feb 28 next year is the anniversary
    ("P1M", D(2026, 1, 31), D(2026, 2, 27)),  # month end clamps
    ("P3Y", D(2026, 11, 25), D(2029, 11, 24)),
    (None, D(2026, 11, 25), None),  # 长期
])
def test_valid_until(validity: str | None, signed: dt.date, until: dt.date | None) -> None:
    assert rules.valid_until(_version(validity), signed) == until


@pytest.mark.parametrize("state, until, today, seen", [
    ("signed", D(2026, 12, 31), D(2026, 12, 31), "signed"),  # the last day still runs
    ("signed", D(2026, 12, 31), D(2027, 1, 1), "expired"),  # the day after: expired at read time
    ("signed", None, D(2099, 1, 1), "signed"),  # long-term
    ("breached", D(2026, 12, 31), D(2027, 1, 1), "breached"),  # a finding stays a finding
    ("fulfilled", D(2026, 12, 31), D(2027, 1, 1), "fulfilled"),
    ("withdrawn", D(2026, 12, 31), D(2027, 1, 1), "withdrawn"),
])
def test_effective_state(state: str, until: dt.date | None, today: dt.date, seen: str) -> None:
    assert rules.effective_state(state, until, today) == seen


@pytest.mark.parametrize("kind, public_for_persons, state, public", [
    ("organization", False, "signed", True),
    ("organization", False, "breached", True),
    ("organization", False, "withdrawn", False),
    ("person", False, "signed", False),
    ("person", True, "signed", True),
])
def test_is_public(kind: str, public_for_persons: bool, state: str, public: bool) -> None:
    assert rules.is_public(kind, public_for_persons, state) is public


@given(st.integers(2019, 2099), st.integers(1, 10**10))
def test_numbers_round_trip_and_catch_a_mistyped_digit(year: int, sequence: int) -> None:
    number = rules.format_number(year, sequence)
    assert rules.parse_number(number) == number
    assert rules.parse_number(number.lower()) == number
    digits = [i for i, c in enumerate(number) if c.isdigit()]
    for i in digits:
        wrong = number[:i] + str((int(number[i]) + 1) % 10) + number[i + 1:]
        assert rules.parse_number(wrong) is None, wrong


@pytest.mark.parametrize("raw", ["", "CN-2026-000123", "CN-26-000123-3", "XX-2026-000123-3", "CN-2026-123-3",
                                 "CN-2026-000123-33", "' OR 1=1 --"])
def test_malformed_numbers(raw: str) -> None:
    assert rules.parse_number(raw) is None


def test_render_fills_every_placeholder_and_keeps_values_verbatim() -> None:
    t = templates()["certificate_notice"]
    v = t.version_on(D(2026, 6, 1))
    assert v is not None
    text = rules.render(t, v, subject_name="常州某某有限公司", subject_id="91320400MA1XXXXX0X",
                        matter="办理{食品经营许可}", acceptor="常州市市场监督管理局", signed_on=D(2026, 6, 1),
                        until=D(2027, 5, 31))
    assert "{subject" not in text and "{matter}" not in text and "{valid_until}" not in text
    assert "办理{食品经营许可}" in text  # a brace in a value is not a placeholder
    assert "2026-06-01" in text and "2027-05-31" in text
    assert not text.endswith("\n")
    long_term = rules.render(t, v, subject_name="a", subject_id="b", matter="c", acceptor="d",
                             signed_on=D(2026, 6, 1), until=None)
    assert "长期" in long_term


@pytest.mark.parametrize("raw, code", [
    ("", "commitment.matter_required"),
    ("   \n ", "commitment.matter_required"),
    ("事" * 201, "commitment.matter_too_long"),
    ("办理\x07许可", "commitment.matter_control_chars"),
    ("办理\ud800许可", "commitment.matter_control_chars"),
])
def test_matter_refusals(raw: str, code: str) -> None:
    with pytest.raises(DomainError) as caught:
        rules.clean_matter(raw)
    assert caught.value.code == code and caught.value.problem.field == "matter"


def test_matter_is_one_line() -> None:
    assert rules.clean_matter("  办理\n食品  经营许可 ") == "办理 食品 经营许可"
