"""The ingest stores exactly what was submitted — with the characters a bulk path could mangle (COPY gives
backslash, tab and line breaks a meaning) — and chains exactly what it stores, on both engines."""

from __future__ import annotations

import datetime as dt

import orjson
from sqlalchemy import select
from sqlalchemy import text as sql_text

from chengxin.core.audit import Actor
from chengxin.ledger.service import verify
from chengxin.platform import Platform
from chengxin.records.models import Record, RecordVersion
from chengxin.records.rules import canonical_fields
from chengxin.records.service import ApiRow, ingest
from factories import valid_row

TODAY = dt.date(2026, 11, 25)
CLERK = Actor(kind="api_key", name="k1", department_code="samr")
AWKWARD = ["反斜杠\\N 与 \\x00、\\\\ 两个", "制表\t符", "换行\n第二行\r\n第三行", '引号"与\'撇号', "\\.", "普通文字"]


def _submit(platform: Platform, rows: list[dict[str, object]]) -> None:
    receipt = ingest(platform.db, [ApiRow(i, r) for i, r in enumerate(rows, start=2)], catalog=platform.catalog,
                     keyring=platform.keyring, department="samr", item_code="admin_penalty", actor=CLERK,
                     channel="api", today=TODAY)
    assert receipt.rejected == 0, receipt.rejections


def test_awkward_text_is_stored_as_submitted_and_the_chain_verifies(platform: Platform) -> None:
    version = platform.catalog.item("admin_penalty").version_on(dt.date(2025, 9, 1))
    assert version is not None
    rows = [valid_row(version, n, facts=text, source_id=f"SRC\\{n}\t{text[:2]}")
            for n, text in enumerate(AWKWARD, start=1)]
    rows.append(valid_row(version, 99, person=True))  # a person too: the severity, another subject kind
    _submit(platform, rows)
    _submit(platform, [dict(rows[0], facts="更正\\后\t的事实")])  # a correction: the head is updated, not copied
    with platform.db.read() as s:
        stored = {r.source_id: r for r in s.execute(select(Record)).scalars()}
        versions = {(v.source_id, v.version): v for v in s.execute(select(RecordVersion)).scalars()}
        report = verify(s, platform.keyring)
    assert report.ok, report.findings
    for n, text in enumerate(AWKWARD, start=1):
        source_id = f"SRC\\{n}\t{text[:2]}"
        record = stored[source_id]
        assert versions[(source_id, 1)].fields["facts"] == text
        assert record.decision_date == dt.date(2025, 9, 1) and record.status == "active"
        assert record.version == (2 if n == 1 else 1)
        assert record.version_id == versions[(source_id, record.version)].id
    assert versions[(f"SRC\\1\t{AWKWARD[0][:2]}", 2)].fields["facts"] == "更正\\后\t的事实"


def test_fields_are_stored_as_json_text_the_database_can_read(platform: Platform) -> None:
    """The bulk path hands SQLite the reader's UTF-8 bytes (``BulkWriter.insert(…, utf8=…)``): they must land as text —
    a BLOB would still load in Python but break the database's own JSON functions and every ``sqlite3`` user.
    On PostgreSQL the column is ``json`` (migration 0028): the reader's canonical text is kept as written, not
    converted to ``jsonb`` (which would render it with spaces after every colon and comma)."""
    version = platform.catalog.item("admin_penalty").version_on(dt.date(2025, 9, 1))
    assert version is not None
    _submit(platform, [valid_row(version, 5, facts=AWKWARD[0], source_id="J5")])
    with platform.db.read() as s:
        if platform.db.dialect == "sqlite":
            kind, facts, stored = s.execute(sql_text(
                "SELECT typeof(fields), json_extract(fields, '$.facts'), fields FROM record_version "
                "WHERE source_id = 'J5'")).one()
            assert kind == "text"
        else:
            kind, facts, stored = s.execute(sql_text(
                "SELECT pg_typeof(fields)::text, fields ->> 'facts', fields::text FROM record_version "
                "WHERE source_id = 'J5'")).one()
            assert kind == "json"
    assert facts == AWKWARD[0]
    assert stored == canonical_fields(orjson.loads(stored)).decode()  # the reader's bytes, as written
