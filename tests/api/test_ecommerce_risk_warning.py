"""Shop risk warning through HTTP: the regulators' board, risk notices (publish, public pages, withdrawal),
a shop's level for its own platform only, level changes delivered through the subscriptions outbox, and the
e-commerce scenarios of the credit check."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.api.test_ecommerce_risk_support import (
    NOW,
    OPERATOR_USCC,
    World,
    bearer,
    seed_findings,
    small_world,
)
from tests.api.test_objections_support import csrf
from tests.api.test_subscriptions_support import Clock, receiver

from chengxin.core.audit import SYSTEM
from chengxin.core.clock import today_cn
from chengxin.ecommerce.risk.models import EcShopRisk
from chengxin.ecommerce.risk.warning import recompute
from chengxin.lists.models import ListChange
from chengxin.platform import Platform
from chengxin.subscriptions.config import WebhookSettings, config_on
from chengxin.subscriptions.sender import run_once
from factories import listed_entry, uscc_for


@pytest.fixture()
def world(platform: Platform) -> World:
    return small_world(platform)


def _confirm(client: TestClient, make_user: Callable[..., str], finding_id: int) -> None:
    r = client.post(f"/api/v1/ecommerce/findings/{finding_id}/confirm", headers=bearer(make_user("clerk", "samr")),
                    json={"note": "核实属刷单"})
    assert r.status_code == 200, r.text


def test_levels_reasons_and_the_board(client: TestClient, platform: Platform, world: World,
                                      make_user: Callable[..., str]) -> None:
    found = seed_findings(platform, world)
    with platform.db.read() as s:
        levels = {r.shop_id: r for r in s.scalars(select(EcShopRisk))}
    s1, s2, s3 = (levels[world.shops[c]] for c in ("S1", "S2", "S3"))
    assert s1.level == "medium" and s1.score == pytest.approx(0.93 * 25, abs=0.1)  # one open finding, confidence 0.93
    assert s2.level == "low" and s2.score == pytest.approx(0.71 * 25, abs=0.1)
    assert any(r["code"] == "findings_open" for r in s1.reasons)
    assert s3.level == "low" and not any(r["code"].startswith("findings") for r in s3.reasons)  # a victim
    # Complaints are connected (ec_complaint): a shop without any has no complaints reason at all — neither points
    # nor "not connected" (tests/api/test_ecommerce_complaints.py: a shop with complaints gets reason and points).
    assert not any(r["code"].startswith("complaints") for r in (*s1.reasons, *s2.reasons, *s3.reasons))
    _confirm(client, make_user, found["order_brushing"])
    listed_entry(platform, list_kind="black", ric=world.owner_ric, name="李四")
    recompute(platform.db, now=NOW, actor=SYSTEM)
    office = bearer(make_user("credit_office"))
    board = client.get("/api/v1/ecommerce/risk", headers=office).json()
    top = board["items"][0]
    assert top["shop_code"] == "S1" and top["level"] == "severe"
    codes = {r["code"] for r in top["reasons"]}
    assert {"findings_confirmed", "list_black", "records"} <= codes
    assert "李*" == top["owner_name"][:2]
    only = client.get("/api/v1/ecommerce/risk", headers=office, params={"level": "low"}).json()
    assert {i["shop_code"] for i in only["items"]} == {"S2", "S3"}
    assert "S2" not in {i["shop_code"] for i in board["items"]}  # the board starts at medium


def test_publish_read_and_withdraw_a_risk_notice(client: TestClient, platform: Platform, world: World,
                                                 make_user: Callable[..., str]) -> None:
    found = seed_findings(platform, world)
    samr = bearer(make_user("clerk", "samr"))
    early = client.post("/api/v1/ecommerce/risk-notices", headers=samr,
                        json={"platform": world.platform_code, "shop": "S1"})
    assert early.status_code == 409 and early.json()["error"]["code"] == "ecommerce.notice_level_too_low"
    _confirm(client, make_user, found["order_brushing"])
    listed_entry(platform, list_kind="black", ric=world.owner_ric, name="李四")
    recompute(platform.db, now=NOW, actor=SYSTEM)
    other = bearer(make_user("clerk", "tax"))
    assert client.post("/api/v1/ecommerce/risk-notices", headers=other,
                       json={"platform": world.platform_code, "shop": "S1"}).status_code == 403
    assert client.post("/api/v1/ecommerce/risk-notices", json={"platform": world.platform_code,
                                                                "shop": "S1"}).status_code == 401
    made = client.post("/api/v1/ecommerce/risk-notices", headers=samr,
                       json={"platform": world.platform_code, "shop": "S1", "note": "请消费者谨慎购买该店铺商品"})
    assert made.status_code == 201, made.text
    n = made.json()
    assert n["no"].startswith(f"FX-{today_cn().year}-") and n["state"] == "published"
    assert n["department_name"] == "常州市市场监督管理局" and "请消费者谨慎购买" in n["text"]
    assert world.owner_ric not in json.dumps(n, ensure_ascii=False) and "自然人，身份信息已脱敏" in n["text"]
    twice = client.post("/api/v1/ecommerce/risk-notices", headers=samr,
                        json={"platform": world.platform_code, "shop": "S1"})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "ecommerce.notice_exists"
    # Public: list and page, no sign-in.
    public = client.get("/api/v1/ecommerce/risk-notices").json()
    assert [i["no"] for i in public["items"]] == [n["no"]]
    page = client.get(f"/risk-notices/{n['no']}")
    assert page.status_code == 200 and "风险提示" in page.text and "withdraw-form" not in page.text
    listing = client.get("/risk-notices")
    assert n["no"] in listing.text and "龙城S1店" in listing.text
    # Withdrawal: staff on the notice page (form with CSRF), kept and marked.
    client.cookies.update({"cx_session": make_user("clerk", "commerce")})
    staff_page = client.get(f"/risk-notices/{n['no']}")
    assert 'id="withdraw-form"' in staff_page.text
    gone = client.post(f"/risk-notices/{n['no']}/withdraw", follow_redirects=False,
                       data={"csrf_token": csrf(staff_page.text), "reason": "经营者已整改并通过复核"})
    assert gone.status_code == 303
    client.cookies.clear()
    after = client.get(f"/api/v1/ecommerce/risk-notices/{n['no']}").json()
    assert after["state"] == "withdrawn" and after["withdraw_reason"] == "经营者已整改并通过复核"
    assert client.get("/api/v1/ecommerce/risk-notices").json()["total"] == 0
    assert client.get("/api/v1/ecommerce/risk-notices", params={"include_withdrawn": True}).json()["total"] == 1
    assert "本风险提示已于" in client.get(f"/risk-notices/{n['no']}").text


def test_the_board_page_publishes_with_its_form(client: TestClient, platform: Platform, world: World,
                                                make_user: Callable[..., str]) -> None:
    found = seed_findings(platform, world)
    _confirm(client, make_user, found["order_brushing"])
    listed_entry(platform, list_kind="black", ric=world.owner_ric, name="李四")
    recompute(platform.db, now=NOW, actor=SYSTEM)
    client.cookies.update({"cx_session": make_user("credit_office")})
    page = client.get("/office/ecommerce/risk")
    assert page.status_code == 200 and 'data-shop="S1" data-level="severe"' in page.text and "发布风险提示" in page.text
    done = client.post(f"/office/ecommerce/risk/{world.shops['S1']}/notice", follow_redirects=False,
                       data={"csrf_token": csrf(page.text), "note": ""})
    assert done.status_code == 303 and done.headers["location"].startswith("/risk-notices/FX-")
    client.cookies.clear()
    notice = client.get(done.headers["location"]).text
    assert "常州市社会信用体系建设领导小组办公室" in notice or "市信用办" in notice


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 401), ("own_platform", 200), ("other_platform", 403),
                                               ("regulator", 200), ("clerk_other_dept", 403)])
def test_a_shop_s_risk_for_its_own_platform(client: TestClient, platform: Platform, world: World,
                                            make_user: Callable[..., str], make_api_key: Callable[[str], str],
                                            who: str, expected: int) -> None:
    seed_findings(platform, world)
    auth = {"anonymous": {}, "own_platform": {"X-API-Key": make_api_key(f"platform:{OPERATOR_USCC}")},
            "other_platform": {"X-API-Key": make_api_key(f"platform:{uscc_for(991)}")},
            "regulator": bearer(make_user("clerk", "samr")),
            "clerk_other_dept": bearer(make_user("clerk", "tax"))}[who]
    r = client.get(f"/api/v1/ecommerce/shops/{world.platform_code}/S1/risk", headers=auth)
    assert r.status_code == expected, r.text
    if expected == 200:
        body = r.json()
        assert body["level"] == "medium" and body["parameter_version"] == "2026.1" and body["reasons"]
    missing = client.get(f"/api/v1/ecommerce/shops/{world.platform_code}/NOPE/risk", headers=auth)
    assert missing.status_code == (401 if who == "anonymous" else 404)


def test_level_changes_reach_the_shop_s_platform_through_the_outbox(client: TestClient, platform: Platform,
                                                                    make_api_key: Callable[[str], str]) -> None:
    world = small_world(platform)
    small_world(platform, code="othermall", operator_uscc=uscc_for(991))
    own_key = {"X-API-Key": make_api_key(f"platform:{OPERATOR_USCC}")}
    other_key = {"X-API-Key": make_api_key(f"platform:{uscc_for(991)}")}
    settings = WebhookSettings(allow_http_hosts="127.0.0.1")
    cfg = config_on(today_cn())
    with receiver([]) as own_rx, receiver([]) as other_rx:
        for auth, rx in ((own_key, own_rx), (other_key, other_rx)):
            r = client.post("/api/v1/subscriptions", headers=auth, json={
                "url": rx.url, "list_kinds": ["shop_risk"], "changes": ["risk_changed"], "subjects": []})
            assert r.status_code == 201, r.text
        seed_findings(platform, world)
        with platform.db.read() as s:
            feed = list(s.scalars(select(ListChange).where(ListChange.list_kind == "shop_risk")))
        assert feed and all(c.entry_id is None for c in feed)
        run_once(platform, clock=Clock(dt.datetime.now(dt.UTC)), draw=lambda: 0.5, cfg=cfg, settings=settings)
    assert other_rx.received == []  # another platform never hears of these shops
    bodies = [json.loads(x.body) for x in own_rx.received]
    assert [b["data"]["shop"]["shop_code"] for b in bodies] == ["S1"]  # S2 stays low: no change, no event
    one = next(b for b in bodies if b["data"]["shop"]["shop_code"] == "S1")
    assert one["type"] == "list.change" and one["data"]["list_kind"] == "shop_risk"
    assert one["data"]["change"] == "risk_changed" and one["data"]["level"] == "medium"
    assert one["data"]["previous_level"] is None and one["data"]["subject"]["display_name"] == "李*"
    assert one["data"]["url"].endswith(f"/api/v1/ecommerce/shops/{world.platform_code}/S1/risk")
    assert "webhook-signature" in own_rx.received[0].headers


def test_the_credit_check_knows_the_e_commerce_scenarios(client: TestClient, platform: Platform,
                                                         make_api_key: Callable[[str], str]) -> None:
    listed_entry(platform, list_kind="red", uscc=uscc_for(4242), name="常州守信电商有限公司")
    key = {"X-API-Key": make_api_key(f"platform:{OPERATOR_USCC}")}
    r = client.post("/api/v1/checks", headers=key, json={"subject": uscc_for(4242), "scenario": "ec_marketing"})
    assert r.status_code == 200, r.text
    assert r.json()["result"] == "listed" and [m["code"] for m in r.json()["measures"]] == ["R-EC-02"]
    listed_entry(platform, list_kind="black", uscc=uscc_for(4243), name="常州失信电商有限公司")
    black = client.post("/api/v1/checks", headers=key, json={"subject": uscc_for(4243), "scenario": "platform_entry"})
    assert "B-EC-01" in [m["code"] for m in black.json()["measures"]]
    marketing = client.post("/api/v1/checks", headers=key, json={"subject": uscc_for(4243), "scenario": "ec_marketing"})
    assert [m["code"] for m in marketing.json()["measures"]] == ["B-EC-02"]
    assert "电商营销活动" in client.get("/measures").text


def test_a_platform_gets_shop_risk_through_the_credit_check(client: TestClient, platform: Platform, world: World,
                                                           make_user: Callable[..., str],
                                                           make_api_key: Callable[[str], str]) -> None:
    """Issue #7, 4: platforms get shop risk "through the credit check" — in the same one read (ec_owner_risk):
    their own shops always, another platform's only under a published risk notice; departments all of them."""
    found = seed_findings(platform, world)
    own = {"X-API-Key": make_api_key(f"platform:{OPERATOR_USCC}")}
    other = {"X-API-Key": make_api_key(f"platform:{uscc_for(991)}")}
    samr_key = {"X-API-Key": make_api_key("samr")}

    def shops(auth: dict[str, str], scenario: str = "ec_marketing") -> list[dict[str, object]] | None:
        r = client.post("/api/v1/checks", headers=auth, json={"subject": world.owner_ric, "scenario": scenario})
        assert r.status_code == 200, r.text
        return r.json().get("shop_risk")

    mine = shops(own)
    assert mine is not None and [(s["shop_code"], s["level"], s["level_zh"], s["notice_no"]) for s in mine] == [
        ("S1", "medium", "中", None)]
    assert mine[0]["platform_uscc"] == OPERATOR_USCC and mine[0]["platform_code"] == world.platform_code
    assert shops(other) == [] and shops(samr_key) == mine
    assert shops(own, "admin_licensing") is None  # not an e-commerce scenario: no shop risk in the answer
    # Severe, then a notice: another platform now hears of it too, with the notice number; withdrawn: not any more.
    _confirm(client, make_user, found["order_brushing"])
    listed_entry(platform, list_kind="black", ric=world.owner_ric, name="李四")
    recompute(platform.db, now=NOW, actor=SYSTEM)
    assert [s["level"] for s in shops(own) or []] == ["severe"] and shops(other) == []
    samr = bearer(make_user("clerk", "samr"))
    notice = client.post("/api/v1/ecommerce/risk-notices", headers=samr,
                         json={"platform": world.platform_code, "shop": "S1"}).json()
    seen = shops(other)
    assert seen is not None and [(s["shop_code"], s["notice_no"]) for s in seen] == [("S1", notice["no"])]
    r = client.post(f"/api/v1/ecommerce/risk-notices/{notice['no']}/withdraw", headers=samr,
                    json={"reason": "经营者已整改"})
    assert r.status_code == 200, r.text
    assert shops(other) == [] and [s["notice_no"] for s in shops(own) or []] == [None]
    # The batch check says the same in its last column.
    lines = ["主体标识,业务编号", f"{world.owner_ric},B-1", f"{uscc_for(7102)},B-2"]
    made = client.post("/api/v1/checks/batches", data={"scenario": "ec_marketing"}, headers=own,
                       files={"file": ("shops.csv", "\n".join(lines).encode("utf-8"), "text/csv")})
    assert made.status_code == 201, made.text
    text = client.get(made.json()["result_csv"], headers=own).content.decode("utf-8-sig")
    rows = {r[2]: r for r in csv.reader(io.StringIO(text))}
    assert rows["B-1"][12] == "测试商城 龙城S1店（S1）：极高" and rows["B-2"][12] == ""
