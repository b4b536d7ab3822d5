"""The portal's pages through the ASGI app: rendering, sign-in, permissions, CSRF, upload and receipt."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chengxin.catalog.rules import template_columns
from chengxin.core.clock import today_cn
from chengxin.core.identifiers import make_uscc
from chengxin.platform import Platform
from chengxin.web.routes import duration_zh, pager
from factories import valid_row

ITEM = "admin_penalty"
HTML = {"accept": "text/html,application/xhtml+xml"}
PASSWORD = "correct horse battery"


def _sign_in(client: TestClient, token: str | None) -> None:
    client.cookies.clear()
    if token:
        client.cookies.set("cx_session", token)


def _csrf(client: TestClient, path: str = "/submit") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, "the page carries no CSRF field"
    return found.group(1)


def _counts(html: str) -> dict[str, str]:
    """The receipt's big numbers by label."""
    found = re.findall(r'<span class="count-num">([\d,]+)</span><span class="count-label">(\S+)</span>', html)
    return {label: number for number, label in found}


def _bad_uscc() -> str:
    good = make_uscc("9", "1", "320400", "MA1X2Y3K")
    return good[:-1] + ("0" if good[-1] != "0" else "1")


def penalty_csv(platform: Platform, *, good: int = 1, bad: int = 1) -> bytes:
    """A CSV with Chinese headers (the template's labels): ``good`` valid rows, then ``bad`` rows whose
    USCC has a wrong check character."""
    version = platform.catalog.item(ITEM).latest
    columns = template_columns(version)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.label_zh for c in columns])
    rows: list[dict[str, Any]] = [valid_row(version, n) for n in range(1, good + 1)]
    rows += [valid_row(version, 1000 + n, uscc=_bad_uscc()) for n in range(bad)]
    for row in rows:
        writer.writerow([row.get(c.code, "") for c in columns])
    return out.getvalue().encode("utf-8")


@pytest.fixture()
def clerk(make_user: Callable[..., str]) -> str:
    return make_user("clerk", "samr")


def _upload(client: TestClient, data: bytes, *, name: str = "penalties.csv", item: str = ITEM) -> Any:
    return client.post(
        "/submit",
        data={"item": item, "csrf_token": _csrf(client)},
        files={"file": (name, data, "text/csv")},
        follow_redirects=False,
    )


@pytest.fixture()
def batch_id(client: TestClient, platform: Platform, clerk: str) -> int:
    _sign_in(client, clerk)
    response = _upload(client, penalty_csv(platform))
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/batches/(\d+)", response.headers["location"])
    assert found
    client.cookies.clear()
    return int(found.group(1))


# -- helpers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "zh"), [("P1Y", "1年"), ("P3M", "3个月"), ("P1Y6M", "1年6个月"), ("P15D", "15天"), (None, "")]
)
def test_duration_in_chinese(text: str | None, zh: str) -> None:
    assert duration_zh(text) == zh


def test_pager_windows() -> None:
    assert pager(1, 1) == [1]
    assert pager(5, 20) == [1, 2, 3, 4, 5, 6, 7, 8, None, 20]
    assert pager(20, 20) == [1, None, 17, 18, 19, 20]


# -- public pages ----------------------------------------------------------------------------------


def test_home_shows_platform_counts_and_catalog_search(client: TestClient, platform: Platform) -> None:
    page = client.get("/")
    assert page.status_code == 200
    text = page.text
    assert "诚信常州 · 公共信用信息平台" in text
    for label in (
        "现行目录项",
        "数据提供单位",
        "归集信用记录",
        "信用主体",
        "信用目录",
        "数据报送",
        "数据质量",
    ):
        assert label in text
    assert 'action="/search"' in text and 'name="q"' in text and 'href="/catalog"' in text  # subject search + catalog link
    assert "即将开放" not in text
    in_force = sum(1 for i in platform.catalog.items.values() if i.version_on(today_cn()))
    assert f'<span class="stat-num">{in_force}</span>' in text
    assert "/static/vendor/htmx.min.js" in text and "/static/app.css" in text


