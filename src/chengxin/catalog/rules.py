"""Pure rules of the catalog: durations, the exchange columns, and field validation.

No I/O, no clock. Everything here is called with plain data (an :class:`ItemVersion`, a raw
row) and returns plain data. :func:`validate_fields` runs on every ingested row, so each field's
validator is a closure compiled once per item version (see :func:`compile_validators`) whose
common path — a valid string — does as little work as possible.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from chengxin.catalog.model import (
    SEVERITY_LABELS_ZH,
    CatalogItem,
    Category,
    Column,
    Duration,
    EnumOption,
    FieldSpec,
    FieldType,
    FieldValidator,
    ItemVersion,
    Severity,
    SubjectKind,
)
from chengxin.core.errors import InvalidIdentifier, Problem

__all__ = [
    "COMMON_COLUMNS",
    "COMMON_COLUMN_CODES",
    "InvalidDuration",
    "InvalidValue",
    "add_duration",
    "column_labels",
    "compile_validators",
    "parse_date_value",
    "parse_duration",
    "parse_severity",
    "template_columns",
    "validate_fields",
]

# ---------------------------------------------------------------------------------------------
# Durations (ISO 8601 P[nY][nM][nD])
# ---------------------------------------------------------------------------------------------

_DURATION_RE = re.compile(r"P(?:([0-9]+)Y)?(?:([0-9]+)M)?(?:([0-9]+)D)?\Z")


class InvalidDuration(ValueError):
    """Text that is not an ISO 8601 calendar duration ``P[nY][nM][nD]``."""


def parse_duration(text: str) -> Duration:
    """``"P1Y6M"`` → ``Duration(years=1, months=6)``. Only years, months and days; no weeks, no time."""
    if not isinstance(text, str):
        raise InvalidDuration(f"not an ISO 8601 duration P[nY][nM][nD]: {text!r}")
    match = _DURATION_RE.match(text)
    if match is None or text == "P":
        raise InvalidDuration(f"not an ISO 8601 duration P[nY][nM][nD]: {text!r}")
    years, months, days = (int(group) if group else 0 for group in match.groups())
    return Duration(years=years, months=months, days=days, text=text)


def add_duration(day: date, duration: Duration) -> date:
    """Calendar arithmetic: years and months first, clamped to the month's end, then days.

    Jan 31 + P1M = Feb 28 (29 in a leap year); Feb 29 + P1Y = Feb 28.
    """
    months = day.month - 1 + duration.months + 12 * duration.years
    year = day.year + months // 12
    month = months % 12 + 1
    last = calendar.monthrange(year, month)[1]
    result = date(year, month, min(day.day, last))
    if duration.days:
        result += timedelta(days=duration.days)
    return result


# ---------------------------------------------------------------------------------------------
# Problems
# ---------------------------------------------------------------------------------------------

_MESSAGES: dict[str, tuple[str, str]] = {
    "field.required": ("“{label}”为必填项", '"{label_en}" is required'),
    "field.too_long": (
        "“{label}”超过 {max_length} 个字符：{value}",
        '"{label_en}" is longer than {max_length} characters: {value}',
    ),
    "field.pattern": ("“{label}”格式不正确：{value}", '"{label_en}" has the wrong format: {value}'),
    "field.control_chars": (
        "“{label}”含有不可见的控制字符（如 NUL、退格），请删除后重新提交",
        '"{label_en}" contains control characters (e.g. NUL): remove them',
    ),
    "field.not_integer": ("“{label}”不是有效整数：{value}", '"{label_en}" is not a whole number: {value}'),
    "field.not_decimal": (
        "“{label}”不是有效{noun}：{value}",
        '"{label_en}" is not a valid {noun_en}: {value}',
    ),
    "field.too_many_decimals": (
        "“{label}”最多保留 {scale} 位小数：{value}",
        '"{label_en}" allows at most {scale} decimal places: {value}',
    ),
    "field.out_of_range": (
        "“{label}”超出允许范围（{range}）：{value}",
        '"{label_en}" is out of range ({range}): {value}',
    ),
    "field.not_date": ("“{label}”不是有效日期：{value}", '"{label_en}" is not a valid date: {value}'),
    "field.not_boolean": (
        "“{label}”应填“是”或“否”：{value}",
        '"{label_en}" must be yes or no: {value}',
    ),
    "field.not_option": (
        "“{label}”不是可选值：{value}（可选：{choices}）",
        '"{label_en}" is not one of the options: {value} (options: {choices_en})',
    ),
    "field.not_applicable": (
        "“{label}”不适用于本目录项，应留空：{value}",
        '"{label_en}" does not apply to this item and must be empty: {value}',
    ),
    "field.invalid": ("“{label}”的值无法识别：{value}", '"{label_en}" could not be read: {value}'),
    "field.not_scalar": (
        "“{label}”应为单个值（文本、数字或日期），不能是 JSON 数组或对象：{value}",
        '"{label_en}" must be a single value (text, number or date), not a JSON array or object: {value}',
    ),
}

_SHOW_MAX = 60


def _show(value: Any) -> str:
    """The offending value as a clerk should see it in a message (shortened)."""
    try:
        text = (value if isinstance(value, str) else repr(value) if isinstance(value, float) else
                orjson.dumps(value, default=str).decode() if isinstance(value, (list, dict)) else str(value))
    except Exception:  # e.g. an int too long to print
        text = f"<{type(value).__name__}>"
    return text if len(text) <= _SHOW_MAX else text[: _SHOW_MAX - 1] + "…"


def _problem(code: str, field: str, label: str, label_en: str, value: Any = "", **params: Any) -> Problem:
    zh, en = _MESSAGES[code]
    shown = _show(value)
    return Problem(
        code=code,
        message=zh.format(label=label, label_en=label_en, value=shown, **params),
        message_en=en.format(label=label, label_en=label_en, value=shown, **params),
        field=field,
    )


class InvalidValue(ValueError):
    """A raw value that could not be read. ``code`` is a Problem code (``field.not_date`` …);
    :meth:`problem` turns it into a :class:`Problem` naming the field the caller reads it for."""

    def __init__(self, code: str, value: Any, **params: Any) -> None:
        super().__init__(f"{code}: {_show(value)}")
        self.code = code
        self.value = value
        self.params = params

    def problem(self, field: str, label_zh: str, label_en: str) -> Problem:
        return _problem(self.code, field, label_zh, label_en, self.value, **self.params)


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------

_EXCEL_EPOCH_ORDINAL = date(1899, 12, 30).toordinal()  # Excel's 1900 system (serial 1 = 1899-12-31)
_EXCEL_MAX_SERIAL = 2958465  # 9999-12-31
_TIME_SUFFIX = r"(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
_DATE_SEPARATED_RE = re.compile(r"([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})" + _TIME_SUFFIX + r"\Z")
_DATE_ZH_RE = re.compile(r"([0-9]{4})\s*年\s*([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*日?" + _TIME_SUFFIX + r"\Z")
_DATE_COMPACT_RE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})\Z")
_SERIAL_RE = re.compile(r"[0-9]{1,7}(?:\.[0-9]+)?\Z")


def _from_serial(serial: float, raw: Any) -> date:
    if not (1 <= serial < _EXCEL_MAX_SERIAL + 1):
        raise InvalidValue("field.not_date", raw)
    return date.fromordinal(_EXCEL_EPOCH_ORDINAL + int(serial))


def parse_date_value(raw: Any) -> date:
    """Read a date as departments send it.

    Accepted: ``date`` / ``datetime`` objects; ``2024-08-20``, ``2024/8/20``, ``2024.8.20``,
    ``2024-8-20`` (each optionally followed by a time, which is dropped); ``2024年8月20日``;
    ``20240820``; Excel serial numbers 1..2958465 as int, float or numeric text (1899-12-30
    epoch; a fraction is the time of day and is dropped). Raises :class:`InvalidValue` with
    code ``field.required`` for empty input and ``field.not_date`` otherwise.
    """
    if raw.__class__ is str:
        text = raw.strip()
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            try:
                return date.fromisoformat(text)
            except ValueError:
                raise InvalidValue("field.not_date", raw) from None
        if not text:
            raise InvalidValue("field.required", raw)
        match = _DATE_SEPARATED_RE.match(text)
        if match is not None:
            year, month, day = match.group(1, 3, 4)
        else:
            match = _DATE_ZH_RE.match(text) or _DATE_COMPACT_RE.match(text)
            if match is None:
                if _SERIAL_RE.match(text) is not None:
                    return _from_serial(float(text), raw)
                raise InvalidValue("field.not_date", raw)
            year, month, day = match.group(1, 2, 3)
        try:
            return date(int(year), int(month), int(day))
        except ValueError:
            raise InvalidValue("field.not_date", raw) from None
    if raw is None:
        raise InvalidValue("field.required", "")
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, bool):
        raise InvalidValue("field.not_date", raw)
    if isinstance(raw, int):
        return _from_serial(raw, raw)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise InvalidValue("field.not_date", raw)
        return _from_serial(raw, raw)
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            raise InvalidValue("field.not_date", raw)
        return _from_serial(float(raw), raw)
    raise InvalidValue("field.not_date", raw)


# ---------------------------------------------------------------------------------------------
# Common columns (fixed by code, before every item's own fields)
# ---------------------------------------------------------------------------------------------

_SEVERITY_OPTIONS = tuple(
    EnumOption(value=s.value, label_zh=SEVERITY_LABELS_ZH[s], label_en=s.value) for s in Severity
)

SOURCE_ID = Column(
    code="source_id",
    label_zh="来源编号",
    label_en="Source record ID",
    required=True,
    type=FieldType.STRING,
    help_zh="本单位业务系统中该条记录的唯一编号（最长 64 个字符）；重复报送同一编号视为同一条记录",
)
SOURCE_ID_MAX_LENGTH = 64
USCC = Column(
    code="uscc",
    label_zh="统一社会信用代码",
    label_en="Unified social credit code",
    required=True,
    type=FieldType.USCC,
    help_zh="18 位统一社会信用代码（GB 32100）",
)
RIC = Column(
    code="ric",
    label_zh="公民身份号码",
    label_en="Citizen ID number",
    required=True,
    type=FieldType.RIC,
    help_zh="18 位公民身份号码（GB 11643）",
)
SUBJECT_NAME = Column(
    code="subject_name",
    label_zh="主体名称（姓名）",
    label_en="Subject name",
    required=True,
    type=FieldType.STRING,
    help_zh="法人和非法人组织填名称，自然人填姓名（最长 200 个字符）",
)
SUBJECT_NAME_MAX_LENGTH = 200
DECISION_DATE = Column(
    code="decision_date",
    label_zh="决定日期",
    label_en="Decision date",
    required=True,
    type=FieldType.DATE,
    help_zh="决定日期或信息形成日期；据此确定适用的目录版本",
)
SEVERITY = Column(
    code="severity",
    label_zh="失信程度",
    label_en="Severity",
    required=True,
    type=FieldType.ENUM,
    help_zh="失信信息的失信程度：轻微、一般或严重",
    options=_SEVERITY_OPTIONS,
)

COMMON_COLUMNS: tuple[Column, ...] = (SOURCE_ID, USCC, RIC, SUBJECT_NAME, DECISION_DATE, SEVERITY)
COMMON_COLUMN_CODES: frozenset[str] = frozenset(column.code for column in COMMON_COLUMNS)

_EITHER_ID_HELP = "法人和非法人组织填统一社会信用代码，自然人填公民身份号码，二者必填其一"


def template_columns(version: ItemVersion) -> tuple[Column, ...]:
    """The exchange columns of ``version``: the common columns that apply, then its fields.

    ``uscc`` only when organisations are subjects, ``ric`` only when persons are; when both are,
    each is optional on its own (one of the two is required). ``severity`` only for negative
    items; it may be left empty when the version knows a single severity.
    """
    kinds = version.subject_kinds
    both = SubjectKind.ORGANIZATION in kinds and SubjectKind.PERSON in kinds
    columns = [SOURCE_ID]
    if SubjectKind.ORGANIZATION in kinds:
        columns.append(replace(USCC, required=False, help_zh=_EITHER_ID_HELP) if both else USCC)
    if SubjectKind.PERSON in kinds:
        columns.append(replace(RIC, required=False, help_zh=_EITHER_ID_HELP) if both else RIC)
    columns += (SUBJECT_NAME, DECISION_DATE)
    if version.category is Category.NEGATIVE:
        allowed = tuple(option for option in _SEVERITY_OPTIONS if option.value in version.severities)
        columns.append(replace(SEVERITY, required=len(version.severities) > 1, options=allowed))
    columns += (
        Column(
            code=spec.code,
            label_zh=spec.label_zh,
            label_en=spec.label_en,
            required=spec.required,
            type=spec.type,
            help_zh=spec.help_zh,
            options=spec.options,
        )
        for spec in version.fields
    )
    return tuple(columns)


_SEVERITY_LOOKUP: dict[str, Severity] = {}
for _severity in Severity:
    for _alias in (_severity.value, SEVERITY_LABELS_ZH[_severity], SEVERITY_LABELS_ZH[_severity] + "失信"):
        _SEVERITY_LOOKUP[_alias] = _severity
_SEVERITY_LOOKUP["较轻"] = Severity.MINOR


def column_labels(item: CatalogItem) -> dict[str, str]:
    """Column code → Chinese label over every version of ``item`` (the newest label wins): names a field of a
    record or a rejection whatever version it was submitted under."""
    labels: dict[str, str] = {}
    for version in item.versions:
        labels.update({c.code: c.label_zh for c in template_columns(version)})
    return labels


def parse_severity(raw: Any, version: ItemVersion) -> Severity | None:
    """失信程度 of a row: the value code (``general``) or the Chinese label (``一般``/``一般失信``).

    Non-negative items: empty → None; anything else is refused (``field.not_applicable``).
    Negative items: empty → the single severity when the version has one, else ``field.required``;
    a severity the version does not list → ``field.not_option``. Raises :class:`InvalidValue`.
    """
    text = raw.strip() if isinstance(raw, str) else "" if raw is None else str(raw)
    if version.category is not Category.NEGATIVE:
        if text:
            raise InvalidValue("field.not_applicable", raw)
        return None
    if not text:
        if len(version.severities) == 1:
            return version.severities[0]
        raise InvalidValue("field.required", "")
    severity = _SEVERITY_LOOKUP.get(text) or _SEVERITY_LOOKUP.get(text.lower())
    if severity is None or severity not in version.severities:
        raise InvalidValue(
            "field.not_option",
            raw,
            choices="、".join(SEVERITY_LABELS_ZH[s] for s in version.severities),
            choices_en=", ".join(s.value for s in version.severities),
        )
    return severity


# ---------------------------------------------------------------------------------------------
# Field validators
# ---------------------------------------------------------------------------------------------

_EMPTY: tuple[None, None] = (None, None)
_Builder = Callable[[FieldSpec, "tuple[None, Problem | None]"], FieldValidator]


def _to_text(raw: Any) -> str:
    """A non-string raw value (from xlsx or JSON) as text, the way a clerk would have typed it."""
    if isinstance(raw, bool):
        return "是" if raw else "否"
    if isinstance(raw, float):
        if raw.is_integer():
            return str(int(raw))
        return repr(raw)
    if isinstance(raw, datetime):
        return raw.date().isoformat() if raw.time() == datetime.min.time() else raw.isoformat(sep=" ")
    if isinstance(raw, date):
        return raw.isoformat()
    if isinstance(raw, (list, dict)):  # JSON: no text a clerk typed (validate_fields says field.not_scalar)
        raise TypeError(type(raw).__name__)
    return str(raw).strip()


def _bound(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _range_text(low: Decimal | None, high: Decimal | None) -> str:
    def show(d: Decimal) -> str:
        text = format(d, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text

    if low is not None and high is not None:
        return f"{show(low)}～{show(high)}"
    if low is not None:
        return f"≥{show(low)}"
    return f"≤{show(high)}" if high is not None else ""


# C0/C1 control characters other than tab and line breaks: never text a clerk meant to send, and
# PostgreSQL refuses NUL in text outright (a server error instead of a row-level refusal).
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _build_string(spec: FieldSpec, missing: tuple[None, Problem | None]) -> FieldValidator:
    code, label, label_en = spec.code, spec.label_zh, spec.label_en
    max_length = spec.max_length or 0
    fullmatch = re.compile(spec.pattern).fullmatch if spec.pattern else None

    def validate(raw: Any) -> tuple[Any, Problem | None]:
        if raw.__class__ is str:
            text = raw.strip()
        elif raw is None:
            return missing
        else:
            text = _to_text(raw)
        if not text:
            return missing
        if max_length and len(text) > max_length:
            return None, _problem("field.too_long", code, label, label_en, raw, max_length=max_length)
        if CONTROL_CHARS.search(text) is not None:
            return None, _problem("field.control_chars", code, label, label_en)
        if fullmatch is not None and fullmatch(text) is None:
            return None, _problem("field.pattern", code, label, label_en, raw)
        return text, None

    return validate


_INT_TEXT_RE = re.compile(r"[+-]?[0-9]+(?:\.0*)?\Z")
_THOUSANDS = str.maketrans("", "", ",， \u00a0\u3000_")  # separators and spaces inside a number


def _build_integer(spec: FieldSpec, missing: tuple[None, Problem | None]) -> FieldValidator:
    code, label, label_en = spec.code, spec.label_zh, spec.label_en
    low, high = _bound(spec.minimum), _bound(spec.maximum)
    bounded = low is not None or high is not None
    range_text = _range_text(low, high)

    def bad(raw: Any) -> tuple[None, Problem]:
        return None, _problem("field.not_integer", code, label, label_en, raw)

    def validate(raw: Any) -> tuple[Any, Problem | None]:
        cls = raw.__class__
        if cls is str:
            text = raw.strip()
            if not text:
                return missing
            if text.isascii() and text.isdigit() and len(text) < 19:
                number = int(text)
            else:
                text = text.translate(_THOUSANDS)
                if _INT_TEXT_RE.match(text) is None:
                    return bad(raw)
                try:
                    number = int(text.partition(".")[0])
                except ValueError:  # more digits than int() reads
                    return bad(raw)
        elif cls is int:
            number = raw
        elif cls is float:
            if not raw.is_integer():
                return bad(raw)
            number = int(raw)
        elif raw is None:
            return missing
        elif isinstance(raw, Decimal) and raw.is_finite() and raw == raw.to_integral_value():
            number = int(raw)
        else:
            return bad(raw)
        if bounded and ((low is not None and number < low) or (high is not None and number > high)):
            return None, _problem("field.out_of_range", code, label, label_en, raw, range=range_text)
        return number, None

    return validate


_MONEY_WORDS = ("金额", "额", "费", "款", "金", "价")
_NUMBER_TEXT_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z")
_CURRENCY_PREFIXES = ("¥", "￥", "RMB", "CNY", "rmb", "cny")
_CURRENCY_SUFFIXES = ("元", "RMB", "CNY")
_FLOAT_TOLERANCE = Decimal("1e-9")


def plain_decimal_pattern(spec: FieldSpec) -> str | None:
    """A regular expression (anchored) of the texts a decimal field's validator accepts and returns unchanged:
    the canonical form — no sign, no leading zero, exactly ``scale`` decimals — of numbers inside the field's
    bounds for sure (fewer integer digits than the maximum has). A bulk reader checks whole columns against it
    and leaves only the other texts to the validator (bench/RESULTS.md, ingest, session 20). ``None``: a minimum
    above zero or a maximum under 10, where only the validator can tell."""
    scale = spec.scale if spec.scale is not None else 2
    low, high = _bound(spec.minimum), _bound(spec.maximum)
    digits = 18  # the validator's own limit
    if low is not None and low > 0:
        return None
    if high is not None:
        digits = min(digits, len(str(int(high))) - 1) if high >= 1 else 0
        if digits < 1:
            return None
    integer = f"(0|[1-9][0-9]{{0,{digits - 1}}})"
    return f"^{integer}\\.[0-9]{{{scale}}}$" if scale else f"^{integer}$"


def _build_decimal(spec: FieldSpec, missing: tuple[None, Problem | None]) -> FieldValidator:
    code, label, label_en = spec.code, spec.label_zh, spec.label_en
    scale = spec.scale if spec.scale is not None else 2
    quantum = Decimal(1).scaleb(-scale)
    zero = Decimal(0).quantize(quantum)
    low, high = _bound(spec.minimum), _bound(spec.maximum)
    bounded = low is not None or high is not None
    range_text = _range_text(low, high)
    is_money = any(word in label for word in _MONEY_WORDS)
    noun, noun_en = ("金额", "amount") if is_money else ("数值", "number")
    if scale:
        fast = re.compile(r"([0-9]{1,18})(?:\.([0-9]{0,SCALE}))?\Z".replace("SCALE", str(scale))).match
    else:
        fast = re.compile(r"([0-9]{1,18})()\Z").match

    def bad(raw: Any) -> tuple[None, Problem]:
        return None, _problem("field.not_decimal", code, label, label_en, raw, noun=noun, noun_en=noun_en)

    def finish(number: Decimal, raw: Any, tolerant: bool) -> tuple[Any, Problem | None]:
        try:
            rounded = number.quantize(quantum)
        except InvalidOperation:
            return bad(raw)
        if rounded != number and not (tolerant and abs(rounded - number) < _FLOAT_TOLERANCE):
            return None, _problem("field.too_many_decimals", code, label, label_en, raw, scale=scale)
        if bounded and ((low is not None and number < low) or (high is not None and number > high)):
            return None, _problem("field.out_of_range", code, label, label_en, raw, range=range_text)
        if not rounded:
            rounded = zero
        return format(rounded, "f"), None

    def slow_text(text: str, raw: Any) -> tuple[Any, Problem | None]:
        text = text.translate(_THOUSANDS)
        for prefix in _CURRENCY_PREFIXES:
            if text.startswith(prefix):
                text = text[len(prefix) :]
                break
        for suffix in _CURRENCY_SUFFIXES:
            if text.endswith(suffix):
                text = text[: -len(suffix)]
                break
        if _NUMBER_TEXT_RE.match(text) is None:
            return bad(raw)
        return finish(Decimal(text), raw, False)

    def validate(raw: Any) -> tuple[Any, Problem | None]:
        cls = raw.__class__
        if cls is str:
            text = raw.strip()
            match = fast(text)
            if match is None:
                if not text:
                    return missing
                return slow_text(text, raw)
            whole, fraction = match.groups()
            if whole[0] == "0" and len(whole) > 1:
                whole = whole.lstrip("0") or "0"
            result = whole + "." + (fraction or "").ljust(scale, "0") if scale else whole
            if bounded:
                number = Decimal(result)
                if (low is not None and number < low) or (high is not None and number > high):
                    return None, _problem("field.out_of_range", code, label, label_en, raw, range=range_text)
            return result, None
        if raw is None:
            return missing
        if cls is int:
            return finish(Decimal(raw), raw, False)
        if cls is float:
            if not math.isfinite(raw):
                return bad(raw)
            return finish(Decimal(repr(raw)), raw, True)
        if isinstance(raw, Decimal):
            return finish(raw, raw, False) if raw.is_finite() else bad(raw)
        return bad(raw)

    return validate


def _build_date(spec: FieldSpec, missing: tuple[None, Problem | None]) -> FieldValidator:
    code, label, label_en = spec.code, spec.label_zh, spec.label_en
    fromisoformat = date.fromisoformat

    def validate(raw: Any) -> tuple[Any, Problem | None]:
        if raw.__class__ is str:
            text = raw.strip()
            if len(text) == 10 and text[4] == "-" and text[7] == "-":
                try:
                    fromisoformat(text)
                except ValueError:
                    return None, _problem("field.not_date", code, label, label_en, raw)
                return text, None
            if not text:
                return missing
        elif raw is None:
            return missing
        try:
            return parse_date_value(raw).isoformat(), None
        except InvalidValue as exc:
            return None, exc.problem(code, label, label_en)

    return validate


_BOOLEAN_WORDS: dict[str, bool] = {
    "是": True,
    "否": False,
    "true": True,
    "false": False,
    "t": True,
    "f": False,
    "1": True,
    "0": False,
    "y": True,
    "n": False,
    "yes": True,
    "no": False,
}


def _build_boolean(spec: FieldSpec, missing: tuple[None, Problem | None]) -> FieldValidator:
    code, label, label_en = spec.code, spec.label_zh, spec.label_en

    def validate(raw: Any) -> tuple[Any, Problem | None]:
        cls = raw.__class__
        if cls is bool:
            return raw, None
        if cls is str:
            text = raw.strip()
            if not text:
                return missing
            value = _BOOLEAN_WORDS.get(text)
            if value is None:
                value = _BOOLEAN_WORDS.get(text.lower())
        elif raw is None:
            return missing
        elif cls is int or cls is float:
            value = True if raw == 1 else False if raw == 0 else None
        else:
            value = None
        if value is None:
            return None, _problem("field.not_boolean", code, label, label_en, raw)
        return value, None

    return validate


def _build_enum(spec: FieldSpec, missing: tuple[None, Problem | None]) -> FieldValidator:
    code, label, label_en = spec.code, spec.label_zh, spec.label_en
    lookup: dict[str, str] = {}
    for option in spec.options:  # exact codes and Chinese labels first ...
        lookup.setdefault(option.value, option.value)
        lookup.setdefault(option.label_zh, option.value)
    for option in spec.options:  # ... then case-insensitive aliases, which never shadow them
        lookup.setdefault(option.value.lower(), option.value)
        lookup.setdefault(option.label_en.lower(), option.value)
    choices = "、".join(option.label_zh for option in spec.options)
    choices_en = ", ".join(option.value for option in spec.options)

    def validate(raw: Any) -> tuple[Any, Problem | None]:
        if raw.__class__ is str:
            text = raw.strip()
        elif raw is None:
            return missing
        else:
            text = _to_text(raw)
        value = lookup.get(text)
        if value is not None:
            return value, None
        if not text:
            return missing
        value = lookup.get(text.lower())
        if value is not None:
            return value, None
        return None, _problem(
            "field.not_option", code, label, label_en, raw, choices=choices, choices_en=choices_en
        )

    return validate


_PASSED_CODES = 4096  # remembered valid codes per identifier field


def _build_identifier(spec: FieldSpec, missing: tuple[None, Problem | None]) -> FieldValidator:
    from chengxin.core import identifiers  # imported lazily: only items with identifier fields need it

    normalize: Callable[[str], str] = {
        FieldType.RIC: identifiers.normalize_ric,
        FieldType.USCC: identifiers.normalize_uscc,
        FieldType.GTIN: identifiers.normalize_gtin,
    }[spec.type]
    code, label, label_en = spec.code, spec.label_zh, spec.label_en
    # A file repeats the same few codes in such a column (the deciding authority's USCC on every row): the
    # checks that passed are remembered, bounded. Only for public codes — a citizen ID in clear is never kept
    # beyond a batch (records.reader.BatchMemo).
    passed: dict[str, str] | None = None if spec.type is FieldType.RIC else {}

    def validate(raw: Any) -> tuple[Any, Problem | None]:
        if raw.__class__ is str:
            text = raw.strip()
        elif raw is None:
            return missing
        else:
            text = _to_text(raw)
        if not text:
            return missing
        if passed is not None:
            known = passed.get(text)
            if known is not None:
                return known, None
        try:
            value = normalize(text)
            if passed is not None:  # a check that passed once passes again: it depends on the text alone
                if len(passed) >= _PASSED_CODES:
                    passed.clear()
                passed[text] = value
            return value, None
        except InvalidIdentifier as exc:
            inner = exc.problem
            return None, Problem(
                code=inner.code,
                message=f"“{label}”：{inner.message}",
                message_en=f'"{label_en}": {inner.message_en}',
                field=code,
            )

    return validate


_BUILDERS: dict[FieldType, _Builder] = {
    FieldType.STRING: _build_string,
    FieldType.TEXT: _build_string,
    FieldType.INTEGER: _build_integer,
    FieldType.DECIMAL: _build_decimal,
    FieldType.DATE: _build_date,
    FieldType.BOOLEAN: _build_boolean,
    FieldType.ENUM: _build_enum,
    FieldType.RIC: _build_identifier,
    FieldType.USCC: _build_identifier,
    FieldType.GTIN: _build_identifier,
}


def compile_field(spec: FieldSpec) -> FieldValidator:
    """One field's validator: raw value → ``(normalised, None)``, ``(None, Problem)`` or
    ``(None, None)`` for an empty optional value."""
    missing: tuple[None, Problem | None] = (
        (None, _problem("field.required", spec.code, spec.label_zh, spec.label_en))
        if spec.required
        else _EMPTY
    )
    return _BUILDERS[spec.type](spec, missing)


_Compiled = tuple[tuple[str, FieldValidator, FieldSpec], ...]
# Keyed by id(); the entry keeps the version alive, so an id is never reused while cached.
_CACHE: dict[int, tuple[ItemVersion, dict[str, FieldValidator], _Compiled]] = {}
_CACHE_LIMIT = 4096


def _compiled(version: ItemVersion) -> tuple[ItemVersion, dict[str, FieldValidator], _Compiled]:
    entry = _CACHE.get(id(version))
    if entry is not None and entry[0] is version:
        return entry
    validators = {spec.code: compile_field(spec) for spec in version.fields}
    triples = tuple((spec.code, validators[spec.code], spec) for spec in version.fields)
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    entry = (version, validators, triples)
    _CACHE[id(version)] = entry
    return entry


def compile_validators(version: ItemVersion) -> dict[str, FieldValidator]:
    """The validators of ``version``'s fields, by field code (compiled once per version)."""
    return dict(_compiled(version)[1])


def validate_fields(version: ItemVersion, raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Validate the item fields (not the common columns) of one row.

    ``raw`` maps field codes to what arrived: text from CSV, typed values from xlsx or JSON.
    Returns the JSON-ready normalised values (empty optional fields are left out) and the
    problems, one per bad field. Unknown keys are ignored. Never raises on bad values.
    """
    triples = _compiled(version)[2]
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    get = raw.get
    for code, validate, spec in triples:
        try:
            value, problem = validate(get(code))
        except Exception:  # a value no validator foresaw (an exotic type): refuse it, don't crash the batch
            value, problem = None, _problem("field.invalid", code, spec.label_zh, spec.label_en, get(code))
        if problem is not None:
            raw_value = get(code)
            if isinstance(raw_value, (list, dict)):  # JSON: one reason whatever the field's type
                problem = _problem("field.not_scalar", code, spec.label_zh, spec.label_en, raw_value)
            problems.append(problem)
        elif value is not None:
            values[code] = value
    return values, problems
