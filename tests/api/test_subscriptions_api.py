"""订阅 API through HTTP: subscribe with per-item subject reports, SSRF refusals, who may follow what,
adding/removing subjects, cancelling, and the delivery log after a real delivery to a local receiver."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from tests.api.test_subscriptions_support import Clock, list_change, make_subject, receiver

from chengxin.platform import Platform
from chengxin.subscriptions.config import WebhookSettings, config_on
from chengxin.subscriptions.sender import run_once
from factories import ric_for, uscc_for

URL = "http://127.0.0.1:9/hooks"  # loopback: allowed over plain http by the default settings


def _key(make_api_key: Callable[[str], str], department: str) -> dict[str, str]:
    return {"X-API-Key": make_api_key(department)}


def _subscribe(client: TestClient, auth: dict[str, str], **body: Any) -> Any:
    return client.post("/api/v1/subscriptions", json={"url": URL, "list_kinds": ["black"], **body}, headers=auth)


def test_subscribe_reports_each_subject_and_shows_the_secret_once(
        client: TestClient, platform: Platform, make_api_key: Callable[[str], str]) -> None:
    make_subject(platform, 1)
    make_subject(platform, 2, person=True)
    auth = _key(make_api_key, "samr")
    r = _subscribe(client, auth, changes=["listed", "ended"], description="市场监管局审批系统", subjects=[
        {"uscc": uscc_for(1)}, {"ric": ric_for(2)}, {"uscc": uscc_for(99)}, {"uscc": "913204000000000000"},
        {"uscc": uscc_for(1), "ric": ric_for(2)}, {"uscc": uscc_for(1)}])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["secret"].startswith("whsec_")
    report = body["subjects"]
    assert (report["added"], report["refused"]) == (2, 3)
    by_index = {x["index"]: x for x in report["results"]}
    assert by_index[0]["status"] == "added" and by_index[0]["display_id"] == uscc_for(1)
    assert by_index[1]["status"] == "added" and by_index[1]["display_id"] != ric_for(2)  # masked
    assert by_index[2]["code"] == "subscription.subject_not_found"
    assert by_index[3]["status"] == "refused" and by_index[3]["message"]
    assert by_index[4]["code"] == "subscription.subject_identifier"
    assert by_index[5]["status"] == "already"
    sub = body["subscription"]
    assert sub["owner_code"] == "samr" and sub["state"] == "active" and sub["subject_count"] == 2
    got = client.get(f"/api/v1/subscriptions/{sub['id']}", headers=auth)
    assert got.status_code == 200 and "secret" not in got.json()
    assert ric_for(2) not in client.get(f"/api/v1/subscriptions/{sub['id']}/subjects", headers=auth).text
    rotated = client.post(f"/api/v1/subscriptions/{sub['id']}/secret", headers=auth)
    assert rotated.status_code == 200 and rotated.json()["secret"] != body["secret"]


def test_targets_that_could_reach_inside_are_refused(client: TestClient, make_api_key: Callable[[str], str]) -> None:
    auth = _key(make_api_key, "samr")
    for url, code in [("https://10.0.0.8/hook", "subscription.url_address_refused"),
                      ("https://169.254.169.254/latest", "subscription.url_address_refused"),
                      ("https://[::ffff:192.168.1.1]/x", "subscription.url_address_refused"),
                      ("https://db.localhost/hook", "subscription.url_address_refused"),
                      ("http://hooks.example.com/hook", "subscription.url_https_required"),
                      ("gopher://x/", "subscription.url_scheme")]:
        r = _subscribe(client, auth, url=url)
        assert r.status_code == 400, (url, r.text)
        assert r.json()["error"]["code"] == code and r.json()["error"]["field"] == "url"
    # A name that does not resolve here is accepted: every delivery checks it again before connecting.
    assert _subscribe(client, auth, url="https://hooks.example.invalid/cx").status_code == 201


def test_who_may_follow_what(client: TestClient, make_api_key: Callable[[str], str],
                             make_user: Callable[..., str]) -> None:
    platform_key = _key(make_api_key, f"platform:{uscc_for(500)}")
    r = _subscribe(client, platform_key, list_kinds=["watch"])
    assert r.status_code == 400 and r.json()["error"]["code"] == "subscription.list_kinds_not_allowed"
    assert _subscribe(client, platform_key, list_kinds=["red", "black"]).status_code == 201
    r = _subscribe(client, _key(make_api_key, "tax"), scope="all")
    assert r.status_code == 403 and r.json()["error"]["code"] == "subscription.scope_all_not_allowed"
    office = {"Authorization": f"Bearer {make_user('credit_office')}"}
    r = _subscribe(client, office, scope="all", list_kinds=["red", "black", "watch"])
    assert r.status_code == 201 and r.json()["subscription"]["owner_code"] == "credit_office"
    clerk = {"Authorization": f"Bearer {make_user('clerk', 'samr')}"}
    assert _subscribe(client, clerk).status_code == 403
    assert client.post("/api/v1/subscriptions", json={"url": URL, "list_kinds": ["black"]}).status_code == 401
    r = _subscribe(client, platform_key, changes=["exploded"])
    assert r.status_code == 400 and r.json()["error"]["field"] == "changes"
    assert client.post("/api/v1/subscriptions", json={"list_kinds": ["black"]}, headers=platform_key).status_code == 422
    assert _subscribe(client, platform_key, surprise=1).status_code == 422
    # The office sees every subscription; a platform only its own.
    assert len(client.get("/api/v1/subscriptions", headers=office).json()) == 2
    assert len(client.get("/api/v1/subscriptions", headers=platform_key).json()) == 1


def test_subjects_added_removed_and_cancelling(client: TestClient, platform: Platform,
                                              make_api_key: Callable[[str], str]) -> None:
    make_subject(platform, 1)
    make_subject(platform, 2)
    auth = _key(make_api_key, "samr")
    sub_id = _subscribe(client, auth, subjects=[{"uscc": uscc_for(1)}]).json()["subscription"]["id"]
    r = client.post(f"/api/v1/subscriptions/{sub_id}/subjects", headers=auth,
                    json={"add": [{"uscc": uscc_for(2)}, {"uscc": uscc_for(77)}], "remove": [{"uscc": uscc_for(1)}]})
    assert r.status_code == 200, r.text
    assert (r.json()["added"], r.json()["removed"], r.json()["refused"]) == (1, 1, 1)
    assert [x["index"] for x in r.json()["results"]] == [0, 1, 2]
    listed = client.get(f"/api/v1/subscriptions/{sub_id}/subjects", headers=auth).json()
    assert [x["display_id"] for x in listed] == [uscc_for(2)]
    assert client.post(f"/api/v1/subscriptions/{sub_id}/subjects", headers=auth, json={}).status_code == 400
    # Another department neither sees nor changes it.
    other = _key(make_api_key, "tax")
    assert client.get(f"/api/v1/subscriptions/{sub_id}", headers=other).status_code == 404
    assert client.delete(f"/api/v1/subscriptions/{sub_id}", headers=other).status_code == 404
    r = client.delete(f"/api/v1/subscriptions/{sub_id}", headers=auth)
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    r = client.post(f"/api/v1/subscriptions/{sub_id}/subjects", headers=auth, json={"add": [{"uscc": uscc_for(1)}]})
    assert r.status_code == 409
    assert client.delete(f"/api/v1/subscriptions/{sub_id}", headers=auth).status_code == 409


def test_the_delivery_log_shows_every_attempt(client: TestClient, platform: Platform,
                                             make_api_key: Callable[[str], str]) -> None:
    org, uscc = make_subject(platform, 1)
    auth = _key(make_api_key, "samr")
    settings = WebhookSettings(allow_http_hosts="127.0.0.1")
    cfg = config_on(dt.date(2026, 3, 2))
    clock = Clock(dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC))
    with receiver(["500"]) as rx:
        sub_id = _subscribe(client, auth, url=rx.url, subjects=[{"uscc": uscc}]).json()["subscription"]["id"]
        list_change(platform, org)
        run_once(platform, clock=clock, draw=lambda: 0.5, cfg=cfg, settings=settings)
        log = client.get(f"/api/v1/subscriptions/{sub_id}/deliveries", headers=auth).json()
        assert len(log) == 1 and log[0]["state"] == "pending" and log[0]["attempts"] == 1
        assert log[0]["attempt_log"][0]["status_code"] == 500
        r = client.post(f"/api/v1/subscriptions/deliveries/{log[0]['id']}/redeliver", headers=auth)
        assert r.status_code == 409  # still waiting for its retry
        clock.advance(10)
        run_once(platform, clock=clock, draw=lambda: 0.5, cfg=cfg, settings=settings)
    log = client.get(f"/api/v1/subscriptions/{sub_id}/deliveries", headers=auth).json()
    assert log[0]["state"] == "delivered"
    assert [(a["attempt_no"], a["status_code"], a["ok"]) for a in log[0]["attempt_log"]] == [(1, 500, False),
                                                                                           (2, 200, True)]
    assert log[0]["msg_id"] == rx.received[0].headers["webhook-id"]
    assert client.get(f"/api/v1/subscriptions/{sub_id}/deliveries?state=failed", headers=auth).json() == []
    assert client.get(f"/api/v1/subscriptions/{sub_id}/deliveries?state=odd", headers=auth).status_code == 400
    assert client.get(f"/api/v1/subscriptions/{sub_id}/deliveries", headers=_key(make_api_key, "tax")).status_code == 404
    summary = client.get(f"/api/v1/subscriptions/{sub_id}", headers=auth).json()
    assert summary["counts"] == {"pending": 0, "delivered": 1, "failed": 0}
