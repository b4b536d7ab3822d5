"""账号与密钥 (/office/access) through HTTP: who may open it and do what (a permission table), a key issued on
the page working on the API until it is revoked there, accounts opened, stopped, restarted and given a new
password — each change taking effect on sign-in and on open sessions at once, and written to the audit log."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chengxin.accounts import service as accounts
from chengxin.accounts.rules import MIN_PASSWORD
from chengxin.core.audit import SYSTEM, Actor, AuditEvent
from chengxin.platform import Platform
from factories import uscc_for

PASSWORD = "correct horse battery"
PAGE = "/office/access"
# A department's own read: 404 for an unknown source id once the key is accepted.
KEY_PROBE = "/api/v1/records/by-source/samr/NO-SUCH-RECORD"


def _sign_in(client: TestClient, token: str | None) -> None:
    client.cookies.clear()
    if token:
        client.cookies.set("cx_session", token)


def _csrf(client: TestClient) -> str:
    page = client.get(PAGE)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def _audit(platform: Platform, action: str) -> list[AuditEvent]:
    with platform.db.read() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.mark.parametrize(("role", "department", "status", "sees_users"), [
    (None, None, 303, False),  # signed out: to the sign-in page
    ("clerk", "samr", 403, False),
    ("credit_office", None, 200, False),  # keys, not accounts
    ("admin", None, 200, True),
])
def test_who_may_open_the_page_and_what_they_see(
    client: TestClient, make_user: Callable[..., str], role: str | None, department: str | None, status: int,
    sees_users: bool,
) -> None:
    _sign_in(client, make_user(role, department) if role else None)
    page = client.get(PAGE, follow_redirects=False)
    assert page.status_code == status
    if status == 303:
        assert page.headers["location"].startswith("/login?next=/office/access")
    if status == 200:
        assert "接口密钥" in page.text and ("工作人员账号" in page.text) is sees_users


@pytest.mark.parametrize(("role", "department", "may_users", "may_keys"), [
    ("admin", None, True, True),
    ("credit_office", None, False, True),
    ("clerk", "samr", False, False),
])
def test_the_services_refuse_what_the_role_may_not_do(
    platform: Platform, role: str, department: str | None, may_users: bool, may_keys: bool
) -> None:
    actor = Actor(kind="staff", name=f"{role}_x", role=role, department_code=department)
    assert (accounts.may_manage_users(actor), accounts.may_manage_keys(actor)) == (may_users, may_keys)
    for allowed, code, call in (
        (may_keys, "api_key.forbidden",
         lambda s: accounts.create_api_key(s, department_code="samr", label="x", actor=actor)),
        (may_users, "user.forbidden",
         lambda s: accounts.create_user(s, username=f"new_{role}", password=PASSWORD, role=accounts.Role.CLERK,
                                        display_name="", department_code="samr", actor=actor)),
    ):
        if allowed:
            with platform.db.write() as session:
                call(session)
        else:
            with pytest.raises(Exception) as refused, platform.db.write() as session:
                call(session)
            assert getattr(refused.value, "code", None) == code and getattr(refused.value, "status", None) == 403


def test_a_key_issued_on_the_page_works_until_it_is_revoked_there(
    client: TestClient, platform: Platform, make_user: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fake clock is set before the key is first trusted: a cache entry made under the real monotonic
    # clock could outlive any fixed fake time on a machine that has been up for hours.
    clock = [10_000.0]
    monkeypatch.setattr(platform.api_keys, "clock", lambda: clock[0])
    _sign_in(client, make_user("credit_office"))
    token = _csrf(client)
    issued = client.post(f"{PAGE}/keys", data={"csrf_token": token, "department": "samr", "label": "执法系统"})
    assert issued.status_code == 200 and issued.headers["cache-control"] == "no-store"
    key = re.search(r'<code class="secret" id="issued-key">(cx_[0-9a-f]{12}_[^<]+)</code>', issued.text)
    assert key is not None, issued.text
    key_id = key.group(1).split("_", 2)[1]
    assert client.get(KEY_PROBE, headers={"X-API-Key": key.group(1)}).status_code == 404  # accepted: samr's read

    listed = client.get(PAGE).text
    assert key_id in listed and key.group(1) not in listed  # shown once, never again
    assert "常州市市场监督管理局" in listed and "执法系统" in listed

    revoked = client.post(f"{PAGE}/keys/{key_id}/revoke", data={"csrf_token": token}, follow_redirects=False)
    assert revoked.status_code == 303 and revoked.headers["location"] == f"{PAGE}?done=key_revoked"
    clock[0] += platform.api_keys.ttl + 1  # past the per-process trust window (ApiKeyCache)
    refused = client.get(KEY_PROBE, headers={"X-API-Key": key.group(1)})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "auth.revoked_api_key"
    assert "已吊销" in client.get(PAGE).text
    assert [e.object_id for e in _audit(platform, "api_key.revoke")] == [key_id]


@pytest.mark.parametrize(("form", "status", "code"), [
    ({}, 400, "api_key.owner"),  # neither a department nor a platform
    ({"department": "samr", "platform_uscc": uscc_for(3)}, 400, "api_key.owner"),  # both
    ({"department": "no_such_dept"}, 400, "department.unknown"),
    ({"platform_uscc": "91320400MA1X2Y3K0"}, 400, "uscc."),  # 17 characters: the code says which rule
])
def test_a_key_request_that_names_no_single_owner_is_refused_with_its_reason(
    client: TestClient, platform: Platform, make_user: Callable[..., str], form: dict[str, str], status: int,
    code: str,
) -> None:
    _sign_in(client, make_user("admin"))
    answer = client.post(f"{PAGE}/keys", data={"csrf_token": _csrf(client), "label": "x", **form})
    assert answer.status_code == status
    assert re.search(rf"<code>{re.escape(code)}[a-z_.]*</code>", answer.text), answer.text
    with platform.db.read() as session:
        assert accounts.list_api_keys(session) == []  # nothing issued


def test_a_platform_key_is_listed_under_the_platform(client: TestClient, make_user: Callable[..., str]) -> None:
    _sign_in(client, make_user("admin"))
    uscc = uscc_for(7)
    answer = client.post(f"{PAGE}/keys", data={"csrf_token": _csrf(client), "platform_uscc": uscc.lower()})
    assert answer.status_code == 200 and f"新密钥 · 电商平台 {uscc}" in answer.text


def _login(client: TestClient, username: str, password: str) -> int:
    client.cookies.clear()
    return client.post("/login", data={"username": username, "password": password},
                       follow_redirects=False).status_code


def test_an_account_opened_stopped_restarted_and_given_a_new_password(
    client: TestClient, platform: Platform, make_user: Callable[..., str]
) -> None:
    admin = make_user("admin", username="root_admin")
    _sign_in(client, admin)
    token = _csrf(client)
    form: dict[str, Any] = {"csrf_token": token, "username": "li_clerk", "display_name": "李经办", "role": "clerk",
                            "department": "samr", "password": "short"}
    too_short = client.post(f"{PAGE}/users", data=form)
    assert too_short.status_code == 400 and "user.password_too_short" in too_short.text
    assert 'value="li_clerk"' in too_short.text  # what was typed is kept (not the password)
    created = client.post(f"{PAGE}/users", data={**form, "password": PASSWORD}, follow_redirects=False)
    assert created.status_code == 303
    again = client.post(f"{PAGE}/users", data={**form, "password": PASSWORD})
    assert again.status_code == 409 and "user.exists" in again.text

    # The new clerk signs in and works; stopping the account ends that session at once.
    assert _login(client, "li_clerk", PASSWORD) == 303
    clerk_cookie = client.cookies.get("cx_session")
    assert client.get("/submit").status_code == 200
    _sign_in(client, admin)
    stopped = client.post(f"{PAGE}/users/li_clerk/deactivate", data={"csrf_token": token}, follow_redirects=False)
    assert stopped.status_code == 303
    _sign_in(client, clerk_cookie)
    assert client.get("/submit", follow_redirects=False).status_code == 303  # signed out
    assert _login(client, "li_clerk", PASSWORD) == 401

    _sign_in(client, admin)
    assert client.post(f"{PAGE}/users/li_clerk/activate", data={"csrf_token": token},
                       follow_redirects=False).status_code == 303
    assert _login(client, "li_clerk", PASSWORD) == 303
    clerk_cookie = client.cookies.get("cx_session")

    _sign_in(client, admin)
    reset = client.post(f"{PAGE}/users/li_clerk/reset-password", data={"csrf_token": token})
    assert reset.status_code == 200 and reset.headers["cache-control"] == "no-store"
    found = re.search(r'<code class="secret" id="new-password">([^<]+)</code>', reset.text)
    assert found and len(found.group(1)) >= MIN_PASSWORD
    _sign_in(client, clerk_cookie)
    assert client.get("/submit", follow_redirects=False).status_code == 303  # the open session ended
    assert _login(client, "li_clerk", PASSWORD) == 401
    assert _login(client, "li_clerk", found.group(1)) == 303

    actions = [e.action for e in _audit(platform, "user.deactivate") + _audit(platform, "user.activate")
               + _audit(platform, "user.reset_password")]
    assert sorted(actions) == ["user.activate", "user.deactivate", "user.reset_password"]
    with platform.db.read() as session:
        created_by = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.create",
                                                              AuditEvent.actor.contains("root_admin"))).all()
    assert len(created_by) == 1


def test_nobody_stops_their_own_account(client: TestClient, make_user: Callable[..., str]) -> None:
    _sign_in(client, make_user("admin", username="only_admin"))
    answer = client.post(f"{PAGE}/users/only_admin/deactivate", data={"csrf_token": _csrf(client)})
    assert answer.status_code == 409 and "user.self" in answer.text
    assert client.get(PAGE).status_code == 200  # still signed in


@pytest.mark.parametrize("path", [f"{PAGE}/users", f"{PAGE}/users/someone/deactivate",
                                  f"{PAGE}/users/someone/reset-password"])
def test_the_credit_office_may_not_manage_accounts(
    client: TestClient, platform: Platform, make_user: Callable[..., str], path: str
) -> None:
    with platform.db.write() as session:
        accounts.create_user(session, username="someone", password=PASSWORD, role=accounts.Role.CLERK,
                             display_name="", department_code="samr", actor=SYSTEM)
    _sign_in(client, make_user("credit_office"))
    answer = client.post(path, data={"csrf_token": _csrf(client), "username": "x", "role": "admin",
                                     "password": PASSWORD})
    assert answer.status_code == 403 and "user.forbidden" in answer.text
    assert _login(client, "someone", PASSWORD) == 303  # untouched


def test_every_form_needs_the_csrf_token(client: TestClient, platform: Platform, make_user: Callable[..., str]) -> None:
    _sign_in(client, make_user("admin"))
    for path, data in ((f"{PAGE}/keys", {"department": "samr"}),
                       (f"{PAGE}/users", {"username": "x", "role": "admin", "password": PASSWORD})):
        assert client.post(path, data=data).status_code == 403
    with platform.db.read() as session:
        assert accounts.list_api_keys(session) == [] and [u.username for u in accounts.list_users(session)
                                                          if u.username == "x"] == []
