"""Shared set-up of the e-commerce trade tests (no tests here): a registered platform with its API key,
and builders of shop, order and rating rows as a platform sends them."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from chengxin.core.clock import CHINA
from factories import ric_for, uscc_for

NOW = dt.datetime.now(CHINA).replace(microsecond=0)


def h(label: object) -> str:
    """A 64-hex hash as a platform would send (here: SHA-256 of a label)."""
    return hashlib.sha256(str(label).encode()).hexdigest()


def at(days_ago: float, hour: int = 10) -> str:
    """An ISO time ``days_ago`` days before now, Beijing time."""
    return (NOW - dt.timedelta(days=days_ago)).replace(hour=hour, minute=0, second=0).isoformat()


@dataclass(frozen=True)
class Plat:
    code: str
    uscc: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}


def make_platform(client: TestClient, make_user: Callable[..., str], make_api_key: Callable[[str], str], n: int,
                  code: str = "") -> Plat:
    """Register platform ``n`` through the office API and issue its platform key."""
    office = make_user("credit_office")
    uscc = uscc_for(900 + n)
    code = code or f"plat{n}"
    resp = client.post("/api/v1/ecommerce/platforms", headers={"Authorization": f"Bearer {office}"},
                       json={"uscc": uscc, "code": code, "name": f"测试平台{n}", "url": f"https://p{n}.example.com",
                             "operator_name": f"常州测试平台{n}网络科技有限公司"})
    assert resp.status_code == 201, resp.text
    return Plat(code, uscc, make_api_key(f"platform:{uscc}"))


def shop(n: int, *, person: bool = False, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"shop_code": f"S{n}", "name": f"龙城测试店{n}", "url": f"https://shop.example.com/S{n}",
                           "owner_name": "王小明" if person else f"常州店铺{n}商贸有限公司",
                           "category": "食品/茶叶", "opened_on": "2021-06-01", "status": "open"}
    if person:
        row["owner_ric"] = ric_for(5000 + n)
    else:
        row["owner_uscc"] = uscc_for(5000 + n)
        row["licence_no"] = row["owner_uscc"]
    row.update(kw)
    return row


def order(n: int, shop_code: str = "S1", *, buyer: int = 1, days_ago: float = 20, amount: str = "128.00",
          shipment: bool = True, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "source_order_id": f"O{n}", "shop_code": shop_code, "buyer_account_hash": h(f"buyer{buyer}"),
        "amount": amount, "placed_at": at(days_ago, 9), "status": "delivered",
        "address_hash": h(f"addr{buyer}"), "device_hash": h(f"dev{buyer}"), "payment_hash": h(f"pay{buyer}"),
        "items": [{"gtin": "6901234567892", "name": "碧螺春 250g", "quantity": 2, "unit_price": "64.00",
                   "unit_weight_g": 260}],
    }
    if shipment:
        row["shipment"] = {"logistics_uscc": uscc_for(777), "tracking_hash": h(f"track{n}"), "declared_weight_g": 600,
                           "shipped_at": at(days_ago, 15), "signed_at": at(days_ago - 1, 9), "scan_count": 6,
                           "distance_km": 212.5}
    row.update(kw)
    return row


def rating(n: int, order_no: int, *, direction: str = "buyer_to_shop", value: str = "good", days_ago: float = 15,
           **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"source_rating_id": f"R{n}", "source_order_id": f"O{order_no}", "direction": direction,
                           "value": value, "stars": 5 if value == "good" else 2, "text": "很好，推荐",
                           "rated_at": at(days_ago, 20)}
    row.update(kw)
    return row


def push(client: TestClient, plat: Plat, kind: str, rows: list[dict[str, Any]], **extra: Any) -> Any:
    resp = client.post(f"/api/v1/ecommerce/{kind}/batches", headers=plat.headers, json={kind: rows, **extra})
    assert resp.status_code == 200, resp.text
    return resp.json()


def codes(receipt: dict[str, Any]) -> dict[int, set[str]]:
    """Row number → the problem codes of that rejected row."""
    return {r["row"]: {p["code"] for p in r["problems"]} for r in receipt["rejections"]}
