"""Findings through HTTP on the real database: who may read and decide them, the evidence page, and a
confirmed finding becoming a record its subject objects to as any person would (/me, the objections API)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.api.test_ecommerce_risk_support import (
    PASSWORD,
    PERSON_NAME,
    REVIEWER_RIC,
    World,
    bearer,
    seed_findings,
    small_world,
)
from tests.api.test_objections_support import csrf, file_objection

from chengxin.core.audit import AuditEvent
from chengxin.disclosure.models import QueryLog
from chengxin.ecommerce.risk.models import EcFinding, EcShopRisk
from chengxin.ecommerce.trade.models import EcAccount
from chengxin.platform import Platform
from chengxin.records.models import Record


@pytest.fixture()
def world(platform: Platform) -> World:
    return small_world(platform)


@pytest.fixture()
def found(platform: Platform, world: World) -> dict[str, int]:
    return seed_findings(platform, world)


def _who(role: str, make_user: Callable[..., str], make_api_key: Callable[[str], str]) -> dict[str, str]:
    return {
        "anonymous": {},
        "clerk_other_dept": bearer(make_user("clerk", "tax")),
        "platform_key": {"X-API-Key": make_api_key("platform:91320400MA00000000")},
        "regulator": bearer(make_user("clerk", "samr")),
        "regulator_key": {"X-API-Key": make_api_key("commerce")},
        "credit_office": bearer(make_user("credit_office")),
    }[role]


@pytest.mark.parametrize(("role", "expected"), [
    ("anonymous", 401), ("clerk_other_dept", 403), ("platform_key", 403), ("regulator", 200), ("regulator_key", 200),
    ("credit_office", 200)])
def test_findings_api_permissions(client: TestClient, found: dict[str, int], make_user: Callable[..., str],
                                  make_api_key: Callable[[str], str], role: str, expected: int) -> None:
    auth = _who(role, make_user, make_api_key)
    assert client.get("/api/v1/ecommerce/findings", headers=auth).status_code == expected
    assert client.get(f"/api/v1/ecommerce/findings/{found['fake_traffic']}", headers=auth).status_code == expected
    assert client.get("/api/v1/ecommerce/risk", headers=auth).status_code == expected


@pytest.mark.parametrize(("role", "expected"), [("anonymous", 303), ("clerk_other_dept", 403), ("regulator", 200),
                                                ("credit_office", 200)])
def test_findings_pages_permissions(client: TestClient, found: dict[str, int], make_user: Callable[..., str],
                                    role: str, expected: int) -> None:
    cookies = {}
    if role != "anonymous":
        token = make_user("clerk", "tax" if role == "clerk_other_dept" else "samr") if role != "credit_office" \
            else make_user("credit_office")
        cookies = {"cx_session": token}
    client.cookies.update(cookies)
    for path in ("/office/ecommerce/findings", f"/office/ecommerce/findings/{found['order_brushing']}",
                 "/office/ecommerce/risk"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == expected, (path, r.text[:300])
        if expected == 303:
            assert r.headers["location"].startswith("/login?next=")
    client.cookies.clear()


def test_queue_is_sorted_and_filtered(client: TestClient, found: dict[str, int], make_user: Callable[..., str],
                                      world: World) -> None:
    office = bearer(make_user("credit_office"))
    body = client.get("/api/v1/ecommerce/findings", headers=office).json()
    assert body["total"] == 3 and [i["kind"] for i in body["items"]] == [
        "order_brushing", "fake_traffic", "malicious_review"]  # most confident first
    assert [i["confidence"] for i in body["items"]] == sorted((i["confidence"] for i in body["items"]), reverse=True)
    only = client.get("/api/v1/ecommerce/findings", headers=office, params={"kind": "fake_traffic"}).json()
    assert [i["id"] for i in only["items"]] == [found["fake_traffic"]]
    assert client.get("/api/v1/ecommerce/findings", headers=office,
                      params={"platform": "nosuch"}).json()["total"] == 0
    bad = client.get("/api/v1/ecommerce/findings", headers=office, params={"status": "weird"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "ecommerce.status_unknown"


def test_the_evidence_page_reads_in_chinese_and_the_read_is_logged(client: TestClient, platform: Platform,
                                                                   found: dict[str, int], world: World,
                                                                   make_user: Callable[..., str]) -> None:
    client.cookies.update({"cx_session": make_user("clerk", "samr", username="samr_analyst")})
    page = client.get(f"/office/ecommerce/findings/{found['order_brushing']}")
    client.cookies.clear()
    assert page.status_code == 200
    text = page.text
    assert "刷单炒信" in text and "时间特征" in text and "<svg" in text and "共用属性与关系密度" in text
    assert "8 个账户 × 1 家店铺" in text and "密度 1.00" in text  # every ring account bought from S1
    assert "账户 " in text and "…" in text  # pseudonymous account labels, never the whole hash
    assert world.owner_ric not in text and "李*" in text  # the person owner only masked
    assert 'id="confirm-form"' in text and "电子商务刷单炒信信息" in text
    with platform.db.read() as s:
        owner = s.scalar(select(EcFinding.shop_id).where(EcFinding.id == found["order_brushing"]))
        logged = list(s.scalars(select(QueryLog).where(QueryLog.reader_name == "samr_analyst")))
    assert owner is not None and len(logged) == 1 and logged[0].purpose == "电商失信监测线索研判"
    assert logged[0].channel == "portal" and logged[0].detail["finding_id"] == found["order_brushing"]


def _confirm(client: TestClient, auth: dict[str, str], finding_id: int, **extra: Any) -> Any:
    return client.post(f"/api/v1/ecommerce/findings/{finding_id}/confirm", headers=auth,
                       json={"note": "经调取平台交易数据核实，属组织刷单", **extra})


def test_confirm_makes_a_record_the_owner_objects_to(client: TestClient, platform: Platform, found: dict[str, int],
                                                     world: World, make_user: Callable[..., str]) -> None:
    office = bearer(make_user("credit_office"))
    refused = _confirm(client, office, found["order_brushing"])
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "workflow.role_not_allowed"
    samr = bearer(make_user("clerk", "samr"))
    blank = client.post(f"/api/v1/ecommerce/findings/{found['order_brushing']}/dismiss", headers=samr,
                        json={"reason": "  "})
    assert blank.status_code == 400 and blank.json()["error"]["code"] == "workflow.reason_required"
    done = _confirm(client, samr, found["order_brushing"], severity="general", decision_no="常市监认〔2026〕7号")
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "confirmed" and body["record_id"] and body["decision_department"] == "samr"
    assert [h["action"] for h in body["history"]] == ["confirm"] and body["actions"] == []
    again = _confirm(client, samr, found["order_brushing"])
    assert again.status_code == 409 and again.json()["error"]["code"] == "workflow.invalid_transition"

    with platform.db.read() as s:
        record = s.get_one(Record, body["record_id"])
        assert (record.item_code, record.department_code, record.category, record.status) == (
            "ec_order_brushing", "samr", "negative", "active")
        assert record.source_id == f"ECF-{found['order_brushing']}-{record.subject_id}"
        risk = s.get_one(EcShopRisk, world.shops["S1"])
    assert risk.level in ("medium", "high", "severe") and any(r["code"] == "findings_confirmed" for r in risk.reasons)
    # The shop's owner, a person, registers on /me and objects to the record as anyone would.
    reg = client.post("/me/register", data={"ric": world.owner_ric, "name": PERSON_NAME, "password": PASSWORD},
                      follow_redirects=False)
    assert reg.status_code == 303, reg.text
    token = client.post("/api/v1/me/sessions", json={"ric": world.owner_ric, "password": PASSWORD}).json()["token"]
    me = bearer(token)
    mine = client.get("/api/v1/me/file", headers=me).json()
    item = next(i for i in mine["items"] if i["record_id"] == body["record_id"])
    assert "刷单炒信" in str(item) and "经调取平台交易数据核实" in str(item)
    objection = file_objection(client, me, body["record_id"], reason="订单均为真实交易，并非刷单")
    assert objection.status_code == 201, objection.text
    assert objection.json()["state"] == "filed" and objection.json()["marks_record"]
    with platform.db.read() as s:
        assert s.get_one(Record, body["record_id"]).under_objection
        trail = list(s.scalars(select(AuditEvent.action).where(AuditEvent.subject_id == record.subject_id)))
    assert "ec_finding.identity_read" in trail and "ec_finding.confirm" in trail


def test_who_may_confirm_which_kind(client: TestClient, found: dict[str, int], make_user: Callable[..., str]) -> None:
    # ec_fake_traffic's sources are cac and samr: the commerce bureau reads it but cannot record it.
    commerce = bearer(make_user("clerk", "commerce"))
    detail = client.get(f"/api/v1/ecommerce/findings/{found['fake_traffic']}", headers=commerce).json()
    assert detail["confirm_blocked"] and "数据提供单位" in detail["confirm_blocked"]
    refused = _confirm(client, commerce, found["fake_traffic"])
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "ecommerce.department_not_source"
    cac = bearer(make_user("clerk", "cac"))
    ok = _confirm(client, cac, found["fake_traffic"])
    assert ok.status_code == 200, ok.text
    assert ok.json()["item"] == "ec_fake_traffic" and ok.json()["decision_department"] == "cac"


def test_a_malicious_reviewer_is_recorded_only_through_a_bound_identity(client: TestClient, platform: Platform,
                                                                         found: dict[str, int],
                                                                         make_user: Callable[..., str]) -> None:
    samr = bearer(make_user("clerk", "samr"))
    with platform.db.write() as s:  # until the platform supplies the reviewer's identity, nobody can be recorded
        account = s.get_one(EcAccount, s.get_one(EcFinding, found["malicious_review"]).buyer_account_ids[0])
        bound, account.subject_id = account.subject_id, None
    unbound = _confirm(client, samr, found["malicious_review"])
    assert unbound.status_code == 409 and unbound.json()["error"]["code"] == "ecommerce.no_bound_subject"
    with platform.db.write() as s:
        s.get_one(EcAccount, account.id).subject_id = bound
    detail = client.get(f"/api/v1/ecommerce/findings/{found['malicious_review']}", headers=samr).json()
    assert detail["against"] == "buyers" and detail["accounts_bound"] == 1
    assert detail["targets"] == [{"name": "王*", "id": REVIEWER_RIC[:6] + "********" + REVIEWER_RIC[-4:],
                                  "role": "买家账户实名主体"}]
    assert detail["shops"][0]["role_zh"] == "被评价店铺"
    done = _confirm(client, samr, found["malicious_review"], severity="serious")
    assert done.status_code == 200, done.text
    with platform.db.read() as s:
        record = s.get_one(Record, done.json()["record_id"])
    assert record.item_code == "ec_malicious_review" and record.severity == "serious"


def test_dismiss_and_reopen_with_reasons(client: TestClient, found: dict[str, int],
                                         make_user: Callable[..., str]) -> None:
    office = bearer(make_user("credit_office"))
    fid = found["fake_traffic"]
    out = client.post(f"/api/v1/ecommerce/findings/{fid}/dismiss", headers=office,
                      json={"reason": "系平台促销活动，属正常集中评价"})
    assert out.status_code == 200 and out.json()["status"] == "dismissed"
    assert out.json()["decision_department"] == "credit_office" and out.json()["actions"] == ["reopen"]
    back = client.post(f"/api/v1/ecommerce/findings/{fid}/reopen", headers=office, json={"reason": "收到新的举报线索"})
    assert back.status_code == 200 and back.json()["status"] == "open" and back.json()["decided_by"] is None
    assert [h["action"] for h in back.json()["history"]] == ["dismiss", "reopen"]


def test_the_portal_forms_confirm_and_dismiss(client: TestClient, platform: Platform, found: dict[str, int],
                                              make_user: Callable[..., str]) -> None:
    client.cookies.update({"cx_session": make_user("clerk", "samr")})
    fid = found["order_brushing"]
    page = client.get(f"/office/ecommerce/findings/{fid}")
    token = csrf(page.text)
    no_csrf = client.post(f"/office/ecommerce/findings/{fid}/confirm", data={"note": "x"})
    assert no_csrf.status_code == 403
    missing = client.post(f"/office/ecommerce/findings/{fid}/dismiss", data={"csrf_token": token, "note": ""})
    assert missing.status_code == 400 and "须说明理由" in missing.text
    done = client.post(f"/office/ecommerce/findings/{fid}/confirm", follow_redirects=False,
                       data={"csrf_token": token, "note": "核实属刷单", "severity": "general"})
    assert done.status_code == 303 and done.headers["location"].endswith("?done=confirm")
    shown = client.get(done.headers["location"]).text
    assert "已确认" in shown and 'id="finding-records"' in shown
    queue = client.get("/office/ecommerce/findings?status=confirmed").text
    assert f'data-id="{fid}"' in queue
    client.cookies.clear()
    with platform.db.read() as s:
        assert s.get_one(EcFinding, fid).record_id is not None
