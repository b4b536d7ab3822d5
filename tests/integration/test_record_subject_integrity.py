"""Every record names a subject that exists, and a subject that records name stays — on both engines.

SQLite enforces ``record.subject_id → subject.id`` as a foreign key; PostgreSQL by the statement-level
triggers of migration 0029 (a bulk ``COPY`` is checked as one set, without a row lock per record). These
tests hold both to what a foreign key guarantees, through the paths that write records: a plain INSERT,
the bulk writer (``COPY`` on PostgreSQL), an UPDATE, and, for subjects, DELETE and a change of id.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from chengxin.catalog.model import SubjectKind
from chengxin.core.audit import Actor
from chengxin.core.db import BulkWriter
from chengxin.platform import Platform
from chengxin.records.service import HEAD_COLUMNS, ApiRow, ingest
from chengxin.subjects.service import ensure_subject
from factories import uscc_for, valid_row

TODAY = dt.date(2026, 11, 25)
# The bulk writer talks to the driver itself: its errors are the driver's, not SQLAlchemy's.
DRIVER_REFUSED = (sqlite3.IntegrityError, psycopg.IntegrityError)
CLERK = Actor(kind="api_key", name="k1", department_code="samr")
_serial = iter(range(1, 1_000_000))


@pytest.fixture
def named(platform: Platform) -> dict[str, Any]:
    """A subject with one record (``subject``, ``record``) and a subject no record names (``bare``)."""
    n = next(_serial)
    version = platform.catalog.item("admin_penalty").version_on(dt.date(2025, 9, 1))
    assert version is not None
    row = valid_row(version, 880_000 + n, source_id=f"INTEGRITY-{n}")
    receipt = ingest(platform.db, [ApiRow(2, row)], catalog=platform.catalog, keyring=platform.keyring,
                     department="samr", item_code="admin_penalty", actor=CLERK, channel="api", today=TODAY)
    assert receipt.accepted == 1, receipt.rejections
    with platform.db.engine.begin() as conn:
        head = conn.execute(text(f"SELECT {', '.join(HEAD_COLUMNS)} FROM record WHERE source_id = :s"),
                            {"s": f"INTEGRITY-{n}"}).one()
        missing = conn.execute(text("SELECT max(id) + 1000 FROM subject")).scalar_one()
    with platform.db.write() as session:
        bare = ensure_subject(session, platform.keyring, ric=None, uscc=uscc_for(770_000 + n), name="无记录主体有限公司",
                              allowed=frozenset({SubjectKind.ORGANIZATION}))
    return {"head": head._asdict(), "subject": head.subject_id, "record": head.id, "bare": bare, "missing": missing,
            "n": n}


def _new_head(named: dict[str, Any], subject_id: int, k: int) -> dict[str, Any]:
    """A head like the fixture's record, under a new id and source id, naming ``subject_id``."""
    head = dict(named["head"])
    head.update(id=named["record"] + 500_000 + 10 * named["n"] + k, source_id=f"INTEGRITY-{named['n']}-{k}",
                subject_id=subject_id)
    return head


def _count_records(platform: Platform, **where: Any) -> int:
    clause = " AND ".join(f"{column} = :{column}" for column in where)
    with platform.db.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM record WHERE {clause}"), where).scalar_one())


def _insert_statement() -> Any:
    return text(f"INSERT INTO record ({', '.join(HEAD_COLUMNS)}) VALUES ({', '.join(':' + c for c in HEAD_COLUMNS)})")


def test_a_record_naming_no_subject_is_refused_and_one_naming_a_subject_is_kept(
    platform: Platform, named: dict[str, Any]
) -> None:
    with pytest.raises(IntegrityError), platform.db.engine.begin() as conn:
        conn.execute(_insert_statement(), _new_head(named, named["missing"], 1))
    assert _count_records(platform, subject_id=named["missing"]) == 0
    with platform.db.engine.begin() as conn:
        conn.execute(_insert_statement(), _new_head(named, named["bare"], 2))
    assert _count_records(platform, subject_id=named["bare"]) == 1


