"""Issue #3 end to end in a real browser (Debian's chromium through Playwright, real uvicorn server):
a member of the public searches and opens an organisation's public file; a person registers after
the real-name check, turns on TOTP and signs in with it, reads their whole file, grants a consent
that a requester's system uses once over HTTP, revokes it, and downloads their signed report, which
verifies offline with the platform's public key and no longer does once one byte is changed.

Only the data is set up through the service layer (ingest, revoke, as the departments would);
every step of the people involved is clicks and form fills.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pyotp
import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader, PdfWriter
from tests.unit.reports.tamper import tamper_text
from typer.testing import CliRunner

from chengxin.cli.main import app as cli_app
from chengxin.core.audit import Actor
from chengxin.disclosure.rules import display_window
from chengxin.platform import Platform
from chengxin.records.service import ApiRow, find_record_id, ingest, revoke_record
from chengxin.reports.signing import ENVELOPE_NAME, pdf_text, verify_pdf
from factories import ric_for, uscc_for, valid_row

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"

ORG_NAME = "常州启明星科技有限公司"
ORG_USCC = uscc_for(4101)
PENALTY_NO = "常市监处罚〔2026〕41号"
REVOKED_NO = "常市监处罚〔2026〕42号"
EXPIRED_NO = "常市监处罚〔2024〕43号"

REQUESTER_NAME = "常州才聚人力资源有限公司"
REQUESTER_USCC = uscc_for(4202)

PERSON_N = 4303
PERSON_RIC = ric_for(PERSON_N)
PERSON_NAME = "王小明"
PERSON_MASKED = "王*明"
PERSON_PENALTY_NO = "常市监处罚〔2026〕44号"
PERSON_REVOKED_NO = "常市监处罚〔2026〕45号"


# -- data, as the departments submit it -----------------------------------------------------------------


def _submit(platform: Platform, item: str, dept: str, rows: list[dict[str, Any]], today: dt.date) -> None:
    receipt = ingest(platform.db, [ApiRow(i, r) for i, r in enumerate(rows, start=1)], catalog=platform.catalog,
                     keyring=platform.keyring, department=dept, item_code=item,
                     actor=Actor(kind="api_key", name="k", department_code=dept), channel="api", today=today)
    assert receipt.rejected == 0, receipt.rejections


def _row(platform: Platform, item: str, n: int, day: dt.date, **kw: Any) -> dict[str, Any]:
    version = platform.catalog.version_on(item, day)
    assert version is not None
    return valid_row(version, n, decision_date=day.isoformat(), **kw)


def _revoke(platform: Platform, source_id: str) -> None:
    with platform.db.read() as s:
        record_id = find_record_id(s, "samr", source_id)
    revoke_record(platform.db, keyring=platform.keyring, record_id=record_id, reason="复议撤销",
                  actor=Actor(kind="staff", name="office", role="credit_office"))


@pytest.fixture()
def city(platform: Platform, day: dt.date) -> dict[str, dt.date]:
    """The organisation: registration (basic) and a general penalty in force, a revoked penalty and one
    whose display period is over. The requester: its registration. The person (in the population
    register by their records): a penalty — never public for a person — and a revoked one. Returns the
    days of the penalties and the last day the organisation's is displayed."""
    penalty_day = day - dt.timedelta(days=40)
    person_penalty_day = day - dt.timedelta(days=30)
    reg_day = dt.date(2018, 5, 10)
    _submit(platform, "org_registration", "samr", [
        _row(platform, "org_registration", 4101, reg_day, source_id="ORG-REG", uscc=ORG_USCC, subject_name=ORG_NAME),
        _row(platform, "org_registration", 4202, reg_day, source_id="REQ-REG", uscc=REQUESTER_USCC,
             subject_name=REQUESTER_NAME),
    ], day)
    old_day = day - dt.timedelta(days=800)  # a general penalty is shown for one year: long over
    _submit(platform, "admin_penalty", "samr", [
        _row(platform, "admin_penalty", 4101, penalty_day, source_id="ORG-PEN", uscc=ORG_USCC, subject_name=ORG_NAME,
             severity="general", decision_no=PENALTY_NO),
        _row(platform, "admin_penalty", 4101, penalty_day, source_id="ORG-PEN-REVOKED", uscc=ORG_USCC,
             subject_name=ORG_NAME, severity="general", decision_no=REVOKED_NO),
        _row(platform, "admin_penalty", 4101, old_day, source_id="ORG-PEN-OLD", uscc=ORG_USCC, subject_name=ORG_NAME,
             severity="general", decision_no=EXPIRED_NO),
        _row(platform, "admin_penalty", PERSON_N, person_penalty_day, person=True, source_id="P-PEN",
             subject_name=PERSON_NAME, severity="general", decision_no=PERSON_PENALTY_NO),
        _row(platform, "admin_penalty", PERSON_N, person_penalty_day, person=True, source_id="P-PEN-REVOKED",
             subject_name=PERSON_NAME, severity="general", decision_no=PERSON_REVOKED_NO),
    ], day)
    _revoke(platform, "ORG-PEN-REVOKED")
    _revoke(platform, "P-PEN-REVOKED")
    version = platform.catalog.version_on("admin_penalty", penalty_day)
    assert version is not None
    ends_on = display_window(version, "general", penalty_day)[1]
    assert ends_on is not None and ends_on > day
    return {"penalty_day": penalty_day, "person_penalty_day": person_penalty_day, "penalty_ends_on": ends_on}


