"""Collection (归集) use cases: ingest a batch, revoke a record, read records and quality figures.

A batch is one transaction: valid rows and the rejections of invalid ones are committed
together or not at all (a killed process leaves nothing half written), and every new
version enters the ledger, sealed by a signed checkpoint at the end.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from hashlib import sha256
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import ColumnElement, bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from chengxin.catalog.model import Catalog, CatalogItem, SubjectKind
from chengxin.core import audit
from chengxin.core.crypto import KeyRing
from chengxin.core.db import BulkWriter, Database, utcnow
from chengxin.core.errors import DomainError, NotFound, PermissionDenied, Problem
from chengxin.core.memory import rare_collections
from chengxin.core.settings import INGEST_CHUNK_ROWS
from chengxin.ledger.service import (
    CHAINED_COLUMNS,
    LedgerLock,
    canonical_spliced,
    canonical_version,
    iso_time,
    lock_head,
    next_hash,
    seal,
)
from chengxin.notices.hold import hold_new_records
from chengxin.records.models import IngestBatch, IngestRejection, Record, RecordVersion
from chengxin.records.reader import BatchMemo, IncomingRow, PreparedChunk, RejectedRow, chunked, prepare_chunk
from chengxin.search.service import BulkNameIndex, HeldGrams
from chengxin.subjects.models import Subject
from chengxin.subjects.rules import SubjectKey
from chengxin.subjects.service import SUBJECT_COLUMNS, SubjectRef, prepare_subjects

REJECTION_SAMPLE = 1000
SUBJECT_CACHE = 250_000  # subjects remembered across chunks of one batch (bounded: memory stays flat)
ACTIVE, REVOKED = "active", "revoked"
_KINDS = {kind.value: kind for kind in SubjectKind}
_ORGANIZATION = SubjectKind.ORGANIZATION
_SUBJECT_OF_HEAD = itemgetter(1)  # a head row's subject_id (HEAD_COLUMNS)


@dataclass(slots=True)
class ApiRow:
    row_no: int
    values: dict[str, object]
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Receipt:
    """回执: what happened to every row of one submission."""

    batch_id: int
    department: str
    item: str
    channel: str
    filename: str | None
    received: int = 0
    accepted: int = 0
    unchanged: int = 0
    corrected: int = 0
    rejected: int = 0
    rejections: list[RejectedRow] = field(default_factory=list)  # the first REJECTION_SAMPLE rows
    warnings: list[Problem] = field(default_factory=list)
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None


def authorize_submission(actor: audit.Actor, department: str, item: CatalogItem) -> None:
    """Only the department itself (its clerks or API keys) or the server's own CLI may submit."""
    if actor.kind not in ("cli", "system") and actor.department_code != department:
        raise PermissionDenied(
            "submission.other_department",
            f"无权以“{department}”的名义报送数据",
            f"You may not submit on behalf of department {department}",
        )
    if not any(department in v.departments for v in item.versions):
        raise PermissionDenied(
            "submission.item_not_allowed",
            f"本单位不是目录项“{item.latest.name_zh}”的数据提供单位",
            f"Department {department} is not a source of catalog item {item.code}",
        )


def reads_every_department(actor: audit.Actor) -> bool:
    """The credit office, the administrator and the server's own CLI read every department's batches and figures."""
    return actor.role in ("admin", "credit_office") or actor.kind in ("cli", "system")


def may_read_department(actor: audit.Actor, department: str) -> bool:
    """Whether ``actor`` reads a department's batches, receipts and data-quality figures: a department (its clerks,
    its API key) only its own — they quote the values its rows were refused for."""
    return reads_every_department(actor) or (bool(actor.department_code) and actor.department_code == department)


def require_batch_reader(actor: audit.Actor, department: str) -> None:
    """403 unless ``actor`` may read this department's batches (:func:`may_read_department`)."""
    if not may_read_department(actor, department):
        raise PermissionDenied("batch.other_department", "无权查看其他单位的批次", "Not your department's batch")


def department_scope(actor: audit.Actor, department: str | None, *, code: str = "batch.other_department") -> str | None:
    """Whose batches or figures ``actor`` lists (None: every department's): what the office asks for, a
    department's own whatever it asks — another department's is refused with ``code``."""
    if reads_every_department(actor):
        return department or None
    if department and department != actor.department_code:
        raise PermissionDenied(code, "无权查看其他单位的报送数据", "Not your department's data")
    if not actor.department_code:
        raise PermissionDenied("auth.no_department", "您的账号未关联数据提供单位",
                               "Your account belongs to no department")
    return actor.department_code


