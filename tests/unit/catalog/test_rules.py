"""Rules of the catalog: field validation (table-driven), durations, columns, properties."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from chengxin.catalog.loader import load_catalog
from chengxin.catalog.model import (
    Category,
    DisplayPeriod,
    EnumOption,
    FieldSpec,
    FieldType,
    ItemVersion,
    Severity,
    Sharing,
    SubjectKind,
)
from chengxin.catalog.rules import (
    COMMON_COLUMN_CODES,
    COMMON_COLUMNS,
    InvalidDuration,
    InvalidValue,
    add_duration,
    compile_validators,
    parse_date_value,
    parse_duration,
    parse_severity,
    plain_decimal_pattern,
    template_columns,
    validate_fields,
)

CASES = yaml.safe_load((Path(__file__).parent / "field_cases.yaml").read_text(encoding="utf-8"))


def make_spec(code: str = "f", **spec: Any) -> FieldSpec:
    options = tuple(EnumOption(**option) for option in spec.pop("options", ()))
    return FieldSpec(
        code=code,
        label_zh=spec.pop("label_zh", "测试字段"),
        label_en=spec.pop("label_en", "Test field"),
        type=FieldType(spec.pop("type")),
        options=options,
        **spec,
    )


def make_version(
    *fields: FieldSpec,
    category: Category = Category.NEGATIVE,
    severities: tuple[Severity, ...] = (Severity.GENERAL, Severity.SERIOUS),
    kinds: frozenset[SubjectKind] = frozenset({SubjectKind.ORGANIZATION, SubjectKind.PERSON}),
) -> ItemVersion:
    if category is not Category.NEGATIVE:
        severities = ()
    return ItemVersion(
        item_code="test_item",
        version="2024.1",
        effective_from=date(2024, 1, 1),
        effective_to=None,
        name_zh="测试",
        name_en="Test",
        description_zh="",
        subject_kinds=kinds,
        category=category,
        severities=severities,
        sharing=Sharing.PUBLIC,
        public_for_persons=False,
        display_periods={s: DisplayPeriod(None, None) for s in severities} or {None: DisplayPeriod(None, None)},
        repairable=True,
        departments=frozenset({"samr"}),
        fields=fields,
        basis="test",
    )


# --- table-driven field cases -----------------------------------------------------------------


@pytest.mark.parametrize("case", CASES["fields"], ids=[case["name"] for case in CASES["fields"]])
def test_field_case(case: dict[str, Any]) -> None:
    spec = make_spec(**case["field"])
    version = make_version(spec)
    values, problems = validate_fields(version, {"f": case["raw"], "unrelated": "ignored"})
    if "error" in case:
        assert values == {}
        assert len(problems) == 1, problems
        problem = problems[0]
        assert problem.code == case["error"]
        assert problem.field == "f"
        assert f"“{spec.label_zh}”" in problem.message
        assert spec.label_en in problem.message_en
        if "message" in case:
            assert problem.message == case["message"]
    else:
        assert problems == []
        assert values.get("f") == case["value"]
        assert ("f" in values) == (case["value"] is not None)


def test_there_are_enough_field_cases_for_every_type() -> None:
    assert len(CASES["fields"]) >= 40
    assert {case["field"]["type"] for case in CASES["fields"]} == {t.value for t in FieldType}


# --- durations ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES["durations"], ids=lambda c: f"{c['start']}+{c['add']}")
def test_add_duration(case: dict[str, Any]) -> None:
    assert add_duration(case["start"], parse_duration(case["add"])) == case["expect"]


@pytest.mark.parametrize("text", CASES["bad_durations"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(InvalidDuration):
        parse_duration(text)


def test_parse_duration_parts() -> None:
    duration = parse_duration("P1Y6M10D")
    assert (duration.years, duration.months, duration.days, duration.text) == (1, 6, 10, "P1Y6M10D")


# --- dates ------------------------------------------------------------------------------------


def test_parse_date_value_raises_small_exceptions() -> None:
    with pytest.raises(InvalidValue) as excinfo:
        parse_date_value("2024-02-30")
    assert excinfo.value.code == "field.not_date"
    problem = excinfo.value.problem("decision_date", "决定日期", "Decision date")
    assert problem.message == "“决定日期”不是有效日期：2024-02-30"
    assert problem.field == "decision_date"
    with pytest.raises(InvalidValue) as excinfo:
        parse_date_value("  ")
    assert excinfo.value.code == "field.required"


def test_parse_date_value_returns_dates() -> None:
    assert parse_date_value("2024年8月20日") == date(2024, 8, 20)
    assert parse_date_value(datetime(2024, 8, 20, 23, 59)) == date(2024, 8, 20)
    assert parse_date_value(Decimal("45524")) == date(2024, 8, 20)


# --- severity ---------------------------------------------------------------------------------


def test_parse_severity() -> None:
    negative = make_version()
    assert parse_severity("一般", negative) is Severity.GENERAL
    assert parse_severity("严重失信", negative) is Severity.SERIOUS
    assert parse_severity(" serious ", negative) is Severity.SERIOUS
    for bad, code in (("", "field.required"), ("轻微", "field.not_option"), ("很严重", "field.not_option")):
        with pytest.raises(InvalidValue) as excinfo:
            parse_severity(bad, negative)
        assert excinfo.value.code == code
    message = excinfo.value.problem("severity", "失信程度", "Severity").message
    assert message == "“失信程度”不是可选值：很严重（可选：一般、严重）"


def test_parse_severity_single_severity_may_be_left_empty() -> None:
    only_serious = make_version(severities=(Severity.SERIOUS,))
    assert parse_severity(None, only_serious) is Severity.SERIOUS
    assert parse_severity("", only_serious) is Severity.SERIOUS


def test_parse_severity_non_negative_items() -> None:
    basic = make_version(category=Category.BASIC)
    assert parse_severity("", basic) is None
    with pytest.raises(InvalidValue) as excinfo:
        parse_severity("一般", basic)
    assert excinfo.value.code == "field.not_applicable"


# --- columns ----------------------------------------------------------------------------------


def test_common_columns() -> None:
    assert [c.code for c in COMMON_COLUMNS] == [
        "source_id",
        "uscc",
        "ric",
        "subject_name",
        "decision_date",
        "severity",
    ]
    assert COMMON_COLUMN_CODES == {c.code for c in COMMON_COLUMNS}
    severity = COMMON_COLUMNS[-1]
    assert [(o.value, o.label_zh) for o in severity.options] == [
        ("minor", "轻微"),
        ("general", "一般"),
        ("serious", "严重"),
    ]


def test_template_columns_of_a_negative_item_for_both_subject_kinds() -> None:
    version = make_version(make_spec("amount", type="decimal", scale=2, label_zh="罚没金额"))
    columns = template_columns(version)
    assert [c.code for c in columns] == [
        "source_id",
        "uscc",
        "ric",
        "subject_name",
        "decision_date",
        "severity",
        "amount",
    ]
    by_code = {c.code: c for c in columns}
    assert not by_code["uscc"].required and not by_code["ric"].required  # one of the two
    assert by_code["severity"].required
    assert [o.value for o in by_code["severity"].options] == ["general", "serious"]
    assert by_code["amount"].label_zh == "罚没金额"


def test_template_columns_of_a_person_basic_item() -> None:
    version = make_version(category=Category.BASIC, kinds=frozenset({SubjectKind.PERSON}))
    columns = template_columns(version)
    assert [c.code for c in columns] == ["source_id", "ric", "subject_name", "decision_date"]
    assert columns[1].required


def test_template_columns_of_shipped_penalties() -> None:
    catalog = load_catalog()
    version = catalog.version_on("admin_penalty", date(2025, 8, 1))
    assert version is not None
    columns = template_columns(version)
    codes = [c.code for c in columns]
    assert codes[:6] == ["source_id", "uscc", "ric", "subject_name", "decision_date", "severity"]
    assert codes[6:] == [f.code for f in version.fields]
    assert [o.value for o in columns[5].options] == ["minor", "general", "serious"]


# --- validate_fields --------------------------------------------------------------------------


def test_validate_fields_reports_every_bad_field_and_keeps_the_good_ones() -> None:
    version = make_version(
        make_spec("decision_no", type="string", max_length=64, required=True, label_zh="决定书文号"),
        make_spec("amount", type="decimal", scale=2, minimum=0, label_zh="罚没金额"),
        make_spec("decided_on", type="date", label_zh="送达日期"),
        make_spec("note", type="text", max_length=100),
    )
    values, problems = validate_fields(version, {"amount": "abc", "decided_on": "2024/8/20", "extra": 1})
    assert values == {"decided_on": "2024-08-20"}
    assert [(p.field, p.code) for p in problems] == [
        ("decision_no", "field.required"),
        ("amount", "field.not_decimal"),
    ]
    assert problems[1].message == "“罚没金额”不是有效金额：abc"
    assert problems[1].message_en == '"Test field" is not a valid amount: abc'


def test_compile_validators_is_cached_per_version() -> None:
    version = make_version(make_spec("n", type="integer"))
    first = compile_validators(version)
    second = compile_validators(version)
    assert first == second and first["n"] is second["n"]
    assert first["n"]("7") == (7, None)


def test_every_shipped_field_compiles_and_accepts_empty_optionals() -> None:
    catalog = load_catalog()
    for item in catalog.items.values():
        for version in item.versions:
            validators = compile_validators(version)
            assert list(validators) == [f.code for f in version.fields]
            values, problems = validate_fields(version, {})
            assert values == {}
            assert {p.field for p in problems} == {f.code for f in version.fields if f.required}
            assert all(p.code == "field.required" for p in problems)


def test_a_typical_ten_field_row_validates_cleanly() -> None:
    """The row shape bench/ingest.py times; here only its correctness is checked (no timing asserts)."""
    options = ({"value": "fine", "label_zh": "罚款", "label_en": "Fine"},)
    version = make_version(
        make_spec("a", type="string", max_length=64, required=True),
        make_spec("b", type="string", max_length=200),
        make_spec("c", type="text", max_length=2000),
        make_spec("d", type="text", max_length=1000),
        make_spec("e", type="enum", options=options),
        make_spec("g", type="decimal", scale=2, minimum=0),
        make_spec("h", type="date"),
        make_spec("i", type="integer", minimum=0),
        make_spec("j", type="boolean"),
        make_spec("k", type="string", max_length=200),
    )
    row = {
        "a": "常市监处罚〔2024〕123号",
        "b": "未按规定公示",
        "c": "经查……",
        "d": "第一百二十四条",
        "e": "罚款",
        "g": "5000.00",
        "h": "2024-08-20",
        "i": "12",
        "j": "否",
        "k": "常州市市场监督管理局",
    }
    assert validate_fields(version, row)[1] == []


# --- properties -------------------------------------------------------------------------------

DATE_FORMATS: dict[str, Callable[[date], Any]] = {
    "iso": lambda d: d.isoformat(),
    "slash": lambda d: f"{d.year}/{d.month}/{d.day}",
    "slash_padded": lambda d: d.strftime("%Y/%m/%d"),
    "dot": lambda d: f"{d.year}.{d.month}.{d.day}",
    "dash_unpadded": lambda d: f"{d.year}-{d.month}-{d.day}",
    "chinese": lambda d: f"{d.year}年{d.month}月{d.day}日",
    "compact": lambda d: d.strftime("%Y%m%d"),
    "with_time": lambda d: d.isoformat() + " 08:30:00",
    "serial_int": lambda d: d.toordinal() - date(1899, 12, 30).toordinal(),
    "serial_float": lambda d: d.toordinal() - date(1899, 12, 30).toordinal() + 0.5,
    "serial_text": lambda d: str(d.toordinal() - date(1899, 12, 30).toordinal()),
    "date": lambda d: d,
    "datetime": lambda d: datetime(d.year, d.month, d.day, 12, 0),
}
DATE_VERSION = make_version(make_spec(type="date"))


@settings(max_examples=300)
@given(day=st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 12, 31)))
def test_any_date_round_trips_through_every_format(day: date) -> None:
    for name, render in DATE_FORMATS.items():
        values, problems = validate_fields(DATE_VERSION, {"f": render(day)})
        assert problems == [], name
        assert values["f"] == day.isoformat(), name
        assert parse_date_value(render(day)) == day, name


DECIMAL_VERSION = make_version(
    make_spec(type="decimal", scale=2, minimum=0, maximum=1_000_000_000_000, label_zh="罚没金额")
)


@settings(max_examples=300)
@given(number=st.decimals(min_value=0, max_value=1_000_000_000_000, places=2, allow_nan=False, allow_infinity=False))
def test_any_decimal_in_range_round_trips(number: Decimal) -> None:
    expected = format(number.quantize(Decimal("0.01")), "f")
    integral = [str(int(number))] if number == int(number) else []
    texts = (str(number), format(number, "f"), f"{number:,}", f"¥{number}", f" {number}元 ", *integral)
    for raw in (*texts, number, float(number) if number < 2**40 else number):
        values, problems = validate_fields(DECIMAL_VERSION, {"f": raw})
        assert problems == [], raw
        assert values["f"] == expected, raw
        assert Decimal(values["f"]) == number


def _matches(pattern: str, text: str) -> bool:
    """As the bulk reader matches it: polars' (Rust) regular expressions, where ``$`` is the end of the text."""
    return bool(pl.Series([text]).str.contains(pattern)[0])


