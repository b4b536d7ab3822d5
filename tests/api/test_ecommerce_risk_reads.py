"""Reads of shop owners are logged (issue #7; DESIGN.md "every read of personal data leaves a trace"): the
regulators' risk board and a shop's level for its platform show owners — each person shown gets a query-log
row with the purpose, organisations none — and the person finds the read in their own file on /me."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.api.test_ecommerce_risk_support import (
    OPERATOR_USCC,
    PASSWORD,
    PERSON_NAME,
    World,
    bearer,
    seed_findings,
    small_world,
)

from chengxin.disclosure.models import QueryLog
from chengxin.ecommerce.trade.models import EcShop
from chengxin.platform import Platform


@pytest.fixture()
def world(platform: Platform) -> World:
    world = small_world(platform)
    seed_findings(platform, world)  # S1 (a person's shop) medium; S2, S3 (companies' shops) low
    return world


def _log(platform: Platform) -> list[QueryLog]:
    with platform.db.read() as s:
        return list(s.scalars(select(QueryLog).order_by(QueryLog.id)))


def _owner(platform: Platform, shop_id: int) -> int:
    with platform.db.read() as s:
        return s.get_one(EcShop, shop_id).owner_subject_id


def _my_query_log(client: TestClient, ric: str) -> list[dict[str, str]]:
    """The person registers on /me and reads their own file's query log (GET /api/v1/me/file)."""
    reg = client.post("/me/register", data={"ric": ric, "name": PERSON_NAME, "password": PASSWORD},
                      follow_redirects=False)
    assert reg.status_code == 303, reg.text
    token = client.post("/api/v1/me/sessions", json={"ric": ric, "password": PASSWORD}).json()["token"]
    mine = client.get("/api/v1/me/file", headers=bearer(token))
    assert mine.status_code == 200, mine.text
    log: list[dict[str, str]] = mine.json()["query_log"]
    return log


def test_the_board_logs_a_read_per_person_owner_shown(client: TestClient, platform: Platform, world: World,
                                                      make_user: Callable[..., str]) -> None:
    person = _owner(platform, world.shops["S1"])
    assert _log(platform) == []
    samr = bearer(make_user("clerk", "samr", username="samr_board"))
    board = client.get("/api/v1/ecommerce/risk", headers=samr)
    assert board.status_code == 200 and [i["shop_code"] for i in board.json()["items"]] == ["S1"]
    rows = _log(platform)
    assert [(r.subject_id, r.purpose, r.reader_department, r.reader_name, r.channel) for r in rows] == [
        (person, "商家信用风险预警监管", "samr", "samr_board", "api")]
    assert rows[0].detail["shops"] == [{"platform": world.platform_code, "shop": "S1", "level": "medium"}]
    # Companies' shops only (S2, S3): organisations are not personal data — no row.
    low = client.get("/api/v1/ecommerce/risk", headers=samr, params={"level": "low"})
    assert {i["shop_code"] for i in low.json()["items"]} == {"S2", "S3"}
    assert len(_log(platform)) == 1
    # The portal page reads the same board: one more row, on the portal channel.
    client.cookies.update({"cx_session": make_user("credit_office", username="office_board")})
    page = client.get("/office/ecommerce/risk")
    client.cookies.clear()
    assert page.status_code == 200 and 'data-shop="S1"' in page.text
    rows = _log(platform)
    assert [(r.subject_id, r.reader_name, r.channel) for r in rows[1:]] == [(person, "office_board", "portal")]
    # A refused reader reads nothing and leaves no row.
    assert client.get("/api/v1/ecommerce/risk", headers=bearer(make_user("clerk", "tax"))).status_code == 403
    assert len(_log(platform)) == 2
    mine = _my_query_log(client, world.owner_ric)
    board_reads = [e for e in mine if e["purpose"] == "商家信用风险预警监管"]
    assert len(board_reads) == 2 and all("商家信用风险预警" in e["basis"] for e in board_reads)
    assert {e["reader"] for e in board_reads} >= {"常州市市场监督管理局"}, board_reads


def test_a_platform_s_read_of_its_person_owned_shop_is_logged(client: TestClient, platform: Platform, world: World,
                                                              make_api_key: Callable[[str], str],
                                                              make_user: Callable[..., str]) -> None:
    person = _owner(platform, world.shops["S1"])
    key = {"X-API-Key": make_api_key(f"platform:{OPERATOR_USCC}")}
    r = client.get(f"/api/v1/ecommerce/shops/{world.platform_code}/S1/risk", headers=key)
    assert r.status_code == 200 and r.json()["level"] == "medium"
    rows = _log(platform)
    assert [(r.subject_id, r.purpose, r.requester_uscc, r.reader_kind) for r in rows] == [
        (person, "平台查询本平台店铺风险", OPERATOR_USCC, "api_key")]
    assert rows[0].reader_name == "电商平台 测试商城" and rows[0].reader_department is None
    # A company's shop: no row.
    assert client.get(f"/api/v1/ecommerce/shops/{world.platform_code}/S2/risk", headers=key).status_code == 200
    assert len(_log(platform)) == 1
    # A regulator reading the same shop's level: logged with the regulators' purpose and department.
    samr = bearer(make_user("clerk", "samr"))
    assert client.get(f"/api/v1/ecommerce/shops/{world.platform_code}/S1/risk", headers=samr).status_code == 200
    last = _log(platform)[-1]
    assert (last.subject_id, last.purpose, last.reader_department) == (person, "商家信用风险预警监管", "samr")
    mine = _my_query_log(client, world.owner_ric)
    platform_reads = [e for e in mine if e["purpose"] == "平台查询本平台店铺风险"]
    assert len(platform_reads) == 1 and platform_reads[0]["reader"] == f"电商平台 测试商城（{OPERATOR_USCC}）"
