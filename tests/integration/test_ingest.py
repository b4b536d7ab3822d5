"""Collection end to end on the real database: receipts, idempotency, corrections, revocation, privacy."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select, text

from chengxin.core.audit import SYSTEM, Actor
from chengxin.core.errors import DomainError, PermissionDenied
from chengxin.platform import Platform
from chengxin.records.models import Record, RecordVersion
from chengxin.records.service import ApiRow, Receipt, ingest, revoke_record
from chengxin.subjects.models import Subject
from chengxin.subjects.service import find_subject
from factories import ric_for, valid_row

TODAY = dt.date(2026, 11, 25)
ITEM, DEPT = "admin_penalty", "samr"
CLERK = Actor(kind="api_key", name="k1", department_code=DEPT)


def _submit(platform: Platform, rows: list[dict[str, Any]], *, item: str = ITEM, dept: str = DEPT,
            actor: Actor = CLERK) -> Receipt:
    return ingest(platform.db, [ApiRow(i, r) for i, r in enumerate(rows, start=2)], catalog=platform.catalog,
                  keyring=platform.keyring, department=dept, item_code=item, actor=actor, channel="api", today=TODAY)


def _version(platform: Platform, day: str = "2025-09-01") -> Any:
    version = platform.catalog.item(ITEM).version_on(dt.date.fromisoformat(day))
    assert version is not None
    return version


def _count(platform: Platform, model: Any) -> int:
    with platform.db.read() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def test_valid_rows_are_kept_and_bad_rows_are_explained(platform: Platform) -> None:
    v = _version(platform)
    bad = valid_row(v, 2)
    bad["uscc"] = bad["uscc"][:-1] + ("0" if bad["uscc"][-1] != "0" else "1")
    receipt = _submit(platform, [valid_row(v, 1), bad, valid_row(v, 3)])
    assert (receipt.received, receipt.accepted, receipt.rejected) == (3, 2, 1)
    [rejected] = receipt.rejections
    assert rejected.row_no == 3 and rejected.source_id == "SRC-0000002"
    assert [(p.field, p.code) for p in rejected.problems] == [("uscc", "uscc.check_character")]
    assert "校验位" in rejected.problems[0].message
    assert _count(platform, Record) == 2 and _count(platform, RecordVersion) == 2


def test_every_problem_of_a_row_is_reported_at_once(platform: Platform) -> None:
    v = _version(platform)
    row = valid_row(v, 1, decision_date="2025-02-30", uscc="", subject_name="")
    receipt = _submit(platform, [row])
    codes = {p.code for p in receipt.rejections[0].problems}
    assert {"field.not_date", "subject.identifier_missing", "field.required"} <= codes


def test_resubmitting_identical_content_changes_nothing(platform: Platform) -> None:
    v = _version(platform)
    rows = [valid_row(v, n) for n in range(1, 6)]
    first = _submit(platform, rows)
    second = _submit(platform, rows)
    assert first.accepted == 5 and (second.accepted, second.unchanged, second.corrected) == (0, 5, 0)
    assert _count(platform, RecordVersion) == 5


def test_changed_content_is_a_correction_and_history_is_kept(platform: Platform) -> None:
    v = _version(platform)
    row = valid_row(v, 1)
    _submit(platform, [row])
    text_field = next(f.code for f in v.fields if f.type.value in ("string", "text") and not f.pattern)
    corrected = {**row, text_field: "更正后的内容"}
    receipt = _submit(platform, [corrected])
    assert (receipt.accepted, receipt.corrected) == (0, 1)
    with platform.db.read() as s:
        record = s.execute(select(Record)).scalar_one()
        versions = s.execute(select(RecordVersion).order_by(RecordVersion.version)).scalars().all()
    assert record.version == 2 and record.version_id == versions[-1].id
    assert [x.change for x in versions] == ["create", "correct"]
    assert versions[0].fields[text_field] == row[text_field] and versions[1].fields[text_field] == "更正后的内容"


def test_a_source_id_twice_in_one_batch_ends_as_its_last_content(platform: Platform) -> None:
    v = _version(platform)
    row = valid_row(v, 1)
    text_field = next(f.code for f in v.fields if f.type.value in ("string", "text") and not f.pattern)
    receipt = _submit(platform, [row, {**row, text_field: "第二次"}, row])
    assert (receipt.accepted, receipt.corrected, receipt.unchanged) == (1, 2, 0)
    with platform.db.read() as s:
        assert s.execute(select(Record.version)).scalar_one() == 3


def test_revoked_record_is_kept_and_cannot_be_resubmitted(platform: Platform) -> None:
    v = _version(platform)
    row = valid_row(v, 1)
    _submit(platform, [row])
    with platform.db.read() as s:
        rid = s.execute(select(Record.id)).scalar_one()
    detail = revoke_record(platform.db, keyring=platform.keyring, record_id=rid, actor=CLERK, reason="复议撤销")
    assert detail.status == "revoked" and [x.change for x in detail.versions] == ["create", "revoke"]
    assert detail.versions[-1].reason == "复议撤销"
    again = _submit(platform, [row])
    assert again.rejected == 1 and again.rejections[0].problems[0].code == "record.revoked"
    with pytest.raises(DomainError) as exc:
        revoke_record(platform.db, keyring=platform.keyring, record_id=rid, actor=CLERK, reason="again")
    assert exc.value.code == "record.already_revoked"


def test_only_the_source_department_may_revoke(platform: Platform) -> None:
    _submit(platform, [valid_row(_version(platform), 1)])
    with platform.db.read() as s:
        rid = s.execute(select(Record.id)).scalar_one()
    other = Actor(kind="api_key", name="k2", department_code="tax")
    with pytest.raises(PermissionDenied):
        revoke_record(platform.db, keyring=platform.keyring, record_id=rid, actor=other, reason="x")


def test_a_department_cannot_submit_another_departments_item(platform: Platform) -> None:
    not_allowed = next(
        code for code, item in platform.catalog.items.items() if all(DEPT not in v.departments for v in item.versions)
    )
    with pytest.raises(PermissionDenied) as exc:
        _submit(platform, [{}], item=not_allowed)
    assert exc.value.code == "submission.item_not_allowed"
    with pytest.raises(PermissionDenied):
        _submit(platform, [{}], dept="tax")  # an samr key acting as tax


def test_rows_are_checked_against_the_version_in_force_on_their_decision_date(platform: Platform) -> None:
    item = platform.catalog.item(ITEM)
    assert len(item.versions) >= 2, "admin_penalty ships dated versions"
    old, new = item.versions[0], item.versions[-1]
    row_old = valid_row(old, 1, decision_date=old.effective_from.isoformat())
    row_new = valid_row(new, 2, decision_date=new.effective_from.isoformat())
    receipt = _submit(platform, [row_old, row_new], actor=SYSTEM)
    assert receipt.accepted == 2, receipt.rejections
    with platform.db.read() as s:
        versions = dict(s.execute(select(RecordVersion.source_id, RecordVersion.item_version)).all())
    assert versions == {"SRC-0000001": old.version, "SRC-0000002": new.version}
    before = old.effective_from - dt.timedelta(days=1)
    receipt = _submit(platform, [valid_row(old, 3, decision_date=before.isoformat())], actor=SYSTEM)
    assert receipt.rejections[0].problems[0].code == "item.not_in_force"


def test_future_decision_dates_are_refused(platform: Platform) -> None:
    receipt = _submit(platform, [valid_row(_version(platform), 1, decision_date="2027-01-01")])
    assert "decision_date.future" in {p.code for p in receipt.rejections[0].problems}


def test_persons_are_stored_encrypted_masked_and_found_by_blind_index(platform: Platform) -> None:
    v = _version(platform)
    ric = ric_for(7)
    _submit(platform, [valid_row(v, 7, person=True, subject_name="王小明")])
    with platform.db.read() as s:
        subject = s.execute(select(Subject)).scalar_one()
        assert subject.display_id == ric[:6] + "********" + ric[-4:]
        assert subject.display_name == "王*明"
        raw = s.execute(text("SELECT * FROM subject")).one()
        blob = b"".join(x if isinstance(x, bytes) else str(x).encode() for x in raw)
        assert ric.encode() not in blob and "王小明".encode() not in blob
        found = find_subject(s, platform.keyring, ric=ric.lower() if ric.endswith("X") else ric)
        assert found.id == subject.id


def test_a_person_name_that_does_not_match_the_id_number_is_refused(platform: Platform) -> None:
    v = _version(platform)
    _submit(platform, [valid_row(v, 7, person=True, subject_name="王小明")])
    receipt = _submit(platform, [valid_row(v, 8, person=True, subject_name="李四", ric=ric_for(7))])
    assert receipt.rejections[0].problems[0].code == "subject.name_mismatch"


def test_legacy_15_digit_numbers_are_upgraded_to_the_same_subject(platform: Platform) -> None:
    v = _version(platform)
    ric18 = "11010519491231002X"
    _submit(platform, [valid_row(v, 1, person=True, ric=ric18, subject_name="赵一")])
    receipt = _submit(platform, [valid_row(v, 2, person=True, ric="110105491231002", subject_name="赵一")])
    assert receipt.accepted == 1
    assert _count(platform, Subject) == 1


def test_an_empty_submission_is_an_error_not_an_empty_batch(platform: Platform) -> None:
    with pytest.raises(DomainError) as exc:
        _submit(platform, [])
    assert exc.value.code == "batch.empty"


def test_citizen_ids_inside_record_fields_are_encrypted_and_masked(platform: Platform) -> None:
    v = _version(platform)
    ric_code = next(f.code for f in v.fields if f.type.value == "ric")
    ric = ric_for(42)
    row = valid_row(v, 1, **{ric_code: ric})
    assert _submit(platform, [row]).accepted == 1
    with platform.db.read() as s:
        stored = s.execute(select(RecordVersion.fields)).scalar_one()
        raw = s.execute(text("SELECT fields FROM record_version")).scalar_one()
    assert ric not in str(raw)
    assert stored[ric_code]["masked"] == ric[:6] + "********" + ric[-4:]
    # Resubmitting the same clear content is still recognised as unchanged (keyed content hash).
    assert _submit(platform, [row]).unchanged == 1


def test_memory_bounds_do_not_change_results_across_chunks(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    """The subject cache is bounded and earlier chunks are re-read from the database, not kept in memory."""
    import chengxin.records.service as service

    monkeypatch.setattr(service, "SUBJECT_CACHE", 3)
    v = _version(platform)
    text_field = next(f.code for f in v.fields if f.type.value in ("string", "text") and not f.pattern)
    rows = [valid_row(v, n) for n in range(1, 13)]
    rows += [rows[0], {**rows[1], text_field: "跨块更正"}]  # same source ids again, four chunks later
    receipt = ingest(platform.db, [ApiRow(i, r) for i, r in enumerate(rows, 2)], catalog=platform.catalog,
                     keyring=platform.keyring, department=DEPT, item_code=ITEM, actor=CLERK, channel="api",
                     today=TODAY, chunk_rows=3)
    assert (receipt.accepted, receipt.unchanged, receipt.corrected) == (12, 1, 1)
    assert _count(platform, Subject) == 12 and _count(platform, Record) == 12


def test_a_source_id_in_the_next_chunk_sees_what_the_chunk_before_made_of_it(platform: Platform) -> None:
    """A record created or corrected one chunk earlier is found again (earlier chunks are read back from the
    database, in the batch's transaction), corrected in order and chained."""
    from chengxin.ledger.service import verify

    v = _version(platform)
    text_field = next(f.code for f in v.fields if f.type.value in ("string", "text") and not f.pattern)
    a, b, c = (valid_row(v, n) for n in (1, 2, 3))
    a2, a3 = {**a, text_field: "第一次更正"}, {**a, text_field: "第二次更正"}
    rows = [a, b, a2, c, a3, b, a3]  # chunks of two: [a b] [a2 c] [a3 b] [a3]
    receipt = ingest(platform.db, [ApiRow(i, r) for i, r in enumerate(rows, 2)], catalog=platform.catalog,
                     keyring=platform.keyring, department=DEPT, item_code=ITEM, actor=CLERK, channel="api",
                     today=TODAY, chunk_rows=2)
    assert (receipt.accepted, receipt.corrected, receipt.unchanged, receipt.rejected) == (3, 2, 2, 0)
    with platform.db.read() as s:
        record = s.execute(select(Record).where(Record.source_id == a["source_id"])).scalar_one()
        history = s.execute(select(RecordVersion.version, RecordVersion.change, RecordVersion.fields)
                            .where(RecordVersion.record_id == record.id).order_by(RecordVersion.version)).all()
        report = verify(s, platform.keyring)
    assert record.version == 3 and record.version_id == max(
        rv_id for rv_id in _version_ids(platform, record.id))
    assert [(n, change, fields[text_field]) for n, change, fields in history] == [
        (1, "create", a[text_field]), (2, "correct", "第一次更正"), (3, "correct", "第二次更正")]
    assert report.ok, report.findings
    assert _count(platform, Record) == 3 and _count(platform, RecordVersion) == 5


def _version_ids(platform: Platform, record_id: int) -> list[int]:
    with platform.db.read() as s:
        return list(s.execute(select(RecordVersion.id).where(RecordVersion.record_id == record_id)).scalars())


def test_an_error_from_the_rows_half_way_reaches_the_caller_and_the_batch_is_not_kept(platform: Platform) -> None:
    """The rows run out with an error (a bad file found half way) after chunks were written: the caller gets
    that error and nothing of the batch is kept."""

    v = _version(platform)

    def rows() -> Any:
        for n in range(1, 5):
            yield ApiRow(n + 1, valid_row(v, n))
        raise DomainError("file.broken", "文件在第 6 行损坏", "The file is broken at row 6")

    with pytest.raises(DomainError) as refused:
        ingest(platform.db, rows(), catalog=platform.catalog, keyring=platform.keyring, department=DEPT,
               item_code=ITEM, actor=CLERK, channel="api", today=TODAY, chunk_rows=2)
    assert refused.value.code == "file.broken"
    assert _count(platform, Record) == 0 and _count(platform, RecordVersion) == 0 and _count(platform, Subject) == 0


def test_an_insert_that_fails_behind_the_chaining_fails_the_batch_and_keeps_nothing(platform: Platform) -> None:
    """A chunk's inserts run in a second thread while the next chunk is chained: when one of them fails (here
    a record id taken behind the application's back), the caller gets the database's error and nothing of
    the batch is kept — not even the chunks whose inserts had succeeded."""
    from chengxin.records.service import HEAD_COLUMNS

    v = _version(platform)
    assert _submit(platform, [valid_row(v, 1)]).accepted == 1
    with platform.db.read() as s:
        first = s.execute(select(Record.id)).scalar_one()
    copied = ", ".join("'INTRUDER'" if c == "source_id" else ":taken" if c == "id" else c for c in HEAD_COLUMNS)
    with platform.db.write() as s:  # the id the batch's third record will take (chunks of two: the second chunk)
        s.execute(text(f"INSERT INTO record ({', '.join(HEAD_COLUMNS)}) SELECT {copied} FROM record WHERE id = :id"),
                  {"taken": first + 3, "id": first})
    rows = [ApiRow(n + 1, valid_row(v, n)) for n in range(2, 8)]  # three chunks: the second fails in the thread
    with pytest.raises(Exception) as failed:
        ingest(platform.db, rows, catalog=platform.catalog, keyring=platform.keyring, department=DEPT,
               item_code=ITEM, actor=CLERK, channel="api", today=TODAY, chunk_rows=2)
    assert "unique" in str(failed.value).lower() or "duplicate" in str(failed.value).lower()
    assert _count(platform, Record) == 2 and _count(platform, RecordVersion) == 1 and _count(platform, Subject) == 1
    with platform.db.read() as s:
        batches = s.execute(text("SELECT count(*) FROM ingest_batch")).scalar_one()
    assert batches == 1
