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
from chengxin.core.errors import NotFound, PermissionDenied
from chengxin.core.workflow import DEPARTMENT, OFFICE, SYSTEM
from chengxin.people.models import PersonAccount
from chengxin.people.orgs import represented_subjects
from chengxin.subjects.models import Subject
from chengxin.subjects.rules import lookup_index
from chengxin.subjects.service import ensure_subject as ensure_subject  # re-export: moved to subjects.service
from chengxin.subjects.service import one_identifier

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


def find_subject_id(session: Session, keyring: KeyRing, *, ric: str | None, uscc: str | None) -> int:
    """An existing subject by citizen ID or USCC (validated first)."""
    kind, identifier = one_identifier(ric, uscc)
    found = session.scalar(select(Subject.id).where(Subject.lookup_index == lookup_index(keyring, kind.value,
                                                                                          identifier)))
    if found is None:
        raise NotFound("subject.not_found", "未找到该信用主体（平台尚无其信息）", "No subject with this identifier",
                       field="ric" if kind is SubjectKind.PERSON else "uscc")
    return int(found)
