"""Credit commitments through HTTP on the real app and database: signing by each channel and its
refusals, 信用承诺公示 and search, breach → a negative record in the subject's file (objectable),
fulfilment, withdrawal, expiry, and who may do what."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chengxin.catalog.rules import add_duration, parse_duration
from chengxin.commitments import service
from chengxin.core.audit import Actor, AuditEvent
from chengxin.core.clock import today_cn
from chengxin.core.workflow import CaseEvent
from chengxin.people import orgs
from chengxin.people.models import PersonAccount
from chengxin.platform import Platform
from chengxin.records.models import Record, RecordVersion
from chengxin.records.service import find_record_id
from factories import person_row, ric_for, submit_rows, uscc_for, valid_row

DAY = today_cn()
PASSWORD = "correct horse battery"


@pytest.fixture()
def world(platform: Platform, client: TestClient) -> dict[str, Any]:
    """Organisations 7 and 8, persons 5 (representative of 7) and 6, all known to the platform."""
    decided = DAY - dt.timedelta(days=30)
    version = platform.catalog.version_on("admin_penalty", decided)
    assert version is not None
    submit_rows(platform, "admin_penalty", "samr", [
        valid_row(version, 7, person=False, decision_date=decided.isoformat(), source_id="O7"),
        valid_row(version, 8, person=False, decision_date=decided.isoformat(), source_id="O8"),
        person_row(platform, "admin_penalty", 5, decided, source_id="P5"),
        person_row(platform, "admin_penalty", 6, decided, source_id="P6"),
    ], DAY)
    for n in (5, 6):
        r = client.post("/me/register", data={"ric": ric_for(n), "name": "张三", "password": PASSWORD},
                        follow_redirects=False)
        assert r.status_code == 303, r.text
    with platform.db.write() as s:
        subjects = dict(s.execute(select(Record.source_id, Record.subject_id)).all())
        account = s.scalars(select(PersonAccount).where(PersonAccount.subject_id == subjects["P5"])).one()
        orgs.link_organisation(s, platform.keyring, account_id=account.id, uscc=uscc_for(7), basis="授权委托书 2026-7",
                               actor=Actor(kind="staff", name="office", role="credit_office"),
                               now=dt.datetime.now(dt.UTC))
    return {"subjects": subjects}


def _person(client: TestClient, n: int) -> dict[str, str]:
    r = client.post("/api/v1/me/sessions", json={"ric": ric_for(n), "password": PASSWORD})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _current(client: TestClient, code: str) -> str:
    return next(t["version"] for t in client.get("/api/v1/commitments/templates").json() if t["code"] == code)


def _sign(client: TestClient, headers: dict[str, str], template: str, *, department: str = "samr",
          subject_id: int | None = None, matter: str = "申请食品经营许可", version: str | None = None) -> Any:
    body: dict[str, Any] = {"template": template, "template_version": version or _current(client, template),
                            "matter": matter, "department": department}
    if subject_id is not None:
        body["subject_id"] = subject_id
    # json.dumps escapes as ASCII: a lone surrogate travels as "\ud800", as a hostile client would send it
    return client.post("/api/v1/me/commitments", headers={**headers, "Content-Type": "application/json"},
                       content=json.dumps(body))


def test_templates_are_published_with_their_text_and_hash(client: TestClient) -> None:
    found = {t["code"]: t for t in client.get("/api/v1/commitments/templates").json()}
    notice = found["certificate_notice"]
    assert notice["version"] == "2026.1" and notice["validity"] == "P1Y"
    assert notice["text_sha256"] == hashlib.sha256(notice["text"].encode("utf-8")).hexdigest()
    assert "{subject_name}" in notice["text"] and "samr" in notice["acceptors"]
    assert found["ecommerce_operator"]["public_for_persons"] is True


def test_a_person_signs_for_themself_and_for_the_organisation_they_represent(
    client: TestClient, platform: Platform, world: dict[str, Any],
) -> None:
    me = _person(client, 5)
    own = _sign(client, me, "certificate_notice")
    assert own.status_code == 201, own.text
    c = own.json()
    assert c["channel"] == "online" and c["state"] == "signed" and c["subject_kind"] == "person"
    assert c["valid_until"] == (add_duration(DAY, parse_duration("P1Y")) - dt.timedelta(days=1)).isoformat()
    # The kept text names the subject only in masked form, and the hash is that of the text, every character.
    assert "张三" not in c["text"] and ric_for(5) not in c["text"] and c["subject_display_id"] in c["text"]
    assert c["text_sha256"] == hashlib.sha256(c["text"].encode("utf-8")).hexdigest()
    assert "申请食品经营许可" in c["text"] and DAY.isoformat() in c["text"]
    # A person's certificate commitment is not publicly displayed: to the public it does not exist.
    assert client.get(f"/api/v1/commitments/{c['no']}").status_code == 404
    assert client.get(f"/api/v1/me/commitments/{c['no']}", headers=me).json()["text"] == c["text"]
    assert client.get(f"/api/v1/me/commitments/{c['no']}", headers=_person(client, 6)).status_code == 404

    org = world["subjects"]["O7"]
    signed = _sign(client, me, "ecommerce_operator", department="commerce", subject_id=org,
                   matter="某电商平台“常州好物”旗舰店")
    assert signed.status_code == 201, signed.text
    oc = signed.json()
    assert oc["channel"] == "representative" and oc["subject_display_id"] == uscc_for(7)
    assert uscc_for(7) in oc["text"] and "常州测试7有限公司" in oc["text"]
    public = client.get(f"/api/v1/commitments/{oc['no']}").json()
    assert public["text"] == oc["text"] and public["text_sha256"] == oc["text_sha256"]
    assert [x["no"] for x in client.get("/api/v1/me/commitments", headers=me).json()] == [oc["no"], c["no"]]
    with platform.db.read() as s:
        events = s.scalars(select(CaseEvent).where(CaseEvent.case_type == "commitment")).all()
    assert [(e.action, e.role) for e in events] == [("sign", "subject"), ("sign", "subject")]


@pytest.mark.parametrize("who, body, status, code", [
    (6, {"template": "ecommerce_operator", "department": "commerce", "subject": "O7"}, 403,
     "commitment.not_your_subject"),  # not linked to organisation 7
    (5, {"template": "industry_self_discipline", "department": "commerce"}, 400,
     "commitment.subject_kind_not_allowed"),  # organisations only
    (5, {"template": "certificate_notice", "department": "samr", "version": "2019.1"}, 409,
     "commitment.template_version_not_in_force"),  # the text of 2019 is no longer in force
    (5, {"template": "certificate_notice", "department": "samr", "version": "2099.9"}, 409,
     "commitment.template_version_not_in_force"),
    (5, {"template": "no_such_kind", "department": "samr", "version": "1"}, 404, "commitment.template_unknown"),
    (5, {"template": "ecommerce_operator", "department": "tax"}, 400, "commitment.department_not_acceptor"),
    (5, {"template": "certificate_notice", "department": "samr", "matter": "  "}, 400, "commitment.matter_required"),
    (5, {"template": "certificate_notice", "department": "samr", "matter": "许可\ud800"}, 422,
     "request.invalid"),  # a lone surrogate: refused by the request parser, never a 500
    (5, {"template": "certificate_notice", "department": "samr", "matter": "许可\u0007"}, 400,
     "commitment.matter_control_chars"),
])
def test_signing_refusals(client: TestClient, world: dict[str, Any], who: int, body: dict[str, Any], status: int,
                          code: str) -> None:
    subject = world["subjects"][body["subject"]] if "subject" in body else None
    r = _sign(client, _person(client, who), body["template"], department=body["department"], subject_id=subject,
              matter=body.get("matter", "申请许可"), version=body.get("version"))
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code and r.json()["error"]["message"]


def test_signing_needs_a_person_session(client: TestClient, world: dict[str, Any],
                                        make_api_key: Callable[[str], str]) -> None:
    body = {"template": "certificate_notice", "template_version": "2026.1", "matter": "x", "department": "samr"}
    assert client.post("/api/v1/me/commitments", json=body).status_code == 401
    assert client.post("/api/v1/me/commitments", json=body,
                       headers={"Authorization": f"Bearer {make_api_key('samr')}"}).status_code == 401


def _paper(client: TestClient, key: str, **kw: Any) -> Any:
    body = {"template": "certificate_notice", "template_version": "2026.1", "matter": "申请公共场所卫生许可",
            "document_no": "常市监承〔2026〕18号", "signed_on": DAY.isoformat(), "uscc": uscc_for(8), **kw}
    return client.post("/api/v1/commitments", json=body, headers={"X-API-Key": key})


def test_a_department_records_a_paper_commitment_and_its_refusals(
    client: TestClient, platform: Platform, world: dict[str, Any], make_api_key: Callable[[str], str],
    make_user: Callable[..., str],
) -> None:
    samr = make_api_key("samr")
    r = _paper(client, samr)
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["channel"] == "paper" and c["document_no"] == "常市监承〔2026〕18号" and c["department"] == "samr"
    assert c["subject_display_id"] == uscc_for(8) and c["state"] == "signed"

    assert _paper(client, samr, document_no=" ").json()["error"]["code"] == "commitment.document_no_required"
    future = _paper(client, samr, signed_on=(DAY + dt.timedelta(days=1)).isoformat())
    assert future.status_code == 400 and future.json()["error"]["field"] == "signed_on"
    old = _paper(client, samr, signed_on="2025-06-01")  # the 2026.1 text was not in force then
    assert old.status_code == 409 and old.json()["error"]["code"] == "commitment.template_version_not_in_force"
    assert _paper(client, samr, signed_on="2025-06-01", template_version="2019.1").status_code == 201
    assert _paper(client, samr, uscc=uscc_for(99)).status_code == 404  # not a subject of the platform
    bad = _paper(client, samr, uscc="91320400MA1XXXXX01")
    assert bad.status_code == 400 and bad.json()["error"]["code"].startswith("uscc.")
    # a department that does not accept this kind, and one recording in another's name
    assert _paper(client, make_api_key("tax"), template="ecommerce_operator").json()["error"]["code"] == \
        "commitment.department_not_acceptor"
    assert _paper(client, make_api_key("tax"), department="samr").status_code == 403
    # the credit office may record for a department
    office = {"Authorization": f"Bearer {make_user('credit_office')}"}
    body = {"template": "market_entry", "template_version": "2026.1", "matter": "主动公开承诺", "document_no": "信承1",
            "signed_on": DAY.isoformat(), "uscc": uscc_for(7), "department": "samr"}
    assert client.post("/api/v1/commitments", json=body, headers=office).status_code == 201
    assert client.post("/api/v1/commitments", json=body).status_code == 401


def test_public_display_and_search(client: TestClient, world: dict[str, Any],
                                   make_api_key: Callable[[str], str]) -> None:
    me = _person(client, 5)
    org_c = _sign(client, me, "ecommerce_operator", department="commerce", subject_id=world["subjects"]["O7"]).json()
    person_c = _sign(client, me, "ecommerce_operator", department="commerce", matter="个人网店").json()
    private = _sign(client, me, "certificate_notice").json()
    paper = _paper(client, make_api_key("samr")).json()

    listed = client.get("/api/v1/commitments").json()
    nos = [x["no"] for x in listed["items"]]
    assert nos == [paper["no"], person_c["no"], org_c["no"]] and listed["total"] == 3  # newest first
    assert private["no"] not in nos
    shown_person = next(x for x in listed["items"] if x["no"] == person_c["no"])
    assert "*" in shown_person["subject_display_id"] and shown_person["subject_name"] != "张三"

    def found(**params: Any) -> list[str]:
        r = client.get("/api/v1/commitments", params=params)
        assert r.status_code == 200, r.text
        return [x["no"] for x in r.json()["items"]]

    assert found(q=uscc_for(7)) == [org_c["no"]]
    assert found(q=org_c["no"].lower()) == [org_c["no"]]
    assert found(q="测试8") == [paper["no"]]
    assert found(q="张") == []  # persons are never searched by name
    assert found(q=private["no"]) == []
    assert found(kind="certificate_notice") == [paper["no"]]
    assert found(q="100%_") == []
    assert client.get("/api/v1/commitments", params={"kind": "nope"}).status_code == 400
    page = client.get("/api/v1/commitments", params={"per_page": 2, "page": 2}).json()
    assert [x["no"] for x in page["items"]] == [org_c["no"]] and page["total"] == 3
    assert client.get("/api/v1/commitments/CN-2026-000001-0").status_code == 404
    assert client.get("/api/v1/commitments/garbage").status_code == 404


def test_a_breach_becomes_a_negative_record_in_the_subjects_file_and_can_be_objected_to(
    client: TestClient, platform: Platform, world: dict[str, Any], make_api_key: Callable[[str], str],
) -> None:
    me = _person(client, 5)
    org = world["subjects"]["O7"]
    c = _sign(client, me, "ecommerce_operator", department="commerce", subject_id=org).json()
    commerce = {"X-API-Key": make_api_key("commerce")}
    breach = {"facts": "经核查，该店铺组织刷单炒信 1,200 单，违反承诺第二项。", "decision_no": "常商认〔2026〕5号",
              "severity": "general", "measures": "约谈并责令整改"}

    # Only the accepting department (or the office) may record it; it needs facts and a document number.
    assert client.post(f"/api/v1/commitments/{c['no']}/breach", json=breach,
                       headers={"X-API-Key": make_api_key("samr")}).status_code == 403
    no_doc = client.post(f"/api/v1/commitments/{c['no']}/breach", json={**breach, "decision_no": ""}, headers=commerce)
    assert no_doc.status_code == 400 and no_doc.json()["error"]["field"] == "decision_no"
    no_facts = client.post(f"/api/v1/commitments/{c['no']}/breach", json={**breach, "facts": " "}, headers=commerce)
    assert no_facts.status_code == 400 and no_facts.json()["error"]["code"] == "workflow.reason_required"

    r = client.post(f"/api/v1/commitments/{c['no']}/breach", json=breach, headers=commerce)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["state"] == "breached" and done["breach_document_no"] == "常商认〔2026〕5号"
    record_id = done["breach_record_id"]
    with platform.db.read() as s:
        assert find_record_id(s, "commerce", service.breach_source_id(c["no"])) == record_id
        record = s.get_one(Record, record_id)
        fields = s.get_one(RecordVersion, record.version_id).fields
    assert record.item_code == "commitment_breach" and record.category == "negative" and record.subject_id == org
    assert fields["commitment_no"] == c["no"] and fields["commitment_kind"] == "ecommerce_operator"
    assert fields["decision_no"] == "常商认〔2026〕5号" and fields["authority_name"] == "常州市商务局"
    # the public display shows the breach, and the subject's public file has the negative record
    assert client.get(f"/api/v1/commitments/{c['no']}").json()["state"] == "breached"
    public_file = client.get(f"/api/v1/public/subjects/{org}").json()
    assert record_id in [i["record_id"] for i in public_file["items"] if i["item_code"] == "commitment_breach"]
    # a second finding on the same commitment is refused
    again = client.post(f"/api/v1/commitments/{c['no']}/breach", json=breach, headers=commerce)
    assert again.status_code == 409
    # the representative objects to the record like to any other
    objection = client.post("/api/v1/me/objections", headers=me, data={
        "record_id": str(record_id), "grounds": "wrong_information", "reason": "刷单系第三方恶意下单", "subject_id": str(org)})
    assert objection.status_code == 201, objection.text


def test_a_breach_of_a_persons_commitment_found_by_the_office(
    client: TestClient, platform: Platform, world: dict[str, Any], make_user: Callable[..., str],
) -> None:
    me = _person(client, 6)
    c = _sign(client, me, "certificate_notice", matter="申请教师资格认定", department="edu").json()
    office = {"Authorization": f"Bearer {make_user('credit_office')}"}
    r = client.post(f"/api/v1/commitments/{c['no']}/breach", headers=office,
                    json={"facts": "承诺无犯罪记录，经核查不实。", "decision_no": "信认〔2026〕1号", "severity": "serious"})
    assert r.status_code == 200, r.text
    with platform.db.read() as s:
        record = s.get_one(Record, r.json()["breach_record_id"])
    assert record.department_code == "credit_office" and record.severity == "serious"
    assert record.subject_id == world["subjects"]["P6"]
    # in the person's own file through the normal path; not public (persons' items are not public)
    own = client.get("/api/v1/me/file", headers=me).json()
    assert record.id in [i["record_id"] for i in own["items"]]
    public = client.get(f"/api/v1/public/subjects/{world['subjects']['P6']}")
    assert public.status_code == 404 or record.id not in [i["record_id"] for i in public.json().get("items", [])]


def test_fulfil_withdraw_and_staff_reads(
    client: TestClient, platform: Platform, world: dict[str, Any], make_api_key: Callable[[str], str],
) -> None:
    samr = {"X-API-Key": make_api_key("samr")}
    paper = _paper(client, samr["X-API-Key"]).json()
    done = client.post(f"/api/v1/commitments/{paper['no']}/fulfil", json={"note": "已核查"}, headers=samr)
    assert done.status_code == 200 and done.json()["state"] == "fulfilled"
    assert client.post(f"/api/v1/commitments/{paper['no']}/fulfil", json={}, headers=samr).status_code == 409

    me = _person(client, 5)
    c = _sign(client, me, "certificate_notice").json()
    # a department reads a person's commitment it accepted: allowed, and logged
    seen = client.get(f"/api/v1/commitments/{c['no']}/case", headers=samr)
    assert seen.status_code == 200 and seen.json()["text"] == c["text"]
    assert client.get(f"/api/v1/commitments/{c['no']}/case",
                      headers={"X-API-Key": make_api_key("tax")}).status_code == 403
    with platform.db.read() as s:
        reads = s.scalars(select(AuditEvent).where(AuditEvent.action == "commitment.read")).all()
    assert [(e.subject_id, e.purpose) for e in reads] == [(world["subjects"]["P5"], "办理信用承诺")]

    assert client.post(f"/api/v1/me/commitments/{c['no']}/withdraw", json={"reason": " "},
                       headers=me).status_code == 400
    assert client.post(f"/api/v1/me/commitments/{c['no']}/withdraw", json={"reason": "改为提交证明"},
                       headers=_person(client, 6)).status_code == 403
    w = client.post(f"/api/v1/me/commitments/{c['no']}/withdraw", json={"reason": "改为提交证明"}, headers=me)
    assert w.status_code == 200 and w.json()["state"] == "withdrawn"
    assert client.post(f"/api/v1/commitments/{c['no']}/fulfil", json={}, headers=samr).status_code == 409


def test_expiry_at_read_time_and_by_the_job(client: TestClient, platform: Platform, world: dict[str, Any]) -> None:
    me = _person(client, 5)
    c = _sign(client, me, "tolerance_acceptance", matter="申请建设工程规划许可，补交社保证明").json()
    until = dt.date.fromisoformat(c["valid_until"])
    later = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(12), dt.UTC)
    with platform.db.read() as s:
        [seen] = service.commitments_of_subject(s, platform.catalog, [world["subjects"]["P5"]],
                                                until + dt.timedelta(days=1))
    assert seen.state == "expired"  # before any job ran
    with platform.db.write() as s:
        assert service.expire_due(s, now=dt.datetime.combine(until, dt.time(12), dt.UTC)) == []
        assert service.expire_due(s, now=later) == [c["no"]]
        assert service.expire_due(s, now=later) == []  # once
    with platform.db.read() as s:
        events = s.scalars(select(CaseEvent).where(CaseEvent.case_type == "commitment")
                           .order_by(CaseEvent.id)).all()
    assert [(e.action, e.role) for e in events] == [("sign", "subject"), ("expire", "system")]


def test_demo_commitments_are_made_through_the_normal_paths(client: TestClient, platform: Platform,
                                                            world: dict[str, Any]) -> None:
    from chengxin.commitments.demo import load_demo_commitments

    made = load_demo_commitments(platform, today=DAY, seed=7, organizations=2, persons=2)
    assert made == 4
    assert load_demo_commitments(platform, today=DAY, seed=7) == 0  # once
    listed = client.get("/api/v1/commitments").json()
    assert listed["total"] >= 2  # the organisations' (and persons' where public)
    for item in listed["items"]:
        assert item["channel"] == "paper" and item["text_sha256"] == hashlib.sha256(
            item["text"].encode("utf-8")).hexdigest()


def test_the_cli_lists_templates_shows_one_and_expires(client: TestClient, platform: Platform, world: dict[str, Any],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from chengxin.cli.main import app

    monkeypatch.setattr("chengxin.platform.open_platform", lambda *a, **k: platform)
    runner = CliRunner()
    listed = runner.invoke(app, ["commitments", "templates"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    assert "certificate_notice" in listed.output and "ecommerce_operator" in listed.output

    c = _sign(client, _person(client, 5), "tolerance_acceptance", matter="补交材料").json()
    shown = runner.invoke(app, ["commitments", "show", c["no"]], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert c["text_sha256"] in shown.output and "容缺受理承诺书" in shown.output and "与全文一致" in shown.output
    with platform.db.read() as s:  # a person's commitment read from the CLI is logged
        assert s.scalar(select(AuditEvent.purpose).where(AuditEvent.action == "commitment.read")) == "命令行查看信用承诺"
    assert runner.invoke(app, ["commitments", "show", "CN-2026-000000-1"]).exit_code == 1

    after = (dt.date.fromisoformat(c["valid_until"]) + dt.timedelta(days=1)).isoformat()
    expired = runner.invoke(app, ["commitments", "expire", "--as-of", after])
    assert expired.exit_code == 0 and "到期 1 项" in expired.output and c["no"] in expired.output
    assert runner.invoke(app, ["commitments", "expire", "--as-of", "tomorrow"]).exit_code != 0
