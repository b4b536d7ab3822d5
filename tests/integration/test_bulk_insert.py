"""``BulkWriter.insert`` stores each value as the column's own type on both engines — on PostgreSQL through a
binary COPY, which sends every value in its column's exact binary form: JSON already serialised (as ``str`` or
UTF-8 ``bytes``) must land as that JSON, not as a JSON string of it, times and days as themselves, text with the
characters a text COPY gives a meaning to as written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from chengxin.core.db import BulkWriter
from chengxin.platform import Platform

AT = dt.datetime(2026, 11, 27, 7, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8)))
DAY = dt.date(2025, 2, 28)
COLUMNS = ("id", "small", "doc", "doc_b", "at", "day", "flag", "blob", "note")


def _probe(session: Session) -> BulkWriter:
    if session.get_bind().dialect.name == "postgresql":
        types = "SMALLINT, JSON, JSONB, TIMESTAMPTZ, DATE, BOOLEAN, BYTEA, VARCHAR(64)"
    else:
        types = "SMALLINT, JSON, JSON, DATETIME, DATE, BOOLEAN, BLOB, VARCHAR(64)"
    small, doc, doc_b, at, day, flag, blob, note = types.split(", ")
    session.execute(text("DROP TABLE IF EXISTS bulk_probe"))  # temporary tables live as long as the connection
    session.execute(text(f"CREATE TEMPORARY TABLE bulk_probe (id BIGINT NOT NULL, small {small}, doc {doc}, "
                         f"doc_b {doc_b}, at {at}, day {day}, flag {flag}, blob {blob}, note {note})"))
    return BulkWriter(session)


def _json(writer: BulkWriter, value: Any, as_bytes: bool) -> Any:
    """Serialised JSON as a caller hands it: bytes on PostgreSQL (or str), str on SQLite."""
    dumped = orjson.dumps(value)
    return dumped if as_bytes and writer.dialect == "postgresql" else dumped.decode()


@pytest.mark.parametrize("as_bytes", [True, False], ids=["bytes", "str"])
def test_values_land_as_their_columns_types(platform: Platform, as_bytes: bool) -> None:
    doc = {"名称": "反斜杠\\N\t制表\n换行", "金额": "101.00", "list": [1, None, True]}
    with platform.db.write() as session:
        writer = _probe(session)
        writer.insert("bulk_probe", COLUMNS, [
            (1, 7, _json(writer, doc, as_bytes), _json(writer, ["甲", {"k": 2}], as_bytes), writer.datetime(AT),
             writer.date(DAY), True, b"\x00\x01\\\xff", "引号\"与\\.和\t"),
            (2, None, _json(writer, None, as_bytes), _json(writer, "文字", as_bytes), None, None, None, None, None),
        ])
        if writer.dialect == "postgresql":
            rows = session.execute(text(
                "SELECT id, small, doc::text, doc_b::text, at, day, flag, blob, note, json_typeof(doc), "
                "jsonb_typeof(doc_b) FROM bulk_probe ORDER BY id")).all()
        else:
            rows = session.execute(text(
                "SELECT id, small, doc, doc_b, at, day, flag, blob, note, json_type(doc), json_type(doc_b) "
                "FROM bulk_probe ORDER BY id")).all()
    first, second = rows
    assert orjson.loads(first[2]) == doc and orjson.loads(first[3]) == ["甲", {"k": 2}]
    assert first[9] == "object" and first[10] == "array"  # JSON values, not JSON strings of their text
    assert second[9] == "null" and orjson.loads(second[3]) == "文字"
    assert first[1] == 7 and bool(first[6]) is True and bytes(first[7]) == b"\x00\x01\\\xff"
    assert first[8] == "引号\"与\\.和\t"
    at, day = first[4], first[5]
    if writer.dialect == "sqlite":  # SQLAlchemy's storage format for UtcDateTime: naive UTC text
        assert at == "2026-11-26 23:30:15.123456" and day == "2025-02-28"
    else:
        assert at == AT and day == DAY
    assert all(v is None for v in (second[1], *second[4:9]))


def test_a_value_of_the_wrong_type_fails_the_insert_on_postgresql(platform: Platform) -> None:
    """A binary COPY cannot guess: a text where the column is a day fails loudly there (never a silent wrong
    value); SQLite, typeless, stores the text as given — which is why callers convert with ``BulkWriter.date``
    and ``datetime`` for both."""
    def write() -> Any:
        with platform.db.write() as session:
            _probe(session).insert("bulk_probe", ("id", "day"), [(1, "2025-02-28")])
            return session.execute(text("SELECT day FROM bulk_probe")).scalar()

    if platform.db.dialect == "postgresql":
        with pytest.raises(Exception, match="date"):
            write()
    else:
        assert write() == "2025-02-28"


def test_a_bulk_write_widens_the_sqlite_page_cache_and_commits_without_a_checkpoint(platform: Platform) -> None:
    import sqlite3

    from chengxin.core.db import SQLITE_AUTOCHECKPOINT_PAGES, SQLITE_BULK_CACHE_KIB, SQLITE_CACHE_KIB

    def pragma(driver: Any, name: str) -> int:
        return int(driver.execute(f"PRAGMA {name}").fetchone()[0])

    with platform.db.write() as session:
        writer = _probe(session)
        session.execute(text("CREATE UNIQUE INDEX IF NOT EXISTS bulk_probe_id ON bulk_probe (id)"))
        writer.begin_bulk_write()
        if writer.dialect != "sqlite":  # PostgreSQL: the server's buffers and checkpoints are its own
            writer.end_bulk_write()
            return
        driver = session.connection().connection.driver_connection
        assert pragma(driver, "cache_size") == -SQLITE_BULK_CACHE_KIB
        assert pragma(driver, "wal_autocheckpoint") == 0
        writer.insert("bulk_probe", ("id",), [(1,)])
        with pytest.raises(sqlite3.IntegrityError):
            writer.insert("bulk_probe", ("id",), [(1,)])
        writer.end_bulk_write()  # on the driver's connection: the failed statement does not stop it
        assert pragma(driver, "cache_size") == -SQLITE_CACHE_KIB
        assert pragma(driver, "wal_autocheckpoint") == 0  # through the commit
    # back in the pool, the connection checkpoints as every connection does
    assert pragma(driver, "wal_autocheckpoint") == SQLITE_AUTOCHECKPOINT_PAGES


@pytest.mark.sqlite_only
def test_a_large_batch_commits_without_copying_its_log_and_a_checkpoint_copies_it_later(platform: Platform) -> None:
    """A batch whose log passes SQLite's auto-checkpoint threshold: its commit leaves the new pages in the log (the
    receipt does not wait for them to be copied), every row is readable, and ``Database.checkpoint`` copies the
    log into the database file afterwards."""
    import datetime as dt
    import hashlib
    from pathlib import Path

    from sqlalchemy import func, select

    from chengxin.core.db import SQLITE_AUTOCHECKPOINT_PAGES
    from chengxin.records.models import RecordVersion
    from factories import submit_rows, valid_row

    database = Path(str(platform.db.engine.url.database))
    day = dt.date(2026, 11, 20)
    version = platform.catalog.version_on("admin_penalty", day)
    assert version is not None
    def file_digest() -> bytes:  # the database file itself, not what a connection reads (that includes the log)
        return hashlib.sha256(database.read_bytes()).digest()

    platform.db.checkpoint()  # start from a log that is all in the file
    before = file_digest()
    rows = [valid_row(version, n, decision_date=day.isoformat(), source_id=f"BIG-{n}") for n in range(1, 3001)]
    submit_rows(platform, "admin_penalty", "samr", rows, day)
    wal = Path(f"{database}-wal").stat().st_size
    assert wal > SQLITE_AUTOCHECKPOINT_PAGES * 4096  # past the threshold: a commit would have checkpointed
    assert file_digest() == before  # the commit copied nothing into the file
    with platform.db.read() as session:
        assert session.scalar(select(func.count()).select_from(RecordVersion)) == 3000
    platform.db.checkpoint()
    assert file_digest() != before  # the batch's pages are in the file now