# -- helpers -------------------------------------------------------------------------------------------


def _shot(pg: Page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{name}: a near-empty screenshot"
    return path


def _login(pg: Page, password: str, code: str = "") -> None:
    pg.get_by_label("公民身份号码").fill(PERSON_RIC)
    pg.get_by_label("密码", exact=True).fill(password)
    pg.get_by_label("动态验证码").fill(code)
    pg.get_by_role("button", name="登录", exact=True).click()


def _code_after(totp: pyotp.TOTP, used_step: int) -> str:
    """The code of the current 30-second step, or of the next one if the current one was used
    (a code is accepted once; the server allows one step of drift)."""
    step = max(int(time.time()) // totp.interval, used_step + 1)
    return totp.at(step * totp.interval)


def _read_as_requester(server: str, code: str) -> httpx.Response:
    """What the requester's own system does with the code the person gave it."""
    return httpx.post(f"{server}/api/v1/consent/file", json={"uscc": REQUESTER_USCC, "code": code,
                                                              "ric": PERSON_RIC}, timeout=30)


def _grant(pg: Page, *, until: dt.date | None) -> tuple[str, str]:
    """Fill the grant form (purpose 招聘录用, 失信信息 only); the code and the consent reference shown."""
    pg.get_by_label("查询机构统一社会信用代码").fill(REQUESTER_USCC)
    pg.get_by_label("授权用途").select_option("招聘录用")
    pg.get_by_label("失信信息").check()
    if until is None:
        pg.get_by_label("单次有效").check()
    else:
        pg.get_by_label("有效至").check()
        pg.get_by_label("有效期截止日期").fill(until.isoformat())
    pg.get_by_role("button", name="生成授权码").click()
    expect(pg.get_by_role("heading", name="授权已生成")).to_be_visible()
    code = pg.locator("#consent-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}", code), code
    reference = pg.locator("section[aria-labelledby=granted] code").first.inner_text().strip()
    assert reference.startswith("SQ"), reference
    return code, reference


def _flip_one_byte_of_the_signed_content(pdf: bytes, old: str) -> bytes:
    """The same PDF with one byte of the embedded signed content changed (a digit of ``old``)."""
    reader = PdfReader(io.BytesIO(pdf))
    envelope = orjson.loads(reader.attachments[ENVELOPE_NAME][0])
    content = bytearray(envelope["content"].encode())
    at = content.index(old.encode()) + len(old) - 1
    content[at] ^= 0x01  # '0' <-> '1', '2' <-> '3', …: still a digit, still valid JSON
    envelope["content"] = content.decode()
    writer = PdfWriter()  # the same pages, the altered envelope
    for page in reader.pages:
        writer.add_page(page)
    writer.add_attachment(ENVELOPE_NAME, orjson.dumps(envelope))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _pdf_text(path: Path) -> str:
    """The report's text as poppler prints it (pypdf as a fallback), whitespace squashed."""
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True,
                              timeout=60).stdout.decode()
    else:  # pragma: no cover - poppler-utils is a system dependency (Makefile)
        text = pdf_text(path.read_bytes())
    return "".join(text.split())


# -- the journey ----------------------------------------------------------------------------------------


def test_search_sign_in_consent_and_download_a_verified_report(
    server: str, page: Page, platform: Platform, city: dict[str, dt.date], day: dt.date, tmp_path: Path
) -> None:
    pg = page
    penalty_day, person_penalty_day = city["penalty_day"], city["person_penalty_day"]

    # 1. A member of the public: home page → search part of the name → the organisation's public file.
    pg.goto(server + "/")
    pg.get_by_label("信用主体查询").fill("启明星")
    pg.get_by_role("button", name="查询").click()
    expect(pg).to_have_url(re.compile(r"/search\?q="))
    results = pg.locator("#search-results")
    expect(results).to_contain_text("共找到 1 个信用主体")
    expect(results).to_contain_text(ORG_USCC)
    _shot(pg, tmp_path, "1-search")
    results.get_by_role("link", name=ORG_NAME).click()
    expect(pg).to_have_url(re.compile(r"/subjects/\d+$"))
    expect(pg.get_by_role("heading", level=1)).to_contain_text(ORG_NAME)
    expect(pg.locator(".facts")).to_contain_text(ORG_USCC)

    basic = pg.locator("section[aria-labelledby=cat-basic]")
    expect(basic).to_contain_text("登记注册基本信息")
    expect(basic).to_contain_text("（1 条）")
    negative = pg.locator("section[aria-labelledby=cat-negative]")
    expect(negative).to_contain_text("（1 条）")
    penalty = negative.locator("tbody tr", has_text=PENALTY_NO)
    expect(penalty).to_have_count(1)
    expect(penalty.locator("td").nth(0)).to_contain_text("行政处罚信息")
    expect(penalty.locator("td").nth(1)).to_have_text("常州市市场监督管理局")
    expect(penalty.locator("td").nth(2)).to_have_text(penalty_day.isoformat())
    expect(penalty.locator("td").nth(3)).to_have_text(city["penalty_ends_on"].isoformat())
    main = pg.locator("main")
    expect(main).not_to_contain_text(REVOKED_NO)  # revoked: kept, never displayed
    expect(main).not_to_contain_text(EXPIRED_NO)  # its display period is over
    expect(pg.get_by_role("link", name="下载公开信用报告（PDF）")).to_be_visible()
    _shot(pg, tmp_path, "2-subject")

    # A person's penalty is never public: the full citizen ID finds nobody.
    pg.get_by_role("navigation", name="主导航").get_by_role("link", name="信用查询").click()
    pg.get_by_label("企业名称或统一社会信用代码").fill(PERSON_RIC)
    pg.get_by_role("button", name="查询").click()
    expect(pg.locator("#search-results")).to_contain_text("没有找到匹配的信用主体")

    # 2. The person: /me → register (real-name check against the register) → sign in.
    pg.get_by_role("link", name="个人信用查询").click()
    expect(pg).to_have_url(re.compile(r"/me/login$"))
    pg.get_by_role("link", name="实名注册").click()
    expect(pg.get_by_role("heading", name="个人账户注册")).to_be_visible()
    pg.get_by_label("公民身份号码").fill(PERSON_RIC)
    pg.get_by_label("姓名").fill("王小红")  # not the name in the register
    pg.get_by_label("密码（至少 10 位）").fill(PASSWORD)
    pg.get_by_role("button", name="实名核验并注册").click()
    expect(pg.get_by_role("alert")).to_contain_text("实名核验未通过")
    pg.get_by_label("公民身份号码").fill(PERSON_RIC)
    pg.get_by_label("姓名").fill(PERSON_NAME)
    pg.get_by_label("密码（至少 10 位）").fill(PASSWORD)
    pg.get_by_role("button", name="实名核验并注册").click()
    expect(pg).to_have_url(re.compile(r"/me/login\?registered=1$"))
    expect(pg.get_by_role("status")).to_contain_text("注册成功")
    _login(pg, PASSWORD)
    expect(pg).to_have_url(re.compile(r"/me$"))

    # TOTP: generate the secret, copy it from the page into an authenticator (pyotp), confirm.
    pg.get_by_role("link", name="启用动态验证码").click()
    pg.get_by_role("button", name="生成密钥").click()
    secret = pg.locator("#totp-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    expect(pg.locator("#totp-uri")).to_contain_text(f"secret={secret}")
    _shot(pg, tmp_path, "3-totp")
    totp = pyotp.TOTP(secret)
    used_step = int(time.time()) // totp.interval
    pg.get_by_label("输入应用显示的 6 位验证码以确认启用").fill(totp.at(used_step * totp.interval))
    pg.get_by_role("button", name="确认启用").click()
    expect(pg.get_by_role("status")).to_contain_text("已启用")

    # Sign out; from now on the password alone is not enough.
    pg.get_by_role("link", name="个人中心").click()
    pg.get_by_role("button", name="退出登录").click()
    expect(pg).to_have_url(re.compile(r"/$"))
    pg.get_by_role("link", name="个人信用查询").click()
    _login(pg, PASSWORD)
    expect(pg.get_by_role("alert")).to_contain_text("身份号码、密码或动态验证码错误")
    _login(pg, PASSWORD, _code_after(totp, used_step))
    expect(pg).to_have_url(re.compile(r"/me$"))

    # Their whole file: the penalty no one else sees, and the revoked one with its history.
    expect(pg.get_by_role("heading", name="我的信用档案")).to_be_visible()
    facts = pg.locator(".facts")
    expect(facts).to_contain_text(PERSON_NAME)
    expect(facts).to_contain_text(PERSON_RIC)
    mine = pg.locator("table.my-records tbody tr")
    active = mine.filter(has_text=PERSON_PENALTY_NO)
    expect(active).to_have_attribute("data-status", "active")
    expect(active).to_contain_text("常州市市场监督管理局")
    expect(active).to_contain_text(person_penalty_day.isoformat())
    revoked = mine.filter(has_text=PERSON_REVOKED_NO)
    expect(revoked).to_have_attribute("data-status", "revoked")
    expect(revoked).to_contain_text("已撤销")
    expect(revoked).to_contain_text("复议撤销")
    expect(pg.locator("section[aria-labelledby=query-log]")).to_contain_text("暂无他人查询")
    _shot(pg, tmp_path, "4-my-file")

    # 3. Consent: a single-use one, used once by the requester's system, then refused.
    pg.get_by_role("link", name="授权管理").click()
    expect(pg.get_by_role("heading", name="授权管理")).to_be_visible()
    single_code, single_ref = _grant(pg, until=None)
    single_row = pg.locator("tbody tr", has_text=single_ref)
    expect(single_row).to_have_attribute("data-state", "valid")
    expect(single_row).to_contain_text("单次有效")
    expect(single_row).to_contain_text("招聘录用")
    expect(single_row).to_contain_text("失信信息")
    expect(single_row).to_contain_text("未使用")
    _shot(pg, tmp_path, "5-consent-granted")

    first = _read_as_requester(server, single_code)
    assert first.status_code == 200, first.text
    body = first.json()
    assert [i["category"] for i in body["items"]] == ["negative"]
    assert PERSON_RIC not in first.text and PERSON_NAME not in first.text  # identity masked
    assert PERSON_REVOKED_NO not in first.text  # displayed records only
    again = _read_as_requester(server, single_code)
    assert again.status_code == 403 and again.json()["error"]["code"] == "consent.used"

    # A dated one: used, seen by the person, revoked through the page, then refused.
    until = day + dt.timedelta(days=30)
    dated_code, dated_ref = _grant(pg, until=until)
    dated_row = pg.locator("tbody tr", has_text=dated_ref)
    expect(dated_row).to_contain_text(f"至 {until.isoformat()}")
    expect(dated_row).to_have_attribute("data-state", "valid")
    assert _read_as_requester(server, dated_code).status_code == 200

    pg.get_by_role("link", name="个人中心").click()
    pg.get_by_role("link", name="授权管理").click()
    single_row = pg.locator("tbody tr", has_text=single_ref)
    dated_row = pg.locator("tbody tr", has_text=dated_ref)
    expect(single_row).to_have_attribute("data-state", "used")
    expect(single_row).to_contain_text("已使用")
    for row in (single_row, dated_row):
        use = row.locator(".consent-use")
        expect(use).to_have_count(1)
        expect(use).to_contain_text(f"{REQUESTER_NAME}（{REQUESTER_USCC}）")
        expect(use).to_contain_text("招聘录用")
    expect(single_row.get_by_role("button", name="撤销")).to_have_count(0)  # nothing left to revoke

    dated_row.get_by_role("button", name="撤销").click()
    dated_row = pg.locator("tbody tr", has_text=dated_ref)
    expect(dated_row).to_have_attribute("data-state", "revoked")
    expect(dated_row).to_contain_text("已撤销")
    expect(dated_row.get_by_role("button", name="撤销")).to_have_count(0)
    expect(dated_row.locator(".consent-use")).to_have_count(1)  # the use stays on record
    _shot(pg, tmp_path, "6-consent-revoked")
    refused = _read_as_requester(server, dated_code)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "consent.revoked"

    # The requester's reads are in the person's query log: who, purpose, basis (the consent).
    pg.get_by_role("link", name="个人中心").click()
    log = pg.locator("section[aria-labelledby=query-log]")
    expect(log.locator("tbody tr")).to_have_count(2)
    expect(log).to_contain_text(REQUESTER_NAME)
    expect(log).to_contain_text(f"本人授权 {single_ref}")
    expect(log).to_contain_text(f"本人授权 {dated_ref}")

    # 4. The signed report, downloaded as a browser downloads it.
    with pg.expect_download(timeout=60_000) as download:  # rendering and signing: slow on a busy machine
        pg.get_by_role("link", name=re.compile("下载本人信用报告")).click()
    saved = tmp_path / (download.value.suggested_filename or "report.pdf")
    download.value.save_as(saved)
    assert saved.suffix == ".pdf" and saved.name.startswith("CX")
    pdf = saved.read_bytes()
    assert pdf.startswith(b"%PDF")

    public_key = platform.keyring.public_key
    verdict = verify_pdf(pdf, public_key)
    assert verdict.ok, verdict.reason
    assert verdict.report_no == saved.stem

    text = _pdf_text(saved)
    assert PERSON_MASKED in text and PERSON_NAME not in text  # masked, as on any report handed to others
    assert PERSON_PENALTY_NO in text and "常州市市场监督管理局" in text
    assert PERSON_REVOKED_NO not in text  # revoked: in the file page, not in the report
    assert "查询记录" in text and REQUESTER_NAME in text and f"本人授权{single_ref}" in text

    forged = _flip_one_byte_of_the_signed_content(pdf, person_penalty_day.isoformat())
    assert forged != pdf
    forged_verdict = verify_pdf(forged, public_key)
    assert not forged_verdict.ok and "内嵌数据" in forged_verdict.reason, forged_verdict.reason
    # …and one printed character changed on the page (the masked name), the signed data left intact.
    # (A glyph the document has: the embedded font is a subset; a date's digits vary with the day.)
    printed = tamper_text(pdf, PERSON_MASKED, PERSON_MASKED[:-1] + PERSON_MASKED[0])
    printed_verdict = verify_pdf(printed, public_key)
    assert not printed_verdict.ok and "页面已被篡改" in printed_verdict.reason, printed_verdict.reason

    # The same checks with the command line, given only the public key.
    key_file = tmp_path / "platform-public.pem"
    key_file.write_text(platform.keyring.public_key_pem())
    forged_file = tmp_path / "forged.pdf"
    forged_file.write_bytes(forged)
    runner = CliRunner()
    ok = runner.invoke(cli_app, ["verify-report", str(saved), "--public-key", str(key_file)])
    assert ok.exit_code == 0, ok.output
    assert "验证通过" in ok.output
    bad = runner.invoke(cli_app, ["verify-report", str(forged_file), "--public-key", str(key_file)])
    assert bad.exit_code == 1, bad.output
    assert "验证失败" in bad.output
