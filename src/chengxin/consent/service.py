"""Consent (授权) use cases: a person grants, lists and revokes consents; a requester reads the
person's file with a consent code; failed attempts are recorded, rate-limited and monitored.

A requester's read returns an :class:`Outcome` instead of raising, so the caller can commit the
attempt row (and the failure count) before answering 403/429 — see ``api/consent.py``. A failure
never says anything about the person: an unknown code, another requester's code and a code for
another person give one and the same answer; only a requester holding the right code for the
right person learns that the consent was revoked, used or expired.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from chengxin.catalog.model import Catalog, SubjectKind
from chengxin.consent import rules
from chengxin.consent.models import Consent, ConsentAttempt, ConsentUse
from chengxin.core import audit
from chengxin.core.clock import CHINA
from chengxin.core.crypto import KeyRing
from chengxin.core.errors import DomainError, InvalidIdentifier, NotFound
from chengxin.core.identifiers import normalize_ric, normalize_uscc
from chengxin.core.policy import policy_on
from chengxin.disclosure import service as disclosure
from chengxin.disclosure.model import CreditFile
from chengxin.subjects.models import Subject
from chengxin.subjects.rules import lookup_index

__all__ = ["ConsentView", "Granted", "Outcome", "failed_attempts", "grant", "list_for", "read_file", "revoke"]

FAILED = "failed"  # outcomes other than "ok"

@dataclass(frozen=True)
class Granted:
    consent: Consent
    code: str  # shown once to the person; only its keyed hash is stored

@dataclass(frozen=True)
class UseView:
    at: dt.datetime
    requester_uscc: str
    requester_name: str
    purpose: str

@dataclass(frozen=True)
class ConsentView:
    id: int
    reference: str
    requester_uscc: str
    purpose: str
    categories: tuple[str, ...]
    single_use: bool
    valid_until: dt.date | None
    created_at: dt.datetime
    state: str
    uses: tuple[UseView, ...] = field(default=())

@dataclass(frozen=True)
class Outcome:
    """A requester's read: the file, or a refusal (status, code, Chinese message) with nothing about the person."""

    file: CreditFile | None = None
    status: int = 200
    code: str = ""
    message: str = ""
    message_en: str = ""

_NO_MATCH = ("consent.invalid", "授权码无效，或与查询机构、被查询人不匹配；未查询到任何信息",
             "Invalid consent code, or it does not match the requester and the person")
_REFUSALS = {
    "revoked": ("consent.revoked", "该授权已被本人撤销", "The consent was revoked"),
    "used": ("consent.used", "该授权为单次有效，已使用", "The single-use consent was already used"),
    "expired": ("consent.expired", "该授权已过有效期", "The consent has expired"),
    "bad_uscc": ("consent.bad_uscc", "查询机构统一社会信用代码不正确", "Invalid requester USCC"),
}

def _rate_limited(minutes: int) -> tuple[str, str, str]:
    return ("consent.rate_limited", f"授权码验证失败次数过多，请 {minutes} 分钟后再试",
            f"Too many failed consent codes: try again in {minutes} minutes")

def _code_hash(keyring: KeyRing, normalized: str) -> bytes:
    return keyring.keyed_digest(b"consent-code:" + normalized.encode())

def _today(now: dt.datetime) -> dt.date:
    return now.astimezone(CHINA).date()

# -- the person's side -----------------------------------------------------------------------------

