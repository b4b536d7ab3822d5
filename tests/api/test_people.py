"""Person accounts and the personal portal (/me): real-name registration, password + TOTP sign-in,
lockout, one's own whole file with the query log, session isolation and CSRF."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chengxin.core.audit import Actor
from chengxin.disclosure import service as disclosure
from chengxin.disclosure.models import QueryLog
from chengxin.platform import Platform
from chengxin.records.models import Record
from chengxin.records.service import ApiRow, find_record_id, ingest, revoke_record
from factories import ric_for, valid_row

DAY = dt.date(2026, 11, 25)
PASSWORD = "correct horse battery"
NAME = "张三"  # the name factories give every person


def _submit(platform: Platform, item: str, dept: str, rows: list[dict[str, Any]]) -> None:
    receipt = ingest(platform.db, [ApiRow(i, r) for i, r in enumerate(rows, start=1)], catalog=platform.catalog,
                     keyring=platform.keyring, department=dept, item_code=item,
                     actor=Actor(kind="api_key", name="k", department_code=dept), channel="api", today=DAY)
    assert receipt.rejected == 0, receipt.rejections


def _row(platform: Platform, item: str, n: int, day: str, **kw: Any) -> dict[str, Any]:
    version = platform.catalog.version_on(item, dt.date.fromisoformat(day))
    assert version is not None
    return valid_row(version, n, person=True, decision_date=day, **kw)


@pytest.fixture()
def persons(platform: Platform) -> dict[str, int]:
    """Person 5: a penalty, a revoked penalty and physician information; person 6: one penalty.
    A department read person 5's file once (the query log)."""
    _submit(platform, "admin_penalty", "samr", [
        _row(platform, "admin_penalty", 5, "2026-01-10", source_id="P5-PEN", severity="general"),
        _row(platform, "admin_penalty", 5, "2026-02-10", source_id="P5-REVOKED", severity="general"),
        _row(platform, "admin_penalty", 6, "2026-03-10", source_id="P6-PEN", severity="general"),
    ])
    _submit(platform, "occ_physician", "health", [_row(platform, "occ_physician", 5, "2015-09-01",
                                                       source_id="P5-DOC")])
    with platform.db.read() as s:
        revoked = find_record_id(s, "samr", "P5-REVOKED")
        subjects = dict(s.execute(select(Record.source_id, Record.subject_id)).all())
    revoke_record(platform.db, keyring=platform.keyring, record_id=revoked, reason="复议撤销",
                  actor=Actor(kind="staff", name="office", role="credit_office"))
    with platform.db.write() as s:
        disclosure.government_file(s, platform.catalog, subjects["P5-PEN"],
                                   Actor(kind="api_key", name="k1", department_code="samr"), "行政许可审查", DAY)
    return {"p5": subjects["P5-PEN"], "p6": subjects["P6-PEN"], "revoked": revoked}


def _register(client: TestClient, n: int, name: str = NAME, password: str = PASSWORD) -> Any:
    return client.post("/me/register", data={"ric": ric_for(n), "name": name, "password": password},
                       follow_redirects=False)


def _login(client: TestClient, n: int, password: str = PASSWORD, code: str = "") -> Any:
    return client.post("/me/login", data={"ric": ric_for(n), "password": password, "totp_code": code},
                       follow_redirects=False)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def test_registration_checks_the_real_name_without_saying_which_half_is_wrong(
    client: TestClient, persons: dict[str, int]
) -> None:
    wrong_name = _register(client, 5, name="李四")
    unknown_id = _register(client, 777)
    assert wrong_name.status_code == unknown_id.status_code == 422
    assert "identity.mismatch" in wrong_name.text and "identity.mismatch" in unknown_id.text
    message = "实名核验未通过：公民身份号码与姓名不匹配或不在登记范围内"
    assert message in wrong_name.text and message in unknown_id.text
    assert _register(client, 5, password="short").status_code == 400
    ok = _register(client, 5)
    assert ok.status_code == 303 and ok.headers["location"] == "/me/login?registered=1"


def test_one_account_per_person(client: TestClient, persons: dict[str, int]) -> None:
    assert _register(client, 5).status_code == 303
    again = _register(client, 5, password="another long password")
    assert again.status_code == 409 and "person.exists" in again.text


def test_sign_in_with_password_sets_an_httponly_cookie(client: TestClient, persons: dict[str, int]) -> None:
    _register(client, 5)
    wrong = _login(client, 5, password="wrong password!")
    unknown = _login(client, 777)
    assert wrong.status_code == unknown.status_code == 401
    assert "身份号码、密码或动态验证码错误" in wrong.text and "身份号码、密码或动态验证码错误" in unknown.text
    r = _login(client, 5)
    assert r.status_code == 303 and r.headers["location"] == "/me"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("cx_person=") and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()


def test_totp_once_enabled_is_required_at_sign_in(client: TestClient, persons: dict[str, int]) -> None:
    _register(client, 5)
    _login(client, 5)
    page = client.get("/me/totp")
    assert page.status_code == 200 and "尚未启用" in page.text
    setup = client.post("/me/totp", data={"csrf_token": _csrf(page.text)})
    assert setup.status_code == 200
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', setup.text)
    assert secret and "otpauth://totp/" in setup.text
    totp = pyotp.TOTP(secret.group(1))
    bad = client.post("/me/totp/confirm", data={"csrf_token": _csrf(setup.text), "code": "000000"
                                                if totp.now() != "000000" else "111111"})
    assert bad.status_code == 400 and "totp.bad_code" in bad.text
    ok = client.post("/me/totp/confirm", data={"csrf_token": _csrf(setup.text), "code": totp.now()},
                     follow_redirects=False)
    assert ok.status_code == 303
    assert "已启用" in client.get("/me/totp").text

    client.cookies.clear()
    assert _login(client, 5).status_code == 401  # password alone no longer enough
    assert _login(client, 5, code="12345x").status_code == 401
    # The confirming code was used once; the next step's code (within the allowed drift) signs in.
    assert _login(client, 5, code=totp.at(time.time() + 30)).status_code == 303


