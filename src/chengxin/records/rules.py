"""Pure rules of collection (归集): turn one submitted row into a prepared record, or say why not.

No database, no clock: ``today`` is passed in. The ingest service calls :func:`prepare_row`
for every row and only touches the database with rows that passed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, NamedTuple

import orjson

from chengxin.catalog.model import CatalogItem, Category, ItemVersion, Severity, SubjectKind
from chengxin.catalog.rules import (
    CONTROL_CHARS,
    DECISION_DATE,
    RIC,
    SEVERITY,
    SOURCE_ID,
    SOURCE_ID_MAX_LENGTH,
    SUBJECT_NAME,
    SUBJECT_NAME_MAX_LENGTH,
    USCC,
    InvalidValue,
    parse_date_value,
    parse_severity,
    validate_fields,
)
from chengxin.core.errors import InvalidIdentifier, Problem
from chengxin.core.identifiers import normalize_ric, normalize_uscc
from chengxin.core.memory import right_sized
from chengxin.subjects.rules import SubjectKey

MAX_SOURCE_ID = SOURCE_ID_MAX_LENGTH
MAX_NAME = SUBJECT_NAME_MAX_LENGTH


class PreparedRow(NamedTuple):
    """A row that passed every check, ready to be written (a named tuple: made once per row of every file,
    at half the cost of a frozen dataclass)."""

    row_no: int
    source_id: str
    subject: SubjectKey
    version: ItemVersion
    decision_date: dt.date
    severity: Severity | None
    fields: dict[str, Any]
    fields_json: bytes  # ``fields`` as canonical JSON (sorted keys): serialised once, for the content and the store
    content: bytes  # canonical bytes of what makes two submissions "the same" (hashed with a key by the service)


# The common columns, read as text here (the fields' validators refuse a JSON array or object themselves), and the
# problems that say one is missing.
_COMMON = (SOURCE_ID, RIC, USCC, SUBJECT_NAME, DECISION_DATE, SEVERITY)
_MISSING = frozenset({"field.required", "subject.identifier_missing"})


def _text(raw: object) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


def _problem(code: str, field: str, zh: str, en: str) -> Problem:
    return Problem(code=code, message=zh, message_en=en, field=field)


def canonical_fields(fields: Mapping[str, Any]) -> bytes:
    """A record's fields as canonical JSON: keys sorted, no whitespace (right-sized: a chunk keeps one a row)."""
    return right_sized(orjson.dumps(fields, option=orjson.OPT_SORT_KEYS))


def canonical_content(
    subject: SubjectKey, version: ItemVersion, decision_date: dt.date, severity: Severity | None, fields_json: bytes
) -> bytes:
    """What makes two submissions of one source record "the same content" (idempotency): the bytes of
    ``orjson.dumps([kind, identifier, item, item version, decision date, severity, fields], OPT_SORT_KEYS)``,
    put together around ``fields_json`` (:func:`canonical_fields`) — serialised once per row, and most rows
    store those very bytes. The format never changes: stored content hashes are compared with new ones.

    It holds clear identifiers, so the service stores only a keyed hash of it (an unkeyed hash
    of a row would let anyone who knows the other fields guess the ID number inside).
    """
    before, after = content_frame(subject.kind, version, decision_date, severity)
    return before + orjson.dumps(subject.identifier) + after + fields_json + b"]"


def content_frame(kind: SubjectKind, version: ItemVersion, decision_date: dt.date, severity: Severity | None
                  ) -> tuple[bytes, bytes]:
    """The bytes of :func:`canonical_content` before and after the identifier (the fields follow, then ``]``): the
    same for every row of one kind, version, day and severity, so a bulk path makes them once."""
    head = orjson.dumps([MEMBER_VALUE[kind], "", version.item_code, version.version, decision_date.isoformat(),
                         MEMBER_VALUE[severity] if severity else None])
    cut = head.index(b',"",')  # the identifier's place: the kind before it contains no quote or comma
    return head[: cut + 1], head[cut + 3 : -1] + b","


# ``member.value`` by member, for the per-row paths of a bulk ingest: a dict look-up costs a sixth of the
# ``Enum.value`` descriptor, and each row asks about five times.
MEMBER_VALUE: dict[SubjectKind | Severity | Category, str] = {
    member: member.value for enum in (SubjectKind, Severity, Category) for member in enum
}


