"""The access management API (/api/v1/access) through HTTP: who may call what (a permission table), a key
issued through it accepted on the API until revoked, accounts opened, stopped, restarted and given a new
password with the effect on bearer tokens at once, and bad input refused with its reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chengxin.platform import Platform
from factories import uscc_for

PASSWORD = "correct horse battery"
BASE = "/api/v1/access"
KEY_PROBE = "/api/v1/records/by-source/samr/NO-SUCH-RECORD"  # 404 once a samr key is accepted


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _token(client: TestClient, username: str, password: str) -> str | None:
    answer = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    return answer.json()["token"] if answer.status_code == 200 else None


@pytest.mark.parametrize(("caller", "keys", "users"), [
    ("nobody", 401, 401),
    ("api_key", 403, 403),  # a key never manages keys
    ("clerk", 403, 403),
    ("credit_office", 200, 403),
    ("admin", 200, 200),
])
def test_who_may_list_keys_and_accounts(
    client: TestClient, make_user: Callable[..., str], make_api_key: Callable[[str], str], caller: str, keys: int,
    users: int,
) -> None:
    if caller == "nobody":
        headers: dict[str, str] = {}
    elif caller == "api_key":
        headers = {"X-API-Key": make_api_key("samr")}
    else:
        headers = _bearer(make_user(caller, "samr" if caller == "clerk" else None))
    assert client.get(f"{BASE}/api-keys", headers=headers).status_code == keys
    assert client.get(f"{BASE}/users", headers=headers).status_code == users
    if users == 403 and caller != "api_key":  # the refusal says why
        assert client.get(f"{BASE}/users", headers=headers).json()["error"]["code"] == "user.forbidden"


def test_a_key_issued_through_the_api_works_until_revoked(
    client: TestClient, platform: Platform, make_user: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [20_000.0]  # set before the key is first trusted (see test_access_pages)
    monkeypatch.setattr(platform.api_keys, "clock", lambda: clock[0])
    office = _bearer(make_user("credit_office"))
    issued = client.post(f"{BASE}/api-keys", headers=office, json={"department": "samr", "label": "执法系统"})
    assert issued.status_code == 201 and issued.headers["cache-control"] == "no-store"
    body = issued.json()
    assert body["owner"] == "samr" and body["key"].startswith(f"cx_{body['key_id']}_")
    assert client.get(KEY_PROBE, headers={"X-API-Key": body["key"]}).status_code == 404
    listed = client.get(f"{BASE}/api-keys", headers=office, params={"owner": "samr"}).json()
    assert [(k["key_id"], k["label"], k["revoked_at"]) for k in listed] == [(body["key_id"], "执法系统", None)]
    assert body["key"].split("_", 2)[2] not in str(listed)

    revoked = client.post(f"{BASE}/api-keys/{body['key_id']}/revoke", headers=office)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    clock[0] += platform.api_keys.ttl + 1
    refused = client.get(KEY_PROBE, headers={"X-API-Key": body["key"]})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "auth.revoked_api_key"
    assert client.post(f"{BASE}/api-keys/nope/revoke", headers=office).status_code == 404


@pytest.mark.parametrize(("body", "status", "code"), [
    ({}, 400, "api_key.owner"),
    ({"department": "samr", "platform_uscc": uscc_for(2)}, 400, "api_key.owner"),
    ({"department": "nowhere"}, 400, "department.unknown"),
    ({"platform_uscc": "X"}, 400, "uscc."),
])
def test_a_key_for_no_single_valid_owner_is_refused(
    client: TestClient, make_user: Callable[..., str], body: dict[str, Any], status: int, code: str
) -> None:
    admin = _bearer(make_user("admin"))
    answer = client.post(f"{BASE}/api-keys", headers=admin, json=body)
    assert answer.status_code == status and answer.json()["error"]["code"].startswith(code)
    assert client.get(f"{BASE}/api-keys", headers=admin).json() == []


def test_a_platform_key_is_owned_by_the_platform(client: TestClient, make_user: Callable[..., str]) -> None:
    uscc = uscc_for(9)
    answer = client.post(f"{BASE}/api-keys", headers=_bearer(make_user("admin")), json={"platform_uscc": uscc.lower()})
    assert answer.status_code == 201 and answer.json()["owner"] == f"platform:{uscc}"


def test_an_account_through_the_api(client: TestClient, make_user: Callable[..., str]) -> None:
    admin = _bearer(make_user("admin", username="api_admin"))
    new = {"username": "wu_clerk", "display_name": "吴经办", "role": "clerk", "department": "samr"}
    short = client.post(f"{BASE}/users", headers=admin, json={**new, "password": "short"})
    assert short.status_code == 400 and short.json()["error"]["code"] == "user.password_too_short"
    assert client.post(f"{BASE}/users", headers=admin, json={**new, "role": "boss", "password": PASSWORD}).status_code == 422
    created = client.post(f"{BASE}/users", headers=admin, json={**new, "password": PASSWORD})
    assert created.status_code == 201
    assert {k: created.json()[k] for k in ("username", "role", "department", "active")} == {
        "username": "wu_clerk", "role": "clerk", "department": "samr", "active": True}
    assert client.post(f"{BASE}/users", headers=admin, json={**new, "password": PASSWORD}).status_code == 409

    token = _token(client, "wu_clerk", PASSWORD)
    assert token is not None
    first = client.get(KEY_PROBE, headers=_bearer(token))  # the administrator's password: changed first
    assert first.status_code == 403 and first.json()["error"]["code"] == "auth.password_change_required"
    own = PASSWORD + " of my own"
    assert client.post("/api/v1/auth/password", headers=_bearer(token),
                       json={"current_password": PASSWORD, "new_password": own}).status_code == 204
    assert client.get(KEY_PROBE, headers=_bearer(token)).status_code == 404
    stopped = client.post(f"{BASE}/users/wu_clerk/deactivate", headers=admin)
    assert stopped.status_code == 200 and stopped.json()["active"] is False
    assert client.get(KEY_PROBE, headers=_bearer(token)).status_code == 401  # the open token ended
    assert _token(client, "wu_clerk", own) is None
    assert client.post(f"{BASE}/users/wu_clerk/activate", headers=admin).json()["active"] is True
    assert _token(client, "wu_clerk", own) is not None

    reset = client.post(f"{BASE}/users/wu_clerk/reset-password", headers=admin)
    assert reset.status_code == 200 and reset.headers["cache-control"] == "no-store"
    assert _token(client, "wu_clerk", own) is None and _token(client, "wu_clerk", reset.json()["password"])
    self_stop = client.post(f"{BASE}/users/api_admin/deactivate", headers=admin)
    assert self_stop.status_code == 409 and self_stop.json()["error"]["code"] == "user.self"
    assert client.post(f"{BASE}/users/nobody_here/activate", headers=admin).status_code == 404
    assert [u["username"] for u in client.get(f"{BASE}/users", headers=admin).json()].count("wu_clerk") == 1