def test_a_bulk_write_with_one_record_naming_no_subject_is_refused_whole(
    platform: Platform, named: dict[str, Any]
) -> None:
    """The ingest's own path (``COPY`` on PostgreSQL): one bad row among good ones fails the statement."""
    heads = [_new_head(named, named["subject"], k) for k in range(3, 7)]
    heads.insert(2, _new_head(named, named["missing"], 7))
    with pytest.raises(DRIVER_REFUSED), platform.db.write() as session:
        bulk = BulkWriter(session)
        bulk.insert("record", HEAD_COLUMNS, [tuple(h[c] for c in HEAD_COLUMNS) for h in heads])
    assert _count_records(platform, subject_id=named["subject"]) == 1  # the fixture's record only
    with platform.db.write() as session:
        bulk = BulkWriter(session)
        bulk.insert("record", HEAD_COLUMNS, [tuple(h[c] for c in HEAD_COLUMNS) for h in heads[:2] + heads[3:]])
    assert _count_records(platform, subject_id=named["subject"]) == 5


def test_moving_a_record_to_no_subject_is_refused(platform: Platform, named: dict[str, Any]) -> None:
    move = text("UPDATE record SET subject_id = :to WHERE id = :id")
    with pytest.raises(IntegrityError), platform.db.engine.begin() as conn:
        conn.execute(move, {"to": named["missing"], "id": named["record"]})
    assert _count_records(platform, id=named["record"], subject_id=named["subject"]) == 1
    with platform.db.engine.begin() as conn:  # to a subject that exists: allowed
        conn.execute(move, {"to": named["bare"], "id": named["record"]})
    assert _count_records(platform, id=named["record"], subject_id=named["bare"]) == 1


def test_a_subject_that_records_name_cannot_be_deleted_or_renumbered(platform: Platform, named: dict[str, Any]) -> None:
    with pytest.raises(IntegrityError), platform.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM subject WHERE id = :id"), {"id": named["subject"]})
    with pytest.raises(IntegrityError), platform.db.engine.begin() as conn:
        conn.execute(text("UPDATE subject SET id = :new WHERE id = :id"),
                     {"new": named["missing"] + 1, "id": named["subject"]})
    with platform.db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM subject WHERE id = :id"), {"id": named["subject"]}).scalar() == 1
    renumbered = named["missing"] + 2
    with platform.db.engine.begin() as conn:  # a subject no record names can be renumbered, and can go
        conn.execute(text("UPDATE subject SET id = :new WHERE id = :id"), {"new": renumbered, "id": named["bare"]})
        conn.execute(text("DELETE FROM subject WHERE id = :id"), {"id": renumbered})
    with platform.db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM subject WHERE id IN (:a, :b)"),
                            {"a": named["bare"], "b": renumbered}).scalar() == 0


@pytest.fixture
def second_connection(platform: Platform) -> Iterator[Connection]:
    with platform.db.engine.connect() as conn:
        yield conn


@pytest.mark.postgresql_only
def test_deleting_a_subject_waits_for_the_records_being_written_then_refuses(
    platform: Platform, named: dict[str, Any], second_connection: Connection
) -> None:
    """The race a foreign key's row lock closes: a record for the subject is written but not committed yet
    when someone deletes the subject. The delete must wait, then see the record and refuse."""
    outcome: list[BaseException | None] = []

    def delete_subject() -> None:
        try:
            with second_connection.begin():
                second_connection.execute(text("SET LOCAL lock_timeout = '20s'"))
                second_connection.execute(text("DELETE FROM subject WHERE id = :id"), {"id": named["bare"]})
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 — handed to the test thread
            outcome.append(exc)

    with platform.db.engine.connect() as writer:
        transaction = writer.begin()
        writer.execute(_insert_statement(), _new_head(named, named["bare"], 8))
        deleter = threading.Thread(target=delete_subject)
        deleter.start()
        time.sleep(0.5)
        waiting = deleter.is_alive()
        transaction.commit()
    deleter.join(30)
    assert waiting, "the delete did not wait for the transaction writing a record for its subject"
    assert len(outcome) == 1 and isinstance(outcome[0], IntegrityError), outcome
    assert _count_records(platform, subject_id=named["bare"]) == 1


