"""Sending webhooks (httpx) and the worker loop behind ``chengxin webhooks run``.

Each pass: dispatch new list changes into deliveries, lease the due ones, send them one by one
(no database lock held while a receiver answers), record each attempt. Every time is read from
the ``clock`` passed in and every random draw from ``draw``, so tests step through the back-off
schedule without waiting.

Before connecting, the target is checked again (the URL, then every address its host resolves to)
and the connection is pinned to the checked address — the TLS name check and the Host header still
use the host name — so a DNS answer that changes between check and connect cannot reach inside.
Redirects are not followed.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.core.errors import DomainError
from chengxin.platform import Platform
from chengxin.subscriptions import rules
from chengxin.subscriptions import service as subs
from chengxin.subscriptions.config import WebhookConfig, WebhookSettings, config_on, webhook_settings

log = logging.getLogger("chengxin.webhooks")
Clock = Callable[[], dt.datetime]


def _describe(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        kind = "timeout"
    elif isinstance(exc, httpx.ConnectError):
        kind = "connect_error"
    elif isinstance(exc, httpx.RemoteProtocolError):
        kind = "connection_closed"
    else:
        kind = type(exc).__name__
    return f"{kind}: {exc}"[:500]


def send(claim: subs.Claim, *, client: httpx.Client, cfg: WebhookConfig, settings: WebhookSettings, clock: Clock,
         resolve: subs.Resolver = subs.system_resolve) -> subs.AttemptResult:
    """One attempt: check the target, sign, POST, read the start of the answer. Never raises."""
    started = clock()
    t0 = time.monotonic()
    address: str | None = None

    def result(status: int | None, error: str | None, excerpt: str | None) -> subs.AttemptResult:
        ok = status is not None and rules.is_success(status) and error is None
        return subs.AttemptResult(started, int((time.monotonic() - t0) * 1000), claim.url, address, status, ok,
                                  error, excerpt)

    try:
        target = rules.parse_target(claim.url, settings.http_hosts)
        addresses = [] if target.allowed_host or target.literal is not None else resolve(target.host, target.port)
        address = rules.pick_address(target, addresses)
    except DomainError as exc:
        return result(None, f"{exc.code}: {exc.message_en}", None)
    headers = rules.headers_for(claim.secret, claim.msg_id, int(started.timestamp()), claim.body)
    url = httpx.URL(claim.url)
    extensions: dict[str, str] = {}
    if address is not None and target.literal is None:
        headers["host"] = url.netloc.decode("ascii")
        extensions["sni_hostname"] = target.host
        url = url.copy_with(host=address)
    timeout = httpx.Timeout(cfg.read_timeout_seconds, connect=cfg.connect_timeout_seconds)
    try:
        with client.stream("POST", url, content=claim.body, headers=headers, timeout=timeout,
                           extensions=extensions) as response:
            raw = b""
            for chunk in response.iter_bytes():
                raw += chunk
                if len(raw) >= cfg.response_excerpt_chars * 4:
                    break
            excerpt = rules.excerpt(raw.decode("utf-8", errors="replace"), cfg.response_excerpt_chars)
            error = None if rules.is_success(response.status_code) else f"http_status: {response.status_code}"
            return result(response.status_code, error, excerpt or None)
    except httpx.HTTPError as exc:
        return result(None, _describe(exc), None)


@dataclass
class PassStats:
    dispatched: int = 0
    attempted: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0

    def add(self, other: PassStats) -> None:
        for name in ("dispatched", "attempted", "delivered", "retried", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def run_once(platform: Platform, *, clock: Clock = utcnow, draw: Callable[[], float] = random.random,
             client: httpx.Client | None = None, cfg: WebhookConfig | None = None,
             settings: WebhookSettings | None = None, resolve: subs.Resolver = subs.system_resolve,
             limit: int | None = None, stop: threading.Event | None = None) -> PassStats:
    """Dispatch every pending change, then send every due delivery once (``--once``)."""
    cfg = cfg or config_on(today_cn())
    settings = settings or webhook_settings()
    stats = PassStats()
    cursor = -1
    while True:  # dispatch until the feed is read (one batch per transaction)
        with platform.db.write() as session:
            done = subs.dispatch(session, now=clock(), cfg=cfg, base_url=settings.public_base_url)
        stats.dispatched += done.created
        # Stop at the end of the feed, and when a young gap holds the cursor (the next pass retries).
        if done.skipped or done.scanned < cfg.batch_size or done.cursor == cursor:
            break
        cursor = done.cursor
    own = client is None
    http = client or httpx.Client(follow_redirects=False, trust_env=False)
    try:
        while stop is None or not stop.is_set():
            with platform.db.write() as session:
                claims = subs.claim_due(session, platform.keyring, now=clock(), cfg=cfg, limit=limit or cfg.batch_size)
            if not claims:
                break
            for i, claim in enumerate(claims):
                if stop is not None and stop.is_set():
                    # Not sent: hand the lease back so the next run sends it at once.
                    _release(platform, claims[i:], clock())
                    return stats
                res = send(claim, client=http, cfg=cfg, settings=settings, clock=clock, resolve=resolve)
                with platform.db.write() as session:
                    outcome = subs.record_attempt(session, claim, res, now=clock(), cfg=cfg, draw=draw())
                stats.attempted += 1
                if outcome == "delivered":
                    stats.delivered += 1
                elif outcome == "retry":
                    stats.retried += 1
                elif outcome == "failed":
                    stats.failed += 1
                log.info("webhook %s attempt %d to %s: %s (%s)", claim.msg_id, claim.attempt_no, claim.url, outcome,
                         res.status_code or res.error)
            if limit is not None:
                break
    finally:
        if own:
            http.close()
    return stats


def _release(platform: Platform, claims: list[subs.Claim], now: dt.datetime) -> None:
    from chengxin.subscriptions.models import WebhookDelivery

    with platform.db.write() as session:
        for claim in claims:
            d = session.get(WebhookDelivery, claim.delivery_id, with_for_update=True)
            if d is not None and d.lease_token == claim.token:
                d.lease_token, d.next_attempt_at = None, now


def run_forever(platform: Platform, stop: threading.Event, *, on_pass: Callable[[PassStats], None] | None = None,
                clock: Clock = utcnow) -> PassStats:
    """Passes until ``stop`` is set; sleeps ``poll_seconds`` when a pass found nothing to do."""
    total = PassStats()
    while not stop.is_set():
        cfg = config_on(today_cn())
        try:
            stats = run_once(platform, clock=clock, cfg=cfg, stop=stop)
        except Exception:  # a database hiccup must not end the worker: log, wait, try again
            log.exception("webhook pass failed")
            stop.wait(cfg.poll_seconds * 5)
            continue
        total.add(stats)
        if on_pass is not None and (stats.dispatched or stats.attempted):
            on_pass(stats)
        if not (stats.dispatched or stats.attempted):
            stop.wait(cfg.poll_seconds)
    return total
