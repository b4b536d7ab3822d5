"""Issuing a report stores it; verifying by number + code (service, API, portal page) and offline (CLI)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests.unit.reports.sample import NOW, org_file, person_file
from tests.unit.reports.tamper import tamper_text
from typer.testing import CliRunner

from chengxin.cli.main import app as cli
from chengxin.disclosure.model import Audience
from chengxin.platform import Platform
from chengxin.reports.models import CreditReport
from chengxin.reports.service import IssuedReport, issue_report, verify_report
from chengxin.reports.signing import code_hash


@pytest.fixture()
def issued(platform: Platform) -> IssuedReport:
    with platform.db.write() as session:
        return issue_report(session, platform.keyring, org_file(9), audience=Audience.PUBLIC, requester=None,
                            base_url="https://credit.example.cn", now=NOW)


def test_issue_stores_hash_of_code_not_code(platform: Platform, issued: IssuedReport) -> None:
    with platform.db.read() as session:
        row = session.scalar(select(CreditReport).where(CreditReport.report_no == issued.report_no))
    assert row is not None and row.subject_id == 7 and row.audience == "public"
    assert row.verification_code_hash == code_hash(issued.verification_code)
    assert issued.verification_code.encode() not in row.content.encode()
    assert row.valid_until == dt.date(2026, 12, 25) and row.key_id == platform.keyring.key_id
    assert issued.pdf.startswith(b"%PDF") and issued.verification_code in issued.html


def test_verify_online(platform: Platform, issued: IssuedReport) -> None:
    with platform.db.read() as session:
        ok = verify_report(session, platform.keyring, issued.report_no, issued.verification_code.lower(),
                           today=dt.date(2026, 12, 1))
        wrong = verify_report(session, platform.keyring, issued.report_no, "AAAAAAAAAA", today=dt.date(2026, 12, 1))
        unknown = verify_report(session, platform.keyring, "CX20990101000000AAAAAA", issued.verification_code)
        expired = verify_report(session, platform.keyring, issued.report_no, issued.verification_code,
                                today=dt.date(2026, 12, 26))
        last_day = verify_report(session, platform.keyring, issued.report_no, issued.verification_code,
                                 today=dt.date(2026, 12, 25))
    assert ok.ok and ok.subject_name == "常州示例科技有限公司" and "验证通过" in ok.reason
    assert not wrong.ok and wrong.reason == "验证码不正确"
    assert not unknown.ok and "未找到" in unknown.reason
    assert not expired.ok and "有效期" in expired.reason
    assert last_day.ok


def test_person_report_issue(platform: Platform) -> None:
    with platform.db.write() as session:
        rep = issue_report(session, platform.keyring, person_file(), audience="self", requester=None,
                           base_url="http://x", now=NOW, valid_days=7)
    assert rep.valid_until == dt.date(2026, 12, 2)
    assert "查询记录" in rep.html and "张*" in rep.html


def test_api_verify_and_public_key(client: Any, platform: Platform, issued: IssuedReport) -> None:
    r = client.post("/api/v1/reports/verify", json={"report_no": issued.report_no, "code": issued.verification_code})
    assert r.status_code == 200
    body = r.json()
    # today's date decides expiry; the sample was issued 2026-11-25 for 30 days
    assert body["report_no"] == issued.report_no and body["subject_name"] == "常州示例科技有限公司"
    r = client.post("/api/v1/reports/verify", json={"report_no": issued.report_no, "code": "WRONGCODE1"})
    assert r.status_code == 200 and r.json()["valid"] is False and r.json()["message"] == "验证码不正确"
    r = client.post("/api/v1/reports/verify", json={"report_no": "", "code": "x"})
    assert r.status_code == 422
    pem = client.get("/api/v1/reports/public-key")
    assert pem.status_code == 200 and pem.text == platform.keyring.public_key_pem()


def test_verify_page(client: Any, issued: IssuedReport) -> None:
    page = client.get("/verify")
    assert page.status_code == 200 and "信用报告核验" in page.text and 'name="code"' in page.text
    page = client.get("/verify", params={"no": issued.report_no, "code": issued.verification_code})
    assert page.status_code == 200 and issued.report_no in page.text and "常州示例科技有限公司" in page.text
    page = client.post("/verify", data={"no": issued.report_no, "code": "BADBADBAD1"})
    assert page.status_code == 200 and "验证码不正确" in page.text and "核验未通过" in page.text


def test_cli_verify_report(platform: Platform, issued: IssuedReport, tmp_path: Path) -> None:
    good = tmp_path / "good.pdf"
    good.write_bytes(issued.pdf)
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(tamper_text(issued.pdf, "3.00", "0.00"))  # a glyph the text has (the font is a subset)
    key = tmp_path / "pub.pem"
    key.write_text(platform.keyring.public_key_pem())
    runner = CliRunner()
    ok = runner.invoke(cli, ["verify-report", str(good), "--public-key", str(key)])
    assert ok.exit_code == 0, ok.output
    assert "验证通过" in ok.output and issued.report_no in ok.output
    ko = runner.invoke(cli, ["verify-report", str(bad), "--public-key", str(key)])
    assert ko.exit_code == 1 and "验证失败" in ko.output and "篡改" in ko.output


def test_cli_verify_report_default_key(platform: Platform, issued: IssuedReport, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from chengxin.core.settings import get_settings

    monkeypatch.setattr(get_settings(), "key_dir", platform.keyring.key_dir)
    good = tmp_path / "good.pdf"
    good.write_bytes(issued.pdf)
    ok = CliRunner().invoke(cli, ["verify-report", str(good)])
    assert ok.exit_code == 0, ok.output
