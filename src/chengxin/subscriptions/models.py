"""Tables of subscriptions (订阅) and their outbox of webhook deliveries (推送).

- ``webhook_subscription``: who (owner: the key's department, opaque — ``samr``, ``platform:<USCC>``,
  ``credit_office``), where (URL), what (list kinds, changes, named subjects or all), the signing
  secret (AES-GCM with the platform key ring: it must be recovered to sign), its state (a
  ``core.workflow`` case: active / disabled / cancelled) and its failure count.
- ``webhook_subscription_subject``: the subjects a subscription names, with the identifier the
  subscriber gave (encrypted: a citizen ID is never stored in clear; it is sent back only to the
  subscriber that gave it). Removal sets ``removed_at`` (kept, like everything else).
- ``webhook_cursor``: how far the dispatcher has read the ``list_change`` feed (one row, locked
  while a dispatcher works).
- ``webhook_delivery``: the outbox — one row per (subscription, change), unique, so a change is
  dispatched once however often the dispatcher runs; the ``data`` snapshot (masked forms only).
- ``webhook_attempt``: every attempt, successful or not (time, status, duration, error, excerpt).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chengxin.core.db import Base, BigId, JsonDoc, UtcDateTime


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscription"
    __table_args__ = (Index("ix_webhook_subscription_owner", "owner_code", "state"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner_code: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    description: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(Text)
    list_kinds: Mapped[list[str]] = mapped_column(JsonDoc)
    changes: Mapped[list[str]] = mapped_column(JsonDoc)
    scope: Mapped[str] = mapped_column(String(16))  # subjects | all
    secret_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    secret_key_version: Mapped[int] = mapped_column(SmallInteger)
    # Changes up to this feed id existed before the subscription: they are not sent.
    since_change_id: Mapped[int] = mapped_column(BigId)
    state: Mapped[str] = mapped_column(String(16))
    state_reason: Mapped[str | None] = mapped_column(Text)  # why disabled (shown to the subscriber), or cancelled
    state_changed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    failed_in_row: Mapped[int] = mapped_column(Integer, default=0)  # deliveries failed in a row
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_failure_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class WebhookSubscriptionSubject(Base):
    __tablename__ = "webhook_subscription_subject"
    __table_args__ = (Index("ix_webhook_subscription_subject_subject", "subject_id"),)

    subscription_id: Mapped[int] = mapped_column(BigId, ForeignKey("webhook_subscription.id"), primary_key=True,
                                                 autoincrement=False)
    subject_id: Mapped[int] = mapped_column(BigId, ForeignKey("subject.id"), primary_key=True, autoincrement=False)
    identifier_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    key_version: Mapped[int] = mapped_column(SmallInteger)
    added_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    added_by: Mapped[str] = mapped_column(String(128))
    removed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class WebhookCursor(Base):
    __tablename__ = "webhook_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)  # "list_change"
    last_change_id: Mapped[int] = mapped_column(BigId)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class WebhookDelivery(Base):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "change_id", name="uq_webhook_delivery_subscription_change"),
        Index("ix_webhook_delivery_due", "state", "next_attempt_at"),
        Index("ix_webhook_delivery_subscription", "subscription_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(BigId, ForeignKey("webhook_subscription.id"))
    change_id: Mapped[int] = mapped_column(BigId, ForeignKey("list_change.id"))
    subject_id: Mapped[int] = mapped_column(BigId)
    msg_id: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # failed attempts in the current round
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # Set while one deliverer sends it (the row is leased until next_attempt_at): a second deliverer
    # skips it, and a late answer of an expired lease does not overwrite a newer outcome.
    lease_token: Mapped[str | None] = mapped_column(String(32))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    failed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    redelivered_by: Mapped[str | None] = mapped_column(String(128))


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempt"
    __table_args__ = (Index("ix_webhook_attempt_delivery", "delivery_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(BigId, ForeignKey("webhook_delivery.id"))
    attempt_no: Mapped[int] = mapped_column(Integer)  # 1, 2, … over the delivery's whole life
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    duration_ms: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(64))  # the checked address connected to
    status_code: Mapped[int | None] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