DECIMAL_TEXTS = st.one_of(
    st.from_regex(r"\A-?[0-9]{1,20}(\.[0-9]{0,4})?\Z"),  # canonical or not: leading zeros, signs, other scales
    st.decimals(min_value=-(10**19), max_value=10**19, allow_nan=False, allow_infinity=False).map(str),
    st.text(st.sampled_from("0123456789.-+ ,¥元e"), max_size=12),
)


@settings(max_examples=400)
@given(text=DECIMAL_TEXTS, scale=st.sampled_from([None, 0, 1, 2, 4]),
       minimum=st.sampled_from([None, -5, 0, 0.5, 1]), maximum=st.sampled_from([None, 0.5, 9, 10, 99.99, 1e6, 1e12]))
def test_a_text_of_the_plain_decimal_pattern_is_what_the_validator_returns(
    text: str, scale: int | None, minimum: float | None, maximum: float | None
) -> None:
    """The bulk reader (polars) passes texts of ``plain_decimal_pattern`` without the validator: each must be valid and
    returned unchanged, whatever the field's scale and bounds; a field the pattern cannot speak for has none."""
    spec = make_spec(type="decimal", scale=scale, minimum=minimum, maximum=maximum)
    pattern = plain_decimal_pattern(spec)
    if minimum is not None and minimum > 0 or maximum is not None and maximum < 10:
        assert pattern is None
        return
    assert pattern is not None
    if _matches(pattern, text):
        value, problem = compile_validators(make_version(spec))["f"](text)
        assert problem is None and value == text