PUBLIC_MENU = ["/", "/search", "/catalog", "/lists", "/commitments", "/measures", "/scores", "/shops",
               "/risk-notices", "/verify"]
CLERK_MENU = ["/office", "/submit", "/batches", "/quality", "/office/ecommerce/findings", "/office/calendar"]
OFFICE_MENU = ["/office", "/submit", "/batches", "/quality", "/office/ecommerce/findings", "/alerts", "/office/lists",
               "/office/checks", "/office/subscriptions", "/office/access", "/office/audit", "/office/calendar"]


def _menu(html: str, label: str) -> list[str] | None:
    """The links of the ``<nav>`` named ``label``, in order (None: no such menu on the page)."""
    found = re.search(rf'<nav class="[^"]+" aria-label="{label}">(.*?)</nav>', html, re.S)
    return None if found is None else re.findall(r'<a href="([^"]+)"', found.group(1))


@pytest.mark.parametrize(("role", "department", "staff_menu"), [
    (None, None, None),  # a citizen: the public menu only, no links that only lead to the sign-in page
    ("clerk", "samr", CLERK_MENU),
    ("credit_office", None, OFFICE_MENU),
])
def test_the_public_menu_is_the_same_for_all_and_staff_get_their_own(
    client: TestClient, make_user: Callable[..., str], role: str | None, department: str | None,
    staff_menu: list[str] | None,
) -> None:
    _sign_in(client, make_user(role, department) if role else None)
    page = client.get("/catalog")
    assert page.status_code == 200
    assert _menu(page.text, "主导航") == PUBLIC_MENU
    assert _menu(page.text, "工作台导航") == staff_menu
    if staff_menu is not None:  # the page being shown is marked in the menu it belongs to
        batches = client.get("/batches").text
        assert '<a href="/batches" aria-current="page">' in batches.replace("  ", " ")


def test_static_files_are_served(client: TestClient) -> None:
    assert client.get("/static/app.css").status_code == 200
    js = client.get("/static/vendor/htmx.min.js")
    assert js.status_code == 200 and "htmx" in js.text[:200]


def test_catalog_lists_every_item_with_its_labels(client: TestClient, platform: Platform) -> None:
    page = client.get("/catalog")
    assert page.status_code == 200
    assert f"共 <strong>{len(platform.catalog.items)}</strong> 个目录项" in page.text
    assert "行政处罚信息" in page.text and 'href="/catalog/admin_penalty"' in page.text
    for word in ("失信", "法人", "自然人", "公开", "可修复", "市市场监管局"):
        assert word in page.text
    assert 'hx-trigger="input changed delay:300ms' in page.text


