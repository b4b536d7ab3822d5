"""Builders of valid submissions for tests: a row that passes the catalog's own schema."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from chengxin.catalog.model import Category, FieldSpec, FieldType, ItemVersion
from chengxin.core.identifiers import make_ric, make_uscc

_UNSAFE = re.compile(r"[^0-9A-HJ-NPQRTUWXY]")


def uscc_for(n: int) -> str:
    """A valid USCC, different for every n."""
    body = f"{n:08d}"[-8:]
    return make_uscc("9", "1", "320400", body)


def ric_for(n: int) -> str:
    """A valid citizen ID, different for every n < 1000 * 20000."""
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=n // 1000)
    return make_ric("320402", birth, n % 1000)


def field_value(spec: FieldSpec, n: int = 1) -> Any:
    """A value that passes ``spec`` (patterns: the tests only rely on the catalog's simple ones)."""
    if spec.type is FieldType.ENUM:
        return spec.options[n % len(spec.options)].value
    if spec.type is FieldType.DECIMAL:
        low = spec.minimum or 0
        if spec.maximum is not None:  # inside the bounds (a score of 0–100)
            return f"{low + n % int(spec.maximum - low + 1):.{spec.scale or 0}f}"
        return f"{low + 100 + n:.{spec.scale or 0}f}"
    if spec.type is FieldType.INTEGER:
        low = int(spec.minimum or 0)
        return str(low + 1)
    if spec.type is FieldType.DATE:
        return "2024-01-15"
    if spec.type is FieldType.BOOLEAN:
        return "是"
    if spec.type is FieldType.USCC:
        return uscc_for(90_000_000 + n)
    if spec.type is FieldType.RIC:
        return ric_for(n)
    if spec.type is FieldType.GTIN:
        return "6901234567892"
    text = f"测试{spec.label_zh}{n}"
    if spec.pattern:
        for candidate in (f"常市监处罚〔2024〕{n}号", f"A{n:06d}", f"{n:06d}", f"CZ{n:08d}", f"{n:017d}"):
            if re.fullmatch(spec.pattern, candidate):
                return candidate
        raise AssertionError(f"tests cannot make a value for pattern {spec.pattern!r}")
    if spec.max_length:
        text = text[: spec.max_length]
    return text


def valid_row(
    version: ItemVersion,
    n: int = 1,
    *,
    person: bool = False,
    decision_date: str = "2025-09-01",
    **overrides: Any,
) -> dict[str, Any]:
    """A full row (common columns + every item field) that passes validation."""
    row: dict[str, Any] = {"source_id": f"SRC-{n:07d}", "subject_name": "常州测试有限公司", "decision_date": decision_date}
    if person:
        row["ric"] = ric_for(n)
        row["subject_name"] = "张三"
    else:
        row["uscc"] = uscc_for(n)
        row["subject_name"] = f"常州测试{n}有限公司"
    if version.category is Category.NEGATIVE:
        row["severity"] = version.severities[0].value
    for spec in version.fields:
        row[spec.code] = field_value(spec, n)
    row.update(overrides)
    return row


def person_row(platform: Any, item: str, n: int, day: dt.date, **kw: Any) -> dict[str, Any]:
    """A valid row of ``item`` about person ``n`` decided on ``day`` (the version in force then)."""
    version = platform.catalog.version_on(item, day)
    assert version is not None, (item, day)
    return valid_row(version, n, person=True, decision_date=day.isoformat(), **kw)


def submit_rows(platform: Any, item: str, department: str, rows: list[dict[str, Any]], today: dt.date) -> None:
    """Submit rows through the real ingest as the department's API key would; all must be accepted."""
    from chengxin.core.audit import Actor
    from chengxin.records.service import ApiRow, ingest

    receipt = ingest(platform.db, [ApiRow(i, r) for i, r in enumerate(rows, start=1)], catalog=platform.catalog,
                     keyring=platform.keyring, department=department, item_code=item,
                     actor=Actor(kind="api_key", name="k", department_code=department), channel="api", today=today)
    assert receipt.rejected == 0, receipt.rejections


def listed_entry(platform: Any, *, list_kind: str, ric: str | None = None, uscc: str | None = None,
                 name: str = "常州测试有限公司", term_from: dt.date | None = None, term_to: dt.date | None = None,
                 department: str = "samr", basis: str = "测试认定依据") -> Any:
    """A subject (created when new) listed on ``list_kind`` (state LISTED) with its status row refreshed,
    as the lists service leaves it (``lists.status.entry_changed``). Returns the entry."""
    from sqlalchemy import func, select

    from chengxin.catalog.model import SubjectKind
    from chengxin.lists.models import LISTED, ListEntry
    from chengxin.lists.status import entry_changed
    from chengxin.subjects.models import Subject
    from chengxin.subjects.rules import SubjectKey, lookup_index
    from chengxin.subjects.service import new_subject_row

    kind = SubjectKind.PERSON if ric else SubjectKind.ORGANIZATION
    identifier = ric or uscc
    assert identifier
    index = lookup_index(platform.keyring, kind.value, identifier)
    with platform.db.write() as session:
        subject_id = session.execute(select(Subject.id).where(Subject.lookup_index == index)).scalar()
        if subject_id is None:
            subject_id = (session.execute(select(func.max(Subject.id))).scalar() or 0) + 1
            session.add(Subject(**new_subject_row(platform.keyring, subject_id,
                                                  SubjectKey(kind, identifier, name), index)))
            session.flush()
        entry = ListEntry(list_kind=list_kind, subject_id=subject_id, state=LISTED, source="department",
                          proposed_by="test", department_code=department, basis_zh=basis, decision_no="常信〔2026〕1号",
                          decided_on=term_from or dt.date(2026, 1, 1), term_from=term_from or dt.date(2026, 1, 1),
                          term_to=term_to)
        session.add(entry)
        session.flush()
        entry_changed(session, entry, "listed")
        return entry


def plain_subject(platform: Any, *, ric: str | None = None, uscc: str | None = None, name: str = "常州无名单有限公司") -> int:
    """A registered subject with no list entry; returns its id."""
    from sqlalchemy import func, select

    from chengxin.catalog.model import SubjectKind
    from chengxin.subjects.models import Subject
    from chengxin.subjects.rules import SubjectKey, lookup_index
    from chengxin.subjects.service import new_subject_row

    kind = SubjectKind.PERSON if ric else SubjectKind.ORGANIZATION
    identifier = ric or uscc
    assert identifier
    index = lookup_index(platform.keyring, kind.value, identifier)
    with platform.db.write() as session:
        subject_id = (session.execute(select(func.max(Subject.id))).scalar() or 0) + 1
        session.add(Subject(**new_subject_row(platform.keyring, subject_id, SubjectKey(kind, identifier, name), index)))
    return int(subject_id)