@pytest.mark.parametrize(("text", "plain"), [("29906.00", True), ("0.00", True), ("00.00", False), ("1.5", False),
                                             ("-1.00", False), ("1,000.00", False), ("1000000000000.00", False),
                                             ("999999999999.99", True), (" 1.00", False), ("1.00\n", False)])
def test_the_plain_decimal_pattern_of_an_amount_up_to_a_trillion(text: str, plain: bool) -> None:
    pattern = plain_decimal_pattern(make_spec(type="decimal", scale=2, minimum=0, maximum=1e12))
    assert pattern is not None and _matches(pattern, text) is plain


@settings(max_examples=200)
@given(number=st.integers(min_value=-(10**15), max_value=10**15))
def test_any_integer_round_trips(number: int) -> None:
    version = make_version(make_spec(type="integer"))
    for raw in (number, str(number), float(number) if abs(number) < 2**52 else number, f"{number:,}"):
        assert validate_fields(version, {"f": raw}) == ({"f": number}, [])


ALL_TYPES_VERSION = make_version(
    make_spec("s", type="string", max_length=10, pattern="[A-Z]+", required=True),
    make_spec("t", type="text", max_length=20),
    make_spec("i", type="integer", minimum=0, maximum=100),
    make_spec("d", type="decimal", scale=2, minimum=0, maximum=1000),
    make_spec("z", type="decimal", scale=0),
    make_spec("dt", type="date", required=True),
    make_spec("b", type="boolean"),
    make_spec("e", type="enum", options=({"value": "a", "label_zh": "甲", "label_en": "A"},)),
    make_spec("r", type="ric"),
    make_spec("u", type="uscc"),
    make_spec("g", type="gtin"),
)
ANY_RAW = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=40),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(),
    st.decimals(allow_nan=True, allow_infinity=True),
)


