"""The ledger names every row changed behind the application's back (edits made with plain SQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text, update

from chengxin.core.audit import Actor
from chengxin.ledger.service import canonical_version, next_hash, verify
from chengxin.platform import Platform
from chengxin.records.models import Record, RecordVersion
from chengxin.records.service import ApiRow, ingest, revoke_record
from factories import valid_row

TODAY = dt.date(2026, 11, 25)
CLERK = Actor(kind="api_key", name="k1", department_code="samr")


@pytest.fixture()
def ledger(platform: Platform) -> Platform:
    """Three batches: 10 organisation records, 5 person records, 2 corrections; then one revocation."""
    v = platform.catalog.item("admin_penalty").version_on(dt.date(2025, 9, 1))
    assert v is not None

    def submit(rows: list[dict[str, object]]) -> None:
        ingest(platform.db, [ApiRow(i, r) for i, r in enumerate(rows, 2)], catalog=platform.catalog,
               keyring=platform.keyring, department="samr", item_code="admin_penalty", actor=CLERK,
               channel="api", today=TODAY)

    submit([valid_row(v, n) for n in range(1, 11)])
    submit([valid_row(v, n, person=True, subject_name=f"张{n}明") for n in range(11, 16)])
    submit([valid_row(v, n, facts=f"更正{n}") for n in (1, 2)])
    with platform.db.read() as s:
        rid = s.execute(select(Record.id).where(Record.source_id == "SRC-0000003")).scalar_one()
    revoke_record(platform.db, keyring=platform.keyring, record_id=rid, actor=CLERK, reason="撤销")
    return platform


def _verify(platform: Platform):  # type: ignore[no-untyped-def]
    with platform.db.read() as s:
        return verify(s, platform.keyring)


def _sql(platform: Platform, statement: str, **params: object) -> None:
    with platform.db.engine.begin() as conn:
        conn.execute(text(statement), params)


def test_an_untouched_ledger_verifies(ledger: Platform) -> None:
    report = _verify(ledger)
    assert report.ok, report.findings
    assert report.versions_checked == 18 and report.checkpoints_checked == 4
    assert report.records_checked == 15 and report.subjects_checked == 15


def test_an_edited_row_is_named(ledger: Platform) -> None:
    with ledger.db.engine.begin() as conn:
        conn.execute(update(RecordVersion).where(RecordVersion.id == 4).values(fields={"facts": "篡改"}))
    findings = _verify(ledger).findings
    assert [(f.kind, f.row_id) for f in findings if f.table == "record_version"] == [("altered", 4)]


def test_a_changed_severity_or_date_is_named(ledger: Platform) -> None:
    _sql(ledger, "UPDATE record_version SET severity = 'serious' WHERE id = 7")
    _sql(ledger, "UPDATE record_version SET decision_date = '2020-01-01' WHERE id = 9")
    rows = sorted(f.row_id for f in _verify(ledger).findings if f.table == "record_version")
    assert rows == [7, 9]


def test_a_removed_row_is_named(ledger: Platform) -> None:
    _sql(ledger, "DELETE FROM record_version WHERE id = 12")
    findings = _verify(ledger).findings
    assert ("removed", 12) in [(f.kind, f.row_id) for f in findings]


def test_an_inserted_row_is_named(ledger: Platform) -> None:
    with ledger.db.read() as s:
        last = s.execute(select(RecordVersion).order_by(RecordVersion.id.desc()).limit(1)).scalar_one()
    row = {c.name: getattr(last, c.name) for c in RecordVersion.__table__.columns}
    row.update(id=last.id + 1, version=last.version + 1, change="correct", reason=None)

    class R:  # compute a perfectly chained hash: the forger knows the algorithm
        pass

    r = R()
    r.__dict__.update(row)
    row["chain_hash"] = next_hash(last.chain_hash, canonical_version(r))
    with ledger.db.engine.begin() as conn:
        conn.execute(RecordVersion.__table__.insert(), [row])
    findings = _verify(ledger).findings
    assert (last.id + 1) in [f.row_id for f in findings if f.kind in ("inserted", "unsigned")]


def test_rewriting_history_and_every_hash_after_it_breaks_the_signed_checkpoints(ledger: Platform) -> None:
    with ledger.db.read() as s:
        rows = s.execute(select(RecordVersion).order_by(RecordVersion.id)).scalars().all()
    previous = bytes(32)
    new_hashes = {}
    for row in rows:
        if row.id == 2:
            row.fields = {**row.fields, "facts": "改写历史"}
        previous = next_hash(previous, canonical_version(row))
        new_hashes[row.id] = (previous, row.fields)
    with ledger.db.engine.begin() as conn:
        for rid, (h, fields) in new_hashes.items():
            conn.execute(update(RecordVersion).where(RecordVersion.id == rid).values(chain_hash=h, fields=fields))
    findings = _verify(ledger).findings
    assert findings and all(f.kind == "checkpoint" for f in findings)


def test_a_record_head_pointing_elsewhere_is_named(ledger: Platform) -> None:
    with ledger.db.read() as s:
        rid = s.execute(select(Record.id).where(Record.source_id == "SRC-0000003")).scalar_one()
    _sql(ledger, "UPDATE record SET status = 'active' WHERE id = :rid", rid=rid)
    findings = _verify(ledger).findings
    assert [(f.kind, f.table, f.row_id) for f in findings] == [("head", "record", rid)]


def test_swapped_ciphertexts_between_persons_are_named(ledger: Platform) -> None:
    with ledger.db.read() as s:
        a, b = s.execute(text("SELECT id, id_cipher FROM subject WHERE kind = 'person' ORDER BY id LIMIT 2")).all()
    _sql(ledger, "UPDATE subject SET id_cipher = :c WHERE id = :i", c=b.id_cipher, i=a.id)
    findings = _verify(ledger).findings
    assert [(f.kind, f.row_id) for f in findings] == [("subject", a.id)]


def test_spliced_canonical_bytes_equal_the_plain_ones() -> None:
    """The ingest builds a version's canonical bytes from parts; verify rebuilds them whole."""
    import orjson

    from chengxin.ledger.service import canonical_spliced, canonical_values

    fields = {"b": "第二", "a": {"masked": "320402********1234", "z": 1}, "c": None}
    head = [7, 3, 2, 1, "create", "admin_penalty", "2025.1", "samr", "S-1", "active", None, "2025-09-01"]
    tail = [None, 4, "2026-11-25T08:00:00.000001+00:00"]
    spliced = canonical_spliced(head, orjson.dumps(fields, option=orjson.OPT_SORT_KEYS), orjson.dumps(tail))
    assert spliced == canonical_values([*head, fields, *tail])


def test_a_record_whose_subject_was_removed_behind_the_databases_back_is_named(ledger: Platform) -> None:
    """The database refuses to remove a subject that records name (a foreign key on SQLite, migration 0029's
    triggers on PostgreSQL); past those checks — PostgreSQL's replica mode, a raw SQLite connection without
    ``foreign_keys`` — verify still names the record left pointing at nothing."""
    with ledger.db.read() as s:
        rid, sid = s.execute(select(Record.id, Record.subject_id).where(Record.source_id == "SRC-0000012")).one()
    if ledger.db.dialect == "postgresql":
        with ledger.db.engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text("DELETE FROM subject WHERE id = :sid"), {"sid": sid})
    else:
        import sqlite3

        raw = sqlite3.connect(str(ledger.db.engine.url.database), isolation_level=None)  # foreign_keys off
        raw.execute("DELETE FROM subject WHERE id = ?", (sid,))
        raw.close()
    findings = _verify(ledger).findings
    assert [(f.kind, f.table, f.row_id) for f in findings] == [("head", "record", rid)]
    assert f"its subject {sid} does not exist" in findings[0].message
