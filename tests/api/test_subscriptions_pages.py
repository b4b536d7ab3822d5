"""/office/subscriptions: the credit office sees every subscription, each delivery and attempt, and
re-delivers with the session's CSRF token; nobody else gets in."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.api.test_subscriptions_support import Clock, list_change, make_subject, receiver

from chengxin.core.db import utcnow
from chengxin.platform import Platform
from chengxin.subscriptions.config import WebhookSettings, config_on
from chengxin.subscriptions.models import WebhookDelivery
from chengxin.subscriptions.sender import run_once


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def test_office_pages_show_attempts_and_redeliver(client: TestClient, platform: Platform,
                                                 make_api_key: Callable[[str], str],
                                                 make_user: Callable[..., str]) -> None:
    org, uscc = make_subject(platform, 1)
    auth = {"X-API-Key": make_api_key("samr")}
    cfg = config_on(dt.date(2026, 3, 2)).model_copy(update={"retry_schedule_seconds": (10,)})
    settings = WebhookSettings(allow_http_hosts="127.0.0.1")
    clock = Clock(utcnow() - dt.timedelta(minutes=5))  # the page re-queues at the real time
    with receiver(["500", "503"]) as rx:
        r = client.post("/api/v1/subscriptions", headers=auth, json={
            "url": rx.url, "list_kinds": ["black"], "subjects": [{"uscc": uscc}], "description": "审批系统"})
        sub_id = r.json()["subscription"]["id"]
        list_change(platform, org)
        for wait in (0, 10):
            clock.advance(wait)
            run_once(platform, clock=clock, draw=lambda: 0.5, cfg=cfg, settings=settings)
        with platform.db.read() as session:
            delivery = session.scalars(select(WebhookDelivery)).one()
        assert delivery.state == "failed"

        # Not signed in: to the login page; a clerk: refused.
        client.cookies.clear()
        assert client.get("/office/subscriptions", follow_redirects=False).status_code == 303
        client.cookies.set("cx_session", make_user("clerk", "samr"))
        assert client.get("/office/subscriptions").status_code == 403
        client.cookies.set("cx_session", make_user("credit_office"))
        page = client.get("/office/subscriptions")
        assert page.status_code == 200
        assert f'id="subscription-{sub_id}"' in page.text and "审批系统" in page.text
        assert f'id="failure-{delivery.id}"' in page.text
        detail = client.get(f"/office/subscriptions/{sub_id}")
        assert detail.status_code == 200
        assert detail.text.count('class="attempt"') == 2 and "http_status: 503" in detail.text
        assert client.get("/office/subscriptions/999999").status_code == 404

        url = f"/office/subscriptions/deliveries/{delivery.id}/redeliver"
        assert client.post(url, data={"csrf_token": "wrong"}).status_code == 403
        done = client.post(url, data={"csrf_token": _csrf(detail.text)}, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == f"/office/subscriptions/{sub_id}?done=redeliver"
        clock.advance(600)
        run_once(platform, clock=clock, draw=lambda: 0.5, cfg=cfg, settings=settings)
        assert len(rx.received) == 3
    with platform.db.read() as session:
        assert session.scalars(select(WebhookDelivery.state)).one() == "delivered"
    after = client.get(f"/office/subscriptions/{sub_id}?state=delivered")
    assert after.text.count('class="attempt"') == 3
