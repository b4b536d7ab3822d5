"""Who may act on notices, interviews and complaints, and the subjects they are about.

Roles (``core.workflow``): a department clerk or API key acts as DEPARTMENT for its own
department's notices only; the credit office (role credit_office or admin) as OFFICE everywhere;
a person as SUBJECT for themself and the organisations they represent (``people.orgs``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from chengxin.catalog.model import SubjectKind
from chengxin.core import audit
from chengxin.core.crypto import KeyRing
from chengxin.core.db import BulkWriter
from chengxin.core.errors import DomainError, NotFound, PermissionDenied
from chengxin.core.identifiers import normalize_ric, normalize_uscc
from chengxin.core.workflow import DEPARTMENT, OFFICE, SYSTEM
from chengxin.ledger.service import lock_head, seal
from chengxin.people.models import PersonAccount
from chengxin.people.orgs import represented_subjects
from chengxin.subjects.models import Subject
from chengxin.subjects.service import SubjectKey, SubjectRef, ensure_subjects, lookup_index

OFFICE_ROLES = ("admin", "credit_office")


def is_office(actor: audit.Actor) -> bool:
    return actor.kind == "staff" and actor.role in OFFICE_ROLES


def staff_role(actor: audit.Actor) -> str:
    """OFFICE for the credit office and administrators (and the server's own CLI), DEPARTMENT for a
    department's clerk or API key; anyone else is refused."""
    if is_office(actor):
        return OFFICE
    if actor.kind in ("cli", "system"):
        return SYSTEM
    if actor.kind in ("staff", "api_key") and actor.department_code:
        return DEPARTMENT
    raise PermissionDenied("case.staff_only", "仅限数据提供单位和市信用办工作人员办理", "Departments and the credit office only")


def require_office(actor: audit.Actor) -> None:
    if not (is_office(actor) or actor.kind in ("cli", "system")):
        raise PermissionDenied("case.office_only", "仅限市信用办办理", "Credit office only")


def subject_ids_of(session: Session, account: PersonAccount) -> list[int]:
    """The person's own subject first, then the organisations they represent now."""
    return [s.subject_id for s in represented_subjects(session, account)]


@dataclass(frozen=True)
class SubjectLine:
    id: int
    kind: str
    display_id: str  # masked citizen ID, or the USCC
    display_name: str  # masked name, or the organisation's name


def subject_line(session: Session, subject_id: int) -> SubjectLine:
    subject = session.get(Subject, subject_id)
    if subject is None:
        return SubjectLine(subject_id, "", "", "")
    return SubjectLine(subject.id, subject.kind, subject.display_id, subject.display_name)


def _identifier(ric: str | None, uscc: str | None) -> tuple[SubjectKind, str]:
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


def find_subject_id(session: Session, keyring: KeyRing, *, ric: str | None, uscc: str | None) -> int:
    """An existing subject by citizen ID or USCC (validated first)."""
    kind, identifier = _identifier(ric, uscc)
    found = session.scalar(select(Subject.id).where(Subject.lookup_index == lookup_index(keyring, kind.value,
                                                                                          identifier)))
    if found is None:
        raise NotFound("subject.not_found", "未找到该信用主体（平台尚无其信息）", "No subject with this identifier",
                       field="ric" if kind is SubjectKind.PERSON else "uscc")
    return int(found)


def ensure_subject(session: Session, keyring: KeyRing, *, ric: str | None, uscc: str | None, name: str,
                   allowed: frozenset[SubjectKind]) -> int:
    """The subject with this identifier, registered now when the platform does not hold it yet (a
    notice may precede any record). A person's name must match the registered one."""
    kind, identifier = _identifier(ric, uscc)
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
