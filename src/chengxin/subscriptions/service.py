"""Subscriptions to list changes and their outbox (use cases: one transaction each; no web, no HTTP here).

The path of a change, and why it cannot be lost:

1. ``lists.status.entry_changed`` appends a ``list_change`` row in the same transaction as the change.
2. :func:`dispatch` reads the feed past the ``webhook_cursor`` (the cursor row is locked: one
   dispatcher at a time, others skip), matches each change against the subscriptions and inserts a
   ``webhook_delivery`` per (subscription, change) — unique, so running it twice adds nothing — and
   moves the cursor in the same transaction. A gap in the feed's ids (a transaction still open, or
   rolled back) holds the cursor for at most ``settle_seconds``, so a change committed late is
   still seen.
3. :func:`claim_due` leases due deliveries (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has
   one writer) and commits, so no lock is held while the HTTP request runs (``subscriptions.sender``);
   :func:`record_attempt` then logs the attempt and decides: delivered, retry later (dated back-off
   with jitter), or failed after the last attempt (kept; re-deliverable). A crash between the two
   leaves the lease to expire and the delivery is sent again: delivery is *at least once*, and the
   ``webhook-id`` lets the receiver drop a duplicate.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from chengxin.core import audit
from chengxin.core import workflow as wf
from chengxin.core.crypto import KeyRing
from chengxin.core.errors import DomainError, NotFound, PermissionDenied
from chengxin.lists.models import ListChange, ListEntry
from chengxin.subjects.models import Subject
from chengxin.subjects.rules import lookup_index
from chengxin.subscriptions import rules
from chengxin.subscriptions.config import WebhookConfig, WebhookSettings
from chengxin.subscriptions.models import (
    WebhookAttempt,
    WebhookCursor,
    WebhookDelivery,
    WebhookSubscription,
    WebhookSubscriptionSubject,
)

CURSOR = "list_change"
PUBLIC_ENTRY_PATH = "/lists/entries/{entry_id}"  # the public page of a list entry (lists feature)
Resolver = Callable[[str, int], list[str]]


def system_resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (empty when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in seen:
            seen.append(address)
    return seen


# -- views -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionView:
    id: int
    owner_code: str
    description: str
    url: str
    list_kinds: list[str]
    changes: list[str]
    scope: str
    state: str
    state_zh: str
    state_reason: str | None
    state_changed_at: dt.datetime | None
    created_at: dt.datetime
    created_by: str
    subject_count: int
    failed_in_row: int
    last_success_at: dt.datetime | None
    last_failure_at: dt.datetime | None
    counts: dict[str, int]


@dataclass(frozen=True)
class SubjectResult:
    """What became of one item of a request naming subjects."""

    index: int
    status: str  # added | already | removed | not_subscribed | refused
    subject_id: int | None = None
    display_id: str | None = None
    display_name: str | None = None
    code: str | None = None
    message: str | None = None
    message_en: str | None = None


@dataclass(frozen=True)
class SubjectsReport:
    results: list[SubjectResult]

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


@dataclass(frozen=True)
class Created:
    subscription: SubscriptionView
    secret: str  # shown once
    subjects: SubjectsReport


@dataclass(frozen=True)
class AttemptView:
    attempt_no: int
    started_at: dt.datetime
    duration_ms: int
    url: str
    address: str | None
    status_code: int | None
    ok: bool
    error: str | None
    response_excerpt: str | None


@dataclass(frozen=True)
class DeliveryView:
    id: int
    subscription_id: int
    change_id: int
    msg_id: str
    state: str
    state_zh: str
    attempts: int
    created_at: dt.datetime
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    failed_at: dt.datetime | None
    last_status_code: int | None
    last_error: str | None
    list_kind: str
    change: str
    entry_id: int
    subject_display_id: str
    subject_display_name: str
    attempt_log: list[AttemptView] = field(default_factory=list)


def _counts(session: Session, subscription_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {i: dict.fromkeys(rules.DELIVERY_STATES, 0) for i in subscription_ids}
    if not subscription_ids:
        return out
    rows = session.execute(
        select(WebhookDelivery.subscription_id, WebhookDelivery.state, func.count())
        .where(WebhookDelivery.subscription_id.in_(subscription_ids))
        .group_by(WebhookDelivery.subscription_id, WebhookDelivery.state))
    for sub_id, state, n in rows:
        out[sub_id][state] = n
    return out


def _subject_counts(session: Session, subscription_ids: Sequence[int]) -> dict[int, int]:
    if not subscription_ids:
        return {}
    rows = session.execute(
        select(WebhookSubscriptionSubject.subscription_id, func.count())
        .where(WebhookSubscriptionSubject.subscription_id.in_(subscription_ids),
               WebhookSubscriptionSubject.removed_at.is_(None))
        .group_by(WebhookSubscriptionSubject.subscription_id))
    return {int(r[0]): int(r[1]) for r in rows}


def _views(session: Session, subs: Sequence[WebhookSubscription]) -> list[SubscriptionView]:
    ids = [s.id for s in subs]
    counts, subjects = _counts(session, ids), _subject_counts(session, ids)
    return [SubscriptionView(
        id=s.id, owner_code=s.owner_code, description=s.description, url=s.url, list_kinds=list(s.list_kinds),
        changes=list(s.changes), scope=s.scope, state=s.state, state_zh=rules.STATES.get(s.state, s.state),
        state_reason=s.state_reason, state_changed_at=s.state_changed_at, created_at=s.created_at,
        created_by=s.created_by, subject_count=subjects.get(s.id, 0), failed_in_row=s.failed_in_row,
        last_success_at=s.last_success_at, last_failure_at=s.last_failure_at, counts=counts[s.id],
    ) for s in subs]


def _is_office(actor: audit.Actor) -> bool:
    return actor.kind == "staff" and actor.role in ("admin", "credit_office")


def _role(actor: audit.Actor) -> str:
    return wf.OFFICE if _is_office(actor) else wf.DEPARTMENT


def _load(session: Session, actor: audit.Actor, subscription_id: int, *, lock: bool = False) -> WebhookSubscription:
    """The subscription, if the caller owns it or is the credit office (others: 404, no existence leak)."""
    sub = session.get(WebhookSubscription, subscription_id, with_for_update=lock)
    if sub is None or not (_is_office(actor) or sub.owner_code == rules.owner_code(actor)):
        raise NotFound("subscription.not_found", f"订阅 {subscription_id} 不存在", f"No subscription {subscription_id}")
    return sub


def subscription_view(session: Session, actor: audit.Actor, subscription_id: int) -> SubscriptionView:
    return _views(session, [_load(session, actor, subscription_id)])[0]


def list_subscriptions(session: Session, actor: audit.Actor, *, owner: str | None = None,
                       state: str | None = None) -> list[SubscriptionView]:
    """The caller's subscriptions; the credit office sees all (optionally one owner's)."""
    stmt = select(WebhookSubscription).order_by(WebhookSubscription.id.desc())
    if not _is_office(actor):
        stmt = stmt.where(WebhookSubscription.owner_code == rules.owner_code(actor))
    elif owner:
        stmt = stmt.where(WebhookSubscription.owner_code == owner)
    if state:
        stmt = stmt.where(WebhookSubscription.state == state)
    return _views(session, list(session.scalars(stmt)))


# -- subscribing ----------------------------------------------------------------------------------------


def _check_choice(values: Iterable[str], allowed: Sequence[str], field_name: str, what_zh: str) -> list[str]:
    chosen = list(dict.fromkeys(v.strip() for v in values if v and v.strip()))
    if not chosen:
        raise DomainError(f"subscription.{field_name}_required", f"请至少选择一项{what_zh}",
                          f"Choose at least one of {', '.join(allowed)}", field=field_name)
    if bad := [v for v in chosen if v not in allowed]:
        raise DomainError(f"subscription.{field_name}_not_allowed", f"不能订阅的{what_zh}：{'、'.join(bad)}（可选：{'、'.join(allowed)}）",
                          f"Not allowed: {', '.join(bad)} (allowed: {', '.join(allowed)})", field=field_name)
    return chosen


def check_target(url: str, settings: WebhookSettings, resolve: Resolver) -> rules.Target:
    """The URL checked now; a host that resolves must resolve to public addresses only. A host that
    does not resolve yet is accepted: every delivery checks again before it connects."""
    target = rules.parse_target(url, settings.http_hosts)
    if not target.allowed_host and target.literal is None:
        addresses = resolve(target.host, target.port)
        if addresses:
            rules.pick_address(target, addresses)
    return target


def new_secret() -> str:
    return rules.SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _secret_aad(subscription_id: int) -> bytes:
    return f"webhook_subscription:{subscription_id}:secret".encode()


def _identifier_aad(subscription_id: int, subject_id: int) -> bytes:
    return f"webhook_subscription_subject:{subscription_id}:{subject_id}".encode()


def subscribe(session: Session, keyring: KeyRing, *, actor: audit.Actor, url: str, list_kinds: Sequence[str],
              changes: Sequence[str], scope: str, subjects: Sequence[Mapping[str, Any]], description: str,
              now: dt.datetime, cfg: WebhookConfig, settings: WebhookSettings) -> Created:
    """Create a subscription; returns it with its signing secret (shown this once) and the subjects report.

    The URL is checked here without DNS; adapters call :func:`check_target` first, outside the
    transaction (a slow resolver must not hold SQLite's write lock)."""
    who = rules.subscriber_kind(actor)
    kinds = _check_choice(list_kinds, cfg.list_kinds_for.get(who, ()), "list_kinds", "名单")
    wanted = _check_choice(changes, cfg.changes, "changes", "变动类型")
    if scope not in rules.SCOPES:
        raise DomainError("subscription.scope", "订阅范围应为 subjects（指定主体）或 all（名单全部主体）",
                          "scope must be subjects or all", field="scope")
    if scope == rules.SCOPE_ALL and who not in cfg.all_subjects_for:
        raise PermissionDenied("subscription.scope_all_not_allowed", "只能订阅指定信用主体的名单变动（全部主体仅限市信用办）",
                               "Only named subjects may be followed (all subjects: credit office only)", field="scope")
    if scope == rules.SCOPE_ALL and subjects:
        raise DomainError("subscription.scope_all_subjects", "订阅名单全部主体时不需列出主体",
                          "Do not list subjects with scope all", field="subjects")
    description = (description or "").strip()
    if len(description) > 200:
        raise DomainError("subscription.description", "说明不得超过 200 个字符", "Description over 200 characters",
                          field="description")
    target = rules.parse_target(url, settings.http_hosts)
    if len(subjects) > cfg.max_subjects_per_request:
        raise DomainError("subscription.too_many_subjects", f"一次最多提交 {cfg.max_subjects_per_request} 个主体",
                          f"At most {cfg.max_subjects_per_request} subjects per request", field="subjects")
    since = session.scalar(select(func.coalesce(func.max(ListChange.id), 0))) or 0
    secret = new_secret()
    sub = WebhookSubscription(
        owner_code=rules.owner_code(actor), created_by=actor.label[:128], created_at=now, description=description,
        url=target.url, list_kinds=kinds, changes=wanted, scope=scope, secret_cipher=b"",
        secret_key_version=keyring.data_version, since_change_id=since, state=rules.ACTIVE, failed_in_row=0,
        state_changed_at=now)
    session.add(sub)
    session.flush()
    sub.secret_cipher = keyring.encrypt(secret, _secret_aad(sub.id))
    wf.record_transition(session, rules.WORKFLOW, case_id=sub.id, state=None, action="open", role=_role(actor),
                         actor=actor, now=now, detail={"url": target.url, "list_kinds": kinds, "changes": wanted,
                                                       "scope": scope})
    report = _add(session, keyring, sub, actor, subjects, now) if subjects else SubjectsReport([])
    return Created(_views(session, [sub])[0], secret, report)


def secret_of(keyring: KeyRing, sub: WebhookSubscription) -> str:
    return keyring.decrypt(sub.secret_cipher, sub.secret_key_version, _secret_aad(sub.id))


def rotate_secret(session: Session, keyring: KeyRing, *, actor: audit.Actor, subscription_id: int,
                  now: dt.datetime) -> str:
    """A new signing secret (shown once); the old one stops at once."""
    sub = _load(session, actor, subscription_id, lock=True)
    secret = new_secret()
    sub.secret_cipher, sub.secret_key_version = keyring.encrypt(secret, _secret_aad(sub.id)), keyring.data_version
    audit.write(session, actor=actor, action="subscription.rotate_secret", object_type=rules.CASE_TYPE,
                object_id=sub.id, detail={"at": now.isoformat()})
    return secret


def _resolve_items(session: Session, keyring: KeyRing, items: Sequence[Mapping[str, Any]],
                   ) -> tuple[list[SubjectResult], list[tuple[rules.SubjectItem, Subject]]]:
    """Parse and look up the items: refusals (with the reason) and the found subjects, in request order."""
    refused: list[SubjectResult] = []
    parsed: list[rules.SubjectItem] = []
    for i, raw in enumerate(items):
        if not isinstance(raw, Mapping):
            refused.append(SubjectResult(i, "refused", code="subscription.subject_item",
                                         message="每项应为 {\"uscc\": …} 或 {\"ric\": …}",
                                         message_en='Each item is {"uscc": …} or {"ric": …}'))
            continue
        try:
            parsed.append(rules.parse_subject_item(i, raw))
        except DomainError as exc:
            refused.append(SubjectResult(i, "refused", code=exc.code, message=exc.message, message_en=exc.message_en))
    by_index = {lookup_index(keyring, p.kind, p.identifier): p for p in parsed}
    found: dict[bytes, Subject] = {}
    keys = list(by_index)
    for start in range(0, len(keys), 1000):
        for subject in session.scalars(select(Subject).where(Subject.lookup_index.in_(keys[start:start + 1000]))):
            found[bytes(subject.lookup_index)] = subject
    hits: list[tuple[rules.SubjectItem, Subject]] = []
    for p in parsed:
        hit = found.get(lookup_index(keyring, p.kind, p.identifier))
        if hit is None:
            refused.append(SubjectResult(p.index, "refused", code="subscription.subject_not_found",
                                         message="平台中没有该信用主体（请核对代码或号码）",
                                         message_en="No subject with this identifier"))
        else:
            hits.append((p, hit))
    return refused, hits


def _add(session: Session, keyring: KeyRing, sub: WebhookSubscription, actor: audit.Actor,
         items: Sequence[Mapping[str, Any]], now: dt.datetime) -> SubjectsReport:
    results, hits = _resolve_items(session, keyring, items)
    existing = {row.subject_id: row for row in session.scalars(
        select(WebhookSubscriptionSubject).where(
            WebhookSubscriptionSubject.subscription_id == sub.id,
            WebhookSubscriptionSubject.subject_id.in_([s.id for _, s in hits] or [-1])))}
    for item, subject in hits:
        row = existing.get(subject.id)
        if row is not None and row.removed_at is None:
            results.append(SubjectResult(item.index, "already", subject.id, subject.display_id, subject.display_name))
            continue
        cipher = keyring.encrypt(item.identifier, _identifier_aad(sub.id, subject.id))
        if row is None:
            row = WebhookSubscriptionSubject(subscription_id=sub.id, subject_id=subject.id, identifier_cipher=cipher,
                                             key_version=keyring.data_version, added_at=now, added_by=actor.label[:128])
            session.add(row)
            existing[subject.id] = row
        else:
            row.identifier_cipher, row.key_version, row.removed_at = cipher, keyring.data_version, None
            row.added_at, row.added_by = now, actor.label[:128]
        if subject.kind == "person":
            # A person's list changes will be disclosed to this subscriber: logged per person (查询使用登记).
            audit.write(session, actor=actor, action="subscription.subject_add", subject_id=subject.id,
                        object_type=rules.CASE_TYPE, object_id=sub.id, purpose="订阅名单变动推送")
        results.append(SubjectResult(item.index, "added", subject.id, subject.display_id, subject.display_name))
    session.flush()
    return SubjectsReport(sorted(results, key=lambda r: r.index))


def add_subjects(session: Session, keyring: KeyRing, *, actor: audit.Actor, subscription_id: int,
                 items: Sequence[Mapping[str, Any]], now: dt.datetime, cfg: WebhookConfig) -> SubjectsReport:
    sub = _load(session, actor, subscription_id, lock=True)
    _check_open(sub)
    _check_subject_scope(sub, items, cfg)
    report = _add(session, keyring, sub, actor, items, now)
    audit.write(session, actor=actor, action="subscription.subjects_add", object_type=rules.CASE_TYPE,
                object_id=sub.id, detail={"added": report.count("added"), "refused": report.count("refused")})
    return report


def remove_subjects(session: Session, keyring: KeyRing, *, actor: audit.Actor, subscription_id: int,
                    items: Sequence[Mapping[str, Any]], now: dt.datetime, cfg: WebhookConfig) -> SubjectsReport:
    sub = _load(session, actor, subscription_id, lock=True)
    _check_open(sub)
    _check_subject_scope(sub, items, cfg)
    results, hits = _resolve_items(session, keyring, items)
    rows = {row.subject_id: row for row in session.scalars(
        select(WebhookSubscriptionSubject).where(
            WebhookSubscriptionSubject.subscription_id == sub.id,
            WebhookSubscriptionSubject.subject_id.in_([s.id for _, s in hits] or [-1])))}
    for item, subject in hits:
        row = rows.get(subject.id)
        if row is None or row.removed_at is not None:
            results.append(SubjectResult(item.index, "not_subscribed", subject.id, subject.display_id,
                                         subject.display_name))
            continue
        row.removed_at = now
        results.append(SubjectResult(item.index, "removed", subject.id, subject.display_id, subject.display_name))
    report = SubjectsReport(sorted(results, key=lambda r: r.index))
    audit.write(session, actor=actor, action="subscription.subjects_remove", object_type=rules.CASE_TYPE,
                object_id=sub.id, detail={"removed": report.count("removed")})
    return report


def _check_open(sub: WebhookSubscription) -> None:
    if sub.state == rules.CANCELLED:
        raise DomainError("subscription.cancelled", "该订阅已取消", "This subscription is cancelled", status=409)


def _check_subject_scope(sub: WebhookSubscription, items: Sequence[Any], cfg: WebhookConfig) -> None:
    if sub.scope == rules.SCOPE_ALL:
        raise DomainError("subscription.scope_all_subjects", "该订阅覆盖名单全部主体，无需增减主体",
                          "This subscription covers all subjects", status=409)
    if not items:
        raise DomainError("subscription.subjects_required", "请列出信用主体", "List the subjects", field="subjects")
    if len(items) > cfg.max_subjects_per_request:
        raise DomainError("subscription.too_many_subjects", f"一次最多提交 {cfg.max_subjects_per_request} 个主体",
                          f"At most {cfg.max_subjects_per_request} subjects per request", field="subjects")


def subscribed_subjects(session: Session, actor: audit.Actor, subscription_id: int) -> list[SubjectResult]:
    """The subjects a subscription names (masked display forms)."""
    sub = _load(session, actor, subscription_id)
    rows = session.execute(
        select(Subject.id, Subject.display_id, Subject.display_name)
        .join(WebhookSubscriptionSubject, WebhookSubscriptionSubject.subject_id == Subject.id)
        .where(WebhookSubscriptionSubject.subscription_id == sub.id, WebhookSubscriptionSubject.removed_at.is_(None))
        .order_by(Subject.id))
    return [SubjectResult(0, "subscribed", r.id, r.display_id, r.display_name) for r in rows]


def _move(session: Session, sub: WebhookSubscription, action: str, *, actor: audit.Actor, role: str,
          now: dt.datetime, reason: str | None) -> None:
    sub.state = wf.record_transition(session, rules.WORKFLOW, case_id=sub.id, state=sub.state, action=action,
                                     role=role, actor=actor, now=now, reason=reason)
    sub.state_changed_at = now
    sub.state_reason = (reason or "").strip() or None
    if action == "enable":
        sub.failed_in_row = 0


def cancel(session: Session, *, actor: audit.Actor, subscription_id: int, now: dt.datetime,
           reason: str | None = None) -> SubscriptionView:
    sub = _load(session, actor, subscription_id, lock=True)
    _move(session, sub, "cancel", actor=actor, role=_role(actor), now=now, reason=reason)
    return _views(session, [sub])[0]


def enable(session: Session, *, actor: audit.Actor, subscription_id: int, now: dt.datetime) -> SubscriptionView:
    """Re-enable a disabled subscription: the deliveries waiting meanwhile go out again."""
    sub = _load(session, actor, subscription_id, lock=True)
    _move(session, sub, "enable", actor=actor, role=_role(actor), now=now, reason=None)
    # Deliveries that failed while the receiver was down get a fresh round (nothing is lost).
    for d in session.scalars(select(WebhookDelivery).where(WebhookDelivery.subscription_id == sub.id,
                                                           WebhookDelivery.state == rules.FAILED)):
        _reopen(d, actor, now)
    return _views(session, [sub])[0]


# -- deliveries: the log -----------------------------------------------------------------------------------


def _delivery_views(session: Session, deliveries: Sequence[WebhookDelivery], *,
                    with_attempts: bool = False) -> list[DeliveryView]:
    attempts: dict[int, list[AttemptView]] = {}
    if with_attempts and deliveries:
        for a in session.scalars(select(WebhookAttempt).where(
                WebhookAttempt.delivery_id.in_([d.id for d in deliveries])).order_by(WebhookAttempt.id)):
            attempts.setdefault(a.delivery_id, []).append(AttemptView(
                a.attempt_no, a.started_at, a.duration_ms, a.url, a.address, a.status_code, a.ok, a.error,
                a.response_excerpt))
    return [DeliveryView(
        id=d.id, subscription_id=d.subscription_id, change_id=d.change_id, msg_id=d.msg_id, state=d.state,
        state_zh=rules.DELIVERY_STATES.get(d.state, d.state), attempts=d.attempts, created_at=d.created_at,
        next_attempt_at=d.next_attempt_at if d.state == rules.PENDING else None, delivered_at=d.delivered_at,
        failed_at=d.failed_at, last_status_code=d.last_status_code, last_error=d.last_error,
        list_kind=d.data.get("list_kind", ""), change=d.data.get("change", ""), entry_id=int(d.data.get("entry_id", 0)),
        subject_display_id=d.data.get("subject", {}).get("display_id", ""),
        subject_display_name=d.data.get("subject", {}).get("display_name", ""),
        attempt_log=attempts.get(d.id, []),
    ) for d in deliveries]


def deliveries(session: Session, actor: audit.Actor, subscription_id: int, *, state: str | None = None,
               limit: int = 100, before_id: int | None = None) -> list[DeliveryView]:
    """One subscription's deliveries, newest first, each with its attempts."""
    sub = _load(session, actor, subscription_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.subscription_id == sub.id)
    if state:
        if state not in rules.DELIVERY_STATES:
            raise DomainError("subscription.delivery_state", f"状态应为 {' | '.join(rules.DELIVERY_STATES)}",
                              f"state is one of {', '.join(rules.DELIVERY_STATES)}", field="state")
        stmt = stmt.where(WebhookDelivery.state == state)
    if before_id is not None:
        stmt = stmt.where(WebhookDelivery.id < before_id)
    rows = list(session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(max(1, min(limit, 500)))))
    return _delivery_views(session, rows, with_attempts=True)


