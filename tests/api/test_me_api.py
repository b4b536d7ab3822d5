"""The person's own API (/api/v1/me): bearer person tokens only; the whole file; consents; the
year's free reports. Through HTTP on the real database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chengxin.core.audit import Actor
from chengxin.core.clock import today_cn
from chengxin.disclosure import service as disclosure
from chengxin.platform import Platform
from chengxin.records.models import Record
from chengxin.records.service import find_record_id, revoke_record
from chengxin.reports.signing import verify_pdf
from factories import person_row, ric_for, submit_rows, uscc_for

DAY = today_cn()
PASSWORD = "correct horse battery"
REQUESTER = uscc_for(901)


@pytest.fixture()
def person(platform: Platform, client: TestClient) -> dict[str, int]:
    """Person 5 (registered through the portal): a penalty, a revoked penalty, physician information
    (not public); a department read the file once."""
    recent = DAY - dt.timedelta(days=30)
    submit_rows(platform, "admin_penalty", "samr", [
        person_row(platform, "admin_penalty", 5, recent, source_id="P5-PEN", severity="general"),
        person_row(platform, "admin_penalty", 5, recent, source_id="P5-REVOKED", severity="general"),
    ], DAY)
    submit_rows(platform, "occ_physician", "health", [person_row(platform, "occ_physician", 5, recent,
                                                                 source_id="P5-DOC")], DAY)
    submit_rows(platform, "admin_penalty", "samr", [person_row(platform, "admin_penalty", 6, recent,
                                                               source_id="P6-PEN", severity="general")], DAY)
    with platform.db.read() as s:
        revoked = find_record_id(s, "samr", "P5-REVOKED")
        subjects = dict(s.execute(select(Record.source_id, Record.subject_id)).all())
    revoke_record(platform.db, keyring=platform.keyring, record_id=revoked, reason="复议撤销",
                  actor=Actor(kind="staff", name="office", role="credit_office"))
    with platform.db.write() as s:
        disclosure.government_file(s, platform.catalog, subjects["P5-PEN"],
                                   Actor(kind="api_key", name="k1", department_code="samr"), "行政许可审查", DAY)
    for n in (5, 6):
        assert client.post("/me/register", data={"ric": ric_for(n), "name": "张三", "password": PASSWORD},
                           follow_redirects=False).status_code == 303
    return {"p5": subjects["P5-PEN"], "revoked": revoked}


def _token(client: TestClient, n: int = 5, **kw: str) -> str:
    r = client.post("/api/v1/me/sessions", json={"ric": ric_for(n), "password": PASSWORD, **kw})
    assert r.status_code == 201, r.text
    token: str = r.json()["token"]
    return token


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_sign_in_gives_a_token_and_wrong_credentials_count_towards_the_lock(
    client: TestClient, person: dict[str, int]
) -> None:
    for _ in range(4):
        r = client.post("/api/v1/me/sessions", json={"ric": ric_for(5), "password": "wrong password!"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "auth.bad_credentials"
    assert client.get("/api/v1/me/file", headers=_auth(_token(client))).status_code == 200  # 4 failures: not locked
    for _ in range(5):
        client.post("/api/v1/me/sessions", json={"ric": ric_for(5), "password": "wrong password!"})
    locked = client.post("/api/v1/me/sessions", json={"ric": ric_for(5), "password": PASSWORD})
    assert locked.status_code == 401 and locked.json()["error"]["code"] == "auth.locked"


def test_totp_is_required_once_enabled(client: TestClient, platform: Platform, person: dict[str, int]) -> None:
    from chengxin.people import service as people
    from chengxin.people.models import PersonAccount

    with platform.db.write() as s:
        account = s.scalars(select(PersonAccount).where(PersonAccount.subject_id == person["p5"])).one()
        setup = people.enable_totp(s, platform.keyring, account)
        people.confirm_totp(s, platform.keyring, account, pyotp.TOTP(setup.secret).now())
    r = client.post("/api/v1/me/sessions", json={"ric": ric_for(5), "password": PASSWORD})
    assert r.status_code == 401
    # The confirming code was used once; the next step's code (within the allowed drift) opens.
    totp = pyotp.TOTP(setup.secret)
    _token(client, totp_code=totp.at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)))


@pytest.mark.parametrize("header", [
    {}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}, "staff", "api_key",
])
def test_only_a_person_token_opens_the_person_api(
    client: TestClient, person: dict[str, int], make_user: Callable[..., str], make_api_key: Callable[[str], str],
    header: dict[str, str] | str,
) -> None:
    if header == "staff":
        header = _auth(make_user("admin"))
    elif header == "api_key":
        header = _auth(make_api_key("samr"))
    assert isinstance(header, dict)
    for method, path in (("get", "/api/v1/me/file"), ("get", "/api/v1/me/consents"),
                         ("post", "/api/v1/me/reports"), ("get", "/api/v1/me/report-allowance")):
        r = client.request(method.upper(), path, headers=header)
        assert r.status_code == 401, (path, r.text)
        assert r.json()["error"]["code"] in ("auth.required", "auth.bad_token")


def test_the_file_holds_every_record_with_history_and_the_query_log(
    client: TestClient, person: dict[str, int]
) -> None:
    file = client.get("/api/v1/me/file", headers=_auth(_token(client))).json()
    assert file["subject_id"] == person["p5"] and file["audience"] == "self"
    assert file["display_id"] == ric_for(5) and file["display_name"] == "张三"  # one's own data in full
    by_record = {i["record_id"]: i for i in file["items"]}
    assert by_record[person["revoked"]]["status"] == "revoked"
    assert [h["change"] for h in by_record[person["revoked"]]["history"]] == ["create", "revoke"]
    assert {i["item_code"] for i in file["items"]} == {"admin_penalty", "occ_physician"}
    assert [(q["purpose"]) for q in file["query_log"]] == ["行政许可审查"]
    other = client.get("/api/v1/me/file", headers=_auth(_token(client, 6))).json()
    assert other["subject_id"] != person["p5"] and len(other["items"]) == 1


def test_consents_are_granted_used_and_revoked_over_the_api(client: TestClient, person: dict[str, int]) -> None:
    token = _token(client)
    bad = client.post("/api/v1/me/consents", headers=_auth(token),
                      json={"requester_uscc": REQUESTER, "purpose": "其他", "categories": ["basic"]})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "consent.purpose_note_required"
    r = client.post("/api/v1/me/consents", headers=_auth(token), json={
        "requester_uscc": REQUESTER, "purpose": "招聘录用", "categories": ["basic", "negative"],
        "validity": "until", "valid_until": (DAY + dt.timedelta(days=10)).isoformat()})
    assert r.status_code == 201, r.text
    granted = r.json()
    assert granted["consent"]["state"] == "valid" and len(granted["code"].replace("-", "")) == 12
    read = client.post("/api/v1/consent/file", json={"uscc": REQUESTER, "code": granted["code"], "ric": ric_for(5)})
    assert read.status_code == 200
    assert {i["category"] for i in read.json()["items"]} <= {"basic", "negative"}
    [listed] = client.get("/api/v1/me/consents", headers=_auth(token)).json()
    assert listed["id"] == granted["consent"]["id"] and [u["requester_uscc"] for u in listed["uses"]] == [REQUESTER]
    # Another person cannot revoke it; the person can, and then the code opens nothing.
    assert client.post(f"/api/v1/me/consents/{listed['id']}/revoke",
                       headers=_auth(_token(client, 6))).status_code == 404
    revoked = client.post(f"/api/v1/me/consents/{listed['id']}/revoke", headers=_auth(token))
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    again = client.post("/api/v1/consent/file", json={"uscc": REQUESTER, "code": granted["code"], "ric": ric_for(5)})
    assert again.status_code == 403


def test_two_free_reports_a_year_over_the_api(client: TestClient, platform: Platform, person: dict[str, int]) -> None:
    token = _token(client)
    assert client.get("/api/v1/me/report-allowance", headers=_auth(token)).json()["left"] == 2
    for left in (1, 0):
        r = client.post("/api/v1/me/reports", headers=_auth(token))
        assert r.status_code == 201 and r.headers["content-type"] == "application/pdf"
        assert verify_pdf(r.content, platform.keyring.public_key).ok
        assert r.headers["x-report-no"] and r.headers["x-verification-code"]
        assert client.get("/api/v1/me/report-allowance", headers=_auth(token)).json()["left"] == left
    refused = client.post("/api/v1/me/reports", headers=_auth(token))
    assert refused.status_code == 429
    body = refused.json()["error"]
    assert body["code"] == "report.free_quota_used" and "1月1日" in body["message"]
    allowance = client.get("/api/v1/me/report-allowance", headers=_auth(token)).json()
    assert allowance == {"year": allowance["year"], "free": 2, "issued": 2, "left": 0,
                         "resets_on": f"{allowance['year'] + 1}-01-01"}


def test_sign_out_closes_the_token(client: TestClient, person: dict[str, int]) -> None:
    token = _token(client)
    assert client.delete("/api/v1/me/sessions/current", headers=_auth(token)).status_code == 204
    assert client.get("/api/v1/me/file", headers=_auth(token)).status_code == 401