def test_catalog_search_without_js_and_as_htmx_partial(client: TestClient) -> None:
    full = client.get("/catalog", params={"q": "处罚"})
    assert full.status_code == 200 and "<html" in full.text
    assert "行政处罚信息" in full.text and "volunteer_service" not in full.text
    partial = client.get("/catalog", params={"q": "处罚"}, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert "<html" not in partial.text and "行政处罚信息" in partial.text
    assert partial.headers["vary"] == "HX-Request"
    none = client.get("/catalog", params={"q": "不存在的目录项名称"}, headers={"HX-Request": "true"})
    assert "没有符合条件的目录项" in none.text


def test_catalog_filters_by_category_and_subject_kind(client: TestClient) -> None:
    negative = client.get("/catalog", params={"category": "negative"}).text
    assert "admin_penalty" in negative and "volunteer_service" not in negative
    positive = client.get("/catalog", params={"category": "positive"}).text
    assert "admin_penalty" not in positive
    persons = client.get("/catalog", params={"subject_kind": "person"}).text
    assert "org_registration" not in persons and "person_basic" in persons
    orgs = client.get("/catalog", params={"subject_kind": "organization", "q": "处罚"}).text
    assert "admin_penalty" in orgs
    assert client.get("/catalog", params={"category": "bogus"}).status_code == 200


def test_catalog_item_detail(client: TestClient) -> None:
    page = client.get("/catalog/admin_penalty")
    assert page.status_code == 200
    text = page.text
    assert "行政处罚信息" in text
    for version in ("2019.1", "2023.1", "2025.1"):
        assert f"版本 {version}" in text
    assert "现行" in text and "已废止" in text
    assert "发改办财金〔2019〕527号" in text
    for period in ("3个月", "1年", "3年", "6个月", "一般失信", "严重失信", "轻微失信"):
        assert period in text
    for label in (
        "行政处罚决定书文号",
        "decision_no",
        "统一社会信用代码",
        "罚款",
        "必填",
        "数值（金额）",
        "日期",
    ):
        assert label in text
    assert "常州市市场监督管理局" in text
    assert "/api/v1/catalog/items/admin_penalty/template.xlsx" in text
    assert "/api/v1/catalog/items/admin_penalty/template.csv" in text


def test_unknown_catalog_item_is_a_chinese_404_page(client: TestClient) -> None:
    page = client.get("/catalog/no_such_item")
    assert page.status_code == 404
    assert "未知的目录项" in page.text and "<html" in page.text


def test_unknown_page_renders_html_error_for_browsers(client: TestClient) -> None:
    page = client.get("/no/such/page", headers=HTML)
    assert page.status_code == 404
    assert "页面或资源不存在" in page.text and "http.404" in page.text


# -- sign-in -------------------------------------------------------------------------------------------


def test_login_form_renders(client: TestClient) -> None:
    page = client.get("/login", params={"next": "/quality"})
    assert page.status_code == 200
    assert "工作人员登录" in page.text and 'value="/quality"' in page.text


def test_wrong_password_shows_the_form_again_with_401(client: TestClient, make_user: Callable[..., str]) -> None:
    make_user("clerk", "samr", username="zhang", password=PASSWORD)
    page = client.post("/login", data={"username": "zhang", "password": "wrong password!"}, follow_redirects=False)
    assert page.status_code == 401
    assert "用户名或密码错误" in page.text and 'value="zhang"' in page.text
    assert "cx_session" not in page.headers.get("set-cookie", "")
    empty = client.post("/login", data={"username": "", "password": ""}, follow_redirects=False)
    assert empty.status_code == 400 and "请输入用户名和密码" in empty.text


def test_login_sets_a_safe_cookie_and_redirects(client: TestClient, make_user: Callable[..., str]) -> None:
    make_user("clerk", "samr", username="li", password=PASSWORD)
    response = client.post("/login", data={"username": "li", "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/submit"
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("cx_session=") and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # settings.secure_cookies is off in tests
    page = client.get("/submit")
    assert page.status_code == 200 and "测试" in page.text and "退出登录" in page.text


def test_login_follows_local_next_only(client: TestClient, make_user: Callable[..., str]) -> None:
    make_user("credit_office", username="wang", password=PASSWORD)
    local = client.post(
        "/login", data={"username": "wang", "password": PASSWORD, "next": "/quality"}, follow_redirects=False
    )
    assert local.headers["location"] == "/quality"
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post(
            "/login", data={"username": "wang", "password": PASSWORD, "next": evil}, follow_redirects=False
        )
        assert response.headers["location"] == "/batches"


def test_logout_needs_csrf_and_ends_the_session(client: TestClient, clerk: str) -> None:
    _sign_in(client, clerk)
    assert client.post("/logout", data={}, follow_redirects=False).status_code == 403
    token = _csrf(client)
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    _sign_in(client, clerk)  # the old token no longer works even when presented again
    assert client.get("/submit", follow_redirects=False).status_code == 303


# -- submission ----------------------------------------------------------------------------------------


def test_submit_requires_sign_in(client: TestClient) -> None:
    response = client.get("/submit", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/submit"
    post = client.post("/submit", data={"item": ITEM}, follow_redirects=False)
    assert post.status_code == 303 and post.headers["location"].startswith("/login")


@pytest.mark.parametrize("role", ["credit_office", "admin"])
def test_submit_is_for_clerks_only(client: TestClient, make_user: Callable[..., str], role: str) -> None:
    _sign_in(client, make_user(role))
    page = client.get("/submit")
    assert page.status_code == 403 and "部门经办人" in page.text


def test_submit_form_lists_the_departments_items(client: TestClient, clerk: str) -> None:
    _sign_in(client, clerk)
    page = client.get("/submit")
    assert page.status_code == 200
    assert "常州市市场监督管理局" in page.text
    assert 'value="admin_penalty"' in page.text and "行政处罚信息" in page.text
    assert 'enctype="multipart/form-data"' in page.text and 'accept=".xlsx,.csv,.jsonl"' in page.text


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_submit_without_the_right_csrf_token_is_refused(
    client: TestClient, platform: Platform, clerk: str, token: str | None
) -> None:
    _sign_in(client, clerk)
    data = {"item": ITEM} if token is None else {"item": ITEM, "csrf_token": token}
    response = client.post(
        "/submit",
        data=data,
        files={"file": ("a.csv", penalty_csv(platform), "text/csv")},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "安全校验失败" in response.text
    with platform.db.read() as session:
        from sqlalchemy import func, select

        from chengxin.records.models import IngestBatch

        assert session.scalar(select(func.count()).select_from(IngestBatch)) == 0


def test_upload_one_good_one_bad_row_shows_the_receipt(client: TestClient, platform: Platform, clerk: str) -> None:
    _sign_in(client, clerk)
    response = _upload(client, penalty_csv(platform))
    assert response.status_code == 303
    receipt = client.get(response.headers["location"])
    assert receipt.status_code == 200
    text = receipt.text
    assert _counts(text) == {"收到": "2", "新增": "1", "未变": "0", "更正": "0", "拒绝": "1"}
    assert "统一社会信用代码校验位错误" in text
    assert "uscc.check_character" in text
    assert "SRC-0001000" in text  # the bad row's source id
    assert '<td data-label="字段">统一社会信用代码</td>' in text  # the field as its Chinese column label
    assert "penalties.csv" in text

    again = _upload(client, penalty_csv(platform))  # the same file twice: nothing new
    page = client.get(again.headers["location"]).text
    assert _counts(page)["未变"] == "1" and _counts(page)["新增"] == "0"


def test_garbage_file_shows_the_form_with_a_chinese_error(client: TestClient, clerk: str) -> None:
    _sign_in(client, clerk)
    response = client.post(
        "/submit",
        data={"item": ITEM, "csrf_token": _csrf(client)},
        files={"file": ("penalties.xlsx", b"\x00\x01\x02garbage\xff\xfe" * 50, "application/octet-stream")},
        follow_redirects=False,
    )
    assert response.status_code == 400
    assert "文件未能处理" in response.text
    assert re.search(r"<code>file\.[a-z_]+</code>", response.text)
    assert 'name="file"' in response.text  # the form again


def test_header_only_file_is_a_400_not_a_500(client: TestClient, platform: Platform, clerk: str) -> None:
    _sign_in(client, clerk)
    response = _upload(client, penalty_csv(platform, good=0, bad=0))
    assert response.status_code == 400
    assert "文件未能处理" in response.text


def test_submit_without_item_or_file(client: TestClient, platform: Platform, clerk: str) -> None:
    _sign_in(client, clerk)
    token = _csrf(client)
    no_item = client.post(
        "/submit", data={"csrf_token": token}, files={"file": ("a.csv", penalty_csv(platform), "text/csv")}
    )
    assert no_item.status_code == 400 and "请选择本单位可以报送的目录项" in no_item.text
    foreign = client.post(
        "/submit",
        data={"csrf_token": token, "item": "dishonest_debtor"},
        files={"file": ("a.csv", penalty_csv(platform), "text/csv")},
    )
    assert foreign.status_code == 400
    no_file = client.post("/submit", data={"csrf_token": token, "item": ITEM})
    assert no_file.status_code == 400 and "请选择要上传的文件" in no_file.text


# -- receipts and batches -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "department", "status"),
    [
        (None, None, 303),  # anonymous: to the sign-in page
        ("clerk", "tax", 403),  # another department's clerk
        ("clerk", "samr", 200),  # the batch's own department
        ("credit_office", None, 200),
        ("admin", None, 200),
    ],
)
def test_who_may_see_a_receipt(
    client: TestClient,
    make_user: Callable[..., str],
    batch_id: int,
    role: str | None,
    department: str | None,
    status: int,
) -> None:
    _sign_in(client, make_user(role, department) if role else None)
    page = client.get(f"/batches/{batch_id}", follow_redirects=False)
    assert page.status_code == status
    # The download of its rejected rows answers to the same people.
    assert client.get(f"/batches/{batch_id}/rejections.csv", follow_redirects=False).status_code == status
    if status == 303:
        assert page.headers["location"] == f"/login?next=/batches/{batch_id}"
    elif status == 403:
        assert "无权查看其他单位的批次" in page.text
    else:
        assert "报送回执" in page.text


def test_the_rejections_download_streams_past_its_slices_whole(
    client: TestClient, platform: Platform, clerk: str
) -> None:
    """More rejected rows than one slice of the stream (2,000): none lost or repeated at the seams."""
    _sign_in(client, clerk)
    location = _upload(client, penalty_csv(platform, good=1, bad=4100)).headers["location"]
    table = list(csv.reader(io.StringIO(client.get(f"{location}/rejections.csv").content.decode("utf-8-sig"))))
    numbers = [int(r[0]) for r in table[1:]]
    assert len(numbers) == 4100 and numbers == sorted(set(numbers)) and numbers[0] == 3  # row 2 was accepted


def test_unknown_batch_is_404(client: TestClient, clerk: str) -> None:
    _sign_in(client, clerk)
    page = client.get("/batches/999999")
    assert page.status_code == 404 and "批次不存在" in page.text


def test_rejected_rows_are_paginated(client: TestClient, platform: Platform, clerk: str) -> None:
    _sign_in(client, clerk)
    response = _upload(client, penalty_csv(platform, good=0, bad=150))
    location = response.headers["location"]
    first = client.get(location).text
    assert "共 150 行被拒绝" in first and "第 1 / 2 页" in first
    assert first.count("uscc.check_character") == 100
    assert 'href="?page=2"' in first
    second = client.get(location, params={"page": 2}).text
    assert second.count("uscc.check_character") == 50 and "第 2 / 2 页" in second
    assert client.get(location, params={"page": "x"}).status_code == 200

    # All 150 in one file, not one page: linked from the receipt, readable by Excel (BOM), the fields named.
    assert f'href="{location}/rejections.csv"' in first
    download = client.get(f"{location}/rejections.csv")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert download.content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert table[0][:2] == ["行号 row", "来源编号 source_id"] and len(table) == 1 + 150
    rows = table[1:]
    assert [int(r[0]) for r in rows] == sorted(int(r[0]) for r in rows) and len({r[0] for r in rows}) == 150
    assert {(r[2], r[3], r[5]) for r in rows} == {("uscc", "统一社会信用代码", "uscc.check_character")}
    assert all(r[4].startswith("统一社会信用代码校验位错误") and r[6] for r in rows)
    assert client.get("/batches/999999/rejections.csv").status_code == 404


def test_batch_list_is_scoped_to_the_department(
    client: TestClient, make_user: Callable[..., str], batch_id: int
) -> None:
    _sign_in(client, make_user("clerk", "samr"))
    own = client.get("/batches")
    assert own.status_code == 200 and f'href="/batches/{batch_id}"' in own.text and "共 1 个批次" in own.text
    _sign_in(client, make_user("clerk", "tax"))
    other = client.get("/batches")
    assert other.status_code == 200 and f'href="/batches/{batch_id}"' not in other.text
    assert "还没有报送批次" in other.text
    _sign_in(client, make_user("credit_office"))
    office = client.get("/batches")
    assert f'href="/batches/{batch_id}"' in office.text and "全部单位" in office.text
    _sign_in(client, None)
    assert client.get("/batches", follow_redirects=False).status_code == 303


def test_batches_of_a_platform_are_named_in_chinese(
    client: TestClient, make_user: Callable[..., str], make_api_key: Callable[[str], str]
) -> None:
    """A platform's pushed shops are listed under the platform's registered name and the data's Chinese name,
    on the list and on the receipt — not as ``platform:<USCC>`` and ``ec_shops``."""
    from tests.api.test_ecommerce_trade_support import make_platform, push, shop

    plat = make_platform(client, make_user, make_api_key, 3)
    batch = push(client, plat, "shops", [shop(1)])["batch_id"]
    _sign_in(client, make_user("credit_office"))
    listed = client.get("/batches").text
    row = re.search(rf'<tr>\s*<td><a href="/batches/{batch}">.*?</tr>', listed, re.S)
    assert row is not None, listed
    assert "电商平台·测试平台3" in row.group(0) and "电商网店数据" in row.group(0) and "接口报送" in row.group(0)
    assert "platform:" not in row.group(0) and "ec_shops" not in row.group(0)
    receipt = client.get(f"/batches/{batch}").text
    assert "电商网店数据" in receipt and "电商平台·测试平台3" in receipt


def test_quality_page(client: TestClient, make_user: Callable[..., str], batch_id: int) -> None:
    assert batch_id
    assert client.get("/quality", follow_redirects=False).status_code == 303
    _sign_in(client, make_user("clerk", "samr"))
    page = client.get("/quality")
    assert page.status_code == 200
    text = page.text
    for header in (
        "批次数",
        "收到",
        "新增",
        "未变",
        "更正",
        "拒绝",
        "拒绝率",
        "最近报送时间",
        "主要拒绝原因",
    ):
        assert header in text
    assert "市市场监管局" in text and "行政处罚信息" in text
    assert "50.0%" in text and "uscc.check_character" in text
    # The reason in words a clerk acts on: the column, the refused value's message, how many rows.
    reason = re.search(r'<div class="reason-line" title="字段：([^ ]+) · 代码：([^&]+)&#10;([^"]+)">\s*([^<]+?)\s*'
                       r'<span class="reason-n">× (\d+)</span>', text)
    assert reason is not None, text
    assert reason.groups()[:2] == ("统一社会信用代码", "uscc.check_character")
    assert reason.group(3).startswith("统一社会信用代码校验位错误") and reason.group(4).startswith("统一社会信用代码校验")
    assert reason.group(5) == "1"
    assert "范围：常州市市场监督管理局" in text and 'name="department"' not in text  # no choice of department


@pytest.mark.parametrize(("role", "department", "query", "sees_samr"), [
    ("clerk", "tax", "", False),  # another department's figures, and the messages quoting its refused values
    ("clerk", "tax", "?department=samr", False),  # asking by address changes nothing
    ("clerk", "samr", "?department=tax", True),  # its own, whatever the address asks
    ("credit_office", None, "", True),
    ("credit_office", None, "?department=tax", False),  # the office chooses
    ("admin", None, "?department=samr", True),
])
def test_a_department_reads_only_its_own_quality_figures(
    client: TestClient, make_user: Callable[..., str], batch_id: int, role: str, department: str | None, query: str,
    sees_samr: bool,
) -> None:
    assert batch_id
    _sign_in(client, make_user(role, department))
    page = client.get(f"/quality{query}")
    assert page.status_code == 200
    assert ("行政处罚信息" in page.text) is sees_samr and ("uscc.check_character" in page.text) is sees_samr
    if not sees_samr:
        assert "暂无报送数据" in page.text


def test_xlsx_upload_through_the_form(client: TestClient, platform: Platform, clerk: str) -> None:
    from openpyxl import Workbook

    version = platform.catalog.item(ITEM).latest
    columns = template_columns(version)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([c.label_zh for c in columns])
    row = valid_row(version, 7)
    sheet.append([row.get(c.code) for c in columns])
    buf = io.BytesIO()
    book.save(buf)
    _sign_in(client, clerk)
    response = client.post(
        "/submit",
        data={"item": ITEM, "csrf_token": _csrf(client)},
        files={"file": ("处罚.xlsx", buf.getvalue(), "application/octet-stream")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"]).text
    assert _counts(page) == {"收到": "1", "新增": "1", "未变": "0", "更正": "0", "拒绝": "0"}
    assert "全部数据行均已接收" in page
