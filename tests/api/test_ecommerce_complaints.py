"""Complaints about shops through HTTP, the CLI and the office page on the real app and database: the
departments' intake with receipts (idempotent, corrected, unknown shops refused row by row), reporter
protection, who may submit and read (401 / 403), and what the complaints do: they raise a shop's risk level
through recompute and count in the platform assessment, per platform."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.api.test_ecommerce_risk_support import NOW, bearer, small_world
from tests.api.test_ecommerce_trade_support import Plat, codes, make_platform, push, shop
from typer.testing import CliRunner

from chengxin.core.audit import SYSTEM
from chengxin.core.clock import CHINA
from chengxin.ecommerce.complaints.models import EcComplaint
from chengxin.ecommerce.risk import assessment
from chengxin.ecommerce.risk.models import EcShopRisk
from chengxin.ecommerce.risk.warning import recompute
from chengxin.platform import Platform
from factories import uscc_for

URL = "/api/v1/ecommerce/complaints/batches"


def received(days_ago: float) -> str:
    return (NOW - dt.timedelta(days=days_ago)).astimezone(CHINA).replace(microsecond=0).isoformat()


def complaint(n: int, shop_code: str = "S1", *, platform: str = "plat1", **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"source_complaint_id": f"12315-{n:06d}", "channel": "12315", "received_at": received(10),
                           "platform": platform, "shop_code": shop_code, "category": "not_as_described",
                           "status": "handling", "summary": "收到的茶叶与商品页面描述的产地不符"}
    row.update(kw)
    return row


def submit(client: TestClient, key: str, rows: list[dict[str, Any]], status: int = 200) -> Any:
    resp = client.post(URL, headers={"X-API-Key": key}, json={"complaints": rows})
    assert resp.status_code == status, resp.text
    return resp.json()


@pytest.fixture()
def plat(client: TestClient, make_user: Callable[..., str], make_api_key: Callable[[str], str]) -> Plat:
    p = make_platform(client, make_user, make_api_key, 1)
    push(client, p, "shops", [shop(1), shop(2)])
    return p


def test_submit_resubmit_correct_and_unknown_shops(client: TestClient, platform: Platform, plat: Plat,
                                                   make_api_key: Callable[[str], str]) -> None:
    samr = make_api_key("samr")
    first = submit(client, samr, [complaint(1), complaint(2, "S2", category="假冒伪劣", source_order_id="O-1"),
                                  complaint(3, "S9"), complaint(4, platform="nomall")])
    assert (first["received"], first["accepted"], first["rejected"], first["department"], first["item"]) == (
        4, 2, 2, "samr", "ec_complaints")
    assert codes(first) == {3: {"complaint.shop_unknown"}, 4: {"complaint.platform_unknown"}}
    assert next(r for r in first["rejections"] if r["row"] == 3)["problems"][0]["field"] == "shop_code"
    again = submit(client, samr, [complaint(1), complaint(2, "S2", category="假冒伪劣", source_order_id="O-1")])
    assert (again["accepted"], again["unchanged"], again["corrected"]) == (0, 2, 0)  # idempotent
    closed = submit(client, samr, [complaint(1, status="substantiated", closed_at=received(2))])
    assert (closed["accepted"], closed["corrected"]) == (0, 1)
    with platform.db.read() as s:
        rows = {c.source_complaint_id: c for c in s.scalars(select(EcComplaint))}
    assert set(rows) == {"12315-000001", "12315-000002"}
    assert rows["12315-000001"].status == "substantiated" and rows["12315-000001"].closed_at is not None
    assert rows["12315-000001"].batch_id == closed["batch_id"]
    assert rows["12315-000002"].category == "counterfeit" and rows["12315-000002"].source_order_id == "O-1"
    # The receipt is read back like every batch's, by its department.
    back = client.get(f"/api/v1/ecommerce/batches/{first['batch_id']}", headers={"X-API-Key": samr})
    assert back.status_code == 200 and back.json()["rejected"] == 2
    # The same number from another department is another complaint: (department, number) is the identity.
    gov = submit(client, make_api_key("gov_service"), [complaint(1, channel="12345")])
    assert gov["accepted"] == 1
    # A department submits from its own channels only.
    wrong = submit(client, make_api_key("gov_service"), [complaint(5)])
    assert codes(wrong) == {1: {"complaint.channel_not_department"}}


def test_reporter_data_is_refused_and_never_kept(client: TestClient, platform: Platform, plat: Plat,
                                                 make_api_key: Callable[[str], str]) -> None:
    samr = make_api_key("samr")
    receipt = submit(client, samr, [complaint(1, reporter_name="张三", reporter_phone="13912345678"),
                                    complaint(2, summary="消费者 13912345678 要求退款"),
                                    complaint(3, 投诉人身份证号码="320402196001010012")])
    assert receipt["accepted"] == 0 and receipt["rejected"] == 3
    assert codes(receipt) == {1: {"complaint.reporter_data"}, 2: {"complaint.summary_personal_data"},
                              3: {"complaint.reporter_data"}}
    assert {p["field"] for p in receipt["rejections"][0]["problems"]} == {"reporter_name", "reporter_phone"}
    text = json.dumps(receipt, ensure_ascii=False)
    assert "13912345678" not in text and "张三" not in text  # the receipt names the field, never echoes it
    with platform.db.read() as s:
        assert s.scalars(select(EcComplaint)).first() is None


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 401), ("platform_key", 403), ("tax_key", 403),
                                               ("office_staff", 403), ("samr_clerk", 200), ("samr_key", 200),
                                               ("commerce_key", 200)])
def test_who_may_submit(client: TestClient, plat: Plat, make_user: Callable[..., str],
                        make_api_key: Callable[[str], str], who: str, expected: int) -> None:
    headers = {
        "anonymous": {}, "platform_key": plat.headers, "tax_key": {"X-API-Key": make_api_key("tax")},
        "office_staff": bearer(make_user("credit_office")), "samr_clerk": bearer(make_user("clerk", "samr")),
        "samr_key": {"X-API-Key": make_api_key("samr")}, "commerce_key": {"X-API-Key": make_api_key("commerce")},
    }[who]
    row = complaint(1, channel="online")
    resp = client.post(URL, headers=headers, json={"complaints": [row]})
    assert resp.status_code == expected, resp.text
    if expected == 403:
        assert resp.json()["error"]["code"] in ("complaint.department_not_allowed", "complaint.department_only")
    if expected == 200:
        assert resp.json()["accepted"] == 1
    # Naming another department than the key's own is refused too.
    if who == "samr_key":
        other = client.post(URL, headers=headers, json={"department": "commerce", "complaints": [row]})
        assert other.status_code == 403 and other.json()["error"]["code"] == "submission.other_department"


def test_the_list_and_the_office_page(client: TestClient, plat: Plat, make_user: Callable[..., str],
                                      make_api_key: Callable[[str], str]) -> None:
    samr = make_api_key("samr")
    submit(client, samr, [complaint(1), complaint(2, "S2", category="price_fraud"),
                          complaint(3, "S2", status="withdrawn", closed_at=received(1), received_at=received(3))])
    listed = client.get("/api/v1/ecommerce/complaints", headers={"X-API-Key": samr}, params={"shop": "S2"}).json()
    assert listed["total"] == 2 and [i["source_complaint_id"] for i in listed["items"]] == ["12315-000003",
                                                                                             "12315-000002"]
    assert listed["items"][0]["status_zh"] == "已撤回" and listed["items"][1]["category_zh"] == "价格欺诈"
    only = client.get("/api/v1/ecommerce/complaints", headers={"X-API-Key": samr},
                      params={"category": "price_fraud", "platform": "plat1"}).json()
    assert [i["source_complaint_id"] for i in only["items"]] == ["12315-000002"]
    assert client.get("/api/v1/ecommerce/complaints", headers=plat.headers).status_code == 403
    assert client.get("/api/v1/ecommerce/complaints").status_code == 401
    bad = client.get("/api/v1/ecommerce/complaints", headers={"X-API-Key": samr}, params={"status": "lost"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "complaint.status_unknown"
    # The office page: signed out → sign-in; another department's clerk → 403; a regulator sees and filters.
    assert client.get("/office/ecommerce/complaints", follow_redirects=False).status_code == 303
    client.cookies.update({"cx_session": make_user("clerk", "tax")})
    assert client.get("/office/ecommerce/complaints").status_code == 403
    client.cookies.update({"cx_session": make_user("clerk", "commerce")})
    page = client.get("/office/ecommerce/complaints", params={"status": "handling"})
    assert page.status_code == 200 and "电商投诉举报" in page.text
    assert 'data-status="handling"' in page.text and 'data-status="withdrawn"' not in page.text
    assert "图物不符" in page.text and "常州市市场监督管理局" in page.text and "共 2 件" in page.text
    assert "/office/ecommerce/complaints" in client.get("/office/ecommerce/risk").text  # linked from the board


def test_the_cli_ingests_a_csv_file(platform: Platform, client: TestClient, plat: Plat, tmp_path: Path,
                                    monkeypatch: Any) -> None:
    import chengxin.platform
    from chengxin.cli.main import app

    monkeypatch.setattr(chengxin.platform, "open_platform", lambda: platform)
    path = tmp_path / "12315.csv"
    day = (NOW - dt.timedelta(days=5)).astimezone(CHINA).strftime("%Y-%m-%d 10:00:00")
    path.write_text("投诉举报编号,渠道,受理时间,平台代码,店铺编号,类别,办理状态,事项摘要,举报人电话\n"
                    f"A-1,12315,{day},plat1,S1,假冒伪劣,处理中,商品疑似假冒,\n"
                    f"A-2,12315,{day},plat1,S2,虚假宣传,已受理,页面宣传功效无依据,13912345678\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["ecommerce", "complaints", "ingest", str(path), "-d", "samr"])
    assert result.exit_code == 1, result.output  # one row refused
    flat = "".join(result.output.split())
    assert "新增1" in flat and "拒绝1" in flat and "complaint.reporter_data" in flat
    again = runner.invoke(app, ["ecommerce", "complaints", "ingest", str(path), "-d", "samr"])
    assert "未变1" in "".join(again.output.split())
    refused = runner.invoke(app, ["ecommerce", "complaints", "ingest", str(path), "-d", "tax"])
    assert refused.exit_code == 2 and "complaint.department_not_allowed" in "".join(refused.output.split())
    with platform.db.read() as s:
        assert [(c.source_complaint_id, c.category, c.status) for c in s.scalars(select(EcComplaint))] == [
            ("A-1", "counterfeit", "handling")]


# -- what complaints do ------------------------------------------------------------------------------------


def _complaints_for(client: TestClient, key: str, platform_code: str, shop_code: str, n: int, *, start: int = 1,
                    **kw: Any) -> None:
    rows = [complaint(start + i, shop_code, platform=platform_code, **kw) for i in range(n)]
    assert submit(client, key, rows)["accepted"] == n


def test_complaints_raise_a_shop_s_risk_level(client: TestClient, platform: Platform,
                                              make_api_key: Callable[[str], str]) -> None:
    world = small_world(platform)
    recompute(platform.db, now=NOW, actor=SYSTEM)
    with platform.db.read() as s:
        before = {r.shop_id: (r.level, r.score, r.reasons) for r in s.scalars(select(EcShopRisk))}
    s3 = world.shops["S3"]
    # Connected: a shop without complaints has no complaints reason (neither "complaints" nor "not connected").
    assert not any(r["code"].startswith("complaints") for r in before[s3][2])
    samr = make_api_key("samr")
    _complaints_for(client, samr, world.platform_code, "S3", 10)  # counted: 2 points each, capped at 20
    _complaints_for(client, samr, world.platform_code, "S3", 1, start=20, status="withdrawn", closed_at=received(1))
    _complaints_for(client, samr, world.platform_code, "S3", 1, start=21, status="not_substantiated",
                    closed_at=received(1))
    _complaints_for(client, samr, world.platform_code, "S3", 1, start=22, received_at=received(200))  # too old
    summary = recompute(platform.db, now=NOW, actor=SYSTEM)
    assert summary.changed >= 1
    with platform.db.read() as s:
        after = {r.shop_id: r for r in s.scalars(select(EcShopRisk))}
    reason = next(r for r in after[s3].reasons if r["code"] == "complaints")
    assert reason["points"] == 20 and "10 件" in reason["text_zh"]
    assert after[s3].score == pytest.approx(before[s3][1] + 20)
    assert after[s3].rank > 0 and after[s3].level != before[s3][0]
    s2 = world.shops["S2"]
    assert not any(r["code"].startswith("complaints") for r in after[s2].reasons)


def test_the_assessment_counts_complaints_per_platform(client: TestClient, platform: Platform,
                                                       make_api_key: Callable[[str], str]) -> None:
    world = small_world(platform)
    other = small_world(platform, code="othermall", operator_uscc=uscc_for(991))
    samr = make_api_key("samr")
    _complaints_for(client, samr, world.platform_code, "S1", 2)
    _complaints_for(client, samr, world.platform_code, "S2", 1, start=10)
    _complaints_for(client, samr, world.platform_code, "S2", 1, start=11, status="not_substantiated",
                    closed_at=received(1))
    _complaints_for(client, samr, other.platform_code, "S3", 1, start=20)
    day = NOW.astimezone(CHINA).date() - dt.timedelta(days=10)  # the complaints' day
    period = f"{day.year}-{day.month:02d}"
    rows = {r.platform_code: r for r in assessment.assess(platform.db, period=period, now=NOW, actor=SYSTEM)}
    assert (rows["testmall"].complaints, rows["othermall"].complaints) == (3, 1)
    for r in rows.values():
        c = r.components["complaints"]
        expected = max(0.0, 1 - (r.complaints or 0) * 1000 / r.orders / 5) if r.orders else 1.0
        assert c["value"] == pytest.approx(expected) and c["name_zh"] == "投诉举报"
