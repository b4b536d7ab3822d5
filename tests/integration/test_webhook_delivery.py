"""Webhook delivery end to end, with a REAL HTTP receiver on 127.0.0.1 that fails first (500, a
timeout, a closed connection) and then accepts. The back-off is stepped with a clock passed in:
nothing here waits for real minutes."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

import orjson
import pytest
from sqlalchemy import func, select
from tests.api.test_subscriptions_support import Clock, list_change, make_subject, receiver, secret_key

from chengxin.core.audit import Actor, AuditEvent
from chengxin.core.db import utcnow
from chengxin.lists import status
from chengxin.lists.models import ListEntry
from chengxin.platform import Platform
from chengxin.subscriptions import service as subs
from chengxin.subscriptions.config import WebhookConfig, WebhookSettings, config_on
from chengxin.subscriptions.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from chengxin.subscriptions.sender import run_once

SAMR = Actor(kind="api_key", name="k1", department_code="samr")
SETTINGS = WebhookSettings(allow_http_hosts="127.0.0.1", public_base_url="https://credit.example.gov.cn")
T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


def _cfg(**changes: object) -> WebhookConfig:
    base = {"read_timeout_seconds": 0.5, "connect_timeout_seconds": 1.0}
    return config_on(dt.date(2026, 3, 2)).model_copy(update={**base, **changes})


def _subscribe(platform: Platform, url: str, subjects: list[dict[str, str]], **kw: object) -> subs.Created:
    with platform.db.write() as session:
        return subs.subscribe(session, platform.keyring, actor=SAMR, url=url, list_kinds=kw.get("kinds", ["black"]),  # type: ignore[arg-type]
                              changes=["listed", "ended"], scope="subjects", subjects=subjects, description="测试",
                              now=utcnow(), cfg=_cfg(), settings=SETTINGS)


def _independent_verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    mac = base64.b64encode(hmac.new(secret_key(secret), signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest("v1," + mac, s) for s in headers["webhook-signature"].split())


def test_delivery_survives_failures_and_arrives_once(platform: Platform) -> None:
    org, uscc = make_subject(platform, 1)
    other, _ = make_subject(platform, 2)
    cfg = _cfg()
    clock = Clock(T0)
    with receiver(["500", "timeout", "close"]) as rx:
        created = _subscribe(platform, rx.url, [{"uscc": uscc}])
        assert created.subjects.count("added") == 1
        entry_id, change_id = list_change(platform, org, "black", "listed")
        list_change(platform, other, "black", "listed")  # nobody follows this subject
        list_change(platform, org, "red", "listed")  # nor this list

        def step() -> None:
            run_once(platform, clock=clock, draw=lambda: 0.5, cfg=cfg, settings=SETTINGS)

        step()  # dispatch + attempt 1 (500)
        with platform.db.read() as session:
            (d,) = session.scalars(select(WebhookDelivery)).all()
            assert d.state == "pending" and d.attempts == 1
            assert d.next_attempt_at == T0 + dt.timedelta(seconds=10)  # the schedule's first wait, no jitter at 0.5
        step()  # not due yet: nothing is sent
        assert len(rx.received) == 1
        for wait in (10, 60, 300):  # attempt 2 (timeout), 3 (closed connection), 4 (accepted)
            clock.advance(wait)
            step()
        assert len(rx.received) == 4
        for _ in range(3):  # long after: nothing more is sent, nothing dispatched twice
            clock.advance(86400)
            step()
        assert len(rx.received) == 4

    with platform.db.read() as session:
        (d,) = session.scalars(select(WebhookDelivery)).all()
        attempts = session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
    assert d.state == "delivered" and d.change_id == change_id and d.delivered_at is not None
    assert [a.attempt_no for a in attempts] == [1, 2, 3, 4]
    assert [a.status_code for a in attempts] == [500, None, None, 200]
    assert [a.ok for a in attempts] == [False, False, False, True]
    assert attempts[0].error == "http_status: 500" and attempts[0].response_excerpt == "receiver is down"
    assert attempts[1].error is not None and attempts[1].error.startswith("timeout")
    assert attempts[2].error is not None and attempts[2].error.split(":")[0] in ("connection_closed", "ReadError")
    assert [a.started_at for a in attempts] == [T0, T0 + dt.timedelta(seconds=10), T0 + dt.timedelta(seconds=70),
                                                 T0 + dt.timedelta(seconds=370)]
    assert all(a.duration_ms >= 0 for a in attempts) and attempts[1].duration_ms >= 400

    # The receiver's side: every request signed, same id and body each time, new timestamp each time.
    assert all(_independent_verify(created.secret, r.headers, r.body) for r in rx.received)
    assert len({r.headers["webhook-id"] for r in rx.received}) == 1
    assert len({r.body for r in rx.received}) == 1
    assert [int(r.headers["webhook-timestamp"]) for r in rx.received] == [
        int(a.started_at.timestamp()) for a in attempts]
    sent = orjson.loads(rx.received[-1].body)
    assert sent["type"] == "list.change"
    assert sent["data"]["entry_id"] == entry_id and sent["data"]["list_kind"] == "black"
    assert sent["data"]["subject"]["identifier"] == uscc and sent["data"]["decision_no"] == "常信决〔2026〕8号"
    assert sent["data"]["url"] == f"https://credit.example.gov.cn/lists/entries/{entry_id}"


def test_a_person_is_sent_masked_with_the_identifier_the_subscriber_gave(platform: Platform) -> None:
    person, ric = make_subject(platform, 3, person=True)
    with receiver([]) as rx:
        _subscribe(platform, rx.url, [{"ric": ric.lower()}])
        list_change(platform, person, "black", "listed")
        run_once(platform, clock=Clock(T0), draw=lambda: 0.5, cfg=_cfg(), settings=SETTINGS)
    (req,) = rx.received
    subject = orjson.loads(req.body)["data"]["subject"]
    assert subject["identifier"] == ric and subject["display_id"] != ric and "*" in subject["display_id"]
    assert subject["display_name"] == "张*"
    with platform.db.read() as session:
        stored = session.scalars(select(WebhookDelivery)).one()
        assert ric not in orjson.dumps(stored.data).decode()  # the outbox keeps masked forms only
        traces = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "subscription.disclose", AuditEvent.subject_id == person))
    assert traces == 1


def test_exhausted_retries_fail_the_delivery_disable_the_subscription_and_redeliver(platform: Platform) -> None:
    org, uscc = make_subject(platform, 4)
    cfg = _cfg(retry_schedule_seconds=(10, 20), disable_after_failed_deliveries=1)
    clock = Clock(T0)
    with receiver(["500"] * 3) as rx:
        created = _subscribe(platform, rx.url, [{"uscc": uscc}])
        list_change(platform, org, "black", "listed")
        for wait in (0, 10, 20):
            clock.advance(wait)
            run_once(platform, clock=clock, draw=lambda: 0.5, cfg=cfg, settings=SETTINGS)
        assert len(rx.received) == 3
        with platform.db.read() as session:
            d = session.scalars(select(WebhookDelivery)).one()
            sub = session.get_one(WebhookSubscription, created.subscription.id)
        assert d.state == "failed" and d.attempts == 3 and d.failed_at == T0 + dt.timedelta(seconds=30)
        assert sub.state == "disabled" and sub.state_reason and "停用" in sub.state_reason
        # While disabled, new changes are kept (dispatched) but not sent.
        list_change(platform, org, "black", "ended")
        clock.advance(1000)
        run_once(platform, clock=clock, draw=lambda: 0.5, cfg=cfg, settings=SETTINGS)
        assert len(rx.received) == 3
        # Re-enabled: the failed delivery gets a new round, the waiting one goes out too.
        with platform.db.write() as session:
            subs.enable(session, actor=SAMR, subscription_id=created.subscription.id, now=clock())
        run_once(platform, clock=clock, draw=lambda: 0.5, cfg=cfg, settings=SETTINGS)
        assert len(rx.received) == 5
        # By hand: a delivered one sent again on request (the receiver lost it).
        with platform.db.write() as session:
            subs.redeliver(session, actor=SAMR, delivery_id=d.id, now=clock())
        run_once(platform, clock=clock, draw=lambda: 0.5, cfg=cfg, settings=SETTINGS)
        assert len(rx.received) == 6
    with platform.db.read() as session:
        states = session.scalars(select(WebhookDelivery.state)).all()
        assert sorted(states) == ["delivered", "delivered"]
        assert session.scalar(select(func.count()).select_from(WebhookAttempt)) == 6


def test_dispatch_is_idempotent_and_a_feed_gap_holds_the_cursor(platform: Platform) -> None:
    org, uscc = make_subject(platform, 5)
    _subscribe(platform, "http://127.0.0.1:9/unused", [{"uscc": uscc}])
    list_change(platform, org)
    cfg = _cfg()
    with platform.db.write() as session:
        first = subs.dispatch(session, now=T0, cfg=cfg, base_url="https://x")
    with platform.db.write() as session:
        again = subs.dispatch(session, now=T0, cfg=cfg, base_url="https://x")
    assert (first.created, again.created, again.scanned) == (1, 0, 0)
    # Ids 1 and 3 visible, 2 not (yet): the cursor waits at 1 until the gap is older than settle_seconds.
    t = T0
    assert subs._advance(0, [(1, t), (3, t)], t, 300) == 1
    assert subs._advance(0, [(1, t), (3, t)], t + dt.timedelta(seconds=301), 300) == 3
    assert subs._advance(5, [], t, 300) == 5




def test_deliverers_never_claim_the_same_delivery(platform: Platform) -> None:
    owned = [make_subject(platform, 10 + i) for i in range(4)]
    _subscribe(platform, "http://127.0.0.1:9/unused", [{"uscc": u} for _, u in owned])
    for subject_id, _ in owned:
        list_change(platform, subject_id)
    cfg = _cfg()
    with platform.db.write() as session:
        assert subs.dispatch(session, now=T0, cfg=cfg, base_url="https://x").created == 4
    if platform.db.dialect == "postgresql":
        # Two deliverers at the same moment: the second skips the rows the first has locked.
        with platform.db.write() as first:
            a = subs.claim_due(first, platform.keyring, now=T0, cfg=cfg, limit=2)
            with platform.db.write() as second:
                b = subs.claim_due(second, platform.keyring, now=T0, cfg=cfg, limit=10)
    else:
        # SQLite has one writer (BEGIN IMMEDIATE): the second claim comes after the first committed its leases.
        with platform.db.write() as first:
            a = subs.claim_due(first, platform.keyring, now=T0, cfg=cfg, limit=2)
        with platform.db.write() as second:
            b = subs.claim_due(second, platform.keyring, now=T0, cfg=cfg, limit=10)
    assert len(a) == 2 and len(b) == 2
    assert not {c.delivery_id for c in a} & {c.delivery_id for c in b}
    with platform.db.write() as third:  # all leased: nothing left until the leases expire
        assert subs.claim_due(third, platform.keyring, now=T0, cfg=cfg, limit=10) == []
    with platform.db.write() as later:
        expired = T0 + dt.timedelta(seconds=cfg.connect_timeout_seconds + cfg.read_timeout_seconds + 61)
        assert len(subs.claim_due(later, platform.keyring, now=expired, cfg=cfg, limit=10)) == 4


def test_every_delivery_checks_the_address_again(platform: Platform) -> None:
    """A name that resolved to a public address when subscribing may point inside later (DNS rebinding):
    the attempt is refused before connecting, and logged like any failure."""
    org, uscc = make_subject(platform, 20)
    strict = WebhookSettings(allow_http_hosts="")
    with platform.db.write() as session:
        subs.subscribe(session, platform.keyring, actor=SAMR, url="https://hooks.example.test/cx", list_kinds=["black"],
                       changes=["listed"], scope="subjects", subjects=[{"uscc": uscc}], description="",
                       now=utcnow(), cfg=_cfg(), settings=strict)
    list_change(platform, org)
    for day, answer, code in ((1, ["10.1.2.3"], "subscription.url_address_refused"),
                              (2, [], "subscription.url_unresolved")):
        clock = Clock(T0 + dt.timedelta(days=day))
        run_once(platform, clock=clock, draw=lambda: 0.5, cfg=_cfg(), settings=strict,
                 resolve=lambda _h, _p, a=answer: list(a))  # type: ignore[misc]
        with platform.db.read() as session:
            last = session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id.desc())).first()
        assert last is not None and last.error is not None and last.error.startswith(code)
        assert last.status_code is None and last.address is None and not last.ok


def test_a_backlog_is_dispatched_in_batches_in_one_pass(platform: Platform) -> None:
    owned = [make_subject(platform, 30 + i) for i in range(5)]
    _subscribe(platform, "http://127.0.0.1:9/unused", [{"uscc": u} for _, u in owned])
    for subject_id, _ in owned:
        list_change(platform, subject_id)
    cfg = _cfg(batch_size=2)
    with receiver([]) as rx:
        with platform.db.write() as session:  # point the subscription at the live receiver
            session.scalars(select(WebhookSubscription)).one().url = rx.url
        stats = run_once(platform, clock=Clock(T0), draw=lambda: 0.5, cfg=cfg, settings=SETTINGS)
    assert (stats.dispatched, stats.delivered) == (5, 5)
    assert len({r.headers["webhook-id"] for r in rx.received}) == 5


@pytest.mark.postgresql_only  # SQLite has one writer: ids become visible in commit order, no gap can open
def test_a_change_committed_late_is_not_skipped(platform: Platform) -> None:
    """PostgreSQL hands out ids before commit: a change with a smaller id can become visible after a
    larger one was dispatched. The cursor waits at the gap, so the late change is still delivered."""
    assert platform.db.dialect == "postgresql"
    (a, ua), (b, ub) = make_subject(platform, 40), make_subject(platform, 41)
    _subscribe(platform, "http://127.0.0.1:9/unused", [{"uscc": ua}, {"uscc": ub}])
    cfg = _cfg()
    with platform.db.write() as slow:  # takes its id first, commits last
        entry = ListEntry(list_kind="black", subject_id=a, state="listed", source="office", proposed_by="t",
                          department_code="samr", basis_zh="依据")
        slow.add(entry)
        late = status.entry_changed(slow, entry, "listed")
        _, early_id = list_change(platform, b)  # committed meanwhile, with a larger id
        assert early_id > late.id
        with platform.db.write() as session:
            first = subs.dispatch(session, now=utcnow(), cfg=cfg, base_url="https://x")
        assert first.created == 1 and first.cursor < late.id
    with platform.db.write() as session:
        second = subs.dispatch(session, now=utcnow(), cfg=cfg, base_url="https://x")
    assert second.created == 1 and second.cursor == early_id
    with platform.db.read() as session:
        assert sorted(session.scalars(select(WebhookDelivery.change_id)).all()) == [late.id, early_id]
