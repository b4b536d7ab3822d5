"""The credit check (联合奖惩核查) through HTTP on the real app and database: each kind of answer, the
identifier rules, the API key (missing, revoked, cached for a few seconds), the logs it leaves."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chengxin.accounts.service import revoke_api_key
from chengxin.checks.models import CreditCheck
from chengxin.core.audit import SYSTEM
from chengxin.disclosure.models import QueryLog
from chengxin.platform import Platform
from factories import listed_entry, plain_subject, ric_for, uscc_for


@pytest.fixture()
def term(day: dt.date) -> dict[str, dt.date]:
    """A list term in force today."""
    return {"term_from": day - dt.timedelta(days=30), "term_to": day + dt.timedelta(days=300)}


def _check(client: TestClient, key: str, subject: str, scenario: str, **extra: Any) -> Any:
    return client.post("/api/v1/checks", json={"subject": subject, "scenario": scenario, **extra},
                       headers={"Authorization": f"Bearer {key}"})


def _flush(client: TestClient) -> None:
    client.app.state.checker.log.flush()  # type: ignore[attr-defined]


@pytest.mark.parametrize(("list_kind", "scenario", "kind", "expected"), [
    ("black", "gov_procurement", "restriction", {"B-PROC-01"}),
    ("black", "high_consumption", "restriction", {f"H-0{i}" for i in range(1, 10)}),
    ("red", "admin_licensing", "convenience", {"R-LIC-01", "R-LIC-02"}),
    ("watch", "daily_supervision", "restriction", {"W-SUP-01"}),
    ("red", "high_consumption", None, set()),  # on a list, but no measure of that list in the scenario
])
def test_check_an_organisation_on_a_list(client: TestClient, platform: Platform,
                                         make_api_key: Callable[[str], str], list_kind: str, scenario: str,
                                         kind: str | None, expected: set[str], term: dict[str, dt.date]) -> None:
    uscc = uscc_for(11)
    entry = listed_entry(platform, list_kind=list_kind, uscc=uscc, name="常州黑白科技有限公司", **term)
    resp = _check(client, make_api_key("samr"), uscc, scenario)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["result"] == "listed"
    assert body["subject"] == {"kind": "organization", "display_id": uscc, "display_name": "常州黑白科技有限公司",
                               "registered": True}
    assert [m["list"] for m in body["memberships"]] == [list_kind]
    assert body["memberships"][0]["entry_id"] == entry.id
    assert {m["code"] for m in body["measures"]} == expected
    assert all(m["kind"] == kind and m["basis"] and m["list"] == list_kind for m in body["measures"])
    assert (body["feedback_url"] is not None) == bool(expected)
    _flush(client)
    with platform.db.read() as session:
        row = session.get(CreditCheck, body["check_id"])
    assert row is not None and row.hit and row.lists == [list_kind] and set(row.measures) == expected
    assert row.department_code == "samr" and row.scenario == scenario


def test_person_is_masked_and_query_logged(client: TestClient, platform: Platform,
                                           make_api_key: Callable[[str], str], term: dict[str, dt.date]) -> None:
    ric = ric_for(4242)
    listed_entry(platform, list_kind="black", ric=ric, name="王小明", **term)
    body = _check(client, make_api_key("hrss"), ric, "civil_service").json()
    assert body["result"] == "listed"
    assert body["subject"]["display_id"] != ric and body["subject"]["display_id"].endswith(ric[-4:])
    assert body["subject"]["display_name"] is None  # no name of a person
    assert ric not in str(body)
    assert [m["code"] for m in body["measures"]] == ["B-HIRE-01"]
    _flush(client)
    with platform.db.read() as session:
        logs = session.execute(select(QueryLog)).scalars().all()
        check = session.get(CreditCheck, body["check_id"])
    assert len(logs) == 1 and logs[0].purpose == "联合奖惩核查：公务员招录" and logs[0].reader_department == "hrss"
    assert logs[0].detail["check_id"] == body["check_id"]
    assert check is not None and ric not in check.display_id


def test_expired_term_is_no_membership(client: TestClient, platform: Platform,
                                       make_api_key: Callable[[str], str], day: dt.date) -> None:
    uscc = uscc_for(12)
    listed_entry(platform, list_kind="black", uscc=uscc, term_from=day - dt.timedelta(days=400),
                 term_to=day - dt.timedelta(days=1))
    body = _check(client, make_api_key("finance"), uscc, "gov_procurement").json()
    assert body["result"] == "not_listed" and body["memberships"] == [] and body["measures"] == []
    assert body["subject"]["registered"] is True


def test_no_membership_is_an_explicit_empty_answer(client: TestClient, platform: Platform,
                                                   make_api_key: Callable[[str], str]) -> None:
    uscc = uscc_for(13)
    plain_subject(platform, uscc=uscc)
    body = _check(client, make_api_key("finance"), uscc, "gov_procurement").json()
    assert body["result"] == "not_listed" and body["memberships"] == [] and body["measures"] == []
    assert body["message"] and body["feedback_url"] is None


def test_unknown_subjects(client: TestClient, platform: Platform, make_api_key: Callable[[str], str]) -> None:
    key = make_api_key("samr")
    org = _check(client, key, uscc_for(99), "admin_licensing")
    assert org.status_code == 200 and org.json()["result"] == "unknown_subject"
    assert org.json()["subject"]["registered"] is False
    # An unknown person and a known person without membership get the same answer: no leak of existence.
    known = ric_for(777)
    plain_subject(platform, ric=known, name="李四")
    a = _check(client, key, ric_for(778), "admin_licensing").json()
    b = _check(client, key, known, "admin_licensing").json()
    for body in (a, b):
        assert body["result"] == "not_listed" and body["subject"]["display_name"] is None
        assert body["subject"]["registered"] is None
    _flush(client)
    with platform.db.read() as session:
        logged = session.execute(select(QueryLog.subject_id)).scalars().all()
    assert logged == [_subject_id(platform, known)]  # only the known person's check is in a query log


def _subject_id(platform: Platform, ric: str) -> int:
    from chengxin.subjects.service import find_subject

    with platform.db.read() as session:
        return find_subject(session, platform.keyring, ric=ric).id


@pytest.mark.parametrize(("body", "code", "field"), [
    ({"subject": "91320400MA1MXXXX01", "scenario": "admin_licensing"}, "uscc.", "subject"),
    ({"subject": "320402196001011234", "scenario": "admin_licensing"}, "ric.", "subject"),
    ({"subject": "", "scenario": "admin_licensing"}, "check.subject_required", "subject"),
    ({"subject": uscc_for(1), "scenario": "no_such"}, "check.scenario_unknown", "scenario"),
    ({"subject": uscc_for(1), "scenario": "civil_service"}, "check.scenario_subject_kind", "subject"),
    ({"subject": uscc_for(1), "scenario": "admin_licensing", "subject_kind": "robot"}, "check.subject_kind",
     "subject_kind"),
])
def test_bad_requests_name_the_rule(client: TestClient, make_api_key: Callable[[str], str], body: dict[str, Any],
                                    code: str, field: str) -> None:
    resp = client.post("/api/v1/checks", json=body, headers={"Authorization": f"Bearer {make_api_key('samr')}"})
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["code"].startswith(code) and error["field"] == field and error["message"]


def test_not_json_is_400(client: TestClient, make_api_key: Callable[[str], str]) -> None:
    resp = client.post("/api/v1/checks", content=b"{nope", headers={"Authorization": f"Bearer {make_api_key('samr')}"})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "request.invalid_json"


def test_missing_or_bad_key_is_401(client: TestClient, make_user: Callable[..., str]) -> None:
    body = {"subject": uscc_for(1), "scenario": "admin_licensing"}
    assert client.post("/api/v1/checks", json=body).status_code == 401
    assert client.post("/api/v1/checks", json=body, headers={"Authorization": "Bearer cx_nope_nope"}).status_code == 401
    staff = make_user("credit_office")
    assert client.post("/api/v1/checks", json=body, headers={"Authorization": f"Bearer {staff}"}).status_code == 401


def test_revoked_key_stops_within_the_cache_window(client: TestClient, platform: Platform,
                                                   make_api_key: Callable[[str], str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    key = make_api_key("samr")
    assert _check(client, key, uscc_for(1), "admin_licensing").status_code == 200
    checker = client.app.state.checker  # type: ignore[attr-defined]
    clock = [1000.0]
    assert checker.keys is platform.api_keys  # one cache per process for every endpoint
    monkeypatch.setattr(checker.keys, "clock", lambda: clock[0])
    monkeypatch.setattr(checker.keys, "_entries", {})
    assert _check(client, key, uscc_for(1), "admin_licensing").status_code == 200  # cached at t=1000
    with platform.db.write() as session:
        revoke_api_key(session, key.split("_")[1], actor=SYSTEM.__class__(kind="cli", name="t"))
    clock[0] += checker.keys.ttl / 2
    assert _check(client, key, uscc_for(1), "admin_licensing").status_code == 200  # inside the window
    clock[0] += checker.keys.ttl
    resp = _check(client, key, uscc_for(1), "admin_licensing")
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "auth.revoked_api_key"


def test_measures_api_and_page(client: TestClient) -> None:
    body = client.get("/api/v1/measures").json()
    assert len(body["measures"]) >= 30 and {s["code"] for s in body["scenarios"]} >= {
        "admin_licensing", "gov_procurement", "bidding", "honours", "civil_service", "fiscal_support",
        "high_consumption", "legal_representative", "platform_entry", "financing"}
    only = client.get("/api/v1/measures", params={"scenario": "high_consumption"}).json()["measures"]
    assert len(only) == 9 and all(m["list"] == "black" for m in only)
    page = client.get("/measures")
    assert page.status_code == 200 and "限制乘坐飞机" in page.text and "第二十八条" in page.text


def test_log_is_flushed_at_shutdown_and_sync_mode_writes_at_once(platform: Platform,
                                                                  make_api_key: Callable[[str], str]) -> None:
    from chengxin.api.app import create_app

    key = make_api_key("samr")
    from chengxin.checks.log import CheckLog
    from chengxin.checks.service import Checker

    with TestClient(create_app(platform)) as c:
        checker = Checker(platform.db, platform.keyring)
        checker.log.close()
        checker.log = CheckLog(platform.db, interval=3600)  # the thread will not flush on its own in this test
        c.app.state.checker = checker  # type: ignore[attr-defined]
        first = _check(c, key, uscc_for(5), "admin_licensing").json()["check_id"]
    with platform.db.read() as session:
        assert session.get(CreditCheck, first) is not None  # written by the shutdown flush
    synced = dataclasses.replace(platform, settings=platform.settings.model_copy(update={"check_log": "sync"}))
    with TestClient(create_app(synced)) as c:
        second = _check(c, key, uscc_for(5), "admin_licensing").json()["check_id"]
        with platform.db.read() as session:
            assert session.get(CreditCheck, second) is not None  # before any flush