def _subject_key(item: CatalogItem, version_kinds: frozenset[SubjectKind], values: Mapping[str, object],
                 problems: list[Problem], known: dict[tuple[str, str], str] | None) -> SubjectKey | None:
    ric = _text(values.get("ric"))
    uscc = _text(values.get("uscc"))
    name = _text(values.get("subject_name"))
    if not name:
        problems.append(_problem("field.required", "subject_name", "“主体名称（姓名）”不能为空", "subject_name is required"))
    elif len(name) > MAX_NAME:
        problems.append(_problem("field.too_long", "subject_name", f"“主体名称（姓名）”超过 {MAX_NAME} 字",
                                 f"subject_name longer than {MAX_NAME}"))
    elif CONTROL_CHARS.search(name):
        problems.append(_problem("field.control_chars", "subject_name", "“主体名称（姓名）”含有不可见的控制字符",
                                 "subject_name contains control characters"))
    if ric and uscc:
        problems.append(_problem("subject.ambiguous", "ric", "公民身份号码和统一社会信用代码只能填写一个",
                                 "Give either a citizen ID or a USCC, not both"))
        return None
    kind: SubjectKind
    if ric:
        kind, raw, column = SubjectKind.PERSON, ric, "ric"
    elif uscc:
        kind, raw, column = SubjectKind.ORGANIZATION, uscc, "uscc"
    else:
        wanted = "、".join(
            {"person": "公民身份号码", "organization": "统一社会信用代码"}[k.value] for k in sorted(version_kinds)
        )
        problems.append(_problem("subject.identifier_missing", "uscc" if SubjectKind.ORGANIZATION in version_kinds
                                 else "ric", f"请填写{wanted}", "The subject's identifier is missing"))
        return None
    if kind not in version_kinds:
        label = "自然人" if kind is SubjectKind.PERSON else "法人和非法人组织"
        problems.append(_problem("subject.kind_not_allowed", column, f"目录项“{item.code}”不收录{label}的信息",
                                 f"Item {item.code} does not take {kind.value} subjects"))
        return None
    identifier = known.get((column, raw)) if known is not None else None
    if identifier is None:
        try:
            identifier = normalize_ric(raw) if kind is SubjectKind.PERSON else normalize_uscc(raw)
        except InvalidIdentifier as exc:
            p = exc.problem
            problems.append(Problem(code=p.code, message=p.message, message_en=p.message_en, field=column))
            return None
        if known is not None:  # only valid ones: a check that passed today passes tomorrow
            known[column, raw] = identifier
    return SubjectKey(kind=kind, identifier=identifier, name=name) if name and len(name) <= MAX_NAME else None


def prepare_row(
    item: CatalogItem,
    department: str,
    values: Mapping[str, object],
    *,
    row_no: int,
    today: dt.date,
    read_problems: list[Problem] | None = None,
    known_identifiers: dict[tuple[str, str], str] | None = None,
) -> PreparedRow | list[Problem]:
    """Validate one row against the item version in force on its decision date.

    Returns the prepared row, or every problem found (all of them, so a clerk fixes a row once).
    ``known_identifiers`` ((column, raw) → normalised): identifiers of this batch already checked, filled as
    rows pass — a file names each subject several times, and the check is a fifth of a row's cost.
    """
    problems: list[Problem] = list(read_problems or ())
    if problems and not values:  # the row itself could not be read (no JSON object, bad JSON): nothing else to say
        return problems
    nested = {column.code for column in _COMMON if isinstance(values.get(column.code), (list, dict))}
    for column in _COMMON:
        if column.code in nested:
            problems.append(InvalidValue("field.not_scalar", values[column.code]).problem(
                column.code, column.label_zh, column.label_en))
    if nested:  # never read as text: as if empty, and said once (below, no "required" for it)
        values = {code: None if code in nested else value for code, value in values.items()}
    source_id = _text(values.get("source_id"))
    if not source_id:
        problems.append(_problem("field.required", "source_id", "“来源编号”不能为空", "source_id is required"))
    elif len(source_id) > MAX_SOURCE_ID:
        problems.append(_problem("field.too_long", "source_id", f"“来源编号”超过 {MAX_SOURCE_ID} 个字符",
                                 f"source_id longer than {MAX_SOURCE_ID}"))
    elif CONTROL_CHARS.search(source_id):
        problems.append(_problem("field.control_chars", "source_id", "“来源编号”含有不可见的控制字符",
                                 "source_id contains control characters"))
    decision_date: dt.date | None = None
    raw_date = values.get("decision_date")
    if raw_date is None or _text(raw_date) == "":
        problems.append(_problem("field.required", "decision_date", "“决定日期”不能为空", "decision_date is required"))
    else:
        try:
            decision_date = parse_date_value(raw_date)
        except InvalidValue as exc:
            problems.append(exc.problem("decision_date", "决定日期", "decision date"))
    version: ItemVersion | None = None
    if decision_date is not None:
        if decision_date > today:
            problems.append(_problem("decision_date.future", "decision_date",
                                     f"决定日期 {decision_date} 晚于今天", f"decision_date {decision_date} is in the future"))
        version = item.version_on(decision_date)
        if version is None:
            problems.append(_problem("item.not_in_force", "decision_date",
                                     f"目录项“{item.code}”在 {decision_date} 不在有效期内",
                                     f"Item {item.code} was not in force on {decision_date}"))
        elif department not in version.departments:
            problems.append(_problem("department.not_allowed", "decision_date",
                                     f"本单位在 {decision_date} 无权报送目录项“{version.name_zh}”",
                                     f"Department {department} may not submit {item.code} for {decision_date}"))
            version = None
    kinds = version.subject_kinds if version else item.latest.subject_kinds
    subject = _subject_key(item, kinds, values, problems, known_identifiers)
    severity: Severity | None = None
    fields: dict[str, Any] = {}
    if version is not None:
        if version.category is Category.NEGATIVE:
            try:
                severity = parse_severity(values.get("severity"), version)
            except InvalidValue as exc:
                problems.append(exc.problem("severity", "失信程度", "severity"))
        fields, field_problems = validate_fields(version, values)
        problems.extend(field_problems)
    if nested:
        said = nested | ({"ric", "uscc"} if nested & {"ric", "uscc"} else set())
        problems = [p for p in problems if p.code not in _MISSING or p.field not in said]
    if problems or version is None or subject is None or decision_date is None:
        return problems
    return PreparedRow(
        row_no=row_no,
        source_id=source_id,
        subject=subject,
        version=version,
        decision_date=decision_date,
        severity=severity,
        fields=fields,
        fields_json=(fields_json := canonical_fields(fields)),
        content=canonical_content(subject, version, decision_date, severity, fields_json),
    )
