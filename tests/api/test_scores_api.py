"""Civic credit points through HTTP (both engines): the published model, the person's own score with its
explanation (bearer person token), staff reads logged with their purpose, the portal pages (/scores, /me)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chengxin.core.audit import Actor
from chengxin.disclosure.models import QueryLog
from chengxin.platform import Platform
from chengxin.records.models import Record
from chengxin.scores import service
from chengxin.scores.models import ScoreCurrent
from factories import person_row, ric_for, submit_rows

PASSWORD = "correct horse battery"


@pytest.fixture()
def person(platform: Platform, client: TestClient, day: dt.date) -> dict[str, int]:
    """Person 5: a general penalty 30 days ago and 12.5 volunteer hours; registered on the portal."""
    recent = day - dt.timedelta(days=30)
    submit_rows(platform, "admin_penalty", "samr", [
        person_row(platform, "admin_penalty", 5, recent, source_id="P5-PEN", severity="general")], day)
    submit_rows(platform, "volunteer_service", "civilization_office", [
        person_row(platform, "volunteer_service", 5, recent, source_id="P5-VOL", service_hours="12.5")], day)
    with platform.db.read() as s:
        subject_id = s.execute(select(Record.subject_id).where(Record.source_id == "P5-PEN")).scalar_one()
    assert client.post("/me/register", data={"ric": ric_for(5), "name": "张三", "password": PASSWORD},
                       follow_redirects=False).status_code == 303
    return {"subject_id": subject_id}


def _token(client: TestClient) -> str:
    r = client.post("/api/v1/me/sessions", json={"ric": ric_for(5), "password": PASSWORD})
    assert r.status_code == 201, r.text
    token: str = r.json()["token"]
    return token


def test_the_published_model_is_public(client: TestClient) -> None:
    r = client.get("/api/v1/scores/model")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == "civic-2025.1" and body["base"] == 600
    assert [b["name_zh"] for b in body["bands"]] == ["优秀", "良好", "较好", "一般", "较差"]
    assert body["bands"][0]["max"] == 900 and body["bands"][1]["max"] == 749
    assert any(b["code"] == "deposit_free_rental" for b in body["bands"][0]["benefits"])
    items = {i["item_code"]: i for i in body["items"]}
    assert items["admin_penalty"]["points"] == {"minor": -10, "general": -40, "serious": -120}
    assert items["volunteer_service"]["per_unit"] == {"field": "service_hours", "unit": "1", "points": 2}
    assert "民族" in body["forbidden_attributes"] and "宗教信仰" in body["forbidden_attributes"]
    org = client.get("/api/v1/scores/model", params={"subject_kind": "organization"}).json()
    assert org["id"] == "grade-2025.1" and org["memberships"]["black"]["cap_band"] == "D"
    draft = client.get("/api/v1/scores/model", params={"version": "civic-2026.1"}).json()
    assert draft["id"] == "civic-2026.1"
    assert client.get("/api/v1/scores/model", params={"version": "civic-1999.1"}).status_code == 404
    assert client.get("/api/v1/scores/model", params={"version": "../etc"}).status_code == 422
    assert client.get("/api/v1/scores/model", params={"subject_kind": "shop"}).status_code == 422


def test_a_person_reads_their_score_with_its_explanation(client: TestClient, person: dict[str, int],
                                                           platform: Platform) -> None:
    r = client.get("/api/v1/me/score", headers={"Authorization": f"Bearer {_token(client)}"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model_id"] == "civic-2025.1" and body["subject_id"] == person["subject_id"]
    assert body["total"] == 600 - 40 + 24 and body["band"] == "average" and body["band_name_zh"] == "一般"
    dims = {d["code"]: d["total"] for d in body["dimensions"]}
    assert dims["law"] == -40 and dims["prosocial"] == 24
    contribs = {c["item_code"]: c for c in body["contributions"]}
    assert contribs["admin_penalty"]["points"] == -40 and contribs["admin_penalty"]["weight"] == 1.0
    assert contribs["admin_penalty"]["counts_until"] is not None
    kinds = {c["kind"] for c in body["changes"]}
    assert {"stops", "more_units"} <= kinds
    assert any("小时" in c["text_zh"] for c in body["changes"])
    with platform.db.read() as s:
        stored = s.get(ScoreCurrent, person["subject_id"])
        assert stored is not None and stored.total == 584 and stored.model_id == "civic-2025.1"


def test_me_score_needs_a_person_token(client: TestClient, make_user: Callable[..., str]) -> None:
    assert client.get("/api/v1/me/score").status_code == 401
    staff = make_user("credit_office")
    assert client.get("/api/v1/me/score", headers={"Authorization": f"Bearer {staff}"}).status_code == 401


def test_staff_reads_are_logged_with_their_purpose(client: TestClient, person: dict[str, int], platform: Platform,
                                                   make_user: Callable[..., str],
                                                   make_api_key: Callable[[str], str]) -> None:
    sid = person["subject_id"]
    office = {"Authorization": f"Bearer {make_user('credit_office')}"}
    r = client.get(f"/api/v1/scores/subjects/{sid}", params={"purpose": "红名单评审"}, headers=office)
    assert r.status_code == 200, r.text
    assert r.json()["total"] == 584
    key = {"Authorization": f"Bearer {make_api_key('hrss')}"}
    assert client.get(f"/api/v1/scores/subjects/{sid}", params={"purpose": "人才引进"}, headers=key).status_code == 200
    with platform.db.read() as s:
        logged = s.execute(select(QueryLog).order_by(QueryLog.id)).scalars().all()
    assert [(q.subject_id, q.purpose, q.reader_kind) for q in logged][-2:] == [
        (sid, "红名单评审", "staff"), (sid, "人才引进", "api_key")]
    for params in ({}, {"purpose": ""}):
        assert client.get(f"/api/v1/scores/subjects/{sid}", params=params, headers=office).status_code == 422
    assert client.get(f"/api/v1/scores/subjects/{sid}", params={"purpose": "x"}).status_code == 401
    person_token = {"Authorization": f"Bearer {_token(client)}"}
    assert client.get(f"/api/v1/scores/subjects/{sid}", params={"purpose": "x"},
                      headers=person_token).status_code == 401
    assert client.get("/api/v1/scores/subjects/999999", params={"purpose": "x"}, headers=office).status_code == 404
    assert client.get("/api/v1/scores/subjects/abc", params={"purpose": "x"}, headers=office).status_code == 422


def test_the_person_sees_their_score_on_me(client: TestClient, person: dict[str, int]) -> None:
    assert client.post("/me/login", data={"ric": ric_for(5), "password": PASSWORD, "totp_code": ""},
                       follow_redirects=False).status_code == 303
    page = client.get("/me")
    assert page.status_code == 200
    assert 'id="my-score"' in page.text and 'data-total="584"' in page.text and "一般" in page.text
    assert "怎样会改变" in page.text


def test_the_portal_shows_the_model_and_the_distribution(client: TestClient, person: dict[str, int],
                                                         platform: Platform, day: dt.date) -> None:
    page = client.get("/scores")
    assert page.status_code == 200
    assert "常州市个人文明信用积分" in page.text and "尚未批量计算" in page.text and "公平性约束" in page.text
    cli = Actor(kind="cli", name="t")
    service.recompute(platform.db, platform.catalog, day, actor=cli)
    service.compare(platform.db, platform.catalog, "civic-2025.1", "civic-2026.1", day, actor=cli)
    page = client.get("/scores")
    assert page.status_code == 200
    assert page.text.count("<svg") >= 2 and "模型版本对照" in page.text and "civic-2026.1" in page.text