def delivery(session: Session, actor: audit.Actor, delivery_id: int) -> DeliveryView:
    d = session.get(WebhookDelivery, delivery_id)
    if d is None:
        raise NotFound("subscription.delivery_not_found", f"推送 {delivery_id} 不存在", f"No delivery {delivery_id}")
    _load(session, actor, d.subscription_id)
    return _delivery_views(session, [d], with_attempts=True)[0]


def _reopen(d: WebhookDelivery, actor: audit.Actor, now: dt.datetime) -> None:
    d.state, d.attempts, d.next_attempt_at, d.lease_token = rules.PENDING, 0, now, None
    d.failed_at = None
    d.redelivered_by = actor.label[:128]


def redeliver(session: Session, *, actor: audit.Actor, delivery_id: int, now: dt.datetime) -> DeliveryView:
    """Send a failed (or delivered, if the receiver lost it) delivery again: a new round of attempts."""
    d = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if d is None:
        raise NotFound("subscription.delivery_not_found", f"推送 {delivery_id} 不存在", f"No delivery {delivery_id}")
    sub = _load(session, actor, d.subscription_id)
    _check_open(sub)
    if d.state == rules.PENDING:
        raise DomainError("subscription.delivery_pending", "该推送正在等待发送，无需重新推送",
                          "This delivery is already waiting to be sent", status=409)
    _reopen(d, actor, now)
    audit.write(session, actor=actor, action="subscription.redeliver", object_type="webhook_delivery", object_id=d.id,
                subject_id=d.subject_id, detail={"subscription": sub.id, "change": d.change_id})
    return _delivery_views(session, [d])[0]


