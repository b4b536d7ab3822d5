"""The public side of e-commerce trade: the licence display (page and API) with the owner masked, the grade and
list memberships, rating windows and points computed in SQL (checked against the pure rule), the search,
the signed badge and its verification (valid / expired / tampered / closed), the office's platform list."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.api.test_ecommerce_trade_support import Plat, make_platform, order, push, rating, shop

from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.ecommerce.trade import rules, service
from chengxin.ecommerce.trade.models import EcOrder, EcRating
from chengxin.ecommerce.trade.params import trade_rules_on
from chengxin.platform import Platform
from factories import listed_entry, ric_for, uscc_for


@pytest.fixture()
def plat(client: TestClient, make_user: Callable[..., str], make_api_key: Callable[[str], str]) -> Plat:
    p = make_platform(client, make_user, make_api_key, 1)
    push(client, p, "shops", [shop(1), shop(2, person=True), shop(3, name="已关店铺", status="closed")])
    return p


def test_licence_display_masks_the_person_and_shows_grade_and_lists(client: TestClient, platform: Platform,
                                                                    plat: Plat) -> None:
    listed_entry(platform, list_kind="red", uscc=uscc_for(5001), term_from=today_cn() - dt.timedelta(days=3))
    org = client.get("/api/v1/ecommerce/shops/plat1/S1").json()
    assert org["owner"] == {"kind": "organization", "display_id": uscc_for(5001), "display_name": "常州店铺1商贸有限公司",
                            "verified": True}
    assert org["grade"] is not None and org["grade"]["band"] in {"A", "B", "C", "D"}
    assert [m["list"] for m in org["lists"]] == ["red"] and org["licence_no"] == uscc_for(5001)
    person = client.get("/api/v1/ecommerce/shops/plat1/S2").json()
    assert person["grade"] is None and person["owner"]["kind"] == "person"
    assert person["owner"]["display_id"].endswith(ric_for(5002)[-4:]) and "*" in person["owner"]["display_id"]
    page = client.get("/shops/plat1/S2")
    assert page.status_code == 200
    assert ric_for(5002) not in page.text and "王小明" not in page.text and "王*明" in page.text
    assert "亮照信息" in page.text and "个人文明信用积分不对外公示" in page.text
    org_page = client.get("/shops/plat1/S1").text
    assert "红名单" in org_page and 'id="shop-grade"' in org_page
    assert client.get("/shops/plat1/NOPE").status_code == 404
    assert client.get("/api/v1/ecommerce/shops/nope/S1").json()["error"]["code"] == "platform.not_found"


def test_rating_windows_and_points_agree_with_the_rule(client: TestClient, platform: Platform, plat: Plat) -> None:
    orders = [order(n, "S1", buyer=1, days_ago=5) for n in range(1, 9)]  # 8 orders, one buyer, one month
    orders += [order(9, "S1", buyer=2, days_ago=100), order(10, "S1", buyer=3, days_ago=300),
               order(11, "S1", buyer=4, days_ago=5, amount="1.00"),  # ¥1: not scored
               order(12, "S1", buyer=5, days_ago=5)]
    push(client, plat, "orders", orders)
    ratings = [rating(n, n, days_ago=2) for n in range(1, 9)]
    ratings += [rating(9, 9, value="bad", days_ago=90), rating(10, 10, value="neutral", days_ago=290),
                rating(11, 11, value="good", days_ago=2), rating(12, 12, value="bad", days_ago=2),
                rating(13, 12, direction="shop_to_buyer", value="good", days_ago=2)]
    push(client, plat, "ratings", ratings)
    body = client.get("/api/v1/ecommerce/shops/plat1/S1").json()["ratings"]
    assert body["recent"] == {"good": 9, "neutral": 0, "bad": 1, "total": 10, "good_rate": 0.9}
    assert body["half_year"]["bad"] == 2 and body["half_year"]["total"] == 11
    assert body["all_time"] == {"good": 9, "neutral": 1, "bad": 2, "total": 12, "good_rate": 0.75}
    # 8 goods by buyer 1 in one month count 6 (the pair cap); buyer 2 −1; buyer 3 0; buyer 4 (¥1) 0; buyer 5 −1
    assert body["points"] == 4
    rule = trade_rules_on(today_cn()).points
    with platform.db.read() as session:
        facts = [rules.RatingFact(r.buyer_account_id, r.period, r.value, o.amount_cents) for r, o in session.execute(
            select(EcRating, EcOrder).join(EcOrder, EcOrder.id == EcRating.order_id)
            .where(EcRating.direction == "buyer_to_shop"))]
        buyer5 = session.execute(select(EcOrder.buyer_account_id).where(EcOrder.source_order_id == "O12")).scalar_one()
        assert service.buyer_points(session, buyer5, trade_rules_on(today_cn())) == 1
    assert rules.points(facts, rule) == body["points"]
    points = client.get(f"/api/v1/ecommerce/accounts/{order(12, buyer=5)['buyer_account_hash']}/points", headers=plat.headers)
    assert points.status_code == 200 and points.json()["points"] == 1
    assert client.get(f"/api/v1/ecommerce/accounts/{order(12, buyer=5)['buyer_account_hash']}/points").status_code == 401


def test_search_by_name_code_and_platform(client: TestClient, make_user: Callable[..., str],
                                          make_api_key: Callable[[str], str], plat: Plat) -> None:
    other = make_platform(client, make_user, make_api_key, 2)
    push(client, other, "shops", [shop(21, name="另一家龙城店")])
    found = client.get("/api/v1/ecommerce/shops", params={"q": "龙城"}).json()
    assert found["total"] == 3
    assert client.get("/api/v1/ecommerce/shops", params={"q": "龙城", "platform": "plat2"}).json()["total"] == 1
    assert client.get("/api/v1/ecommerce/shops", params={"q": "S3"}).json()["items"][0]["status"] == "closed"
    page = client.get("/shops", params={"q": "龙城"})
    assert page.status_code == 200 and "共 3 家店铺" in page.text and "/shops/plat2/S21" in page.text
    assert "网店信用" in client.get("/").text  # the nav entry


def _verify_link(svg: str) -> str:
    match = re.search(r'href="([^"]+/verify\?[^"]+)"', svg)
    assert match, svg
    return unescape(match.group(1)).replace("http://testserver", "")


def _status(client: TestClient, url: str) -> str:
    resp = client.get(url)
    assert resp.status_code == 200, resp.text
    match = re.search(r'data-status="(\w+)"', resp.text)
    assert match
    return match.group(1)


def test_badge_and_its_verification(client: TestClient, platform: Platform, plat: Plat) -> None:
    resp = client.get("/shops/plat1/S1/badge.svg")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("image/svg+xml")
    assert "已验证" in resp.text and "信用等级" in resp.text and "max-age=300" in resp.headers["cache-control"]
    link = _verify_link(resp.text)
    assert _status(client, link) == "valid"
    page = client.get(link).text
    assert "有效" in page and "龙城测试店1" in page and "https://shop.example.com/S1" in page
    # Tampered: another shop's code with this signature, a changed time, a changed signature.
    assert _status(client, link.replace("/S1/", "/S2/")) == "invalid"
    t = int(re.search(r"t=(\d+)", link).group(1))  # type: ignore[union-attr]
    assert _status(client, link.replace(f"t={t}", f"t={t + 1}")) == "invalid"
    sig = re.search(r"sig=([\w-]+)", link).group(1)  # type: ignore[union-attr]
    assert _status(client, link.replace(sig, ("A" if sig[0] != "A" else "B") + sig[1:])) == "invalid"
    assert _status(client, "/shops/plat1/S1/verify") == "invalid"
    invalid_page = client.get(link.replace(f"t={t}", f"t={t + 1}")).text
    assert "签名无效" in invalid_page and "龙城测试店1" not in invalid_page  # a forged link shows no shop
    # Expired: a genuine link signed more than link_valid_days ago.
    days = trade_rules_on(today_cn()).badge.link_valid_days
    old, old_sig = service.sign_badge_link(platform.keyring, "plat1", "S1", utcnow() - dt.timedelta(days=days + 1))
    assert _status(client, f"/shops/plat1/S1/verify?t={old}&sig={old_sig}") == "expired"
    recent, recent_sig = service.sign_badge_link(platform.keyring, "plat1", "S1", utcnow() - dt.timedelta(days=days - 1))
    assert _status(client, f"/shops/plat1/S1/verify?t={recent}&sig={recent_sig}") == "valid"
    # Closed: the shop closes after the badge was issued.
    push(client, plat, "shops", [shop(1, status="closed")])
    assert _status(client, link) == "closed"
    assert "店铺已关闭" in client.get("/shops/plat1/S1/badge.svg").text


def test_office_platform_list(client: TestClient, make_user: Callable[..., str], plat: Plat) -> None:
    push(client, plat, "orders", [order(1)])
    client.cookies.clear()
    assert client.get("/office/ecommerce/platforms", follow_redirects=False).status_code == 303
    client.cookies.set("cx_session", make_user("clerk", "samr"))
    assert client.get("/office/ecommerce/platforms").status_code == 403
    client.cookies.set("cx_session", make_user("credit_office"))
    page = client.get("/office/ecommerce/platforms")
    assert page.status_code == 200 and 'data-platform="plat1"' in page.text and "测试平台1" in page.text
    listed = client.get("/api/v1/ecommerce/platforms").json()[0]
    assert (listed["shops"], listed["open_shops"], listed["licensed_shops"], listed["orders"]) == (3, 2, 2, 1)


def test_a_chinese_shop_code_works_end_to_end(client: TestClient, plat: Plat) -> None:
    receipt = push(client, plat, "shops", [shop(8, shop_code="茶店08"), shop(9, shop_code="a/b")])
    assert receipt["accepted"] == 1 and receipt["rejections"][0]["problems"][0]["code"] == "shop_code.invalid"
    body = client.get("/api/v1/ecommerce/shops/plat1/茶店08").json()
    assert body["badge_url"] == "/shops/plat1/%E8%8C%B6%E5%BA%9708/badge.svg"
    assert _status(client, _verify_link(client.get(body["badge_url"]).text)) == "valid"