def grant(session: Session, keyring: KeyRing, *, subject_id: int, requester_uscc: str, purpose: str,
          purpose_note: str = "", categories: list[str], single_use: bool, valid_until: dt.date | None,
          now: dt.datetime, actor: audit.Actor) -> Granted:
    """A new consent of the person ``subject_id``; the code is returned once."""
    uscc = normalize_uscc(requester_uscc)
    policy = policy_on(_today(now)).consent
    stated = rules.purpose_text(policy, purpose, purpose_note)
    chosen = rules.scope(categories)
    until = rules.validity(policy, single_use, valid_until, _today(now))
    code = rules.new_code()
    reference = f"SQ{_today(now):%Y%m%d}{secrets.token_hex(4).upper()}"
    consent = Consent(reference=reference, subject_id=subject_id, requester_uscc=uscc, purpose=stated,
                      categories=chosen, single_use=single_use, valid_until=until,
                      code_hash=_code_hash(keyring, rules.normalize_code(code) or ""), created_at=now)
    session.add(consent)
    session.flush()
    audit.write(session, actor=actor, action="consent.grant", subject_id=subject_id, object_type="consent",
                object_id=consent.id, detail={"reference": reference, "requester": uscc, "purpose": stated,
                                              "categories": chosen})
    return Granted(consent, code)

def revoke(session: Session, *, subject_id: int, consent_id: int, now: dt.datetime, actor: audit.Actor) -> Consent:
    """The person revokes one of their own consents (another person's: not found)."""
    consent = session.get(Consent, consent_id)
    if consent is None or consent.subject_id != subject_id:
        raise NotFound("consent.not_found", "未找到该授权", "No such consent")
    if consent.revoked_at is None:
        consent.revoked_at = now
        audit.write(session, actor=actor, action="consent.revoke", subject_id=subject_id, object_type="consent",
                    object_id=consent.id, detail={"reference": consent.reference})
    return consent

def list_for(session: Session, subject_id: int, today: dt.date) -> list[ConsentView]:
    """The person's consents, newest first, each with its state and every use."""
    consents = list(session.scalars(
        select(Consent).where(Consent.subject_id == subject_id).order_by(Consent.created_at.desc(), Consent.id.desc())
    ))
    uses: dict[int, list[UseView]] = {}
    if consents:
        for u in session.scalars(select(ConsentUse).where(ConsentUse.consent_id.in_([c.id for c in consents]))
                                 .order_by(ConsentUse.at, ConsentUse.id)):
            uses.setdefault(u.consent_id, []).append(UseView(u.at, u.requester_uscc, u.requester_name, u.purpose))
    return [
        ConsentView(c.id, c.reference, c.requester_uscc, c.purpose, tuple(c.categories), c.single_use, c.valid_until,
                    c.created_at,
                    rules.state(revoked=c.revoked_at is not None, single_use=c.single_use,
                                consumed=c.consumed_at is not None, valid_until=c.valid_until, today=today),
                    tuple(uses.get(c.id, ())))
        for c in consents
    ]

# -- the requester's side --------------------------------------------------------------------------

def _recent_failures(session: Session, requester: str, ip: str | None, since: dt.datetime) -> list[int]:
    counts = []
    for column, value in ((ConsentAttempt.requester, requester), (ConsentAttempt.ip, ip)):
        if value is None:
            continue
        counts.append(session.scalar(
            select(func.count()).select_from(ConsentAttempt)
            .where(column == value, ConsentAttempt.at >= since, ConsentAttempt.outcome != "ok")
        ) or 0)
    return counts

def _requester_name(session: Session, keyring: KeyRing, uscc: str) -> str:
    name = session.scalar(select(Subject.display_name).where(
        Subject.lookup_index == lookup_index(keyring, SubjectKind.ORGANIZATION.value, uscc)))
    return name or "授权查询机构"