@settings(max_examples=500)
@given(row=st.fixed_dictionaries(dict.fromkeys(("s", "t", "i", "d", "z", "dt", "b", "e", "r", "u", "g"), ANY_RAW)))
def test_validate_fields_never_raises(row: dict[str, Any]) -> None:
    values, problems = validate_fields(ALL_TYPES_VERSION, row)
    codes = {spec.code for spec in ALL_TYPES_VERSION.fields}
    assert set(values) <= codes
    assert {p.field for p in problems} <= codes
    assert not set(values) & {p.field for p in problems}
    for problem in problems:
        assert problem.code and problem.message and problem.message_en
        assert problem.code != "field.invalid", problem  # a validator crashed on an ordinary value
    for value in values.values():
        assert isinstance(value, str | int | bool)


@given(day=st.dates(min_value=date(1900, 1, 1), max_value=date(9000, 12, 31)), months=st.integers(0, 600))
def test_add_duration_months_and_years_agree(day: date, months: int) -> None:
    by_months = add_duration(day, parse_duration(f"P{months}M"))
    by_years = add_duration(day, parse_duration(f"P{months // 12}Y{months % 12}M"))
    assert by_months == by_years
    assert by_months >= day
    assert by_months.day <= day.day  # clamped to the month's end, never rolled over
    assert add_duration(day, parse_duration("P10D")) == day + timedelta(days=10)


