"""Finding and registering subjects without ever storing a person's identifiers in clear."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from chengxin.catalog.model import SubjectKind
from chengxin.core import audit
from chengxin.core.crypto import KeyRing
from chengxin.core.db import BulkWriter, utcnow
from chengxin.core.errors import DomainError, NotFound
from chengxin.core.identifiers import normalize_ric, normalize_uscc
from chengxin.core.masking import mask_name, mask_ric
from chengxin.ledger.service import LedgerLock, lock_head, seal
from chengxin.subjects.models import Subject
from chengxin.subjects.rules import SubjectKey, lookup_index


class SubjectRef(NamedTuple):
    """What the ingest needs of a stored subject."""

    id: int
    name_index: bytes | None


@dataclass(frozen=True, slots=True)
class SubjectView:
    """A subject as staff see it: masked where personal."""

    id: int
    kind: str
    display_id: str
    display_name: str


def aad_for(subject_id: int, field: str) -> bytes:
    # Binds a ciphertext to its row and column: copied elsewhere, it no longer decrypts.
    return f"subject:{subject_id}:{field}".encode()


def decrypt_identity(keyring: KeyRing, subject: Subject) -> tuple[str, str]:
    """The clear identifier and name of a subject (callers must audit the read)."""
    if subject.id_cipher is None or subject.name_cipher is None or subject.key_version is None:
        return subject.display_id, subject.display_name
    return (
        keyring.decrypt(subject.id_cipher, subject.key_version, aad_for(subject.id, "id")),
        keyring.decrypt(subject.name_cipher, subject.key_version, aad_for(subject.id, "name")),
    )


def new_subject_row(keyring: KeyRing, subject_id: int, key: SubjectKey, index: bytes,
                    now: dt.datetime | None = None) -> dict[str, object]:
    """The column values of a new subject: encrypted and masked for persons, clear for organisations.
    ``now``: the creation time (default: the clock's), one for a whole bulk of subjects."""
    now = now or utcnow()
    if key.kind is SubjectKind.PERSON:
        return {
            "id": subject_id,
            "kind": key.kind.value,
            "lookup_index": index,
            "id_cipher": keyring.encrypt(key.identifier, aad_for(subject_id, "id")),
            "name_cipher": keyring.encrypt(key.name, aad_for(subject_id, "name")),
            "name_index": keyring.blind_index(key.name),
            "key_version": keyring.data_version,
            "display_id": mask_ric(key.identifier),
            "display_name": mask_name(key.name),
            "created_at": now,
        }
    return {
        "id": subject_id,
        "kind": key.kind.value,
        "lookup_index": index,
        "id_cipher": None,
        "name_cipher": None,
        "name_index": None,
        "key_version": None,
        "display_id": key.identifier,
        "display_name": key.name,
        "created_at": now,
    }


SUBJECT_COLUMNS = (
    "id", "kind", "lookup_index", "id_cipher", "name_cipher", "name_index", "key_version", "display_id",
    "display_name", "created_at",
)
_SUBJECT_ROW = itemgetter(*SUBJECT_COLUMNS)  # a new subject's values in SUBJECT_COLUMNS order


def ensure_subjects(
    keyring: KeyRing,
    lock: LedgerLock,
    wanted: dict[bytes, SubjectKey],
    cache: dict[bytes, SubjectRef],
    writer: BulkWriter,
) -> list[tuple[int, SubjectKey]]:
    """Make sure every wanted subject exists; fill ``cache`` (blind index → ref) for all of them. Returns the
    subjects created (id, key).

    One SELECT for those not cached yet, one bulk INSERT for those that are new.
    Must run under the ledger lock (ids come from it).
    """
    created, rows = prepare_subjects(keyring, lock, wanted, cache, writer)
    writer.insert("subject", SUBJECT_COLUMNS, rows)
    return created


def prepare_subjects(
    keyring: KeyRing,
    lock: LedgerLock,
    wanted: dict[bytes, SubjectKey],
    cache: dict[bytes, SubjectRef],
    writer: BulkWriter,
) -> tuple[list[tuple[int, SubjectKey]], list[tuple[Any, ...]]]:
    """:func:`ensure_subjects` but the INSERT: the subjects created (id, key) and their rows (``SUBJECT_COLUMNS``),
    to be inserted before anything refers to them — by a bulk ingest's insert thread, while it goes on."""
    missing = [index for index in wanted if index not in cache]
    if not missing:
        return [], []
    for subject_id, index, name_index in writer.select_in(
        "subject", ("id", "lookup_index", "name_index"), "lookup_index", missing
    ):
        cache[bytes(index)] = SubjectRef(subject_id, None if name_index is None else bytes(name_index))
    new_rows = []
    created: list[tuple[int, SubjectKey]] = []
    # One creation time for the bulk, rendered once: per subject, the clock and its rendering cost as much as
    # a subject's row (a 1,000,000-row file names ~200,000 subjects).
    now = utcnow()
    created_at = writer.datetime(now)
    for index in missing:
        if index in cache:
            continue
        subject_id, key = lock.take_subject_id(), wanted[index]
        values = new_subject_row(keyring, subject_id, key, index, now)
        values["created_at"] = created_at
        new_rows.append(_SUBJECT_ROW(values))
        cache[index] = SubjectRef(subject_id, values["name_index"])  # type: ignore[arg-type]
        created.append((subject_id, key))
    return created, new_rows


def one_identifier(ric: str | None, uscc: str | None) -> tuple[SubjectKind, str]:
    """The kind and normalised identifier of a subject named by exactly one of a citizen ID or a USCC
    (``subject.one_identifier`` otherwise; a bad check digit is reported on the field that carried it)."""
    ric, uscc = (ric or "").strip(), (uscc or "").strip()
    if bool(ric) == bool(uscc):
        raise DomainError("subject.one_identifier", "请填写公民身份号码或统一社会信用代码（二者之一）",
                          "Give either a citizen ID or a USCC", field="uscc" if uscc else "ric")
    try:
        if ric:
            return SubjectKind.PERSON, normalize_ric(ric)
        return SubjectKind.ORGANIZATION, normalize_uscc(uscc)
    except DomainError as exc:
        raise DomainError(exc.code, exc.message, exc.message_en, field="ric" if ric else "uscc") from None


def ensure_subject(session: Session, keyring: KeyRing, *, ric: str | None, uscc: str | None, name: str,
                   allowed: frozenset[SubjectKind]) -> int:
    """Find-or-register ONE subject: the subject with this identifier, registered now (under the ledger lock,
    sealed) when the platform does not hold it yet — a notice or a platform's registration may precede any
    record. A person's name must match the registered one; ``allowed`` are the kinds the caller accepts."""
    kind, identifier = one_identifier(ric, uscc)
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("subject.name_required", "请填写信用主体名称（姓名）", "Give the subject's name",
                          field="subject_name")
    if len(name) > 200:
        raise DomainError("subject.name_too_long", "信用主体名称不能超过 200 字", "Name too long", field="subject_name")
    if kind not in allowed:
        kinds = "、".join({"person": "自然人", "organization": "法人和非法人组织"}.get(k.value, k.value) for k in allowed)
        raise DomainError("subject.kind_not_allowed", f"该目录项的信用主体只能是{kinds}", "Subject kind not allowed",
                          field="ric" if kind is SubjectKind.PERSON else "uscc")
    index = lookup_index(keyring, kind.value, identifier)
    row = session.execute(select(Subject.id, Subject.name_index).where(Subject.lookup_index == index)).first()
    if row is not None:
        if kind is SubjectKind.PERSON and row.name_index is not None and bytes(row.name_index) != keyring.blind_index(name):
            raise DomainError("subject.name_mismatch", "姓名与该公民身份号码登记的姓名不一致",
                              "The name does not match the name registered for this citizen ID", field="subject_name")
        return int(row.id)
    # New subjects take their ids from the ledger head, like the ingest (contiguous, checked by verify).
    lock = lock_head(session)
    cache: dict[bytes, SubjectRef] = {}
    ensure_subjects(keyring, lock, {index: SubjectKey(kind, identifier, name)}, cache, BulkWriter(session))
    seal(session, lock, keyring)
    return cache[index].id


def find_subject(session: Session, keyring: KeyRing, *, ric: str | None = None, uscc: str | None = None) -> Subject:
    """The subject with this citizen ID or USCC (validated first; raises NotFound)."""
    if ric:
        kind, identifier = SubjectKind.PERSON, normalize_ric(ric)
    elif uscc:
        kind, identifier = SubjectKind.ORGANIZATION, normalize_uscc(uscc)
    else:
        raise DomainError("subject.no_identifier", "请提供公民身份号码或统一社会信用代码", "Give a citizen ID or a USCC")
    subject = session.execute(
        select(Subject).where(Subject.lookup_index == lookup_index(keyring, kind.value, identifier))
    ).scalar_one_or_none()
    if subject is None:
        raise NotFound("subject.not_found", "未找到该信用主体", "No subject with this identifier")
    return subject


def look_up_subject(
    session: Session,
    keyring: KeyRing,
    *,
    actor: audit.Actor,
    purpose: str,
    ric: str | None = None,
    uscc: str | None = None,
) -> SubjectView:
    """Staff look-up by identifier; a person's look-up is logged with its purpose (查询使用登记)."""
    subject = find_subject(session, keyring, ric=ric, uscc=uscc)
    if subject.kind == SubjectKind.PERSON.value:
        audit.write(
            session,
            actor=actor,
            action="subject.look_up",
            subject_id=subject.id,
            object_type="subject",
            object_id=subject.id,
            purpose=purpose,
        )
    return SubjectView(subject.id, subject.kind, subject.display_id, subject.display_name)


def subject_views(session: Session, ids: Iterable[int]) -> dict[int, SubjectView]:
    rows = session.execute(
        select(Subject.id, Subject.kind, Subject.display_id, Subject.display_name).where(Subject.id.in_(list(ids)))
    )
    return {r.id: SubjectView(r.id, r.kind, r.display_id, r.display_name) for r in rows}
