"""Store and read attachments (in the caller's transaction)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from chengxin.attachments import rules
from chengxin.attachments.models import Attachment
from chengxin.core import audit
from chengxin.core.clock import CHINA
from chengxin.core.crypto import KeyRing
from chengxin.core.errors import NotFound
from chengxin.core.policy import policy_on

__all__ = ["AttachmentInfo", "Upload", "attachments_of", "read_attachment", "store_attachments"]


@dataclass(frozen=True)
class Upload:
    """A file as received: the name the user gave and its bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class AttachmentInfo:
    id: int
    filename: str
    mime: str
    size: int
    sha256_hex: str
    uploaded_at: dt.datetime


def _aad(owner_type: str, owner_id: int, digest: bytes) -> bytes:
    return f"attachment:{owner_type}:{owner_id}:".encode() + digest


def _info(row: Attachment) -> AttachmentInfo:
    return AttachmentInfo(row.id, row.filename, row.mime, row.size, row.sha256.hex(), row.uploaded_at)


def check_uploads(uploads: Sequence[Upload], now: dt.datetime) -> list[str]:
    """Validate every file before anything is stored (all or nothing); their MIME types."""
    policy = policy_on(now.astimezone(CHINA).date()).attachments
    rules.check_count(policy, uploads)
    return [rules.check_upload(policy, u.filename, u.data, i) for i, u in enumerate(uploads, start=1)]


def store_attachments(session: Session, keyring: KeyRing, *, owner_type: str, owner_id: int,
                      uploads: Sequence[Upload], actor: audit.Actor, now: dt.datetime) -> list[AttachmentInfo]:
    """Check every file (type by content, size, count), then store them encrypted."""
    mimes = check_uploads(uploads, now)
    rows = []
    for upload, mime in zip(uploads, mimes, strict=True):
        digest = hashlib.sha256(upload.data).digest()
        row = Attachment(owner_type=owner_type, owner_id=owner_id, filename=rules.clean_filename(upload.filename),
                         mime=mime, size=len(upload.data), sha256=digest, key_version=keyring.data_version,
                         content=keyring.encrypt_bytes(upload.data, _aad(owner_type, owner_id, digest)),
                         uploaded_by=actor.label, uploaded_at=now)
        session.add(row)
        rows.append(row)
    session.flush()
    return [_info(r) for r in rows]


def attachments_of(session: Session, owner_type: str, owner_id: int) -> list[AttachmentInfo]:
    return [_info(r) for r in session.scalars(
        select(Attachment).where(Attachment.owner_type == owner_type, Attachment.owner_id == owner_id)
        .order_by(Attachment.id))]


def read_attachment(session: Session, keyring: KeyRing, *, owner_type: str, owner_id: int, attachment_id: int,
                    actor: audit.Actor, subject_id: int | None, purpose: str) -> tuple[AttachmentInfo, bytes]:
    """The decrypted file, if it belongs to that case; each read is audited with its purpose.

    The caller decides who may read (the case's subject, its department, the office)."""
    row = session.get(Attachment, attachment_id)
    if row is None or row.owner_type != owner_type or row.owner_id != owner_id:
        raise NotFound("attachment.not_found", "附件不存在", "No such attachment")
    data = keyring.decrypt_bytes(row.content, row.key_version, _aad(owner_type, owner_id, row.sha256))
    audit.write(session, actor=actor, action="attachment.read", subject_id=subject_id, object_type="attachment",
                object_id=row.id, purpose=purpose)
    return _info(row), data
