"""The tamper-evident ledger of record versions.

Every ``record_version`` row is a ledger entry: its ``id`` is the sequence number and its
``chain_hash`` is ``SHA-256(previous chain_hash || canonical bytes of the row)``. At the end of
every batch the head (sequence, hash) is signed with the platform's Ed25519 key and kept as
a checkpoint. :func:`verify` recomputes everything from the rows and names:

- *altered* rows: the row's content no longer gives its stored chain hash;
- *removed* rows: a gap in the sequence;
- *inserted* rows: a row whose stored hash does not follow from its predecessor, or rows
  after the last signed checkpoint (every legitimate write ends with a checkpoint in the
  same transaction, so an unsigned tail can only come from outside the application);
- *re-chained* history: a checkpoint whose signed hash the recomputed chain does not reach;
- record heads that disagree with their current version, and subjects whose ciphertext no
  longer decrypts to the identifier their blind index was made from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from chengxin.core.crypto import KeyProblem, KeyRing, verify_signature
from chengxin.core.db import utcnow
from chengxin.ledger.models import LedgerCheckpoint, LedgerHead
from chengxin.records.models import Record, RecordVersion
from chengxin.subjects.models import Subject

GENESIS = bytes(32)
HEAD_ID = 1


# The columns of record_version a chain hash covers, in this order (every column but the hash).
CHAINED_COLUMNS = (
    "id", "record_id", "subject_id", "version", "change", "item_code", "item_version", "department_code",
    "source_id", "status", "severity", "decision_date", "fields", "reason", "batch_id", "created_at",
)


def canonical_values(values: list[Any]) -> bytes:
    """Canonical bytes of a version given as values in CHAINED_COLUMNS order, with ``decision_date``
    and ``created_at`` already as ISO text (dates: ``YYYY-MM-DD``; times: UTC with microseconds)."""
    return orjson.dumps(values, option=orjson.OPT_SORT_KEYS)


def canonical_spliced(head: list[Any], fields_json: bytes, tail_json: bytes) -> bytes:
    """The same bytes as :func:`canonical_values`, put together from parts serialised earlier.

    ``head`` are the values before ``fields``; ``fields_json`` is ``orjson.dumps(fields, OPT_SORT_KEYS)``
    and ``tail_json`` ``orjson.dumps([reason, batch_id, created_at_iso])``. The ingest serialises the
    fields once, in the reader process, and the tail once per chunk (orjson writes no whitespace).
    """
    return orjson.dumps(head)[:-1] + b"," + fields_json + b"," + tail_json[1:]


def iso_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical_version(row: Any) -> bytes:
    """The bytes a stored version's chain hash covers (row: anything with the column attributes)."""
    return canonical_values(
        [
            row.id,
            row.record_id,
            row.subject_id,
            row.version,
            row.change,
            row.item_code,
            row.item_version,
            row.department_code,
            row.source_id,
            row.status,
            row.severity,
            row.decision_date.isoformat(),
            row.fields,
            row.reason,
            row.batch_id,
            iso_time(row.created_at),
        ]
    )


def next_hash(previous: bytes, canonical: bytes) -> bytes:
    return hashlib.sha256(previous + canonical).digest()


def checkpoint_message(seq: int, chain_hash: bytes, signed_at_iso: str) -> bytes:
    return f"chengxin-ledger-v1|{seq}|{chain_hash.hex()}|{signed_at_iso}".encode()


@dataclass
class LedgerLock:
    """The ledger head, locked for the rest of the transaction; allocates ids without gaps."""

    seq: int
    hash: bytes
    record_id: int
    subject_id: int

    def take_seq(self) -> int:
        self.seq += 1
        return self.seq

    def take_record_id(self) -> int:
        self.record_id += 1
        return self.record_id

    def take_subject_id(self) -> int:
        self.subject_id += 1
        return self.subject_id