@pytest.mark.postgresql_only
def test_at_repeatable_read_a_subject_deleted_since_the_snapshot_is_not_named(
    platform: Platform, named: dict[str, Any], second_connection: Connection
) -> None:
    """An older snapshot still sees a subject deleted since: there the check locks the subjects as a foreign
    key would, and the lock finds the delete. A delete at that level (which could miss records committed
    meanwhile) is refused outright."""
    rr = platform.db.engine.execution_options(isolation_level="REPEATABLE READ")
    with rr.connect() as conn:
        transaction = conn.begin()
        conn.execute(text("SELECT count(*) FROM subject")).scalar()  # the snapshot is taken here
        with second_connection.begin():
            second_connection.execute(text("DELETE FROM subject WHERE id = :id"), {"id": named["bare"]})
        assert conn.execute(text("SELECT count(*) FROM subject WHERE id = :id"), {"id": named["bare"]}).scalar() == 1
        with pytest.raises(DBAPIError):
            conn.execute(_insert_statement(), _new_head(named, named["bare"], 9))
        transaction.rollback()
    assert _count_records(platform, subject_id=named["bare"]) == 0
    with rr.begin() as conn:  # a subject that exists can be named at this level
        conn.execute(_insert_statement(), _new_head(named, named["subject"], 10))
    assert _count_records(platform, subject_id=named["subject"]) == 2
    with pytest.raises(DBAPIError) as refused, rr.begin() as conn:
        conn.execute(text("DELETE FROM subject WHERE id = :id"), {"id": named["missing"] - 1000})
    assert "READ COMMITTED" in str(refused.value)


@pytest.mark.postgresql_only
def test_subjects_cannot_be_truncated_while_records_name_them(platform: Platform, named: dict[str, Any]) -> None:
    with pytest.raises(DBAPIError) as refused, platform.db.engine.begin() as conn:
        conn.execute(text("SET LOCAL lock_timeout = '20s'"))
        conn.execute(text("TRUNCATE subject CASCADE"))
    assert "record.subject_id" in str(refused.value)
    assert _count_records(platform, id=named["record"]) == 1


def _write_deferred(platform: Platform, heads: list[dict[str, Any]], *, check: bool = True,
                    isolation: str | None = None) -> None:
    """A bulk write as the ingest does it on PostgreSQL (migration 0035): the per-statement check deferred, the
    batch's records checked at once before the commit."""
    engine = platform.db.engine if isolation is None else platform.db.engine.execution_options(isolation_level=isolation)
    with engine.begin() as conn:
        after = conn.execute(text("SELECT coalesce(max(id), 0) FROM record")).scalar_one()
        conn.execute(text("SET LOCAL chengxin.record_subjects_deferred = on"))
        raw = conn.connection.driver_connection
        names = ", ".join(HEAD_COLUMNS)
        with raw.cursor() as cur, cur.copy(f"COPY record ({names}) FROM STDIN") as copy:  # type: ignore[union-attr]
            for head in heads:
                copy.write_row(tuple(head[c] for c in HEAD_COLUMNS))
        if check:
            conn.execute(text("SELECT record_subjects_checked_after(:after)"), {"after": after})


@pytest.mark.postgresql_only
def test_a_batch_that_defers_the_check_is_refused_whole_at_its_check(platform: Platform, named: dict[str, Any]) -> None:
    """With the per-statement check deferred, the COPY passes; the batch's own check before the commit refuses
    it, and the transaction keeps none of its records. A good batch passes the check and is kept."""
    heads = [_new_head(named, named["subject"], k) for k in range(11, 14)]
    with pytest.raises(IntegrityError, match="record.subject_id"):
        _write_deferred(platform, [*heads, _new_head(named, named["missing"], 14)])
    assert _count_records(platform, subject_id=named["subject"]) == 1
    _write_deferred(platform, heads)
    assert _count_records(platform, subject_id=named["subject"]) == 4


