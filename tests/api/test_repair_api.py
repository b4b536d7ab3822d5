"""Credit repair through HTTP on the real app and database: repair → approve → the record leaves the
public file and government sharing but stays in the subject's own file; refusals with every reason;
who may do what (the subject or its representative; the source department; the credit office)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chengxin.core.audit import Actor
from chengxin.disclosure import service as disclosure
from chengxin.disclosure.rules import display_window
from chengxin.people import orgs
from chengxin.people.models import PersonAccount
from chengxin.platform import Platform
from chengxin.records.models import Record
from chengxin.records.service import find_record_id
from chengxin.workdays import rules as workdays_rules
from chengxin.workdays.service import work_calendar
from factories import person_row, ric_for, submit_rows, uscc_for, valid_row

PASSWORD = "correct horse battery"
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def _decided(day: dt.date) -> dt.date:
    """A general penalty decided 200 days ago: repairable after 3 months, displayed for a year."""
    return day - dt.timedelta(days=200)


@pytest.fixture()
def world(platform: Platform, client: TestClient, day: dt.date) -> dict[str, Any]:
    """Organisation 7 (a public penalty), person 5 (its representative, a penalty of their own),
    person 6 (a penalty decided a month ago); both persons registered."""
    decided_on = _decided(day)
    version = platform.catalog.version_on("admin_penalty", decided_on)
    assert version is not None
    submit_rows(platform, "admin_penalty", "samr", [
        valid_row(version, 7, person=False, decision_date=decided_on.isoformat(), source_id="O7", severity="general"),
        person_row(platform, "admin_penalty", 5, decided_on, source_id="P5", severity="general"),
        person_row(platform, "admin_penalty", 6, day - dt.timedelta(days=30), source_id="P6", severity="general"),
    ], day)
    for n in (5, 6):
        r = client.post("/me/register", data={"ric": ric_for(n), "name": "张三", "password": PASSWORD},
                        follow_redirects=False)
        assert r.status_code == 303, r.text
    with platform.db.write() as s:
        account = s.scalars(select(PersonAccount).join(Record, Record.subject_id == PersonAccount.subject_id)
                            .where(Record.source_id == "P5")).one()
        orgs.link_organisation(s, platform.keyring, account_id=account.id, uscc=uscc_for(7), basis="授权委托书 2026-1",
                               actor=Actor(kind="staff", name="office", role="credit_office"), now=dt.datetime.now(dt.UTC))
        ids = {src: find_record_id(s, "samr", src) for src in ("O7", "P5", "P6")}
        subjects = dict(s.execute(select(Record.source_id, Record.subject_id)).all())
    return {"records": ids, "subjects": subjects}


def _person(client: TestClient, n: int) -> dict[str, str]:
    r = client.post("/api/v1/me/sessions", json={"ric": ric_for(n), "password": PASSWORD})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _apply(client: TestClient, headers: dict[str, str], record_id: int, *, sign: bool = True,
           files: list[tuple[str, tuple[str, bytes, str]]] | None = None, **data: Any) -> Any:
    version = client.get("/api/v1/me/repairs/commitment").json()["version"]
    form = {"record_id": str(record_id), "commitment_version": version, "commitment_signed": "true" if sign else "false",
            **data}
    return client.post("/api/v1/me/repairs", headers=headers, data=form,
                       files=files if files is not None else [("proof", ("缴款凭证.pdf", PDF, "application/pdf"))])


def test_repair_then_approve_the_record_leaves_public_display_but_stays_in_the_own_file(
    client: TestClient, platform: Platform, world: dict[str, Any], make_api_key: Callable[[str], str],
    make_user: Callable[..., str], day: dt.date,
) -> None:
    decided_on = _decided(day)
    record_id, org = world["records"]["O7"], world["subjects"]["O7"]
    public = client.get(f"/api/v1/public/subjects/{org}").json()
    assert record_id in [i["record_id"] for i in public["items"]]
    me = _person(client, 5)  # person 5 represents organisation 7

    commitment = client.get("/api/v1/me/repairs/commitment").json()
    assert commitment["text"].startswith("信用承诺书") and len(commitment["sha256"]) == 64
    dry = client.post("/api/v1/me/repairs/eligibility", headers=me, json={"record_id": record_id}).json()
    version = platform.catalog.version_on("admin_penalty", decided_on)
    assert version is not None
    repair_from, ends_on = display_window(version, "general", decided_on)
    assert dry["eligible"] is False and dry["repair_from"] == repair_from.isoformat()
    assert dry["display_ends_on"] == (ends_on.isoformat() if ends_on else None)
    assert [r["code"] for r in dry["reasons"]] == ["repair.proof_missing", "repair.commitment_missing"]
    assert dry["needs"]["labels"][:2] == ["已履行法定义务、纠正失信行为的证明材料", "签署信用承诺书"]
    ready = client.post("/api/v1/me/repairs/eligibility", headers=me, json={
        "record_id": record_id, "proof_files": 1, "commitment_version": commitment["version"],
        "commitment_signed": True}).json()
    assert ready["eligible"] is True and ready["reasons"] == []

    applied = _apply(client, me, record_id, note="罚款已于 6 月缴清，年度报告已补报。",
                     files=[("proof", ("缴款凭证.pdf", PDF, "application/pdf")), ("proof", ("补报截图.png", PNG, "image/png"))])
    assert applied.status_code == 201, applied.text
    case = applied.json()
    with platform.db.read() as s:
        due = workdays_rules.add_working_days(work_calendar(s), day, 3)
    assert case["state"] == "accepted" and case["department"] == "samr" and case["due_on"] == due.due.isoformat()
    assert case["due_estimated"] is due.estimated and bool(case["estimate_warning"]) is due.estimated
    assert case["subject_display_id"] == uscc_for(7) and case["commitment"]["sha256"] == commitment["sha256"]
    assert sorted(f["filename"] for f in case["files"]) == ["缴款凭证.pdf", "补报截图.png"]
    assert [a["action"] for a in case["actions"]] == ["withdraw"]
    assert [c["id"] for c in client.get("/api/v1/me/repairs", headers=me).json()] == [case["id"]]

    samr = {"X-API-Key": make_api_key("samr")}
    queue = client.get("/api/v1/repairs", headers=samr).json()
    assert [c["id"] for c in queue] == [case["id"]]
    seen = client.get(f"/api/v1/repairs/{case['id']}", headers=samr).json()
    assert [a["action"] for a in seen["actions"]] == ["extend", "approve", "reject"]
    proof = next(f for f in seen["files"] if f["kind"] == "proof" and f["mime"] == "application/pdf")
    download = client.get(f"/api/v1/repairs/{case['id']}/files/{proof['id']}", headers=samr)
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"

    decided = client.post(f"/api/v1/repairs/{case['id']}/decision", headers=samr, json={"action": "approve"})
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "approved" and decided.json()["display_stopped_on"] == day.isoformat()
    assert [e["action"] for e in decided.json()["history"]] == ["apply", "accept", "approve"]

    # Public display stopped: the public file and the portal page no longer show it.
    public = client.get(f"/api/v1/public/subjects/{org}").json()
    assert record_id not in [i["record_id"] for i in public["items"]]
    assert f'id="record-{record_id}"' not in client.get(f"/subjects/{org}").text
    # Kept: the subject's own file has it, not displayed, with its history.
    with platform.db.read() as s:
        own = disclosure.own_file(s, platform.catalog, platform.keyring, org, day)
    mine = next(i for i in own.items if i.record_id == record_id)
    assert mine.status == "active" and mine.displayed is False
    # Sharing stopped too (深圳条例第八十二条(一)): no department's government read shows it, the source
    # department's included; authorised use goes through the record itself (source department, office).
    for department in ("samr", "tax"):
        gov = client.get(f"/api/v1/gov/subjects/{org}/file", params={"purpose": "招投标资格审查"},
                         headers={"X-API-Key": make_api_key(department)})
        assert gov.status_code == 200 and record_id not in [i["record_id"] for i in gov.json()["items"]]
    held = client.get(f"/api/v1/records/{record_id}", headers=samr)
    assert held.status_code == 200 and held.json()["status"] == "active"
    assert client.get(f"/api/v1/records/{record_id}", headers={"X-API-Key": make_api_key("tax")}).status_code == 403
    office = {"Authorization": f"Bearer {make_user('credit_office')}"}
    assert client.get(f"/api/v1/records/{record_id}", headers=office).json()["status"] == "active"
    # And nothing more to repair: a new application is refused for that reason.
    again = _apply(client, me, record_id).json()
    assert again["state"] == "refused"
    assert [r["code"] for r in again["refusals"]] == ["repair.display_stopped", "repair.interval"]


def test_a_refused_repair_says_every_reason_and_is_kept(client: TestClient, world: dict[str, Any], day: dt.date) -> None:
    me = _person(client, 6)
    r = _apply(client, me, world["records"]["P6"], sign=False)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["state"] == "refused" and body["due_on"] is None
    codes = [x["code"] for x in body["refusals"]]
    assert codes == ["repair.min_period", "repair.commitment_missing"]
    first_day = dt.date.fromisoformat(body["refusals"][0]["message"].split(" 起方可申请")[0][-10:])
    assert first_day > day and all(x["clause"] for x in body["refusals"])
    assert [x["action"] for x in body["history"]] == ["apply", "refuse"]
    assert client.get("/api/v1/me/repairs", headers=me).json()[0]["state"] == "refused"


def test_files_are_checked_before_anything_is_kept(client: TestClient, world: dict[str, Any]) -> None:
    me = _person(client, 5)
    r = _apply(client, me, world["records"]["P5"], files=[("proof", ("证明.pdf", b"MZ\x90 an exe", "application/pdf"))])
    assert r.status_code == 400 and r.json()["error"]["code"] == "attachment.bad_type"
    assert "第 1 个附件“证明.pdf”" in r.json()["error"]["message"]
    many = [("proof", (f"{i}.pdf", PDF, "application/pdf")) for i in range(4)]
    many += [("rectification", (f"r{i}.pdf", PDF, "application/pdf")) for i in range(2)]
    r = _apply(client, me, world["records"]["P5"], files=many)  # the limit is per application, all kinds
    assert r.status_code == 400 and r.json()["error"]["code"] == "attachment.too_many"
    assert client.get("/api/v1/me/repairs", headers=me).json() == []


def test_the_subject_side_is_for_person_tokens_and_own_records_only(
    client: TestClient, world: dict[str, Any], make_user: Callable[..., str], make_api_key: Callable[[str], str]
) -> None:
    p5 = world["records"]["P5"]
    assert client.get("/api/v1/me/repairs").status_code == 401
    assert client.get("/api/v1/me/repairs", headers={"Authorization": f"Bearer {make_user('credit_office')}"}
                      ).status_code == 401
    assert _apply(client, {"X-API-Key": make_api_key("samr")}, p5).status_code == 401
    other = _person(client, 6)
    refused = _apply(client, other, p5)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "repair.not_your_record"
    assert client.post("/api/v1/me/repairs/eligibility", headers=other, json={"record_id": p5}).status_code == 403
    assert _apply(client, other, world["records"]["O7"]).status_code == 403  # not their organisation
    case = _apply(client, _person(client, 5), p5).json()
    assert client.get(f"/api/v1/me/repairs/{case['id']}", headers=other).status_code == 403
    assert client.post(f"/api/v1/me/repairs/{case['id']}/withdraw", headers=other).status_code == 403
    file_id = case["files"][0]["id"]
    assert client.get(f"/api/v1/me/repairs/{case['id']}/files/{file_id}", headers=other).status_code == 403
    mine = client.get(f"/api/v1/me/repairs/{case['id']}/files/{file_id}", headers=_person(client, 5))
    assert mine.status_code == 200 and mine.content == PDF
    assert client.post(f"/api/v1/me/repairs/{case['id']}/withdraw",
                       headers=_person(client, 5)).json()["state"] == "withdrawn"


@pytest.mark.parametrize(("who", "expected"), [
    ("anonymous", 401),
    ("person", 401),
    ("clerk_other_department", 403),
    ("api_key_other_department", 403),
    ("clerk_source_department", 200),
    ("api_key_source_department", 200),
    ("credit_office", 200),
])
def test_decision_permissions(client: TestClient, world: dict[str, Any], make_user: Callable[..., str],
                              make_api_key: Callable[[str], str], who: str, expected: int) -> None:
    case = _apply(client, _person(client, 5), world["records"]["P5"]).json()
    headers = {
        "anonymous": {},
        "person": _person(client, 5),
        "clerk_other_department": {"Authorization": f"Bearer {make_user('clerk', 'tax')}"},
        "api_key_other_department": {"X-API-Key": make_api_key("tax")},
        "clerk_source_department": {"Authorization": f"Bearer {make_user('clerk', 'samr')}"},
        "api_key_source_department": {"X-API-Key": make_api_key("samr")},
        "credit_office": {"Authorization": f"Bearer {make_user('credit_office')}"},
    }[who]
    r = client.post(f"/api/v1/repairs/{case['id']}/decision", headers=headers,
                    json={"action": "reject", "reason": "罚款尚未缴清"})
    assert r.status_code == expected, r.text
    assert client.get(f"/api/v1/repairs/{case['id']}", headers=headers).status_code == expected
    listed = client.get("/api/v1/repairs", params={"state": "all"}, headers=headers)
    if expected == 200:
        assert r.json()["state"] == "rejected" and r.json()["decision_reason"] == "罚款尚未缴清"
        assert [c["id"] for c in listed.json()] == [case["id"]]
    elif expected == 403:
        assert r.json()["error"]["code"] == "repair.other_department"
        assert listed.status_code == 200 and listed.json() == []  # their own (empty) queue


def test_invalid_decisions_are_refused_clearly(client: TestClient, world: dict[str, Any],
                                               make_api_key: Callable[[str], str]) -> None:
    case = _apply(client, _person(client, 5), world["records"]["P5"]).json()
    samr = {"X-API-Key": make_api_key("samr")}
    url = f"/api/v1/repairs/{case['id']}/decision"
    assert client.post(url, headers=samr, json={"action": "delete"}).status_code == 422
    no_reason = client.post(url, headers=samr, json={"action": "reject"})
    assert no_reason.status_code == 400 and no_reason.json()["error"]["code"] == "workflow.reason_required"
    assert client.post(url, headers=samr, json={"action": "extend", "reason": "需核查"}).json()["state"] == "extended"
    twice = client.post(url, headers=samr, json={"action": "extend", "reason": "再延"})
    assert twice.status_code == 409 and "已延期" in twice.json()["error"]["message"]
    assert client.post(url, headers=samr, json={"action": "approve"}).json()["state"] == "approved"
    after = client.post(url, headers=samr, json={"action": "reject", "reason": "x"})
    assert after.status_code == 409 and after.json()["error"]["code"] == "workflow.invalid_transition"
    assert client.get("/api/v1/repairs/999999", headers=samr).status_code == 404
    bad_state = client.get("/api/v1/repairs", params={"state": "bogus"}, headers=samr)
    assert bad_state.status_code == 400 and bad_state.json()["error"]["code"] == "repair.unknown_state"
