"""Abnormal-access scan: query log + staff look-ups → rules → stored alerts.

Run as a scheduled job (cron or the platform's scheduler), e.g. every 5 minutes::

    */5 * * * *  chengxin monitor scan --hours 24

The scan is idempotent: a finding whose span overlaps an existing alert of the same kind and
reader updates that alert (last_at, count, evidence) instead of raising a new one, so
overlapping look-back windows never duplicate alerts. Reads are not scanned inline (a government
read must not wait for, or fail because of, the monitor).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chengxin.accounts.models import SignInFailure
from chengxin.accounts.service import Role
from chengxin.core import audit
from chengxin.core.errors import DomainError, NotFound, PermissionDenied
from chengxin.disclosure.models import QueryLog
from chengxin.monitoring.config import Thresholds, thresholds_on
from chengxin.monitoring.models import AccessAlert
from chengxin.monitoring.rules import FailedAttempt, Finding, ReadEvent, evaluate
from chengxin.workdays.service import work_calendar

__all__ = ["MONITORED_READERS", "ScanResult", "acknowledge", "list_alerts", "read_events", "scan"]

# Readers of other people's data; a person reading their own file and the public are not monitored.
MONITORED_READERS = ("staff", "api_key", "requester")
LOOK_UP_ACTION = "subject.look_up"
_OFFICE = (Role.ADMIN.value, Role.CREDIT_OFFICE.value)


@dataclass(frozen=True, slots=True)
class ScanResult:
    since: dt.datetime
    until: dt.datetime
    events: int
    findings: int
    raised: int
    updated: int
    rules_version: str


def read_events(session: Session, since: dt.datetime, until: dt.datetime) -> list[ReadEvent]:
    """Reads of personal data in [since, until): the query log and staff look-ups (audit ``subject.look_up``)."""
    events = [
        ReadEvent(f"{r.reader_kind}:{r.reader_name}", r.subject_id, r.at, r.purpose)
        for r in session.execute(
            select(QueryLog.reader_kind, QueryLog.reader_name, QueryLog.subject_id, QueryLog.at, QueryLog.purpose)
            .where(QueryLog.at >= since, QueryLog.at < until, QueryLog.reader_kind.in_(MONITORED_READERS))
        )
    ]
    events += [
        ReadEvent(r.actor, r.subject_id, r.at, r.purpose)
        for r in session.execute(
            select(audit.AuditEvent.actor, audit.AuditEvent.subject_id, audit.AuditEvent.at, audit.AuditEvent.purpose)
            .where(audit.AuditEvent.action == LOOK_UP_ACTION, audit.AuditEvent.at >= since,
                   audit.AuditEvent.at < until, audit.AuditEvent.subject_id.is_not(None))
        )
    ]
    return events


def failed_consent_attempts(session: Session, since: dt.datetime, until: dt.datetime) -> list[FailedAttempt]:
    """Failed consent codes in [since, until), by requester (recorded by ``consent.service.read_file``)."""
    from chengxin.consent.service import failed_attempts

    return [FailedAttempt(f"requester:{requester}", at) for requester, at in failed_attempts(session, since, until)]


LOCK_ACTIONS = ("user.locked", "person.locked")


def account_locks(session: Session, since: dt.datetime, until: dt.datetime) -> list[FailedAttempt]:
    """Accounts locked after failed sign-ins in [since, until) (audit ``user.locked`` / ``person.locked``)."""
    return [FailedAttempt(actor, at) for actor, at in session.execute(
        select(audit.AuditEvent.actor, audit.AuditEvent.at)
        .where(audit.AuditEvent.action.in_(LOCK_ACTIONS), audit.AuditEvent.at >= since, audit.AuditEvent.at < until))]


def sign_in_failures(session: Session, since: dt.datetime, until: dt.datetime) -> list[FailedAttempt]:
    """Failed sign-ins in [since, until), by client address (recorded by ``accounts.sign_in``)."""
    return [FailedAttempt(f"address:{address}", at) for address, at in session.execute(
        select(SignInFailure.address, SignInFailure.at).where(SignInFailure.at >= since, SignInFailure.at < until))]


def _detail(finding: Finding, thresholds: Thresholds) -> dict[str, Any]:
    return {
        "subjects": list(finding.subjects),
        "times": [t.isoformat() for t in finding.times],
        "rules_version": thresholds.version,
        **finding.extra,
    }


def scan(session: Session, since: dt.datetime, until: dt.datetime, now: dt.datetime, *,
         thresholds: Thresholds | None = None,
         progress: Callable[[str], None] | None = None) -> ScanResult:
    """Run the rules over [since, until) and store new alerts (in the caller's write transaction)."""
    if since.tzinfo is None or until.tzinfo is None or now.tzinfo is None:
        raise ValueError("scan needs timezone-aware datetimes")
    thresholds = thresholds or thresholds_on(now.date())
    say = progress or (lambda _msg: None)
    events = read_events(session, since, until)
    say(f"读取访问记录 {len(events)} 条")
    findings = evaluate(events, thresholds, work_calendar(session), failed_consent_attempts(session, since, until),
                        account_locks(session, since, until), sign_in_failures(session, since, until))
    say(f"规则命中 {len(findings)} 项")
    raised = updated = 0
    for f in findings:
        existing = session.scalars(
            select(AccessAlert).where(AccessAlert.kind == f.kind, AccessAlert.reader == f.reader,
                                      AccessAlert.first_at <= f.last_at, AccessAlert.last_at >= f.first_at)
            .order_by(AccessAlert.first_at).limit(1)
        ).first()
        if existing is None:
            session.add(AccessAlert(kind=f.kind, reader=f.reader[:256], severity=f.severity, first_at=f.first_at,
                                    last_at=f.last_at, count=f.count, detail=_detail(f, thresholds), raised_at=now,
                                    status="open"))
            raised += 1
        elif f.last_at > existing.last_at or f.count > existing.count:
            existing.last_at = max(existing.last_at, f.last_at)
            existing.count = max(existing.count, f.count)
            existing.detail = _detail(f, thresholds)
            updated += 1
        session.flush()
    return ScanResult(since, until, len(events), len(findings), raised, updated, thresholds.version)


def list_alerts(session: Session, *, status: str | None = "open", limit: int = 200) -> list[AccessAlert]:
    """Alerts newest first (``status=None``: all)."""
    query = select(AccessAlert).order_by(AccessAlert.first_at.desc(), AccessAlert.id.desc()).limit(limit)
    if status is not None:
        query = query.where(AccessAlert.status == status)
    return list(session.scalars(query))


def acknowledge(session: Session, alert_id: int, actor: audit.Actor, now: dt.datetime) -> AccessAlert:
    """The credit office (or an admin) acknowledges an open alert; audited."""
    if actor.role not in _OFFICE:
        raise PermissionDenied("alert.office_only", "仅限市信用办或管理员处理告警",
                               "Only the credit office or an admin may acknowledge alerts")
    alert = session.get(AccessAlert, alert_id)
    if alert is None:
        raise NotFound("alert.not_found", "告警不存在", "No such alert")
    if alert.status != "open":
        raise DomainError("alert.not_open", "告警已处理", "The alert was already acknowledged", status=409)
    alert.status = "acknowledged"
    alert.acknowledged_by = actor.label
    alert.acknowledged_at = now
    audit.write(session, actor=actor, action="alert.acknowledge", object_type="access_alert", object_id=alert.id,
                detail={"kind": alert.kind, "reader": alert.reader})
    session.flush()
    return alert
