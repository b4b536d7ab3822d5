"""Credit file (信用档案) use cases: the public file, the person's own file, the government file,
and the query log (查询使用登记).

One query reads a subject and its records joined to their current versions (``record.subject_id``
is indexed; the version is reached by ``record.version_id``); everything else — the display window,
whether a record is displayed, who may see it, labels — is computed in process from the catalog
(``disclosure.rules``), so the public file never depends on a job having run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any, NamedTuple

import orjson
from sqlalchemy import String, Text, bindparam, case, cast, func, insert, select, type_coerce
from sqlalchemy.orm import Session

from chengxin.catalog.model import Catalog, FieldType, ItemVersion, SubjectKind
from chengxin.core import audit
from chengxin.core.crypto import KeyRing
from chengxin.core.db import Database, utcnow
from chengxin.core.errors import DomainError, NotFound, PermissionDenied
from chengxin.core.masking import mask_ric
from chengxin.disclosure import rules
from chengxin.disclosure.model import (
    Audience,
    CreditFile,
    FieldLine,
    FileItem,
    FilePage,
    QueryLogEntry,
    RecordChange,
)
from chengxin.disclosure.models import CHANNELS, READER_KINDS, QueryLog
from chengxin.records.models import Record, RecordVersion
from chengxin.subjects.models import Subject
from chengxin.subjects.service import decrypt_identity, find_subject

__all__ = [
    "GOVERNMENT_BASIS",
    "Window",
    "find_public_subject",
    "government_file",
    "government_read",
    "log_government_read",
    "commit_government_read_log",
    "log_query",
    "own_file",
    "public_file",
    "query_log_for",
    "requester_file",
]

GOVERNMENT_BASIS = "政务共享：按公共信用信息目录确定的共享方式"
_NO_SUBJECT = ("subject.not_found", "未找到该信用主体", "No such subject")
_NO_PUBLIC_FILE = ("subject.not_found", "未找到该信用主体的公开信用信息", "No public credit information for this subject")
_GOVERNMENT_READERS = frozenset({"staff", "api_key", "cli"})

# (item version, displayed today, subject kind) → may this audience see it?
Visible = Callable[[ItemVersion, bool, str], bool]


# -- reading -------------------------------------------------------------------------------------


def _subject(session: Session, subject_id: int) -> Subject:
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound(*_NO_SUBJECT)
    return subject


def _item_version(catalog: Catalog, item_code: str, version: str, decision_date: dt.date) -> ItemVersion | None:
    item = catalog.items.get(item_code)
    if item is None:
        return None
    for candidate in item.versions:
        if candidate.version == version:
            return candidate
    return item.version_on(decision_date)


def _show(spec_type: FieldType, value: Any, options: dict[str, str]) -> str:
    if spec_type is FieldType.ENUM:
        return options.get(str(value), str(value))
    if spec_type is FieldType.RIC:
        # Stored as {masked, index, key_version, cipher}: only the masked form is ever shown.
        return str(value.get("masked", "")) if isinstance(value, dict) else mask_ric(str(value))
    if spec_type is FieldType.BOOLEAN:
        return "是" if value is True or value == "true" else "否"
    return str(value)


_Shown = tuple[tuple[str, str, FieldType, dict[str, str]], ...]
_SHOWN: dict[tuple[str, str], _Shown] = {}


def _shown_fields(version: ItemVersion) -> _Shown:
    key = (version.item_code, version.version)
    shown = _SHOWN.get(key)
    if shown is None:
        shown = _SHOWN[key] = tuple(
            (spec.code, spec.label_zh, spec.type, {o.value: o.label_zh for o in spec.options})
            for spec in version.fields
        )
    return shown


_CONVERTED = frozenset({FieldType.ENUM, FieldType.RIC, FieldType.BOOLEAN})


def field_lines(version: ItemVersion, fields: dict[str, Any]) -> tuple[FieldLine, ...]:
    """A record's fields in catalog order with Chinese labels; enums by label, citizen IDs masked."""
    lines = []
    for code, label, spec_type, options in _shown_fields(version):
        value = fields.get(code)
        if value is None or value == "":
            continue
        if spec_type in _CONVERTED or type(value) is not str:  # most values are text shown as stored
            value = _show(spec_type, value, options)
        lines.append(FieldLine(code, label, value))
    return tuple(lines)