def read_file(session: Session, catalog: Catalog, keyring: KeyRing, *, requester_uscc: str, code: str, ric: str,
              ip: str | None, now: dt.datetime, channel: str = "api") -> Outcome:
    """A requester reads a person's file with a consent code (in the caller's write transaction).

    Every attempt is recorded in ``consent_attempt``; once ``consent.rate_max_failures`` failures
    from the requester or the client IP fall within ``consent.rate_window_minutes`` (dated policy
    parameters), further attempts are refused with 429. On success: the file limited to the consent's categories,
    one query-log row (basis: the consent reference; purpose: the consent's), one use, and a
    single-use consent consumed.
    """
    try:
        uscc = normalize_uscc(requester_uscc)
    except InvalidIdentifier:
        uscc = None
    # An invalid USCC is recorded by its letters and digits only (never control characters).
    requester = uscc or "".join(ch for ch in (requester_uscc or "").upper() if ch.isascii() and ch.isalnum())[:18]
    requester = requester or "-"
    ip = (ip or "")[:64] or None

    def fail(outcome: str, status: int, problem: tuple[str, str, str]) -> Outcome:
        session.add(ConsentAttempt(requester=requester, at=now, outcome=outcome, ip=ip))
        session.flush()
        return Outcome(status=status, code=problem[0], message=problem[1], message_en=problem[2])

    policy = policy_on(_today(now)).consent
    since = now - dt.timedelta(minutes=policy.rate_window_minutes)
    if rules.rate_limited(policy, _recent_failures(session, requester, ip, since)):
        return fail("rate_limited", 429, _rate_limited(policy.rate_window_minutes))
    if uscc is None:
        return fail("bad_uscc", 400, _REFUSALS["bad_uscc"])
    normalized = rules.normalize_code(code)
    consent = None if normalized is None else session.scalar(
        select(Consent).where(Consent.code_hash == _code_hash(keyring, normalized)))
    if consent is None:
        return fail("unknown_code", 403, _NO_MATCH)
    if not secrets.compare_digest(consent.requester_uscc, uscc):
        return fail("wrong_requester", 403, _NO_MATCH)
    try:
        person_index = lookup_index(keyring, SubjectKind.PERSON.value, normalize_ric(ric))
    except DomainError:
        person_index = b""
    subject_index = session.scalar(select(Subject.lookup_index).where(Subject.id == consent.subject_id))
    if subject_index is None or not secrets.compare_digest(subject_index, person_index):
        return fail("wrong_person", 403, _NO_MATCH)
    today = _today(now)
    current = rules.state(revoked=consent.revoked_at is not None, single_use=consent.single_use,
                          consumed=consent.consumed_at is not None, valid_until=consent.valid_until, today=today)
    if current != "valid":
        return fail(current, 403, _REFUSALS[current])
    if consent.single_use:
        # Consumed atomically: of two concurrent reads with one single-use code, one wins.
        won = cast(CursorResult[Any], session.execute(
            update(Consent).where(Consent.id == consent.id, Consent.consumed_at.is_(None))
            .values(consumed_at=now).execution_options(synchronize_session=False)
        )).rowcount
        if not won:
            return fail("used", 403, _REFUSALS["used"])
    file = disclosure.requester_file(session, catalog, consent.subject_id, frozenset(consent.categories), today)
    name = _requester_name(session, keyring, uscc)
    disclosure.log_query(session, subject_id=consent.subject_id, reader_kind="requester", reader_name=name,
                         requester_uscc=uscc, purpose=consent.purpose, basis=f"本人授权 {consent.reference}",
                         channel=channel, detail={"audience": "requester", "consent": consent.reference,
                                                  "categories": list(consent.categories), "items": len(file.items)})
    session.add(ConsentUse(consent_id=consent.id, at=now, requester_uscc=uscc, requester_name=name[:200],
                           purpose=consent.purpose, items=len(file.items)))
    session.add(ConsentAttempt(requester=uscc, at=now, outcome="ok", ip=ip))
    session.flush()
    return Outcome(file=file)

def failed_attempts(session: Session, since: dt.datetime, until: dt.datetime) -> list[tuple[str, dt.datetime]]:
    """(requester, at) of every failed attempt in [since, until), oldest first (for the monitor)."""
    rows = session.execute(
        select(ConsentAttempt.requester, ConsentAttempt.at)
        .where(ConsentAttempt.at >= since, ConsentAttempt.at < until, ConsentAttempt.outcome != "ok")
        .order_by(ConsentAttempt.at, ConsentAttempt.id)
    )
    return [(r.requester, r.at) for r in rows]
