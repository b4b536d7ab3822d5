"""Staff sign-in over HTTP (bearer tokens, logout) and the logged subject look-up."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from chengxin.platform import Platform
from factories import ric_for, uscc_for, valid_row

TOKEN = "/api/v1/auth/token"
LOGOUT = "/api/v1/auth/logout"
LOOKUP = "/api/v1/subjects/lookup"
PASSWORD = "correct horse battery"
PURPOSE = "行政许可审查 信用核查"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert CJK.search(error["message"]) and error["message_en"]
    return error  # type: ignore[no-any-return]


def _audit_rows(platform: Platform) -> list[Any]:
    with platform.db.engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT action, actor, purpose, subject_id, object_type, object_id FROM audit_event "
            "WHERE action = 'subject.look_up' ORDER BY id")))


@pytest.fixture()
def office(make_user: Callable[..., str]) -> dict[str, str]:
    return _bearer(make_user("credit_office", username="office_wang"))


@pytest.fixture()
def person(client: TestClient, platform: Platform, make_api_key: Callable[[str], str]) -> str:
    """A person named in one samr penalty; returns the citizen ID."""
    version = platform.catalog.item("admin_penalty").version_on(dt.date(2025, 9, 1))
    assert version is not None
    rows = [valid_row(version, 7, person=True, subject_name="王小明"), valid_row(version, 8)]
    response = client.post("/api/v1/records/batches", headers={"X-API-Key": make_api_key("samr")},
                           json={"item": "admin_penalty", "records": rows})
    assert response.status_code == 200 and response.json()["accepted"] == 2, response.text
    return ric_for(7)


# -- tokens ----------------------------------------------------------------------------------------


def test_right_password_gives_a_usable_bearer_token(client: TestClient, make_user: Callable[..., str]) -> None:
    make_user("credit_office", username="li", password=PASSWORD)
    response = client.post(TOKEN, json={"username": "li", "password": PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and len(body["token"]) >= 32
    expires = dt.datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert expires > dt.datetime.now(dt.UTC)
    assert client.get("/api/v1/quality", headers=_bearer(body["token"])).status_code == 200
    assert client.get("/api/v1/quality").status_code == 401


def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: TestClient, make_user: Callable[..., str]
) -> None:
    make_user("clerk", "samr", username="zhang", password=PASSWORD)
    wrong = client.post(TOKEN, json={"username": "zhang", "password": "not the password"})
    unknown = client.post(TOKEN, json={"username": "nobody", "password": PASSWORD})
    _error(wrong, 401, "auth.bad_credentials")
    _error(unknown, 401, "auth.bad_credentials")
    assert wrong.json() == unknown.json()


@pytest.mark.parametrize("body", [{}, {"username": "zhang"}, {"password": PASSWORD}, {"username": 1, "password": []}])
def test_incomplete_sign_in_is_422(client: TestClient, body: dict[str, Any]) -> None:
    _error(client.post(TOKEN, json=body), 422, "request.invalid")


def test_logout_revokes_the_token(client: TestClient, make_user: Callable[..., str]) -> None:
    make_user("admin", username="root", password=PASSWORD)
    token = client.post(TOKEN, json={"username": "root", "password": PASSWORD}).json()["token"]
    other = client.post(TOKEN, json={"username": "root", "password": PASSWORD}).json()["token"]
    assert client.get("/api/v1/quality", headers=_bearer(token)).status_code == 200
    assert client.post(LOGOUT, headers=_bearer(token)).status_code == 204
    _error(client.get("/api/v1/quality", headers=_bearer(token)), 401, "auth.bad_token")
    assert client.get("/api/v1/quality", headers=_bearer(other)).status_code == 200  # other sessions live on
    assert client.post(LOGOUT).status_code == 204  # nothing to revoke: harmless


# -- subject look-up ---------------------------------------------------------------------------------


def test_look_up_a_person_is_masked_and_logged_with_its_purpose(
    client: TestClient, platform: Platform, office: dict[str, str], person: str
) -> None:
    assert _audit_rows(platform) == []
    response = client.get(LOOKUP, headers=office, params={"ric": person, "purpose": PURPOSE})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["kind"] == "person"
    assert body["display_id"] == person[:6] + "********" + person[-4:]
    assert body["display_name"] == "王*明"
    assert person not in response.text and "王小明" not in response.text

    [row] = _audit_rows(platform)
    assert row.action == "subject.look_up" and row.purpose == PURPOSE
    assert row.subject_id == body["id"] and row.actor == "staff:office_wang"
    assert (row.object_type, row.object_id) == ("subject", str(body["id"]))
    with platform.db.engine.connect() as conn:
        assert conn.execute(text("SELECT kind FROM subject WHERE id = :id"), {"id": row.subject_id}).scalar() == "person"

    client.get(LOOKUP, headers=office, params={"ric": person, "purpose": "第二次查询"})
    assert [r.purpose for r in _audit_rows(platform)] == [PURPOSE, "第二次查询"]


def test_look_up_an_organisation(client: TestClient, office: dict[str, str], person: str) -> None:
    response = client.get(LOOKUP, headers=office, params={"uscc": uscc_for(8), "purpose": PURPOSE})
    assert response.status_code == 200, response.text
    assert response.json()["kind"] == "organization" and response.json()["display_id"] == uscc_for(8)


@pytest.mark.parametrize("params", [{}, {"purpose": ""}, {"purpose": "x"}, {"purpose": "长" * 201}])
def test_look_up_without_a_purpose_is_422(
    client: TestClient, platform: Platform, office: dict[str, str], person: str, params: dict[str, str]
) -> None:
    _error(client.get(LOOKUP, headers=office, params={"ric": person, **params}), 422, "request.invalid")
    assert _audit_rows(platform) == []


def test_look_up_with_an_invalid_citizen_id_is_400(
    client: TestClient, platform: Platform, office: dict[str, str], person: str
) -> None:
    wrong = person[:-1] + ("0" if person[-1] != "0" else "1")
    error = _error(client.get(LOOKUP, headers=office, params={"ric": wrong, "purpose": PURPOSE}), 400,
                   "ric.check_digit")
    assert "校验位" in error["message"]
    _error(client.get(LOOKUP, headers=office, params={"ric": "12345", "purpose": PURPOSE}), 400, "ric.length")
    assert _audit_rows(platform) == []


def test_look_up_of_an_unknown_person_is_404(
    client: TestClient, platform: Platform, office: dict[str, str], person: str
) -> None:
    _error(client.get(LOOKUP, headers=office, params={"ric": ric_for(999), "purpose": PURPOSE}), 404,
           "subject.not_found")
    assert _audit_rows(platform) == []


def test_look_up_needs_an_identifier(client: TestClient, office: dict[str, str]) -> None:
    response = client.get(LOOKUP, headers=office, params={"purpose": PURPOSE})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "subject.no_identifier"


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [("anonymous", 401, "auth.required"), ("samr_key", 403, "auth.staff_only"),
     ("samr_key_as_bearer", 403, "auth.staff_only")],
)
def test_look_up_is_for_staff_only(
    client: TestClient, platform: Platform, make_api_key: Callable[[str], str], person: str,
    who: str, status: int, code: str,
) -> None:
    key = make_api_key("samr")
    headers = {"anonymous": {}, "samr_key": {"X-API-Key": key}, "samr_key_as_bearer": _bearer(key)}[who]
    _error(client.get(LOOKUP, headers=headers, params={"ric": person, "purpose": PURPOSE}), status, code)
    assert _audit_rows(platform) == []


@pytest.mark.parametrize("role", ["clerk", "credit_office", "admin"])
def test_every_staff_role_may_look_up(
    client: TestClient, make_user: Callable[..., str], person: str, role: str
) -> None:
    token = make_user(role, "samr" if role == "clerk" else None)
    response = client.get(LOOKUP, headers=_bearer(token), params={"ric": person, "purpose": PURPOSE})
    assert response.status_code == 200, response.text


def test_a_staff_token_in_the_api_key_header_is_refused(client: TestClient, make_user: Callable[..., str]) -> None:
    token = make_user("credit_office")
    assert client.get("/api/v1/quality", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    r = client.get("/api/v1/quality", headers={"X-API-Key": token})
    assert r.status_code == 401 and r.json()["error"]["code"] == "auth.bad_api_key"