@dataclass(slots=True)
class _Prior:
    record_id: int
    version: int
    content_hash: bytes
    status: str


# PostgreSQL: how many records a bulk batch writes between checks of their subjects (migration 0035) — as it
# goes, in the insert thread, so that the batch's serial end checks only the last ones.
SUBJECT_CHECK_EVERY = 100_000


class _BatchWriter:
    """The write side of one batch: keeps per-batch state across chunks.

    A chunk is written in two halves. What needs an answer from the database — which subjects and source
    records exist — runs in this thread; the inserts (new subjects, record heads, chained versions, rejections,
    name grams) run in a second thread, the versions one chunk behind, while this thread chains the next chunk.
    Before, on PostgreSQL, the writer and the server took turns: the server indexed a chunk's rows while the
    writer waited, then the writer chained the next chunk while the server idled (bench/RESULTS.md, ingest,
    sessions 14–15). The two threads never use the connection at the same time: every database call of this
    thread comes after :meth:`_drain`, and the insert thread touches no ORM object (``batch_id`` is a plain int).
    """

    def __init__(self, session: Session, keyring: KeyRing, lock: LedgerLock, batch: IngestBatch, receipt: Receipt):
        self.session = session
        self.keyring = keyring
        self.lock = lock
        self.batch_id: int = batch.id
        self.receipt = receipt
        self.subjects: dict[bytes, SubjectRef] = {}
        self.bulk = BulkWriter(session)
        self.bulk.begin_bulk_write()
        # Source ids of the last chunk and where they stand after it: its inserts may still be running, so
        # the next chunk finds them here, not in the database (chunks before it are in the database, same
        # transaction), and memory stays flat however long the file is.
        self.seen: dict[str, _Prior] = {}
        self.touched: set[int] = set()  # subjects whose records this batch created or corrected
        self.names = BulkNameIndex(session)  # new organisations' names: indexed by the batch itself
        # PostgreSQL: the records' subjects are checked every SUBJECT_CHECK_EVERY records by the insert thread and
        # for the rest by finish(), not per COPY (migration 0035); the batch's record ids are the ones after this
        # (the ledger lock hands them out, to one writer at a time).
        self.checked_upto = lock.record_id
        self.check_subjects = self.bulk.dialect == "postgresql"
        if self.check_subjects:
            session.execute(text("SET LOCAL chengxin.record_subjects_deferred = on"))
        self._inserts: _Inserts | None = None  # the last chunk's, not yet started
        self._running: Future[None] | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chengxin-insert")

    def write(self, chunk: PreparedChunk, department: str, item_code: str) -> None:
        """Write one chunk: new subjects, new versions (chained in order), record heads, rejections."""
        self._drain()
        if len(chunk):
            inserts = self._resolve_and_chain(chunk, department, item_code)  # starts the held inserts
        else:
            self._start_inserts()
            inserts = _Inserts([], [], [], [])
        inserts.rejected.extend(chunk.rejected)
        self._count_rejected(inserts.rejected)
        self._inserts = inserts

    def finish(self) -> None:
        """Write what is still held; afterwards the session is this thread's alone again."""
        self._drain()
        if self._inserts is not None:
            inserts, self._inserts = self._inserts, None
            self._insert(inserts)
        self.names.finish()
        if self.check_subjects:  # the rest; raises foreign_key_violation if a record names no subject
            self.session.execute(text("SELECT record_subjects_checked_after(:after)"), {"after": self.checked_upto})

    def close(self) -> None:
        """Wait for the insert thread (whatever it ended with) and stop it: before the transaction ends."""
        if self._running is not None:
            wait([self._running])
            self._running = None
        self._thread.shutdown(wait=True)
        self.bulk.end_bulk_write()

    def _drain(self) -> None:
        """Wait for the running inserts (re-raising what they raised): the connection is free afterwards."""
        if self._running is not None:
            running, self._running = self._running, None
            running.result()

    def _start_inserts(self, subjects: list[tuple[Any, ...]] | None = None, grams: HeldGrams | None = None) -> None:
        """Hand the insert thread the next chunk's new ``subjects`` (inserted first: the held chunk's versions may
        refer to them), ``grams`` taken from the name index, and the held chunk's inserts. The connection must be
        free."""
        inserts, self._inserts = self._inserts, None
        if not subjects and grams is None and inserts is None:
            return

        def run() -> None:
            if subjects:
                self.bulk.insert("subject", SUBJECT_COLUMNS, subjects)
            if grams is not None:
                self.names.write(grams)
            if inserts is not None:
                self._insert(inserts)

        self._running = self._thread.submit(run)

    def _count_rejected(self, rejected: Sequence[RejectedRow]) -> None:
        if not rejected:
            return
        self.receipt.rejected += len(rejected)
        room = REJECTION_SAMPLE - len(self.receipt.rejections)
        if room > 0:
            self.receipt.rejections.extend(rejected[:room])

    def _insert(self, inserts: _Inserts) -> None:
        bulk = self.bulk
        bulk.insert("record", HEAD_COLUMNS, inserts.created)
        if self.check_subjects and inserts.created and inserts.created[-1][0] - self.checked_upto >= SUBJECT_CHECK_EVERY:
            upto = inserts.created[-1][0]  # heads in id order: the chunk's last new record
            self.session.execute(text("SELECT record_subjects_checked_after(:after, :upto)"),
                                 {"after": self.checked_upto, "upto": upto})
            self.checked_upto = upto
        _update_heads(self.session, inserts.corrected)
        bulk.insert("record_version", (*CHAINED_COLUMNS, "chain_hash"), inserts.versions, utf8=("fields",))
        if inserts.rejected:
            batch_id = self.batch_id
            self.session.connection().execute(
                insert(IngestRejection),
                [
                    {
                        "batch_id": batch_id,
                        "row_no": r.row_no,
                        "source_id": r.source_id,
                        "field": p.field,
                        "code": p.code,
                        "message": p.message,
                        "message_en": p.message_en,
                    }
                    for r in inserts.rejected
                    for p in r.problems
                ],
            )

    def _resolve_and_chain(self, chunk: PreparedChunk, department: str, item_code: str) -> _Inserts:
        """The chunk's subjects and prior versions from the database, then its versions chained in order, while
        the last chunk's inserts run."""
        keyring, lock, bulk = self.keyring, self.lock, self.bulk
        if len(self.subjects) > SUBJECT_CACHE:
            # Forget the oldest half (a dict keeps insertion order), not all: after a full clear every later
            # chunk looked up all its subjects again (bench/RESULTS.md, session 10).
            for index in list(itertools.islice(self.subjects, len(self.subjects) // 2)):
                del self.subjects[index]
        subjects = self.subjects
        last_row = {index: n for n, index in enumerate(chunk.lookup_index) if index not in subjects}  # last one names it
        kinds, identifiers, names = chunk.kind, chunk.identifier, chunk.name
        new_subjects, subject_rows = prepare_subjects(
            keyring, lock, {index: SubjectKey(_KINDS[kinds[n]], identifiers[n], names[n]) for index, n in last_row.items()},
            subjects, bulk,
        )
        seen = self._load_priors(chunk.source_id, department)
        # From here on the connection is the insert thread's: this chunk's subjects, grams to write, and the
        # chunk before this one.
        self._start_inserts(subject_rows, self.names.take() if self.names.full() else None)
        self.names.add((subject_id, key.name) for subject_id, key in new_subjects if key.kind is _ORGANIZATION)
        self.seen = seen
        rejected: list[RejectedRow] = []
        now = utcnow()
        now_db = bulk.datetime(now)
        batch_id = self.batch_id
        tail_json = orjson.dumps([None, batch_id, iso_time(now)])
        versions: list[tuple[Any, ...]] = []
        db_days: dict[str, Any] = {}  # ISO day (what the chain hashes) → the column's value (bulk.date)
        heads: dict[int, tuple[Any, ...]] = {}  # record id → head row (last one wins within a chunk)
        created: set[int] = set()
        receipt = self.receipt
        # The ledger's counters and chain in locals for the loop, written back after it (the lock is
        # this transaction's: nothing else reads it meanwhile).
        seq, last_record_id, chain = lock.seq, lock.record_id, lock.hash
        for row_no, source_id, index, name_index, item_version, category, day, severity, fields_json, content_hash \
                in zip(chunk.row_no, chunk.source_id, chunk.lookup_index, chunk.name_index, chunk.item_version,
                       chunk.category, chunk.decision_day, chunk.severity, chunk.fields_json, chunk.content_hash):
            ref = subjects[index]
            if name_index is not None and ref.name_index is not None and name_index != ref.name_index:
                rejected.append(RejectedRow(row_no, source_id, (_NAME_MISMATCH,)))
                continue
            prior = seen.get(source_id)
            if prior is not None:
                if prior.status == REVOKED:
                    rejected.append(RejectedRow(row_no, source_id, (_revoked_problem(source_id),)))
                    continue
                if prior.content_hash == content_hash:
                    receipt.unchanged += 1
                    continue
                record_id, number, change = prior.record_id, prior.version + 1, "correct"
                receipt.corrected += 1
            else:
                last_record_id += 1
                record_id, number, change = last_record_id, 1, "create"
                created.add(record_id)
                receipt.accepted += 1
            seq += 1
            subject_id = ref.id
            db_day = db_days.get(day)
            if db_day is None:
                db_day = db_days[day] = bulk.date(dt.date.fromisoformat(day))
            head = [seq, record_id, subject_id, number, change, item_code, item_version, department, source_id, ACTIVE,
                    severity, day]
            chain = sha256(chain + canonical_spliced(head, fields_json, tail_json)).digest()  # ledger.next_hash
            versions.append((seq, record_id, subject_id, number, change, item_code, item_version, department,
                             source_id, ACTIVE, severity, db_day, fields_json, None, batch_id, now_db, chain))
            heads[record_id] = (record_id, subject_id, item_code, department, source_id, number, seq, ACTIVE,
                                category, severity, db_day, content_hash, now_db)
            seen[source_id] = _Prior(record_id, number, content_hash, ACTIVE)
        lock.seq, lock.record_id, lock.hash = seq, last_record_id, chain
        self.touched.update(map(_SUBJECT_OF_HEAD, heads.values()))
        return _Inserts([h for rid, h in heads.items() if rid in created],
                        [h for rid, h in heads.items() if rid not in created], versions, rejected)

    def _load_priors(self, source_ids: list[str], department: str) -> dict[str, _Prior]:
        """Where each source id of the chunk stands: after the last chunk (held here, its inserts perhaps still
        to run) or as the database has it (the chunks before)."""
        last = self.seen
        seen: dict[str, _Prior] = {}
        wanted = []
        for source_id in dict.fromkeys(source_ids):
            prior = last.get(source_id)
            if prior is None:
                wanted.append(source_id)
            else:
                seen[source_id] = prior
        for source_id, rid, number, content_hash, status in self.bulk.select_in(
            "record", ("source_id", "id", "version", "content_hash", "status"), "source_id", wanted,
            department_code=department,
        ):
            seen[source_id] = _Prior(rid, number, bytes(content_hash), status)
        return seen


@dataclass(slots=True)
class _Inserts:
    """What one chunk adds to the tables, computed in the writer's thread, written by its insert thread."""

    created: list[tuple[Any, ...]]  # heads of new records (HEAD_COLUMNS)
    corrected: list[tuple[Any, ...]]  # heads of records this chunk corrected
    versions: list[tuple[Any, ...]]  # chained versions (CHAINED_COLUMNS, chain_hash)
    rejected: list[RejectedRow]


HEAD_COLUMNS = (
    "id", "subject_id", "item_code", "department_code", "source_id", "version", "version_id", "status", "category",
    "severity", "decision_date", "content_hash", "updated_at",
)
_NAME_MISMATCH = Problem("subject.name_mismatch", "姓名与该公民身份号码登记的姓名不一致",
                         "The name does not match the name registered for this citizen ID", "subject_name")


def _revoked_problem(source_id: str) -> Problem:
    return Problem("record.revoked", f"来源编号 {source_id} 的记录已撤销，不能再次报送；如需重新报送请使用新的来源编号",
                   f"Record {source_id} was revoked and cannot be resubmitted; use a new source id", "source_id")


def _update_heads(session: Session, heads: list[tuple[Any, ...]]) -> None:
    """Corrections of records that exist: point their heads at the new version."""
    if not heads:
        return
    session.connection().execute(
        update(Record)
        .where(Record.id == bindparam("b_id"))
        .values(
            subject_id=bindparam("b_subject"),
            version=bindparam("b_version"),
            version_id=bindparam("b_version_id"),
            status=bindparam("b_status"),
            severity=bindparam("b_severity"),
            decision_date=bindparam("b_date"),
            content_hash=bindparam("b_hash"),
            updated_at=bindparam("b_updated"),
        ),
        [
            {"b_id": h[0], "b_subject": h[1], "b_version": h[5], "b_version_id": h[6], "b_status": h[7],
             "b_severity": h[9], "b_date": _as_date(h[10]), "b_hash": h[11], "b_updated": _as_datetime(h[12])}
            for h in heads
        ],
    )


def _as_date(value: Any) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _as_datetime(value: Any) -> dt.datetime:
    """A time from :meth:`BulkWriter.datetime` (SQLite's naive UTC text or ISO 8601 with offset) as a datetime."""
    if isinstance(value, str):
        parsed = dt.datetime.fromisoformat(value)
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)
    return value  # type: ignore[no-any-return]


def check_submission(catalog: Catalog, department: str, item_code: str, actor: audit.Actor) -> CatalogItem:
    if department not in catalog.departments:
        raise NotFound("department.unknown", f"未知的数据提供单位：{department}", f"Unknown department {department}")
    try:
        item = catalog.item(item_code)
    except KeyError as exc:
        raise NotFound("item.unknown", f"未知的目录项：{item_code}", f"Unknown catalog item {item_code}") from exc
    authorize_submission(actor, department, item)
    return item


def ingest(
    db: Database,
    rows: Iterable[IncomingRow],
    *,
    catalog: Catalog,
    keyring: KeyRing,
    department: str,
    item_code: str,
    actor: audit.Actor,
    channel: str,
    today: dt.date,
    filename: str | None = None,
    file_format: str | None = None,
    warnings: Sequence[Problem] = (),
    chunk_rows: int = INGEST_CHUNK_ROWS,
    progress: Callable[[int], None] | None = None,
) -> Receipt:
    """归集: validate and write one batch atomically, in this process; returns its receipt (回执).

    ``records.pipeline.ingest_file`` does the same for a file with the validation in a second process.
    """
    item = check_submission(catalog, department, item_code, actor)
    memo = BatchMemo()
    chunks = (prepare_chunk(item, department, chunk, today=today, keyring=keyring, memo=memo)
              for chunk in chunked(rows, chunk_rows))
    return ingest_prepared(
        db, chunks, catalog=catalog, keyring=keyring, department=department, item_code=item_code, actor=actor,
        channel=channel, filename=filename, file_format=file_format, warnings=warnings,
        progress=(lambda chunk: progress(chunk.received)) if progress else None,
    )


def ingest_prepared(
    db: Database,
    chunks: Iterable[PreparedChunk],
    *,
    catalog: Catalog,
    keyring: KeyRing,
    department: str,
    item_code: str,
    actor: audit.Actor,
    channel: str,
    filename: str | None = None,
    file_format: str | Callable[[], str | None] | None = None,
    warnings: Sequence[Problem] | Callable[[], Sequence[Problem]] = (),
    progress: Callable[[PreparedChunk], None] | None = None,
) -> Receipt:
    """Write prepared chunks as one batch, in one transaction, sealed in the ledger.

    ``warnings`` and ``file_format`` may be callables: a reader knows some of them only at the end.
    """
    check_submission(catalog, department, item_code, actor)
    started = utcnow()
    with rare_collections(), db.write() as session:
        lock = lock_head(session)
        first_record_id = lock.record_id  # this batch's new records take the ids after it
        batch = IngestBatch(department_code=department, item_code=item_code, channel=channel, filename=filename,
                            actor=actor.label, started_at=started)
        session.add(batch)
        session.flush()
        receipt = Receipt(batch.id, department, item_code, channel, filename, started_at=started)
        writer = _BatchWriter(session, keyring, lock, batch, receipt)
        try:
            for chunk in chunks:
                receipt.received += chunk.received
                writer.write(chunk, department, item_code)
                if progress:
                    progress(chunk)
            writer.finish()
        finally:
            writer.close()  # the insert thread is done before the transaction commits or rolls back
        if receipt.received == 0:
            raise DomainError("batch.empty", "没有可处理的数据行", "The submission has no data rows")
        receipt.warnings = list(warnings() if callable(warnings) else warnings)
        # 信用告知 (issue #4 §4): new records of notice-required items wait for their notice's period.
        receipt.warnings += hold_new_records(session, catalog, department=department, item_code=item_code,
                                             first_id=first_record_id, last_id=lock.record_id)
        batch.warnings = [w.as_dict() for w in receipt.warnings]
        records_changed(session, catalog, writer.touched)
        batch.file_format = file_format() if callable(file_format) else file_format
        receipt.finished_at = utcnow()
        for name in ("received", "accepted", "unchanged", "corrected", "rejected"):
            setattr(batch, name, getattr(receipt, name))
        batch.finished_at = receipt.finished_at
        seal(session, lock, keyring)
        audit.write(session, actor=actor, action="records.ingest", object_type="ingest_batch", object_id=batch.id,
                    detail={"item": item_code, "received": receipt.received, "rejected": receipt.rejected})
    return receipt


def records_changed(session: Session, catalog: Catalog | None, subject_ids: set[int]) -> None:
    """The one hook of the record path: records of these subjects were created, corrected or revoked in
    this transaction. Their civic credit points / grades follow in the same transaction (issue #6,
    ``scores.service.records_changed``: per subject for a few, vectorised for many)."""
    if subject_ids:
        from chengxin.scores.service import records_changed as refresh_scores  # scores builds on records

        refresh_scores(session, subject_ids, catalog)


# -- revocation ------------------------------------------------------------------------------


def revoke_record(
    db: Database,
    *,
    keyring: KeyRing,
    record_id: int,
    actor: audit.Actor,
    reason: str,
) -> RecordDetail:
    """撤销: a new version with status revoked; the record leaves display but is kept with its history."""
    reason = reason.strip()
    if not reason:
        raise DomainError("revoke.reason_required", "撤销必须说明理由", "A revocation needs a reason", field="reason")
    with db.write() as session:
        lock = lock_head(session)
        record = session.get(Record, record_id)
        if record is None:
            raise NotFound("record.not_found", "记录不存在", "No such record")
        _authorize_record_change(actor, record)
        if record.status == REVOKED:
            raise DomainError("record.already_revoked", "该记录已撤销", "The record is already revoked", status=409)
        current = session.get(RecordVersion, record.version_id)
        assert current is not None
        now = utcnow()
        version = RecordVersion(
            id=lock.take_seq(), record_id=record.id, subject_id=record.subject_id, version=record.version + 1,
            change="revoke", item_code=current.item_code, item_version=current.item_version,
            department_code=record.department_code, source_id=record.source_id, status=REVOKED,
            severity=current.severity, decision_date=current.decision_date, fields=current.fields, reason=reason,
            batch_id=None, created_at=now,
        )
        version.chain_hash = lock.hash = next_hash(lock.hash, canonical_version(version))
        session.add(version)
        record.version, record.version_id, record.status, record.updated_at = version.version, version.id, REVOKED, now
        records_changed(session, None, {record.subject_id})
        seal(session, lock, keyring)
        audit.write(session, actor=actor, action="record.revoke", subject_id=record.subject_id,
                    object_type="record", object_id=record.id, detail={"reason": reason})
        session.flush()
        return _detail(session, record)


def _authorize_record_change(actor: audit.Actor, record: Record) -> None:
    if actor.kind in ("cli", "system") or actor.role in ("admin", "credit_office"):
        return
    if actor.department_code != record.department_code:
        raise PermissionDenied("record.other_department", "只有数据提供单位可以撤销本单位报送的记录",
                               "Only the source department may change its records")


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionView:
    id: int
    version: int
    change: str
    status: str
    item_version: str
    severity: str | None
    decision_date: dt.date
    fields: dict[str, Any]
    reason: str | None
    batch_id: int | None
    created_at: dt.datetime


@dataclass(frozen=True)
class RecordDetail:
    id: int
    subject_id: int
    item_code: str
    department_code: str
    source_id: str
    status: str
    category: str
    severity: str | None
    decision_date: dt.date
    version: int
    versions: tuple[VersionView, ...]


def _detail(session: Session, record: Record) -> RecordDetail:
    versions = session.execute(
        select(RecordVersion).where(RecordVersion.record_id == record.id).order_by(RecordVersion.version)
    ).scalars()
    return RecordDetail(
        id=record.id,
        subject_id=record.subject_id,
        item_code=record.item_code,
        department_code=record.department_code,
        source_id=record.source_id,
        status=record.status,
        category=record.category,
        severity=record.severity,
        decision_date=record.decision_date,
        version=record.version,
        versions=tuple(
            VersionView(v.id, v.version, v.change, v.status, v.item_version, v.severity, v.decision_date, v.fields,
                        v.reason, v.batch_id, v.created_at)
            for v in versions
        ),
    )


def get_record(session: Session, record_id: int, *, actor: audit.Actor) -> RecordDetail:
    """A record with its full history, for its source department and the credit office."""
    record = session.get(Record, record_id)
    if record is None:
        raise NotFound("record.not_found", "记录不存在", "No such record")
    _authorize_record_change(actor, record)
    return _detail(session, record)


def find_record_id(session: Session, department: str, source_id: str) -> int:
    rid = session.execute(
        select(Record.id).where(Record.department_code == department, Record.source_id == source_id)
    ).scalar_one_or_none()
    if rid is None:
        raise NotFound("record.not_found", f"来源编号 {source_id} 的记录不存在", f"No record with source id {source_id}")
    return rid


def get_receipt(session: Session, batch_id: int, *, offset: int = 0, limit: int = 100) -> tuple[Receipt, int]:
    """A stored receipt with one page of its rejected rows (ordered by row), and the total of those rows."""
    batch = session.get(IngestBatch, batch_id)
    if batch is None:
        raise NotFound("batch.not_found", "批次不存在", "No such batch")
    receipt = Receipt(
        batch_id=batch.id, department=batch.department_code, item=batch.item_code, channel=batch.channel,
        filename=batch.filename, received=batch.received, accepted=batch.accepted, unchanged=batch.unchanged,
        corrected=batch.corrected, rejected=batch.rejected,
        warnings=[Problem(**w) for w in batch.warnings], started_at=batch.started_at, finished_at=batch.finished_at,
    )
    t = IngestRejection.__table__
    rows = list(
        session.execute(
            select(t).where(t.c.batch_id == batch_id, t.c.row_no.in_(
                select(t.c.row_no).where(t.c.batch_id == batch_id).group_by(t.c.row_no)
                .order_by(t.c.row_no).offset(offset).limit(limit).scalar_subquery()
            )).order_by(t.c.row_no, t.c.id)
        )
    )
    for row_no, group in itertools.groupby(rows, key=lambda r: r.row_no):
        items = list(group)
        receipt.rejections.append(RejectedRow(row_no, items[0].source_id, tuple(
            Problem(code=r.code, message=r.message, message_en=r.message_en, field=r.field) for r in items)))
    return receipt, batch.rejected


def batch_source(session: Session, batch_id: int) -> tuple[str, str]:
    """The department that submitted the batch — who may read its receipt — and its item (404 ``batch.not_found``)."""
    found = session.execute(select(IngestBatch.department_code, IngestBatch.item_code)
                            .where(IngestBatch.id == batch_id)).first()
    if found is None:
        raise NotFound("batch.not_found", "批次不存在", "No such batch")
    return found[0], found[1]


def all_rejections(session: Session, batch_id: int) -> Iterator[tuple[int, str | None, str | None, str, str, str]]:
    """Every problem of every rejected row of the batch, by row — (row, source id, field, code, message,
    message_en) — read in slices, so a batch of a million rejected rows is streamed, never held."""
    t = IngestRejection.__table__
    stmt = (select(t.c.row_no, t.c.source_id, t.c.field, t.c.code, t.c.message, t.c.message_en)
            .where(t.c.batch_id == batch_id).order_by(t.c.row_no, t.c.id))
    for row in session.execute(stmt.execution_options(yield_per=2000)):
        yield row.row_no, row.source_id, row.field, row.code, row.message, row.message_en


@dataclass(frozen=True)
class RejectionReason:
    """One reason rows of a department × item were refused: a problem code on one field, how many rows, and the
    latest wording of it (with the offending value), which says to a clerk what to fix."""

    code: str
    field: str | None
    rejected: int
    example: str


@dataclass(frozen=True)
class QualityRow:
    """数据质量: one department × item."""

    department: str
    item: str
    batches: int
    received: int
    accepted: int
    unchanged: int
    corrected: int
    rejected: int
    last_submission: dt.datetime | None
    rejected_by_reason: dict[str, int]
    reasons: list[RejectionReason]  # by code and field, most rows first


def quality(session: Session, *, department: str | None = None, item: str | None = None) -> list[QualityRow]:
    """Rows received, accepted, rejected by reason and the last submission, per department and item."""
    b = IngestBatch.__table__
    stmt = select(
        b.c.department_code, b.c.item_code, func.count().label("batches"), func.sum(b.c.received).label("received"),
        func.sum(b.c.accepted).label("accepted"), func.sum(b.c.unchanged).label("unchanged"),
        func.sum(b.c.corrected).label("corrected"), func.sum(b.c.rejected).label("rejected"),
        func.max(b.c.finished_at).label("last"),
    ).group_by(b.c.department_code, b.c.item_code).order_by(b.c.department_code, b.c.item_code)
    r = IngestRejection.__table__
    reasons = select(b.c.department_code, b.c.item_code, r.c.code, r.c.field, func.count().label("n"),
                     func.max(r.c.id).label("latest")).select_from(
        r.join(b, b.c.id == r.c.batch_id)).group_by(b.c.department_code, b.c.item_code, r.c.code, r.c.field)
    if department:
        stmt = stmt.where(b.c.department_code == department)
        reasons = reasons.where(b.c.department_code == department)
    if item:
        stmt = stmt.where(b.c.item_code == item)
        reasons = reasons.where(b.c.item_code == item)
    by_field: dict[tuple[str, str], list[tuple[str, str | None, int, int]]] = {}
    for row in session.execute(reasons):
        by_field.setdefault((row.department_code, row.item_code), []).append((row.code, row.field, row.n, row.latest))
    latest = [found[3] for found in itertools.chain.from_iterable(by_field.values())]
    examples: dict[int, str] = {}
    for start in range(0, len(latest), 500):
        chosen = select(r.c.id, r.c.message).where(r.c.id.in_(latest[start:start + 500]))
        examples.update((rejection_id, message) for rejection_id, message in session.execute(chosen))
    result = []
    for row in session.execute(stmt):
        found = sorted(by_field.get((row.department_code, row.item_code), []), key=lambda f: (-f[2], f[0], f[1] or ""))
        by_reason: dict[str, int] = {}
        for code, _field, n, _latest in found:
            by_reason[code] = by_reason.get(code, 0) + n
        result.append(QualityRow(
            row.department_code, row.item_code, row.batches, row.received or 0, row.accepted or 0,
            row.unchanged or 0, row.corrected or 0, row.rejected or 0, row.last,
            dict(sorted(by_reason.items(), key=lambda kv: -kv[1])),
            [RejectionReason(code, field, n, examples.get(last_id, "")) for code, field, n, last_id in found],
        ))
    return result


def batch_items(session: Session, department: str | None) -> list[str]:
    """The items a department (or everyone, for None) has submitted batches of: the batch list's filter."""
    b = IngestBatch.__table__
    stmt = select(b.c.item_code).where(*_batches_where(department, None, False)).distinct().order_by(b.c.item_code)
    return list(session.execute(stmt).scalars())


def holdings(session: Session) -> dict[str, int]:
    """How many records and subjects the platform holds (the portal's live figures)."""
    return {
        "records": session.scalar(select(func.count()).select_from(Record.__table__)) or 0,
        "subjects": session.scalar(select(func.count()).select_from(Subject.__table__)) or 0,
    }


@dataclass(frozen=True)
class BatchRow:
    id: int
    department: str
    item: str
    channel: str
    filename: str | None
    actor: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    received: int
    accepted: int
    unchanged: int
    corrected: int
    rejected: int


def _batches_where(department: str | None, item: str | None, rejected_only: bool) -> list[ColumnElement[bool]]:
    b = IngestBatch.__table__
    where: list[ColumnElement[bool]] = []
    if department is not None:
        where.append(b.c.department_code == department)
    if item:
        where.append(b.c.item_code == item)
    if rejected_only:
        where.append(b.c.rejected > 0)
    return where


def recent_batches(session: Session, department: str | None, *, item: str | None = None, rejected_only: bool = False,
                   offset: int, limit: int) -> tuple[list[BatchRow], int]:
    """Batches newest first (one department's, or all when ``department`` is None; of one ``item``; only those with
    rejected rows) and their total."""
    b = IngestBatch.__table__
    where = _batches_where(department, item, rejected_only)
    total = session.scalar(select(func.count()).select_from(b).where(*where)) or 0
    rows = select(b).where(*where).order_by(b.c.id.desc()).offset(offset).limit(limit)
    return [
        BatchRow(
            r.id,
            r.department_code,
            r.item_code,
            r.channel,
            r.filename,
            r.actor,
            r.started_at,
            r.finished_at,
            r.received,
            r.accepted,
            r.unchanged,
            r.corrected,
            r.rejected,
        )
        for r in session.execute(rows)
], total