@pytest.mark.postgresql_only
def test_the_check_ends_the_deferral_and_repeatable_read_never_defers(platform: Platform, named: dict[str, Any]) -> None:
    """A check of a range of ids checks those records only and leaves the deferral on; after the batch's last
    check, a statement naming no subject is refused at once again; at REPEATABLE READ the
    setting is ignored (0029's locking check is what makes that level safe) and the COPY itself is refused."""
    with pytest.raises(DBAPIError, match="record.subject_id"), platform.db.engine.begin() as conn:
        conn.execute(text("SET LOCAL chengxin.record_subjects_deferred = on"))
        conn.execute(text("SELECT record_subjects_checked_after(0, 1)"))  # a range: the deferral goes on
        conn.execute(_insert_statement(), _new_head(named, named["missing"], 17))  # not checked at once
        last = conn.execute(text("SELECT max(id) FROM record")).scalar_one()
        conn.execute(text("SELECT record_subjects_checked_after(0, :upto)"), {"upto": last - 1})  # before it: fine
        conn.execute(text("DELETE FROM record WHERE id = :id"), {"id": last})
        conn.execute(text("SELECT record_subjects_checked_after(0)"))
        assert conn.execute(text("SELECT current_setting('chengxin.record_subjects_deferred')")).scalar() == "off"
        conn.execute(_insert_statement(), _new_head(named, named["missing"], 15))
    with pytest.raises(DRIVER_REFUSED, match="record.subject_id"):  # the COPY's own error: the driver's
        _write_deferred(platform, [_new_head(named, named["missing"], 16)], check=False, isolation="REPEATABLE READ")
    assert _count_records(platform, subject_id=named["missing"]) == 0


@pytest.mark.parametrize("check_every", [1, 100_000], ids=["checked-as-it-goes", "checked-at-the-end"])
def test_an_ingest_whose_writer_names_no_subject_keeps_nothing(
    platform: Platform, named: dict[str, Any], monkeypatch: pytest.MonkeyPatch, check_every: int
) -> None:
    """The ingest's own writer, made to name a subject that does not exist (a bug injected into its subject
    cache), fails the batch on both engines — SQLite by its foreign key, PostgreSQL by the batch's checks (in the
    insert thread as it goes, or the last one before the commit), the per-statement one being deferred — and
    none of the batch's rows are kept."""
    import chengxin.records.service as records_service

    monkeypatch.setattr(records_service, "SUBJECT_CHECK_EVERY", check_every)
    real = records_service.prepare_subjects

    def naming_a_missing_subject(keyring: Any, lock: Any, wanted: Any, cache: Any, bulk: Any) -> Any:
        result = real(keyring, lock, wanted, cache, bulk)
        for index in list(wanted)[:1]:
            cache[index] = records_service.SubjectRef(named["missing"], cache[index].name_index)
        return result

    monkeypatch.setattr(records_service, "prepare_subjects", naming_a_missing_subject)
    version = platform.catalog.item("admin_penalty").version_on(dt.date(2025, 9, 1))
    assert version is not None
    rows = [ApiRow(2 + k, valid_row(version, 881_000 + 10 * named["n"] + k, source_id=f"BUGGY-{named['n']}-{k}"))
            for k in range(4)]
    with pytest.raises((IntegrityError, *DRIVER_REFUSED)):
        ingest(platform.db, rows, catalog=platform.catalog, keyring=platform.keyring, department="samr",
               item_code="admin_penalty", actor=CLERK, channel="api", today=TODAY)
    with platform.db.engine.connect() as conn:
        kept = conn.execute(text("SELECT count(*) FROM record WHERE source_id LIKE :p"),
                            {"p": f"BUGGY-{named['n']}-%"}).scalar_one()
    assert kept == 0
    assert _count_records(platform, subject_id=named["missing"]) == 0
