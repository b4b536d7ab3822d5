"""Representatives of organisations (企业经办人): a person account the credit office has linked to
an organisation acts for it on the portal and the API — objections, statements, repair.

The link is granted after the office has checked the authorisation letter (授权委托书) and the
business licence; it is revoked the same way. Every grant and revocation is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from chengxin.core import audit
from chengxin.core.crypto import KeyRing
from chengxin.core.db import Base, BigId, UtcDateTime
from chengxin.core.errors import DomainError, NotFound
from chengxin.people.models import PersonAccount
from chengxin.subjects.models import Subject
from chengxin.subjects.service import find_subject

__all__ = ["OrgLink", "RepresentedSubject", "can_act_for", "link_organisation", "represented_subjects",
           "unlink_organisation"]

class OrgLink(Base):
    __tablename__ = "person_org_link"
    __table_args__ = (Index("ix_person_org_link_account", "account_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("person_account.id"))
    org_subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    basis: Mapped[str] = mapped_column(String(200))  # e.g. 授权委托书编号
    granted_by: Mapped[str] = mapped_column(String(128))
    granted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


@dataclass(frozen=True)
class RepresentedSubject:
    subject_id: int
    kind: str
    display_id: str
    display_name: str
    own: bool  # the person themself (not an organisation they represent)


def link_organisation(session: Session, keyring: KeyRing, *, account_id: int, uscc: str, basis: str,
                      actor: audit.Actor, now: dt.datetime) -> OrgLink:
    """Let the account act for the organisation with this USCC (it must be a known subject)."""
    basis = " ".join((basis or "").split())
    if not basis:
        raise DomainError("org_link.basis_required", "请填写授权依据（如授权委托书编号）", "State the basis",
                          field="basis")
    if session.get(PersonAccount, account_id) is None:
        raise NotFound("org_link.no_account", "个人账户不存在", "No such person account")
    org = find_subject(session, keyring, uscc=uscc)
    existing = session.scalar(select(OrgLink).where(OrgLink.account_id == account_id, OrgLink.org_subject_id == org.id,
                                                    OrgLink.revoked_at.is_(None)))
    if existing is not None:
        return existing
    link = OrgLink(account_id=account_id, org_subject_id=org.id, basis=basis[:200], granted_by=actor.label,
                   granted_at=now)
    session.add(link)
    session.flush()
    audit.write(session, actor=actor, action="org_link.grant", subject_id=org.id, object_type="person_org_link",
                object_id=link.id, detail={"account_id": account_id, "basis": link.basis})
    return link


def unlink_organisation(session: Session, *, link_id: int, actor: audit.Actor, now: dt.datetime) -> None:
    link = session.get(OrgLink, link_id)
    if link is None:
        raise NotFound("org_link.not_found", "未找到该授权关系", "No such link")
    if link.revoked_at is None:
        link.revoked_at = now
        audit.write(session, actor=actor, action="org_link.revoke", subject_id=link.org_subject_id,
                    object_type="person_org_link", object_id=link.id)


def represented_subjects(session: Session, account: PersonAccount) -> list[RepresentedSubject]:
    """The person themself first, then the organisations they represent now."""
    own = session.get(Subject, account.subject_id)
    assert own is not None
    out = [RepresentedSubject(own.id, own.kind, own.display_id, own.display_name, True)]
    for org in session.scalars(
        select(Subject).join(OrgLink, OrgLink.org_subject_id == Subject.id)
        .where(OrgLink.account_id == account.id, OrgLink.revoked_at.is_(None)).order_by(Subject.display_name)
    ):
        out.append(RepresentedSubject(org.id, org.kind, org.display_id, org.display_name, False))
    return out


def can_act_for(session: Session, account: PersonAccount, subject_id: int) -> bool:
    """May this account act as (or for) the subject? Its own, or an organisation it represents now."""
    if subject_id == account.subject_id:
        return True
    return session.scalar(select(OrgLink.id).where(
        OrgLink.account_id == account.id, OrgLink.org_subject_id == subject_id, OrgLink.revoked_at.is_(None))) is not None
