"""The portal in a real browser (Debian's chromium through Playwright) against a real uvicorn server
(fixtures ``server`` and ``page``: tests/browser/conftest.py)."""

from __future__ import annotations

import csv
import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from chengxin.catalog.rules import template_columns
from chengxin.core.identifiers import make_uscc
from chengxin.platform import Platform

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"


def test_search_the_catalog_and_open_an_item(server: str, page: Page, tmp_path: Path) -> None:
    pg = page
    pg.goto(server + "/")
    expect(pg.get_by_role("heading", name=re.compile("诚信常州"))).to_be_visible()
    # The home page's search box finds subjects (信用主体查询); the catalog search is one link away.
    pg.fill("#home-q", "科技")
    pg.get_by_role("button", name="查询").click()
    expect(pg).to_have_url(re.compile(r"/search\?q="))
    expect(pg.get_by_role("heading", name=re.compile("信用主体查询"))).to_be_visible()
    pg.get_by_role("link", name="搜索信用信息目录").click()
    expect(pg).to_have_url(re.compile(r"/catalog$"))
    pg.fill("#q", "处罚")
    pg.get_by_role("button", name="查询").click()
    expect(pg).to_have_url(re.compile(r"/catalog\?q="))
    expect(pg.get_by_role("link", name="行政处罚信息")).to_be_visible()

    # Live search (htmx): typing swaps the results without a page load.
    pg.goto(server + "/catalog")
    expect(pg.locator("#catalog-results tbody tr").first).to_be_visible()
    all_rows = pg.locator("#catalog-results tbody tr").count()
    pg.evaluate("window.__no_reload = true")
    pg.fill("#q", "处罚")
    expect(pg.locator("#catalog-results")).to_contain_text("关键词“处罚”")
    assert pg.evaluate("window.__no_reload") is True
    assert pg.locator("#catalog-results tbody tr").count() < all_rows
    expect(pg).to_have_url(re.compile(r"q=%E5%A4%84%E7%BD%9A"))
    shot = tmp_path / "catalog.png"
    pg.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    pg.get_by_role("link", name="行政处罚信息").click()
    expect(pg).to_have_url(re.compile(r"/catalog/admin_penalty$"))
    expect(pg.get_by_role("heading", level=1)).to_contain_text("行政处罚信息")
    current = pg.locator(".version-current")
    expect(current.locator(".periods")).to_contain_text("严重失信")
    expect(current.locator(".periods")).to_contain_text("3个月")
    expect(current.locator(".periods")).to_contain_text("3年")
    expect(pg.get_by_role("link", name="下载 Excel 模板")).to_be_visible()


def _penalty_csv(platform: Platform, path: Path) -> Path:
    version = platform.catalog.item("admin_penalty").latest
    columns = template_columns(version)
    good = make_uscc("9", "1", "320400", "MA1X2Y3K")
    bad = make_uscc("9", "1", "320400", "MA1X2Y4K")
    bad = bad[:-1] + ("0" if bad[-1] != "0" else "1")  # a wrong check character

    def row(source_id: str, uscc: str, name: str) -> dict[str, str]:
        return {
            "source_id": source_id,
            "uscc": uscc,
            "subject_name": name,
            "decision_date": "2025-09-01",
            "severity": "一般",
            "decision_no": f"常市监处罚〔2025〕{source_id[-3:]}号",
            "violation_type": "虚假宣传",
            "facts": "在网店商品页面作虚假宣传",
            "legal_basis": "《中华人民共和国反不正当竞争法》第二十条",
            "penalty_type": "罚款",
            "penalty_content": "罚款人民币二万元",
            "fine_amount": "20000.00",
            "authority_name": "常州市市场监督管理局",
        }

    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([c.label_zh for c in columns])
        for values in (
            row("CZ-2025-001", good, "常州好运来商贸有限公司"),
            row("CZ-2025-002", bad, "常州坏账商贸有限公司"),
        ):
            writer.writerow([values.get(c.code, "") for c in columns])
    return path


