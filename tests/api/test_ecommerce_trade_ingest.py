"""Platforms, shops, orders and ratings through HTTP on the real app and database: registration by the office,
platform keys and their limits (401 / 403), per-row validation with receipts, idempotency (unchanged /
corrected), the follow-up review window and its once-only rule, files (JSON Lines, CSV) and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.api.test_ecommerce_trade_support import Plat, at, codes, h, make_platform, order, push, rating, shop
from typer.testing import CliRunner

from chengxin.ecommerce.trade.models import EcOrder, EcOrderItem, EcRating, EcShipment, EcShop
from chengxin.platform import Platform
from chengxin.subjects.models import Subject
from factories import ric_for, uscc_for


@pytest.fixture()
def plat(client: TestClient, make_user: Callable[..., str], make_api_key: Callable[[str], str]) -> Plat:
    p = make_platform(client, make_user, make_api_key, 1)
    push(client, p, "shops", [shop(1), shop(2, person=True)])
    return p


# -- platforms -------------------------------------------------------------------------------------------


def test_only_the_office_registers_platforms(client: TestClient, make_user: Callable[..., str],
                                             make_api_key: Callable[[str], str]) -> None:
    body = {"uscc": uscc_for(901), "code": "tmall", "name": "天猫"}
    assert client.post("/api/v1/ecommerce/platforms", json=body).status_code == 401
    clerk = make_user("clerk", department="samr")
    resp = client.post("/api/v1/ecommerce/platforms", json=body, headers={"Authorization": f"Bearer {clerk}"})
    assert resp.status_code == 403
    office = {"Authorization": f"Bearer {make_user('credit_office')}"}
    resp = client.post("/api/v1/ecommerce/platforms", json=body, headers=office)
    assert resp.status_code == 201, resp.text
    assert resp.json()["api_key_department"] == f"platform:{uscc_for(901)}"
    again = client.post("/api/v1/ecommerce/platforms", json={**body, "name": "天猫商城"}, headers=office)
    assert again.status_code == 201 and again.json()["name"] == "天猫商城"
    taken = client.post("/api/v1/ecommerce/platforms", json={**body, "uscc": uscc_for(902)}, headers=office)
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "platform.code_taken"
    bad = client.post("/api/v1/ecommerce/platforms", json={**body, "code": "T M"}, headers=office)
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "code"
    listed = client.get("/api/v1/ecommerce/platforms").json()
    assert [p["code"] for p in listed] == ["tmall"] and listed[0]["shops"] == 0


# -- permissions -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["shops", "orders", "ratings"])
def test_permissions(client: TestClient, make_user: Callable[..., str], make_api_key: Callable[[str], str],
                     plat: Plat, kind: str) -> None:
    rows = {"shops": [shop(3)], "orders": [order(1)], "ratings": [rating(1, 1)]}[kind]
    url = f"/api/v1/ecommerce/{kind}/batches"
    assert client.post(url, json={kind: rows}).status_code == 401
    bad_key = client.post(url, json={kind: rows}, headers={"X-API-Key": "cx_nope"})
    assert bad_key.status_code == 401
    department = client.post(url, json={kind: rows}, headers={"X-API-Key": make_api_key("samr")})
    assert department.status_code == 403 and department.json()["error"]["code"] == "ecommerce.platform_key_required"
    other = make_platform(client, make_user, make_api_key, 2)
    resp = client.post(url, json={kind: rows, "platform": plat.code}, headers=other.headers)
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "ecommerce.other_platform"
    unregistered = make_api_key(f"platform:{uscc_for(999)}")
    resp = client.post(url, json={kind: rows}, headers={"X-API-Key": unregistered})
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "ecommerce.platform_not_registered"


def test_a_platform_cannot_push_orders_for_another_platforms_shop(client: TestClient, make_user: Callable[..., str],
                                                                  make_api_key: Callable[[str], str],
                                                                  plat: Plat) -> None:
    other = make_platform(client, make_user, make_api_key, 2)
    receipt = push(client, other, "orders", [order(1, "S1")])  # S1 is a shop of plat, not of other
    assert receipt["rejected"] == 1 and codes(receipt) == {1: {"order.shop_unknown"}}
    receipt_id = receipt["batch_id"]
    assert client.get(f"/api/v1/ecommerce/batches/{receipt_id}", headers=other.headers).status_code == 200
    assert client.get(f"/api/v1/ecommerce/batches/{receipt_id}", headers=plat.headers).status_code == 403


def _wrong_check(uscc: str) -> str:
    return uscc[:-1] + ("1" if uscc[-1] != "1" else "2")


# -- shops -----------------------------------------------------------------------------------------------


def test_shops_are_validated_per_row_and_owners_bound_encrypted(client: TestClient, platform: Platform,
                                                                plat: Plat) -> None:
    rows = [
        shop(10),
        shop(11, person=True, owner_ric=ric_for(6011)),
        shop(12, owner_ric=ric_for(1)),  # both identifiers
        shop(13, owner_uscc=_wrong_check(uscc_for(5013))),
        shop(14, name="", opened_on="2099-01-01"),
        shop(15, person=True, owner_ric=ric_for(5002), owner_name="李四"),  # shop 2's owner is 王小明
    ]
    receipt = push(client, plat, "shops", rows)
    assert (receipt["received"], receipt["accepted"], receipt["rejected"]) == (6, 2, 4)
    found = codes(receipt)
    assert found[3] == {"owner.one_identifier"}
    assert found[4] == {"uscc.check_character"}
    assert found[5] == {"field.required", "date.future"}
    assert found[6] == {"owner.name_mismatch"}
    problem = receipt["rejections"][0]["problems"][0]
    assert problem["message"] and problem["message_en"] and problem["field"] == "owner_ric"
    assert receipt["rejections"][0]["source_id"] == "S12"
    with platform.db.read() as session:
        person = session.execute(select(Subject).join(EcShop, EcShop.owner_subject_id == Subject.id)
                                 .where(EcShop.shop_code == "S11")).scalar_one()
    assert person.kind == "person" and person.display_id != ric_for(6011) and "*" in person.display_name
    assert person.id_cipher is not None and ric_for(6011).encode() not in person.id_cipher
    again = push(client, plat, "shops", rows[:2])
    assert (again["unchanged"], again["accepted"], again["corrected"]) == (2, 0, 0)
    closed = push(client, plat, "shops", [shop(10, status="closed")])
    assert closed["corrected"] == 1


# -- orders ----------------------------------------------------------------------------------------------


def test_orders_are_idempotent_and_corrected(client: TestClient, platform: Platform, plat: Plat) -> None:
    first = push(client, plat, "orders", [order(1), order(2, "S2", buyer=2, shipment=False)])
    assert (first["accepted"], first["rejected"]) == (2, 0), first
    same = push(client, plat, "orders", [order(1), order(2, "S2", buyer=2, shipment=False)])
    assert (same["unchanged"], same["accepted"], same["corrected"]) == (2, 0, 0)
    changed = order(1, amount="99.50", items=[{"name": "龙井 100g", "quantity": 1, "unit_price": "99.50"}],
                    shipment=False)
    corrected = push(client, plat, "orders", [changed, order(2, "S1", buyer=2)])
    assert corrected["corrected"] == 1 and codes(corrected) == {2: {"order.identity_changed"}}
    with platform.db.read() as session:
        o1 = session.execute(select(EcOrder).where(EcOrder.source_order_id == "O1")).scalar_one()
        items = session.execute(select(EcOrderItem).where(EcOrderItem.order_id == o1.id)).scalars().all()
        shipments = session.scalar(select(func.count()).select_from(EcShipment).where(EcShipment.order_id == o1.id))
    assert o1.amount_cents == 9950 and [i.name for i in items] == ["龙井 100g"] and items[0].gtin is None
    assert shipments == 0


def test_orders_reject_clear_personal_data_and_bad_values(client: TestClient, plat: Plat) -> None:
    rows = [
        order(1, address_hash="江苏省常州市天宁区某某路 1 号"),
        order(2, buyer_account_hash="13812345678"),
        order(3, device_hash="abc123"),
        order(4, amount="12.345"),
        order(5, amount="-1"),
        order(6, placed_at="2099-01-01T00:00:00+08:00", shipment=False),
        order(7, items=[]),
        order(8, items=[{"gtin": "6901234567890", "name": "茶", "quantity": 0, "unit_price": "1"}]),
        {**order(9), "shipment": {"tracking_hash": h("t"), "shipped_at": at(3), "signed_at": at(4)}},
        order(10, payment_hash=ric_for(3)),
        order(11, colour="red"),
        order(12, placed_at="2026-02-30T10:00:00"),
    ]
    receipt = push(client, plat, "orders", rows)
    assert receipt["rejected"] == 12 and receipt["accepted"] == 0
    found = codes(receipt)
    assert found[1] == {"hash.clear_personal_data"}
    assert found[2] == {"hash.clear_personal_data"}
    assert found[3] == {"hash.invalid"}
    assert found[4] == {"amount.precision"}
    assert found[5] == {"amount.range"}
    assert found[6] == {"datetime.future"}
    assert found[7] == {"items.required"}
    assert found[8] == {"gtin.check_digit", "int.range"}
    assert found[9] == {"shipment.signed_before_shipped"}
    assert found[10] == {"hash.clear_personal_data"}
    assert found[11] == {"field.unknown"}
    assert found[12] == {"datetime.invalid"}
    fields = {p["field"] for r in receipt["rejections"] for p in r["problems"]}
    assert {"address_hash", "items[1].gtin", "items[1].quantity", "shipment.signed_at"} <= fields


def test_batch_size_limit_is_the_dated_rule(client: TestClient, plat: Plat) -> None:
    resp = client.post("/api/v1/ecommerce/orders/batches", headers=plat.headers, json={"orders": [{}] * 5001})
    assert resp.status_code == 413 and resp.json()["error"]["code"] == "batch.too_large"


# -- ratings ---------------------------------------------------------------------------------------------


def test_ratings_idempotent_validated_and_follow_up_window(client: TestClient, platform: Platform, plat: Plat) -> None:
    push(client, plat, "orders", [order(n, buyer=n, days_ago=300) for n in range(1, 8)])
    rows = [
        rating(1, 1, days_ago=290),
        rating(2, 1, direction="shop_to_buyer", days_ago=289),
        rating(3, 2, days_ago=290, follow_up_text="用了半年，依然很好", follow_up_at=at(111)),  # 179 days later
        rating(4, 3, days_ago=290, follow_up_text="迟到的追评", follow_up_at=at(105)),  # 185 days: too late
        rating(5, 4, direction="shop_to_buyer", follow_up_text="卖家追评", follow_up_at=at(10)),
        rating(6, 1, days_ago=280),  # a second buyer_to_shop rating of order 1
        rating(7, 99),  # unknown order
        rating(8, 5, days_ago=301),  # before the order
        rating(9, 6, follow_up_text="只有内容"),
        rating(10, 7, value="好评", stars=6),
    ]
    receipt = push(client, plat, "ratings", rows)
    found = codes(receipt)
    assert receipt["accepted"] == 3, receipt
    assert found == {4: {"follow_up.window"}, 5: {"follow_up.direction"}, 6: {"rating.duplicate"},
                     7: {"rating.order_unknown"}, 8: {"rating.before_order"}, 9: {"follow_up.incomplete"},
                     10: {"int.range"}}
    assert "180" in next(p["message"] for r in receipt["rejections"] if r["row"] == 4 for p in r["problems"])
    again = push(client, plat, "ratings", rows[:3])
    assert (again["unchanged"], again["accepted"], again["corrected"]) == (3, 0, 0)
    # A follow-up added later, within the window: a correction; then it is fixed for good.
    added = push(client, plat, "ratings", [rating(1, 1, days_ago=290, follow_up_text="追评一次", follow_up_at=at(200))])
    assert added["corrected"] == 1
    changed = push(client, plat, "ratings", [
        rating(1, 1, days_ago=290, follow_up_text="再追评", follow_up_at=at(150)),
        rating(3, 2, days_ago=290),  # dropping the follow-up
        rating(2, 1, direction="shop_to_buyer", days_ago=289, value="neutral"),
    ])
    assert codes(changed) == {1: {"follow_up.once"}, 2: {"follow_up.once"}} and changed["corrected"] == 1
    with platform.db.read() as session:
        stored = session.execute(select(EcRating).where(EcRating.source_rating_id == "R1")).scalar_one()
        order1 = session.execute(select(EcOrder).where(EcOrder.source_order_id == "O1")).scalar_one()
    assert stored.follow_up_text == "追评一次" and stored.shop_id == order1.shop_id
    assert stored.buyer_account_id == order1.buyer_account_id and stored.text_hash and len(stored.text_hash) == 64


# -- files and the CLI -----------------------------------------------------------------------------------


def test_files_jsonl_and_csv(client: TestClient, platform: Platform, plat: Plat) -> None:
    import orjson

    jsonl = b"\n".join(orjson.dumps(o) for o in [order(1), order(2, buyer=2)]) + b"\n"
    resp = client.post("/api/v1/ecommerce/files", headers=plat.headers, data={"kind": "orders"},
                       files={"file": ("orders.jsonl", jsonl, "application/x-ndjson")})
    assert resp.status_code == 200, resp.text
    assert resp.json()["accepted"] == 2 and resp.json()["channel"] == "file"
    header = "订单编号,店铺编号,买家账号哈希,订单金额,下单时间,订单状态,商品名称,数量,单价,单件重量克,运单号哈希,发货时间,签收时间\n"
    lines = [f"O3,S1,{h('b3')},30.00,{at(5)},delivered,毛尖,1,10.00,100,{h('t3')},{at(4)},{at(3)}",
             f"O3,S1,{h('b3')},30.00,{at(5)},delivered,白茶,2,10.00,120,{h('t3')},{at(4)},{at(3)}",
             f"O4,S9,{h('b4')},5.00,{at(5)},paid,红茶,1,5.00,,,,"]
    body = (header + "\n".join(lines) + "\n").encode("gbk")
    resp = client.post("/api/v1/ecommerce/files", headers=plat.headers, data={"kind": "orders"},
                       files={"file": ("orders.csv", body, "text/csv")})
    receipt = resp.json()
    assert resp.status_code == 200 and receipt["accepted"] == 1 and codes(receipt) == {4: {"order.shop_unknown"}}
    with platform.db.read() as session:
        o3 = session.execute(select(EcOrder).where(EcOrder.source_order_id == "O3")).scalar_one()
        names = session.execute(select(EcOrderItem.name).where(EcOrderItem.order_id == o3.id)
                                .order_by(EcOrderItem.line_no)).scalars().all()
    assert names == ["毛尖", "白茶"] and o3.amount_cents == 3000
    ratings = "评价编号,订单编号,评价方向,评价结果,星级,评价内容,评价时间\n" + f"R1,O3,buyer_to_shop,好评,5,不错,{at(2)}\n"
    resp = client.post("/api/v1/ecommerce/files", headers=plat.headers, data={"kind": "ratings"},
                       files={"file": ("r.csv", ratings.encode(), "text/csv")})
    assert resp.json()["accepted"] == 1, resp.text
    empty = client.post("/api/v1/ecommerce/files", headers=plat.headers, data={"kind": "ratings"},
                        files={"file": ("r.csv", b"", "text/csv")})
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "file.empty"


def test_cli_platform_add_and_ingest(platform: Platform, tmp_path: Path, monkeypatch: Any) -> None:
    import orjson

    import chengxin.platform
    from chengxin.cli.main import app

    monkeypatch.setattr(chengxin.platform, "open_platform", lambda: platform)
    runner = CliRunner()
    uscc = uscc_for(950)
    added = runner.invoke(app, ["ecommerce", "platform", "add", "--uscc", uscc, "--code", "jd", "--name", "京东"])
    assert added.exit_code == 0, added.output
    shops = tmp_path / "shops.jsonl"
    shops.write_bytes(orjson.dumps(shop(1)) + b"\n")
    result = runner.invoke(app, ["ecommerce", "ingest", str(shops), "--platform", uscc, "--kind", "shops"])
    assert result.exit_code == 0, result.output
    orders = tmp_path / "orders.jsonl"
    orders.write_bytes(orjson.dumps(order(1)) + b"\n" + orjson.dumps(order(2, amount="1.001")) + b"\n")
    result = runner.invoke(app, ["ecommerce", "ingest", str(orders), "-p", "jd", "-k", "orders"])
    assert result.exit_code == 1 and "新增 1" in result.output and "amount.precision" in result.output
    listed = runner.invoke(app, ["ecommerce", "platform", "list"])
    assert listed.exit_code == 0 and "京东" in listed.output


def test_the_same_source_id_twice_in_one_batch(client: TestClient, platform: Platform, plat: Plat) -> None:
    first = push(client, plat, "orders", [order(5), order(5), order(5, amount="1.50"), order(6, "S2", buyer=2)])
    assert (first["accepted"], first["unchanged"], first["corrected"]) == (2, 1, 1)
    ratings = push(client, plat, "ratings", [rating(20, 5), rating(20, 5, value="bad"), rating(21, 5)])
    assert (ratings["accepted"], ratings["corrected"]) == (1, 1) and codes(ratings) == {3: {"rating.duplicate"}}
    with platform.db.read() as session:
        assert session.execute(select(EcOrder.amount_cents).where(EcOrder.source_order_id == "O5")).scalar_one() == 150
        assert session.execute(select(EcRating.value).where(EcRating.source_rating_id == "R20")).scalar_one() == "bad"
        items = session.scalar(select(func.count()).select_from(EcOrderItem))
    assert items == 2  # one line per order, the corrected order's written once
