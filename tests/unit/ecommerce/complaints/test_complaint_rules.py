"""The complaint row parser as a department's clerk meets it: what a row must say, what it may not say
(举报人保护), and the dated rule file it reads."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chengxin.core.errors import DomainError, Problem
from chengxin.ecommerce.complaints.params import ComplaintRulesError, complaint_rules_on, parse_complaint_rules
from chengxin.ecommerce.complaints.rules import COMPLAINT_FIELDS, ComplaintRow, parse_complaint
from factories import ric_for

NOW = dt.datetime(2026, 6, 1, 4, 0, tzinfo=dt.UTC)  # 12:00 Beijing
RULES = complaint_rules_on(dt.date(2026, 6, 1))


def row(**kw: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"source_complaint_id": "12315-2026-000123", "channel": "12315",
                              "received_at": "2026-05-20 09:30:00", "platform": "TestMall", "shop_code": "S1",
                              "category": "not_as_described", "summary": "收到的茶叶与页面描述的产地不符"}
    values.update(kw)
    return {k: v for k, v in values.items() if v is not None}


def parse(values: dict[str, Any], department: str | None = "samr") -> ComplaintRow | list[Problem]:
    return parse_complaint(values, row_no=1, now=NOW, rules=RULES, department=department)


CASES: list[tuple[str, dict[str, Any], str | None, set[str]]] = [
    # (what the row is, the row, the submitting department, the problem codes expected — empty: accepted)
    ("a complete row of the 12315 hotline from samr", row(), "samr", set()),
    ("the hotline number, the Chinese category and status are read as codes",
     row(channel=12315, category="假冒伪劣", status="处理中"), "samr", set()),
    ("12345 rows come from the government service office", row(channel="12345"), "gov_service", set()),
    ("12345 rows are not samr's", row(channel="12345"), "samr", {"complaint.channel_not_department"}),
    ("the online centre is open to commerce too", row(channel="online"), "commerce", set()),
    ("an unknown channel", row(channel="微博"), "samr", {"enum.invalid"}),
    ("an unknown category", row(category="态度不好"), "samr", {"enum.invalid"}),
    ("the department's number is required", row(source_complaint_id=None), "samr", {"field.required"}),
    ("the shop is required", row(shop_code=None), "samr", {"field.required"}),
    ("a platform code that cannot be one", row(platform="天猫"), "samr", {"platform.code"}),
    ("received in the future", row(received_at="2026-07-01 10:00:00"), "samr", {"datetime.future"}),
    ("a substantiated complaint names when it was closed", row(status="substantiated"), "samr",
     {"complaint.closed_at_required"}),
    ("closed with its time", row(status="substantiated", closed_at="2026-05-28 17:00:00"), "samr", set()),
    ("an open complaint has no closing time", row(status="handling", closed_at="2026-05-28 17:00:00"), "samr",
     {"complaint.closed_at_open"}),
    ("closed before it was received", row(status="withdrawn", closed_at="2026-05-01 17:00:00"), "samr",
     {"complaint.closed_before_received"}),
    ("a summary longer than the rule allows", row(summary="很" * 501), "samr", {"field.too_long"}),
    ("举报人保护: the complainant's name", row(reporter_name="张三"), "samr", {"complaint.reporter_data"}),
    ("举报人保护: a phone under any key ending in _phone", row(consumer_phone="13912345678"), "samr",
     {"complaint.reporter_data"}),
    ("举报人保护: a Chinese header", row(投诉人身份证号码=ric_for(1)), "samr", {"complaint.reporter_data"}),
    ("举报人保护: a mobile number in the summary", row(summary="消费者电话 139-1234-5678，要求回电"), "samr",
     {"complaint.summary_personal_data"}),
    ("举报人保护: a valid citizen ID number in the summary", row(summary=f"投诉人 {ric_for(2)}"), "samr",
     {"complaint.summary_personal_data"}),
    ("举报人保护: an e-mail address in the summary", row(summary="请回复 a.b@example.com"), "samr",
     {"complaint.summary_personal_data"}),
    ("an 18-digit order number in the summary is not an ID number", row(summary="订单 202605201234567890 图物不符"),
     "samr", set()),
    ("an empty reporter field carries nothing and passes", row(reporter_name=""), "samr", set()),
    ("a field nobody asked for", row(colour="red"), "samr", {"field.unknown"}),
    ("every problem of a row at once", row(channel="x", category="y", received_at="昨天"), "samr",
     {"enum.invalid", "datetime.invalid"}),
]


@pytest.mark.parametrize(("values", "department", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_complaint_row(values: dict[str, Any], department: str | None, expected: set[str]) -> None:
    result = parse(values, department)
    if not expected:
        assert isinstance(result, ComplaintRow), result
        return
    assert isinstance(result, list)
    assert {p.code for p in result} == expected


def test_an_accepted_row_is_normalised() -> None:
    result = parse(row(channel=12315, category="假冒伪劣", status="处理中"))
    assert isinstance(result, ComplaintRow)
    assert (result.channel, result.category, result.status, result.platform_code) == (
        "12315", "counterfeit", "handling", "testmall")
    assert result.received_at == dt.datetime(2026, 5, 20, 1, 30, tzinfo=dt.UTC)  # Beijing time without an offset
    assert parse(row(status=None)).status == "received"  # type: ignore[union-attr]


def test_the_reporter_field_is_named_and_its_value_never_echoed() -> None:
    result = parse(row(reporter_phone="13912345678"))
    assert isinstance(result, list) and len(result) == 1
    assert result[0].field == "reporter_phone" and "举报人" in result[0].message
    assert "13912345678" not in result[0].message + result[0].message_en


def test_the_fingerprint_follows_the_content() -> None:
    a, b = parse(row()), parse(row())
    c = parse(row(status="handling"))
    assert isinstance(a, ComplaintRow) and isinstance(b, ComplaintRow) and isinstance(c, ComplaintRow)
    assert a.content_hash == b.content_hash != c.content_hash


_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                    max_size=3), max_leaves=5)
_KEYS = st.sampled_from(sorted(COMPLAINT_FIELDS | {"reporter_name", "phone", "联系电话"})) | st.text(max_size=12)


@given(st.dictionaries(_KEYS, _VALUES, max_size=12), st.sampled_from(["samr", "gov_service", "tax", None]))
def test_the_parser_refuses_anything_with_problems_never_with_a_crash(values: dict[str, Any],
                                                                         department: str | None) -> None:
    try:
        result = parse(values, department)
    except DomainError:
        return
    assert isinstance(result, ComplaintRow) or (isinstance(result, list) and result
                                                and all(isinstance(p, Problem) for p in result))


def test_the_rule_file_refuses_an_unknown_counted_status() -> None:
    text = """
versions:
  - version: x
    effective_from: 2026-01-01
    basis: test
    channels: [{code: "12315", name_zh: a, name_en: a, departments: [samr]}]
    categories: [{code: other, name_zh: 其他, name_en: other}]
    counted_statuses: [received, ignored]
    summary_max_chars: 10
    batch_max_rows: 10
"""
    with pytest.raises(ComplaintRulesError, match="counted_statuses"):
        parse_complaint_rules(text)


def test_the_shipped_rule_counts_open_and_substantiated_complaints_only() -> None:
    assert set(RULES.counted_statuses) == {"received", "handling", "substantiated"}
    assert {"samr", "gov_service", "commerce"} <= RULES.departments and "tax" not in RULES.departments