def test_an_identifier_field_remembers_only_public_codes_that_passed() -> None:
    """USCC/GTIN columns repeat a few codes on every row, so a passed check is remembered (bounded); what is
    remembered gives the same answer, a bad code is refused every time, and a citizen ID is never kept."""
    from chengxin.catalog.rules import _PASSED_CODES, compile_field
    from chengxin.core.identifiers import make_uscc

    validate = compile_field(make_spec(type="uscc"))
    good = make_uscc("9", "1", "320400", "MA1X2Y3K")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    for _ in range(3):
        assert validate(f" {good.lower()} ") == (good, None)
        value, problem = validate(bad)
        assert value is None and problem is not None and problem.field == "f"
    for n in range(_PASSED_CODES + 10):  # past the bound it starts over: still right
        assert validate(make_uscc("9", "1", "320400", f"{n:08d}"))[0] == make_uscc("9", "1", "320400", f"{n:08d}")
    assert validate(good) == (good, None)
    cells = [c.cell_contents for c in compile_field(make_spec(type="ric")).__closure__ or ()]
    assert not any(isinstance(c, dict) for c in cells), "a citizen ID field must not keep the IDs it saw"
    assert any(isinstance(c, dict) for c in (cell.cell_contents for cell in validate.__closure__ or ()))
