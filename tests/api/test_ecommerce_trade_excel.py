"""Excel for platforms (issue #7): a template per file kind (API, CLI, a link on the office's platforms page)
with Chinese headers and the English codes in notes, filled in with openpyxl as a platform's clerk would, read
back by the same file ingest (API and CLI), with a bad row reported by its Excel row number and field."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from tests.api.test_ecommerce_trade_support import NOW, Plat, at, h, make_platform
from typer.testing import CliRunner

from chengxin.core.clock import CHINA
from chengxin.ecommerce.trade.models import EcOrder, EcOrderItem, EcRating, EcShop
from chengxin.platform import Platform
from chengxin.subjects.models import Subject
from factories import ric_for, uscc_for

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _template(client: TestClient, kind: str) -> bytes:
    resp = client.get(f"/api/v1/ecommerce/templates/{kind}.xlsx")
    assert resp.status_code == 200 and resp.headers["content-type"] == XLSX
    assert f"ecommerce_{kind}.xlsx" in resp.headers["content-disposition"]
    return resp.content


def _codes(ws: Any) -> list[str]:
    """Each header's column code, as the header's note gives it (``中文名（code）`` on its first line)."""
    return [str(c.comment.text).split("\n")[0].rsplit("（", 1)[1].rstrip("）") for c in ws[1]]


def _fill(template: bytes, rows: list[dict[str, Any]]) -> bytes:
    """The template with ``rows`` (column code → cell value) typed in from row 2, as a clerk does in Excel."""
    wb = load_workbook(io.BytesIO(template))
    ws = wb["数据"]
    where = {code: n for n, code in enumerate(_codes(ws), start=1)}
    for r, row in enumerate(rows, start=2):
        for code, value in row.items():
            ws.cell(row=r, column=where[code], value=value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _upload(client: TestClient, plat: Plat, kind: str, body: bytes) -> dict[str, Any]:
    resp = client.post("/api/v1/ecommerce/files", headers=plat.headers, data={"kind": kind},
                       files={"file": (f"{kind}.xlsx", body, XLSX)})
    assert resp.status_code == 200, resp.text
    receipt: dict[str, Any] = resp.json()
    return receipt


@pytest.fixture()
def plat(client: TestClient, make_user: Callable[..., str], make_api_key: Callable[[str], str]) -> Plat:
    return make_platform(client, make_user, make_api_key, 1)


def _local(days_ago: float, hour: int) -> dt.datetime:
    """A naive Beijing date-time, as Excel stores a date-time cell."""
    return (NOW - dt.timedelta(days=days_ago)).replace(hour=hour, minute=0, second=0, tzinfo=None)


SHOPS = [
    {"shop_code": "X1", "name": "龙城茶叶店", "owner_ric": ric_for(6001), "owner_name": "王小明", "category": "食品/茶叶",
     "opened_on": dt.datetime(2021, 6, 1), "status": "营业中"},
    {"shop_code": "X2", "name": "常州好物店", "owner_uscc": uscc_for(6002), "owner_name": "常州好物商贸有限公司",
     "licence_no": uscc_for(6002), "category": "日用百货", "opened_on": dt.datetime(2022, 1, 15)},
    {"shop_code": "X3", "name": "天宁书店", "url": "https://shop.example.com/X3", "owner_uscc": uscc_for(6003),
     "owner_name": "常州天宁书店有限公司", "category": "图书", "opened_on": dt.datetime(2020, 3, 8), "status": "暂停经营"},
]


def _orders() -> list[dict[str, Any]]:
    return [
        {"source_order_id": "XO1", "shop_code": "X1", "buyer_account_hash": h("xb1"), "amount": 128,
         "placed_at": _local(20, 9), "status": "已签收", "device_hash": h("xd1"), "item_gtin": "6901234567892",
         "item_name": "碧螺春 250g", "item_quantity": 2, "item_unit_price": 64, "item_unit_weight_g": 260,
         "shipment_tracking_hash": h("xt1"), "shipment_declared_weight_g": 600, "shipment_shipped_at": at(20, 15),
         "shipment_signed_at": at(19, 9), "shipment_scan_count": 6, "shipment_distance_km": 212.5},
        {"source_order_id": "XO2", "shop_code": "X2", "buyer_account_hash": h("xb2"), "amount": 19.9,
         "placed_at": at(10, 11), "status": "paid", "item_name": "毛巾", "item_quantity": 1, "item_unit_price": 19.9},
        {"source_order_id": "XO3", "shop_code": "X1", "buyer_account_hash": h("xb3"), "amount": "36.50",
         "placed_at": _local(5, 20).strftime("%Y-%m-%d %H:%M:%S"), "status": "已发货", "item_name": "龙井",
         "item_quantity": 1, "item_unit_price": "36.50"},
    ]


def test_each_kind_has_a_template_with_chinese_headers_and_the_codes_in_notes(client: TestClient) -> None:
    from chengxin.ecommerce.trade.files import KINDS

    for kind, columns in KINDS.items():
        wb = load_workbook(io.BytesIO(_template(client, kind)))
        ws = wb["数据"]
        labels = [str(c.value) for c in ws[1]]
        expected = [c for c in columns if c.code not in ("items", "shipment")]  # nested JSON: not in a sheet
        assert labels == [f"{c.label_zh}*" if c.required else c.label_zh for c in expected]
        assert _codes(ws) == [c.code for c in expected]
        assert all("\u4e00" <= label[0] <= "\u9fff" for label in labels)  # Chinese headers
        help_codes = {str(r[2].value) for r in wb["说明"].iter_rows(min_row=4) if r[2].value}
        assert {c.code for c in expected} <= help_codes
    orders = load_workbook(io.BytesIO(_template(client, "orders")))
    notes = " ".join(str(r[0].value) for r in orders["说明"].iter_rows() if r[0].value)
    assert "连续多行填写相同的订单编号" in notes and "POST /api/v1/ecommerce/files" in notes
    # The drop-downs offer the Chinese labels the parsers take.
    lists = [dv.formula1 for dv in orders["数据"].data_validations.dataValidation]
    assert any("已签收" in str(f) for f in lists)
    assert client.get("/api/v1/ecommerce/templates/buyers.xlsx").status_code == 422


def test_template_filled_in_excel_is_accepted(client: TestClient, platform: Platform, plat: Plat) -> None:
    shops = _upload(client, plat, "shops", _fill(_template(client, "shops"), SHOPS))
    assert (shops["received"], shops["accepted"], shops["rejected"]) == (3, 3, 0), shops
    orders = _upload(client, plat, "orders", _fill(_template(client, "orders"), _orders()))
    assert (orders["received"], orders["accepted"], orders["rejected"]) == (3, 3, 0), orders["rejections"]
    ratings = _upload(client, plat, "ratings", _fill(_template(client, "ratings"), [
        {"source_rating_id": "XR1", "source_order_id": "XO1", "direction": "买家评价店铺", "value": "好评", "stars": 5,
         "text": "茶很香", "rated_at": _local(18, 20)},
        {"source_rating_id": "XR2", "source_order_id": "XO1", "direction": "店铺评价买家", "value": "好评",
         "rated_at": at(18, 21)},
        {"source_rating_id": "XR3", "source_order_id": "XO2", "direction": "buyer_to_shop", "value": "中评", "stars": 3,
         "rated_at": at(8, 9)},
    ]))
    assert (ratings["accepted"], ratings["rejected"]) == (3, 0), ratings
    with platform.db.read() as s:
        x1, x3 = (s.execute(select(EcShop).where(EcShop.shop_code == c)).scalar_one() for c in ("X1", "X3"))
        owner = s.get_one(Subject, x1.owner_subject_id)
        xo1 = s.execute(select(EcOrder).where(EcOrder.source_order_id == "XO1")).scalar_one()
        xo3 = s.execute(select(EcOrder).where(EcOrder.source_order_id == "XO3")).scalar_one()
        item = s.execute(select(EcOrderItem).where(EcOrderItem.order_id == xo1.id)).scalar_one()
        values = dict(s.execute(select(EcRating.source_rating_id, EcRating.value)).all())
    assert x1.opened_on == dt.date(2021, 6, 1) and x3.status == "suspended"
    assert owner.kind == "person" and owner.display_id.endswith(ric_for(6001)[-4:])  # the ID stayed text
    assert xo1.status == "delivered" and xo1.amount_cents == 12800 and item.gtin == "6901234567892"
    assert xo1.placed_at == _local(20, 9).replace(tzinfo=CHINA).astimezone(dt.UTC)  # an Excel date-time is Beijing time
    assert xo3.status == "shipped" and xo3.amount_cents == 3650
    assert values == {"XR1": "good", "XR2": "good", "XR3": "neutral"}
    # The same workbook again changes nothing (idempotent, as for JSONL and CSV).
    again = _upload(client, plat, "orders", _fill(_template(client, "orders"), _orders()))
    assert (again["accepted"], again["unchanged"]) == (0, 3)


def test_a_bad_row_is_reported_with_its_excel_row_and_field(client: TestClient, plat: Plat) -> None:
    assert _upload(client, plat, "shops", _fill(_template(client, "shops"), SHOPS))["accepted"] == 3
    rows = _orders()
    rows[1]["amount"] = "十九元"  # Excel row 3
    rows[2]["device_hash"] = "13912345678"  # Excel row 4: a clear phone number where a hash belongs
    receipt = _upload(client, plat, "orders", _fill(_template(client, "orders"), rows))
    assert (receipt["accepted"], receipt["rejected"]) == (1, 2)
    got = {r["row"]: {(p["field"], p["code"]) for p in r["problems"]} for r in receipt["rejections"]}
    assert set(got) == {3, 4}
    assert {f for f, _ in got[3]} == {"amount"} and {f for f, _ in got[4]} == {"device_hash"}
    bad_shop = dict(SHOPS[0], shop_code="X9", owner_ric=ric_for(6009)[:-1] + ("0" if ric_for(6009)[-1] != "0" else "1"))
    shops = _upload(client, plat, "shops", _fill(_template(client, "shops"), [SHOPS[1], bad_shop]))
    assert shops["rejected"] == 1 and shops["rejections"][0]["row"] == 3
    assert shops["rejections"][0]["problems"][0]["field"] == "owner_ric"


def test_cli_writes_the_template_and_ingests_it(platform: Platform, plat: Plat, tmp_path: Path,
                                                monkeypatch: Any) -> None:
    import chengxin.platform
    from chengxin.cli.main import app

    monkeypatch.setattr(chengxin.platform, "open_platform", lambda: platform)
    runner = CliRunner()
    out = tmp_path / "shops.xlsx"
    made = runner.invoke(app, ["ecommerce", "template", "shops", "-o", str(out)])
    assert made.exit_code == 0 and out.exists(), made.output
    out.write_bytes(_fill(out.read_bytes(), SHOPS))
    done = runner.invoke(app, ["ecommerce", "ingest", str(out), "-p", plat.code, "-k", "shops"])
    assert done.exit_code == 0 and "新增 3" in done.output, done.output
    monkeypatch.chdir(tmp_path)
    default = runner.invoke(app, ["ecommerce", "template", "ratings"])
    assert default.exit_code == 0 and (tmp_path / "ecommerce_ratings.xlsx").exists(), default.output
    wrong = runner.invoke(app, ["ecommerce", "template", "buyers", "-o", str(tmp_path / "x.xlsx")])
    assert wrong.exit_code != 0 and not (tmp_path / "x.xlsx").exists()


def test_the_platforms_page_links_the_templates(client: TestClient, make_user: Callable[..., str]) -> None:
    client.cookies.update({"cx_session": make_user("credit_office")})
    page = client.get("/office/ecommerce/platforms")
    client.cookies.clear()
    assert page.status_code == 200
    for kind in ("shops", "orders", "ratings"):
        link = f"/api/v1/ecommerce/templates/{kind}.xlsx"
        assert f'href="{link}"' in page.text
        assert client.get(link).status_code == 200