# A subject and its records joined to their current versions, in one statement (one round trip on PostgreSQL:
# the subject's row left-joined onto ``ix_record_subject_id``, then each version by primary key; a subject
# without records comes back as one row of NULL record columns). Dates and the fields document are read as
# stored — ISO text on SQLite, dates on PostgreSQL; JSON text on both — and parsed here, the fields only for
# records the audience sees: SQLAlchemy's SQLite DATE processing (a regular expression per value) and
# json.loads of every row cost ten times the query itself for a subject with hundreds of records. The fields
# come only for the first ``fields_upto`` rows, enough for the page asked for unless many records before it
# are hidden from the audience (then :data:`_FIELDS_OF` reads the rest by primary key): a heavy subject's page
# of 100 out of ~300–900 records would otherwise have the server render every record's JSON (PostgreSQL:
# ``jsonb`` to text) and send it.
_NEWEST_FIRST = (Record.decision_date.desc(), Record.id.desc())
_FILE_ROWS = (
    select(
        Subject.id, Subject.kind, Subject.display_id, Subject.display_name,
        Record.id, Record.item_code, Record.department_code, Record.status, Record.category, Record.severity,
        type_coerce(Record.decision_date, String).label("decision_date"), Record.version,
        type_coerce(Record.display_stopped_on, String).label("display_stopped_on"),
        type_coerce(Record.display_from, String).label("display_from"),
        Record.under_objection, Record.statement, RecordVersion.item_version, Record.version_id,
        case((func.row_number().over(order_by=_NEWEST_FIRST) <= bindparam("fields_upto"),
              cast(RecordVersion.fields, Text))).label("fields"),
    )
    .select_from(Subject)
    .outerjoin(Record, Record.subject_id == Subject.id)
    .outerjoin(RecordVersion, RecordVersion.id == Record.version_id)
    .where(Subject.id == bindparam("subject_id"))
    .order_by(*_NEWEST_FIRST)
)
_FIELDS_OF = select(RecordVersion.id, cast(RecordVersion.fields, Text)).where(
    RecordVersion.id.in_(bindparam("ids", expanding=True)))
_ALL = 2**62  # fields_upto for a whole file