# -- the dispatcher ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DispatchResult:
    skipped: bool  # another dispatcher holds the cursor
    scanned: int
    created: int
    cursor: int


def _insert_ignore(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(postgresql.insert(WebhookDelivery).on_conflict_do_nothing(
            index_elements=["subscription_id", "change_id"]), rows)
    else:
        session.execute(sqlite.insert(WebhookDelivery).on_conflict_do_nothing(
            index_elements=["subscription_id", "change_id"]), rows)


def _lock_cursor(session: Session, now: dt.datetime) -> WebhookCursor | None:
    stmt = select(WebhookCursor).where(WebhookCursor.name == CURSOR).with_for_update(skip_locked=True)
    cursor = session.scalars(stmt).one_or_none()
    if cursor is not None:
        return cursor
    values = {"name": CURSOR, "last_change_id": 0, "updated_at": now}
    if session.get_bind().dialect.name == "postgresql":
        session.execute(postgresql.insert(WebhookCursor).on_conflict_do_nothing(index_elements=["name"]), [values])
    else:
        session.execute(sqlite.insert(WebhookCursor).on_conflict_do_nothing(index_elements=["name"]), [values])
    return session.scalars(stmt).one_or_none()


def _advance(cursor_id: int, rows: Sequence[tuple[int, dt.datetime]], now: dt.datetime, settle_seconds: float) -> int:
    """The new cursor: past every id seen, unless a gap before it is younger than ``settle_seconds``
    (a transaction that took its id earlier may still commit)."""
    expected, new = cursor_id + 1, cursor_id
    limit = now - dt.timedelta(seconds=settle_seconds)
    for change_id, occurred_at in rows:
        if change_id != expected and occurred_at > limit:
            break
        new, expected = change_id, change_id + 1
    return new


def dispatch(session: Session, *, now: dt.datetime, cfg: WebhookConfig, base_url: str) -> DispatchResult:
    """Turn the changes past the cursor into deliveries (idempotent); one batch per call."""
    cursor = _lock_cursor(session, now)
    if cursor is None:
        return DispatchResult(True, 0, 0, 0)
    changes = list(session.scalars(select(ListChange).where(ListChange.id > cursor.last_change_id)
                                   .order_by(ListChange.id).limit(cfg.batch_size)))
    if not changes:
        return DispatchResult(False, 0, 0, cursor.last_change_id)
    subs = list(session.scalars(select(WebhookSubscription).where(
        WebhookSubscription.state != rules.CANCELLED, WebhookSubscription.since_change_id < changes[-1].id)))
    named: dict[int, set[int]] = {}  # subject id -> subscriptions naming it
    subject_ids = {c.subject_id for c in changes}
    scoped = [s.id for s in subs if s.scope == rules.SCOPE_SUBJECTS]
    if scoped:
        for sub_id, subject_id in session.execute(
                select(WebhookSubscriptionSubject.subscription_id, WebhookSubscriptionSubject.subject_id).where(
                    WebhookSubscriptionSubject.subject_id.in_(subject_ids),
                    WebhookSubscriptionSubject.subscription_id.in_(scoped),
                    WebhookSubscriptionSubject.removed_at.is_(None))):
            named.setdefault(subject_id, set()).add(sub_id)
    matches: list[tuple[WebhookSubscription, ListChange]] = [
        (s, c) for c in changes for s in subs
        if c.id > s.since_change_id and rules.wants(s.list_kinds, s.changes, c.list_kind, c.change)
        and rules.in_scope(s.scope, s.owner_code, s.id in named.get(c.subject_id, ()), c.entry_id, c.payload)]
    created = 0
    if matches:
        done = {(int(r[0]), int(r[1])) for r in session.execute(
            select(WebhookDelivery.subscription_id, WebhookDelivery.change_id).where(
                WebhookDelivery.change_id.in_({c.id for _, c in matches})))}
        matches = [(s, c) for s, c in matches if (s.id, c.id) not in done]
        entries = {e.id: e for e in session.scalars(select(ListEntry).where(
            ListEntry.id.in_({c.entry_id for _, c in matches if c.entry_id is not None} or {-1})))}
        subjects = {s.id: s for s in session.scalars(select(Subject).where(
            Subject.id.in_({c.subject_id for _, c in matches} or {-1})))}
        rows = []
        for sub, change in matches:
            subject = subjects[change.subject_id]
            if change.entry_id is None:  # a feed event of another feature (issue #7: a shop's risk level)
                data = rules.feed_event_data(change_id=change.id, list_kind=change.list_kind, change=change.change,
                                             occurred_at=change.occurred_at, payload=change.payload)
            else:
                entry = entries[change.entry_id]
                data = rules.event_data(
                    change_id=change.id, entry_id=entry.id, list_kind=change.list_kind, change=change.change,
                    occurred_at=change.occurred_at, subject_kind=subject.kind, display_id=subject.display_id,
                    display_name=subject.display_name, decision_no=entry.decision_no, decided_on=entry.decided_on,
                    term_from=entry.term_from, term_to=entry.term_to, basis_zh=entry.basis_zh,
                    department_code=entry.department_code, end_kind=entry.end_kind,
                    public_url=base_url.rstrip("/") + PUBLIC_ENTRY_PATH.format(entry_id=entry.id))
            rows.append({"subscription_id": sub.id, "change_id": change.id, "subject_id": change.subject_id,
                         "msg_id": rules.message_id(sub.id, change.id), "data": data, "created_at": now,
                         "state": rules.PENDING, "attempts": 0, "next_attempt_at": now})
            if subject.kind == "person":
                # The subscriber learns of a person's list change: one trace per disclosure.
                audit.write(session, actor=audit.Actor(kind="subscription", name=str(sub.id),
                                                       department_code=sub.owner_code),
                            action="subscription.disclose", subject_id=subject.id, object_type="list_change",
                            object_id=change.id, purpose="订阅名单变动推送")
        _insert_ignore(session, rows)
        created = len(rows)
    cursor.last_change_id = _advance(cursor.last_change_id, [(c.id, c.occurred_at) for c in changes], now,
                                     cfg.settle_seconds)
    cursor.updated_at = now
    return DispatchResult(False, len(changes), created, cursor.last_change_id)


# -- the deliverer ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """One delivery leased for one attempt: everything the sender needs, nothing more."""

    delivery_id: int
    subscription_id: int
    token: str
    url: str
    secret: str
    msg_id: str
    body: bytes
    attempt_no: int


@dataclass(frozen=True)
class AttemptResult:
    started_at: dt.datetime
    duration_ms: int
    url: str
    address: str | None
    status_code: int | None
    ok: bool
    error: str | None
    excerpt: str | None


def claim_due(session: Session, keyring: KeyRing, *, now: dt.datetime, cfg: WebhookConfig,
              limit: int) -> list[Claim]:
    """Lease up to ``limit`` due deliveries of active subscriptions (commit before sending)."""
    rows = session.execute(
        select(WebhookDelivery, WebhookSubscription)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(WebhookDelivery.state == rules.PENDING, WebhookDelivery.next_attempt_at <= now,
               WebhookSubscription.state == rules.ACTIVE)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(of=WebhookDelivery, skip_locked=True)).all()
    if not rows:
        return []
    lease_until = now + dt.timedelta(seconds=cfg.connect_timeout_seconds + cfg.read_timeout_seconds + 60)
    ids = [d.id for d, _ in rows]
    made = {int(r[0]): int(r[1]) for r in session.execute(
        select(WebhookAttempt.delivery_id, func.count()).where(WebhookAttempt.delivery_id.in_(ids))
        .group_by(WebhookAttempt.delivery_id))}
    idents: dict[tuple[int, int], WebhookSubscriptionSubject] = {
        (r.subscription_id, r.subject_id): r for r in session.scalars(select(WebhookSubscriptionSubject).where(
            WebhookSubscriptionSubject.subscription_id.in_({s.id for _, s in rows}),
            WebhookSubscriptionSubject.subject_id.in_({d.subject_id for d, _ in rows})))}
    claims = []
    for d, sub in rows:
        d.lease_token = secrets.token_hex(8)
        d.next_attempt_at = lease_until
        ident = idents.get((sub.id, d.subject_id))
        identifier = None
        if ident is not None and sub.scope == rules.SCOPE_SUBJECTS:
            identifier = keyring.decrypt(ident.identifier_cipher, ident.key_version,
                                         _identifier_aad(sub.id, d.subject_id))
        claims.append(Claim(d.id, sub.id, d.lease_token, sub.url, secret_of(keyring, sub), d.msg_id,
                            rules.body(d.msg_id, d.created_at, d.data, identifier), made.get(d.id, 0) + 1))
    return claims


def record_attempt(session: Session, claim: Claim, result: AttemptResult, *, now: dt.datetime, cfg: WebhookConfig,
                   draw: float) -> str:
    """Log the attempt and decide the delivery's fate: delivered | retry | failed | stale (lease lost)."""
    session.add(WebhookAttempt(delivery_id=claim.delivery_id, attempt_no=claim.attempt_no,
                               started_at=result.started_at, duration_ms=result.duration_ms, url=result.url,
                               address=result.address, status_code=result.status_code, ok=result.ok,
                               error=result.error, response_excerpt=result.excerpt))
    d = session.get(WebhookDelivery, claim.delivery_id, with_for_update=True)
    if d is None or d.lease_token != claim.token or d.state != rules.PENDING:
        return "stale"
    sub = session.get_one(WebhookSubscription, d.subscription_id, with_for_update=True)
    d.lease_token, d.last_status_code, d.last_error = None, result.status_code, result.error
    if result.ok:
        d.state, d.delivered_at = rules.DELIVERED, now
        sub.failed_in_row, sub.last_success_at = 0, now
        return "delivered"
    d.attempts += 1
    sub.last_failure_at = now
    wait = rules.retry_wait(cfg.retry_schedule_seconds, d.attempts, cfg.jitter_fraction, draw)
    if wait is not None:
        d.next_attempt_at = now + dt.timedelta(seconds=wait)
        return "retry"
    d.state, d.failed_at = rules.FAILED, now
    sub.failed_in_row += 1
    if sub.state == rules.ACTIVE and sub.failed_in_row >= cfg.disable_after_failed_deliveries:
        reason = (f"连续 {sub.failed_in_row} 次推送在全部重试后仍失败（最近一次：{result.error or result.status_code}），"
                  f"订阅已自动停用。请修复接收地址后恢复订阅，停用期间的变动将在恢复后补发。"
                  f" / Disabled after {sub.failed_in_row} deliveries failed in a row; fix the receiver and re-enable"
                  f" the subscription: changes meanwhile are sent after that.")
        _move(session, sub, "disable", actor=audit.Actor(kind="system", name="webhooks"), role=wf.SYSTEM, now=now,
              reason=reason)
    return "failed"


def office_overview(session: Session) -> list[SubscriptionView]:
    """Every subscription with its delivery counts (the office page)."""
    return _views(session, list(session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id.desc()))))


def recent_failures(session: Session, limit: int = 50) -> list[DeliveryView]:
    rows = list(session.scalars(select(WebhookDelivery).where(WebhookDelivery.state == rules.FAILED)
                                .order_by(WebhookDelivery.failed_at.desc()).limit(limit)))
    return _delivery_views(session, rows)