def test_clerk_uploads_a_file_and_reads_the_receipt(
    server: str, page: Page, platform: Platform, make_user: Callable[..., str], tmp_path: Path
) -> None:
    pg = page
    make_user("clerk", "samr", username="samr_clerk", password=PASSWORD)
    upload = _penalty_csv(platform, tmp_path / "行政处罚2025年9月.csv")

    pg.goto(server + "/submit")
    expect(pg).to_have_url(re.compile(r"/login\?next=/submit$"))
    pg.get_by_label("用户名").fill("samr_clerk")
    pg.get_by_label("密码").fill(PASSWORD)
    pg.get_by_role("button", name="登录").click()
    expect(pg).to_have_url(re.compile(r"/submit$"))
    expect(pg.locator(".who")).to_contain_text("部门经办人")

    pg.locator('input[name="item"][value="admin_penalty"]').check()
    pg.set_input_files("#file", str(upload))
    # The page's script sends the file and follows the ingest's progress (static/upload.js), then opens the receipt.
    # What the page's script received is kept in sessionStorage (it survives the move to the receipt page).
    pg.evaluate("""() => {
      const open = XMLHttpRequest.prototype.open;
      XMLHttpRequest.prototype.open = function (...args) {
        this.addEventListener("load", () => sessionStorage.setItem("answer", JSON.stringify(
          {type: this.getResponseHeader("Content-Type"), body: this.responseText})));
        return open.apply(this, args);
      };
    }""")
    pg.get_by_role("button", name="上传并校验").click()
    expect(pg).to_have_url(re.compile(r"/batches/\d+$"))
    answer = json.loads(pg.evaluate("() => sessionStorage.getItem('answer')"))
    assert answer["type"].startswith("application/x-ndjson")
    events = [json.loads(line) for line in answer["body"].splitlines() if line.strip()]
    assert events[0] == {"rows": 2, "bytes": upload.stat().st_size, "total": upload.stat().st_size}
    assert events[-1]["done"] is True and events[-1]["received"] == 2 and pg.url.endswith(events[-1]["url"])

    counts = pg.locator(".counts")
    expect(counts.locator(".count", has_text="新增").locator(".count-num")).to_have_text("1")
    expect(counts.locator(".count", has_text="拒绝").locator(".count-num")).to_have_text("1")
    expect(counts.locator(".count", has_text="收到").locator(".count-num")).to_have_text("2")
    table = pg.locator("table.rejections")
    expect(table).to_contain_text("统一社会信用代码校验位错误")
    expect(table).to_contain_text("CZ-2025-002")
    expect(table).not_to_contain_text("CZ-2025-001")

    shot = tmp_path / "receipt.png"
    pg.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_a_refused_file_is_explained_on_the_form_and_can_be_sent_again(
    server: str, page: Page, platform: Platform, make_user: Callable[..., str], tmp_path: Path
) -> None:
    """A file refused as a whole (here: no header row the item knows) leaves the clerk on the form with the
    reason and its code; the button works again and the corrected file goes through."""
    pg = page
    make_user("clerk", "samr", username="samr_clerk2", password=PASSWORD)
    good = _penalty_csv(platform, tmp_path / "行政处罚.csv")
    bad = tmp_path / "随便一个表.csv"
    bad.write_text("序号,备注\n1,无关的表格\n", encoding="utf-8")

    pg.goto(server + "/login?next=/submit")
    pg.get_by_label("用户名").fill("samr_clerk2")
    pg.get_by_label("密码").fill(PASSWORD)
    pg.get_by_role("button", name="登录").click()
    expect(pg).to_have_url(re.compile(r"/submit$"))

    pg.locator('input[name="item"][value="admin_penalty"]').check()
    pg.set_input_files("#file", str(bad))
    pg.get_by_role("button", name="上传并校验").click()
    alert = pg.get_by_role("alert")
    expect(alert).to_contain_text("文件未能处理")
    expect(alert).to_contain_text("file.")
    expect(pg).to_have_url(re.compile(r"/submit$"))
    expect(pg.locator(".upload-progress")).to_be_hidden()

    pg.set_input_files("#file", str(good))
    button = pg.get_by_role("button", name="上传并校验")
    expect(button).to_be_enabled()
    button.click()
    expect(pg).to_have_url(re.compile(r"/batches/\d+$"))
    expect(pg.locator(".counts .count", has_text="收到").locator(".count-num")).to_have_text("2")


def test_an_upload_whose_page_goes_away_is_still_written_whole(
    server: str, platform: Platform, make_user: Callable[..., str]
) -> None:
    """The clerk closes the tab while the rows are being checked: the batch still ends and is committed whole
    (api.progress: the ingest's thread does not depend on anyone reading its progress)."""
    from sqlalchemy import select
    from tests.api.test_portal_pages import penalty_csv

    from chengxin.records.models import IngestBatch

    make_user("clerk", "samr", username="samr_clerk3", password=PASSWORD)
    rows = 20_000  # four chunks of 5,000: the first progress line comes well before the end
    body = penalty_csv(platform, good=rows, bad=0)
    with httpx.Client(base_url=server, timeout=60) as client:
        assert client.post("/login", data={"username": "samr_clerk3", "password": PASSWORD}).status_code == 303
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/submit").text)
        assert token is not None
        with client.stream("POST", "/submit", data={"item": "admin_penalty", "csrf_token": token.group(1)},
                           files={"file": ("走开了.csv", body, "text/csv")}, headers={"X-Progress": "ndjson"}) as answer:
            first = next(line for line in answer.iter_lines() if line.strip())
        # the connection is closed here, mid-ingest
    assert json.loads(first)["rows"] < rows

    deadline = time.monotonic() + 60
    while True:
        with platform.db.read() as session:
            batch = session.scalars(select(IngestBatch).where(IngestBatch.filename == "走开了.csv")).one_or_none()
        if batch is not None or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert batch is not None, "the batch was not written after its page went away"
    assert (batch.received, batch.accepted, batch.rejected) == (rows, rows, 0)