def _day(value: dt.date | str | None) -> dt.date | None:
    """A DATE column read raw: a date already (PostgreSQL) or ISO ``YYYY-MM-DD`` text (SQLite)."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


_WINDOWS: dict[tuple[int, str | None, dt.date], tuple[ItemVersion, dt.date | None]] = {}


def _display_end(version: ItemVersion, severity: str | None, decision_date: dt.date) -> dt.date | None:
    """``rules.display_window(...)[1]``, remembered per (item version, severity, decision date): a subject
    with hundreds of records has them on far fewer distinct days and items."""
    key = (id(version), severity, decision_date)
    found = _WINDOWS.get(key)
    if found is None or found[0] is not version:
        try:
            _, ends_on = rules.display_window(version, severity, decision_date)
        except KeyError:
            ends_on = decision_date  # no period for this severity: never displayed
        if len(_WINDOWS) > 100_000:
            _WINDOWS.clear()
        found = _WINDOWS[key] = (version, ends_on)
    return found[1]


Window = tuple[int, int]  # (offset, limit): the page of a file an API caller asked for


class _SubjectView(NamedTuple):
    """What every audience but the subject sees of a subject (masked where personal)."""

    id: int
    kind: str
    display_id: str
    display_name: str


def _read_file(session: Session, catalog: Catalog, subject_id: int, today: dt.date, visible: Visible,
               window: Window | None = None) -> tuple[_SubjectView, list[FileItem], int]:
    """The subject and the items ``visible`` lets the audience see, newest first — all of them, or only those
    of ``window`` — and how many there are in all (raises NotFound for no such subject)."""
    connection = session.connection()
    start, stop = (0, _ALL) if window is None else (window[0], window[0] + window[1])
    rows = connection.execute(_FILE_ROWS, {"subject_id": subject_id, "fields_upto": stop}).all()
    if not rows:
        raise NotFound(*_NO_SUBJECT)
    subject = _SubjectView(*rows[0][:4])
    if rows[0][4] is None:  # the outer join's one row of a subject without records
        return subject, [], 0
    items: list[FileItem] = []
    unread: list[tuple[int, int, ItemVersion]] = []  # (index in items, version id, item version): fields to read
    total = 0
    # ``visible`` depends only on the item version and whether the record is displayed (the audience and the
    # subject are fixed for one read): asked once per pair, not once per record — a subject with hundreds of
    # records has them under a few item versions (~5% of a heavy government read's CPU, measured in process).
    verdicts: dict[tuple[int, bool], bool] = {}
    departments = catalog.departments
    kind = subject.kind
    for (_, _, _, _, record_id, item_code, department_code, status, category, severity, decision_day, version_no,
         stopped_on, display_from, under_objection, statement, item_version, version_id, fields) in rows:  # ~2x
        decision_date = _day(decision_day)
        assert decision_date is not None
        version = _item_version(catalog, item_code, item_version, decision_date)
        if version is None:  # an item no longer in the catalog: nothing says who may see it
            continue
        ends_on = _display_end(version, severity, decision_date)
        displayed = rules.is_displayed(status, _day(stopped_on), ends_on, today, _day(display_from))
        key = (id(version), displayed)
        shown = verdicts.get(key)
        if shown is None:
            shown = verdicts[key] = visible(version, displayed, kind)
        if not shown:
            continue
        total += 1
        if not start < total <= stop:  # outside the page: counted, not built (labels, fields and JSON are
            continue                   # most of a large file's cost)
        if fields is None:  # past fields_upto (hidden records came first): read below, by primary key
            unread.append((len(items), version_id, version))
        department = departments.get(department_code)
        items.append(FileItem(
            record_id=record_id, item_code=item_code, item_name_zh=version.name_zh, category=category,
            severity=severity, report_section=version.report_section, sharing=version.sharing.value,
            department_code=department_code,
            department_name_zh=department.name_zh if department else department_code,
            decision_date=decision_date, display_ends_on=ends_on, status=status, displayed=displayed,
            under_objection=bool(under_objection), statement=statement, version=version_no,
            fields=field_lines(version, orjson.loads(fields) or {}) if fields else (),
        ))
    if unread:
        texts = {row[0]: row[1] for row in connection.execute(_FIELDS_OF, {"ids": [v for _, v, _ in unread]})}
        for index, version_id, version in unread:
            items[index] = replace(items[index], fields=field_lines(version, orjson.loads(texts[version_id]) or {}))
    return subject, items, total


def _page(window: Window | None, total: int) -> FilePage | None:
    if window is None:
        return None
    offset, limit = window
    return FilePage(offset, limit, total, offset + limit if offset + limit < total else None)


def public_file(session: Session, catalog: Catalog, subject_id: int, today: dt.date, *,
                window: Window | None = None) -> CreditFile:
    """What the public sees (社会公众): displayed public items; a person only through items public for
    persons, masked — and a person with none is not found (the public learns nothing of them).
    ``window`` (offset, limit): only that page of the items (the API's pages)."""
    def visible(version: ItemVersion, displayed: bool, kind: str) -> bool:
        return rules.visible_to(
            Audience.PUBLIC, sharing=version.sharing.value, category=version.category.value,
            subject_kind=kind, public_for_persons=version.public_for_persons, displayed=displayed,
        )

    subject, items, total = _read_file(session, catalog, subject_id, today, visible, window)
    if subject.kind == SubjectKind.PERSON.value and not total:
        raise NotFound(*_NO_PUBLIC_FILE)
    return CreditFile(subject.id, subject.kind, subject.display_id, subject.display_name, Audience.PUBLIC, today,
                      tuple(items), page=_page(window, total))


def requester_file(session: Session, catalog: Catalog, subject_id: int, categories: frozenset[str],
                   today: dt.date) -> CreditFile:
    """授权查询: displayed items of the categories a valid consent covers, identity masked. The caller
    (``consent.service``) checks the consent and writes the query log."""
    def visible(version: ItemVersion, displayed: bool, kind: str) -> bool:
        return rules.visible_to(
            Audience.REQUESTER, sharing=version.sharing.value, category=version.category.value,
            subject_kind=kind, public_for_persons=version.public_for_persons, displayed=displayed,
            consent_categories=categories,
        )

    subject, items, _ = _read_file(session, catalog, subject_id, today, visible)
    return CreditFile(subject.id, subject.kind, subject.display_id, subject.display_name, Audience.REQUESTER, today,
                      tuple(items))


def find_public_subject(session: Session, keyring: KeyRing, *, uscc: str | None = None, ric: str | None = None) -> int:
    """The subject id behind a USCC or citizen ID (validated; blind-index look-up; raises NotFound)."""
    try:
        return find_subject(session, keyring, ric=ric, uscc=uscc).id
    except NotFound:
        raise NotFound(*_NO_PUBLIC_FILE) from None


def own_file(session: Session, catalog: Catalog, keyring: KeyRing, subject_id: int, today: dt.date) -> CreditFile:
    """What the subject sees of themselves (本人): every record held — revoked, expired and not public
    included, each with its status and version — their identity in clear, and every query of their data."""
    subject = _subject(session, subject_id)
    display_id, display_name = decrypt_identity(keyring, subject)
    _, items, _ = _read_file(session, catalog, subject_id, today, lambda _version, _displayed, _kind: True)
    history = _history(session, [item.record_id for item in items])
    items = [replace(item, history=history.get(item.record_id, ())) for item in items]
    return CreditFile(subject.id, subject.kind, display_id, display_name, Audience.SELF, today, tuple(items),
                      query_log=query_log_for(session, catalog, subject_id))


def _history(session: Session, record_ids: list[int]) -> dict[int, tuple[RecordChange, ...]]:
    """Every version of these records (by the unique (record_id, version) index), oldest first."""
    found: dict[int, list[RecordChange]] = {}
    for start in range(0, len(record_ids), 1000):
        rows = session.execute(
            select(RecordVersion.record_id, RecordVersion.version, RecordVersion.change, RecordVersion.status,
                   RecordVersion.created_at, RecordVersion.reason)
            .where(RecordVersion.record_id.in_(record_ids[start:start + 1000]))
            .order_by(RecordVersion.record_id, RecordVersion.version)
        )
        for row in rows:
            found.setdefault(row.record_id, []).append(
                RecordChange(row.version, row.change, row.status, row.created_at, row.reason))
    return {record_id: tuple(changes) for record_id, changes in found.items()}


def government_file(
    session: Session,
    catalog: Catalog,
    subject_id: int,
    actor: audit.Actor,
    purpose: str,
    today: dt.date,
    *,
    channel: str = "api",
    basis: str = GOVERNMENT_BASIS,
) -> CreditFile:
    """政务共享: what the sharing level allows the actor's department, for a declared purpose.

    The read is logged in the query log with its purpose (in the caller's transaction: use a
    write session). An empty purpose is refused. (The API reads first and logs in its own short
    write transaction: :func:`government_read` then :func:`log_government_read`.)
    """
    file = government_read(session, catalog, subject_id, actor, purpose, today)
    log_government_read(session, file, actor, purpose, channel=channel, basis=basis)
    return file


def _government_purpose(actor: audit.Actor, purpose: str) -> str:
    purpose = (purpose or "").strip()
    if not purpose:
        raise DomainError("query.purpose_required", "请说明查询目的", "State the purpose of the query",
                          field="purpose", status=422)
    if actor.kind not in _GOVERNMENT_READERS:
        raise PermissionDenied("query.government_only", "仅限政务部门查询", "Government departments only")
    return purpose


def government_read(session: Session, catalog: Catalog, subject_id: int, actor: audit.Actor, purpose: str,
                    today: dt.date, *, window: Window | None = None) -> CreditFile:
    """The government file, read only (any session): checks the purpose and the reader first. It must not
    reach the reader before :func:`log_government_read` has committed its query-log row. ``window``
    (offset, limit): only that page of the items."""
    _government_purpose(actor, purpose)
    department = actor.department_code

    def visible(version: ItemVersion, displayed: bool, kind: str) -> bool:
        allowed = rules.department_allowed(department, shared_with=version.extra.get("shared_with"),
                                           sources=version.departments)
        return rules.visible_to(
            Audience.GOVERNMENT, sharing=version.sharing.value, category=version.category.value,
            subject_kind=kind, public_for_persons=version.public_for_persons, displayed=displayed,
            department_allowed=allowed,
        )

    subject, items, total = _read_file(session, catalog, subject_id, today, visible, window)
    return CreditFile(subject.id, subject.kind, subject.display_id, subject.display_name, Audience.GOVERNMENT, today,
                      tuple(items), page=_page(window, total))


def log_government_read(session: Session, file: CreditFile, actor: audit.Actor, purpose: str, *,
                        channel: str = "api", basis: str = GOVERNMENT_BASIS) -> None:
    """The query-log row of a government read (in the caller's write transaction)."""
    session.execute(_QUERY_LOG_INSERT, government_read_row(file, actor, purpose, channel=channel, basis=basis))


async def commit_government_read_log(db: Database, file: CreditFile, actor: audit.Actor, purpose: str) -> None:
    """The query-log row of an API government read, committed on its own before the file may leave
    (``Database.append_async``: on the event loop, cheaply)."""
    await db.append_async(QueryLog.__table__, government_read_row(file, actor, purpose))  # type: ignore[arg-type]


def government_read_row(file: CreditFile, actor: audit.Actor, purpose: str, *, channel: str = "api",
                        basis: str = GOVERNMENT_BASIS) -> dict[str, Any]:
    return query_log_row(subject_id=file.subject_id,
                         reader_kind=actor.kind if actor.kind in READER_KINDS else "staff", reader_name=actor.name,
                         reader_department=actor.department_code, purpose=_government_purpose(actor, purpose),
                         basis=basis, channel=channel, detail=_read_detail(file))


def _read_detail(file: CreditFile) -> dict[str, Any]:
    """What a government read showed, for the query log: how many items, and which page of how many."""
    detail: dict[str, Any] = {"audience": Audience.GOVERNMENT.value, "items": len(file.items)}
    if file.page is not None:
        detail.update(offset=file.page.offset, total=file.page.total)
    return detail


# -- the query log ---------------------------------------------------------------------------------


def log_query(
    session: Session,
    *,
    subject_id: int,
    reader_kind: str,
    reader_name: str,
    purpose: str,
    basis: str,
    channel: str,
    reader_department: str | None = None,
    requester_uscc: str | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Append one row to the query log (查询使用登记) in the current transaction; returns its id."""
    # A Core insert, not an ORM object: every government read, consented query and staff read writes one,
    # and the unit-of-work bookkeeping cost five times the insert itself (bench/RESULTS.md, group commit).
    return int(session.execute(_QUERY_LOG_INSERT, query_log_row(
        subject_id=subject_id, reader_kind=reader_kind, reader_name=reader_name, purpose=purpose, basis=basis,
        channel=channel, reader_department=reader_department, requester_uscc=requester_uscc, detail=detail,
    )).scalar_one())


def query_log_row(*, subject_id: int, reader_kind: str, reader_name: str, purpose: str, basis: str, channel: str,
                  reader_department: str | None = None, requester_uscc: str | None = None,
                  detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every column of one query-log row, stamped now (refuses an unknown reader kind or channel)."""
    if reader_kind not in READER_KINDS:
        raise ValueError(f"unknown reader kind {reader_kind!r}")
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    return {
        "at": utcnow(), "subject_id": subject_id, "reader_kind": reader_kind, "reader_name": reader_name[:200],
        "reader_department": reader_department, "requester_uscc": requester_uscc, "purpose": purpose, "basis": basis,
        "channel": channel, "detail": detail or {},
    }


# Built once: a statement made per call (``.values(...)``) cost more in cache-key work than the insert.
_QUERY_LOG_INSERT = insert(QueryLog.__table__).returning(QueryLog.__table__.c.id)  # type: ignore[arg-type]


def query_log_for(session: Session, catalog: Catalog, subject_id: int) -> tuple[QueryLogEntry, ...]:
    """Every query of a subject's data, newest first, naming the reader's organisation or department."""
    rows = session.execute(
        select(QueryLog).where(QueryLog.subject_id == subject_id).order_by(QueryLog.at.desc(), QueryLog.id.desc())
    ).scalars()
    entries = []
    for row in rows:
        department = catalog.departments.get(row.reader_department or "")
        if department is not None:
            reader = department.name_zh
        elif row.requester_uscc:
            reader = f"{row.reader_name}（{row.requester_uscc}）"
        elif row.reader_kind == "staff" and "credit_office" in catalog.departments:
            reader = catalog.departments["credit_office"].name_zh  # platform staff without a department
        else:
            reader = row.reader_name
        entries.append(QueryLogEntry(row.at, reader, row.purpose, row.basis))
    return tuple(entries)
