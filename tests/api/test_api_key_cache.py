"""Every API-key endpoint trusts a verified key for ``settings.api_key_cache_seconds`` per process
(accounts.service.ApiKeyCache): a revoked key stops working within that window, never later, and
a key that failed is never cached."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from chengxin.accounts.service import ApiKeyCache, revoke_api_key
from chengxin.core.audit import Actor
from chengxin.platform import Platform

ADMIN = Actor(kind="staff", name="admin", role="admin")

# A department's own read: 404 for an unknown source id once the key is accepted.
URL = "/api/v1/records/by-source/samr/NO-SUCH-RECORD"


def _get(client: TestClient, key: str) -> int:
    return client.get(URL, headers={"X-API-Key": key}).status_code


def test_a_revoked_key_works_at_most_one_window_longer(client: TestClient, platform: Platform,
                                                       make_api_key: Callable[[str], str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [5000.0]
    monkeypatch.setattr(platform.api_keys, "clock", lambda: clock[0])
    key = make_api_key("samr")
    assert _get(client, key) == 404  # verified against the database, cached until t = 5000 + ttl
    with platform.db.write() as session:
        revoke_api_key(session, key.split("_", 2)[1], actor=ADMIN)
    clock[0] += platform.api_keys.ttl * 0.9
    assert _get(client, key) == 404  # inside the window: still trusted
    clock[0] += platform.api_keys.ttl * 0.2
    response = client.get(URL, headers={"X-API-Key": key})
    assert response.status_code == 401 and response.json()["error"]["code"] == "auth.revoked_api_key"


def test_a_failed_key_is_not_cached(client: TestClient, platform: Platform, make_api_key: Callable[[str], str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    key = make_api_key("samr")
    key_id, secret = key.split("_", 2)[1:]
    wrong = f"cx_{key_id}_{secret[::-1]}"
    assert _get(client, wrong) == 401
    assert _get(client, key) == 404
    assert _get(client, wrong) == 401  # the right key's success does not vouch for a wrong secret


def test_ttl_zero_verifies_every_request(platform: Platform, make_api_key: Callable[[str], str]) -> None:
    cache = ApiKeyCache(platform.db, ttl=0, use_interval=0)  # no writer thread outliving the test
    key = make_api_key("samr")
    assert cache.actor(key).department_code == "samr"
    with platform.db.write() as session:
        revoke_api_key(session, key.split("_", 2)[1], actor=ADMIN)
    with pytest.raises(Exception) as raised:
        cache.actor(key)
    assert getattr(raised.value, "code", None) == "auth.revoked_api_key"