def test_five_failures_lock_the_account_for_15_minutes(client: TestClient, persons: dict[str, int]) -> None:
    _register(client, 5)
    for _ in range(5):
        assert _login(client, 5, password="wrong password!").status_code == 401
    locked = _login(client, 5)  # even the right password
    assert locked.status_code == 401 and "auth.locked" in locked.text and "15 分钟" in locked.text


def test_me_shows_the_whole_file_with_revoked_records_and_the_query_log(
    client: TestClient, platform: Platform, persons: dict[str, int]
) -> None:
    _register(client, 5)
    _login(client, 5)
    with platform.db.read() as s:
        logged = s.execute(select(QueryLog.id)).all()
    page = client.get("/me")
    assert page.status_code == 200
    html = page.text
    assert ric_for(5) in html and NAME in html  # one's own identity, in clear
    assert f'id="record-{persons["revoked"]}" data-status="revoked"' in html
    assert "已撤销" in html and "复议撤销" in html and "第 2 版" in html
    assert html.count('data-status="active"') == 2  # the penalty and the physician information
    assert "行政许可审查" in html and "政务共享" in html  # the department's read: purpose and basis
    with platform.db.read() as s:
        assert s.execute(select(QueryLog.id)).all() == logged  # reading one's own file is not logged


def test_another_persons_session_sees_only_their_own_file(
    client: TestClient, platform: Platform, persons: dict[str, int]
) -> None:
    _register(client, 5)
    _register(client, 6)
    _login(client, 6)
    html = client.get("/me").text
    assert ric_for(6) in html and ric_for(5) not in html
    assert f'id="record-{persons["revoked"]}"' not in html and "行政许可审查" not in html
    client.cookies.clear()
    assert client.get("/me", follow_redirects=False).headers["location"] == "/me/login"


def test_post_forms_need_the_csrf_token(client: TestClient, persons: dict[str, int]) -> None:
    _register(client, 5)
    _login(client, 5)
    assert client.post("/me/totp", data={}).status_code == 403
    assert client.post("/me/totp", data={"csrf_token": "forged"}).status_code == 403
    assert client.post("/me/logout", data={}).status_code == 403
    page = client.get("/me")
    out = client.post("/me/logout", data={"csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/me", follow_redirects=False).status_code == 303


def test_a_person_downloads_their_own_signed_report(
    client: TestClient, platform: Platform, persons: dict[str, int]
) -> None:
    from chengxin.reports.signing import pdf_text, verify_pdf

    assert client.get("/me/report.pdf", follow_redirects=False).status_code in (302, 303)
    _register(client, 5)
    _login(client, 5)
    assert "/me/report.pdf" in client.get("/me").text
    response = client.get("/me/report.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert verify_pdf(response.content, platform.keyring.public_key).ok
    text = pdf_text(response.content)
    assert "查询记录" in text and "行政许可审查" in text  # the query log is in the report
    squashed = "".join(text.split())
    assert "2026-01-10" in squashed and "2026-02-10" not in squashed  # the penalty in force; not the revoked one
    verdict = client.post("/api/v1/reports/verify", json={"report_no": response.headers["x-report-no"],
                                                           "code": response.headers["x-verification-code"]})
    assert verdict.json()["valid"] is True


def test_two_free_own_reports_a_year_then_a_clear_refusal(
    client: TestClient, platform: Platform, persons: dict[str, int]
) -> None:
    """征信业管理条例 Art. 17: two free own reports a (Beijing calendar) year; last year's do not count."""
    from chengxin.core.db import utcnow
    from chengxin.reports.models import CreditReport

    _register(client, 5)
    _login(client, 5)
    assert "剩余 2 份" in client.get("/me").text
    first = client.get("/me/report.pdf")
    assert first.status_code == 200
    with platform.db.write() as s:  # the first one was taken last year: it no longer counts
        report = s.scalars(select(CreditReport).where(CreditReport.report_no == first.headers["x-report-no"])).one()
        report.generated_at = utcnow() - dt.timedelta(days=366)
    assert "剩余 2 份" in client.get("/me").text
    assert client.get("/me/report.pdf").status_code == 200
    assert client.get("/me/report.pdf").status_code == 200
    page = client.get("/me").text
    assert "剩余 0 份" in page and 'id="my-report"' not in page and f"{utcnow().year + 1}-01-01 起恢复" in page
    refused = client.get("/me/report.pdf")
    assert refused.status_code == 429 and "report.free_quota_used" in refused.text
    assert f"{utcnow().year + 1}年1月1日起可再次获取" in refused.text
    with platform.db.read() as s:  # the refusal issued nothing
        assert len(s.scalars(select(CreditReport).where(CreditReport.subject_id == persons["p5"])).all()) == 3
    assert client.get("/me").status_code == 200  # the file itself stays readable