def lock_head(session: Session) -> LedgerLock:
    """Lock the ledger head (row lock on PostgreSQL; SQLite write transactions are already serial)."""
    head = session.execute(
        select(LedgerHead).where(LedgerHead.id == HEAD_ID).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        session.add(LedgerHead(id=HEAD_ID, last_seq=0, last_hash=GENESIS, last_record_id=0, last_subject_id=0))
        session.flush()
        return LedgerLock(0, GENESIS, 0, 0)
    return LedgerLock(head.last_seq, head.last_hash, head.last_record_id, head.last_subject_id)


def ledger_length(session: Session) -> int:
    """How many entries the ledger head says the ledger holds (0 before the first write): what
    :func:`verify` will go through, for its progress bar."""
    head = session.get(LedgerHead, HEAD_ID)
    return 0 if head is None else head.last_seq


def seal(session: Session, lock: LedgerLock, keyring: KeyRing) -> None:
    """Store the new head and sign a checkpoint of it — last step of every ledger write."""
    session.execute(
        update(LedgerHead)
        .where(LedgerHead.id == HEAD_ID)
        .values(
            last_seq=lock.seq,
            last_hash=lock.hash,
            last_record_id=lock.record_id,
            last_subject_id=lock.subject_id,
        )
    )
    now = utcnow()
    session.add(
        LedgerCheckpoint(
            seq=lock.seq,
            chain_hash=lock.hash,
            signed_at=now,
            key_id=keyring.key_id,
            signature=keyring.sign(checkpoint_message(lock.seq, lock.hash, now.isoformat())),
        )
    )


# -- verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    kind: str  # altered | removed | inserted | unsigned | checkpoint | head | subject
    table: str
    row_id: int | None
    message: str


@dataclass
class VerifyReport:
    versions_checked: int = 0
    checkpoints_checked: int = 0
    records_checked: int = 0
    subjects_checked: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def _stream(conn: Connection, stmt: Any, batch: int = 20_000) -> Iterator[Any]:
    result = conn.execution_options(yield_per=batch).execute(stmt)
    yield from result


def verify(
    session: Session,
    keyring: KeyRing,
    *,
    progress: Callable[[int], None] | None = None,
    check_subjects: bool = True,
) -> VerifyReport:
    """Recompute the ledger from the rows and report every discrepancy (see module docstring)."""
    report = VerifyReport()
    conn = session.connection()
    checkpoints = {
        cp.seq: cp for cp in session.execute(select(LedgerCheckpoint).order_by(LedgerCheckpoint.id)).scalars()
    }
    head = session.get(LedgerHead, HEAD_ID)
    last_signed = max(checkpoints) if checkpoints else 0
    # Recomputed chain: what the hashes are if every row is what was written.
    recomputed = GENESIS
    expected_seq = 1
    reached: dict[int, bytes] = {}
    for row in _stream(conn, select(RecordVersion.__table__).order_by(RecordVersion.id)):
        report.versions_checked += 1
        if progress and report.versions_checked % 10_000 == 0:
            progress(10_000)
        if row.id > expected_seq:
            for missing in range(expected_seq, min(row.id, expected_seq + 1000)):
                report.findings.append(
                    Finding("removed", "record_version", missing, f"ledger entry {missing} is missing")
                )
        stored_prev = recomputed
        own = next_hash(stored_prev, canonical_version(row))
        if own != row.chain_hash:
            # Either this row's content was edited, or it does not belong in the chain here.
            kind = "altered" if row.id <= last_signed else "inserted"
            report.findings.append(
                Finding(
                    kind,
                    "record_version",
                    row.id,
                    f"record_version {row.id} (record {row.record_id} v{row.version}, "
                    f"{row.department_code}/{row.source_id}) does not match its ledger hash",
                )
            )
        # Continue from the stored hash so that one edited row is reported once, not forever after.
        recomputed = row.chain_hash
        reached[row.id] = own
        if row.id > last_signed:
            report.findings.append(
                Finding("unsigned", "record_version", row.id, f"record_version {row.id} is after the last signed checkpoint")
            )
        expected_seq = row.id + 1
    # Checkpoints: the signature must hold and the chain recomputed from content must reach the signed hash.
    for seq, cp in checkpoints.items():
        report.checkpoints_checked += 1
        if not verify_signature(keyring.public_key, cp.signature, checkpoint_message(seq, cp.chain_hash, cp.signed_at.isoformat())):
            report.findings.append(Finding("checkpoint", "ledger_checkpoint", cp.id, f"checkpoint at {seq}: bad signature"))
        elif seq and reached.get(seq) not in (None, cp.chain_hash) and not any(
            f.row_id == seq for f in report.findings
        ):
            report.findings.append(
                Finding("checkpoint", "ledger_checkpoint", cp.id, f"checkpoint at {seq}: history before it was re-chained")
            )
    if head is not None and head.last_seq != expected_seq - 1:
        report.findings.append(
            Finding("head", "ledger_head", HEAD_ID, f"ledger head says {head.last_seq} entries, found {expected_seq - 1}")
        )
    _verify_record_heads(session, report)
    if check_subjects:
        _verify_subjects(session, keyring, report)
    return report


def _verify_record_heads(session: Session, report: VerifyReport) -> None:
    conn = session.connection()
    v = RecordVersion.__table__
    r = Record.__table__
    s = Subject.__table__
    stmt = (
        select(r, v.c.id.label("v_id"), v.c.subject_id.label("v_subject"), v.c.status.label("v_status"),
               v.c.version.label("v_version"), v.c.item_code.label("v_item"), v.c.decision_date.label("v_date"),
               v.c.severity.label("v_severity"), v.c.record_id.label("v_record"), s.c.id.label("s_id"))
        .select_from(r.outerjoin(v, v.c.id == r.c.version_id).outerjoin(s, s.c.id == r.c.subject_id))
        .order_by(r.c.id)
    )
    for row in _stream(conn, stmt):
        report.records_checked += 1
        problems = []
        if row.s_id is None:  # the database refuses this (migration 0029); only a hand-made change gets here
            problems.append(f"its subject {row.subject_id} does not exist")
        if row.v_id is None:
            problems.append("its current version is missing")
        else:
            for label, mine, theirs in (
                ("record id", row.id, row.v_record),
                ("subject", row.subject_id, row.v_subject),
                ("status", row.status, row.v_status),
                ("version", row.version, row.v_version),
                ("item", row.item_code, row.v_item),
                ("decision date", row.decision_date, row.v_date),
                ("severity", row.severity, row.v_severity),
            ):
                if mine != theirs:
                    problems.append(f"{label} {mine!r} ≠ ledger {theirs!r}")
        if problems:
            report.findings.append(Finding("head", "record", row.id, f"record {row.id}: " + "; ".join(problems)))


def _verify_subjects(session: Session, keyring: KeyRing, report: VerifyReport) -> None:
    from chengxin.subjects.rules import lookup_index
    from chengxin.subjects.service import decrypt_identity

    for subject in session.execute(select(Subject).order_by(Subject.id)).scalars():
        report.subjects_checked += 1
        try:
            identifier, name = decrypt_identity(keyring, subject)
        except KeyProblem as exc:
            report.findings.append(Finding("subject", "subject", subject.id, f"subject {subject.id}: {exc}"))
            continue
        if lookup_index(keyring, subject.kind, identifier) != subject.lookup_index:
            report.findings.append(
                Finding("subject", "subject", subject.id, f"subject {subject.id}: blind index does not match its identifier")
            )
        if subject.name_index is not None and keyring.blind_index(name) != subject.name_index:
            report.findings.append(
                Finding("subject", "subject", subject.id, f"subject {subject.id}: name index does not match its name")
            )
