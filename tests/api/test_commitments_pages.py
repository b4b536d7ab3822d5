"""Portal pages of credit commitments: 信用承诺公示 (list, search, detail with text and hash), signing
on /me with the CSRF token, the section on /me, and the accepting department recording a breach."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chengxin.core.audit import Actor
from chengxin.core.clock import today_cn
from chengxin.people import orgs
from chengxin.people.models import PersonAccount
from chengxin.platform import Platform
from chengxin.records.models import Record
from factories import person_row, ric_for, submit_rows, uscc_for, valid_row

PASSWORD = "correct horse battery"


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


@pytest.fixture()
def signed_in(platform: Platform, client: TestClient) -> dict[str, int]:
    """Person 5 signed in on the portal, representative of organisation 7."""
    today = today_cn()  # taken when the test starts, not at import (a run may cross midnight)
    decided = today - dt.timedelta(days=30)
    version = platform.catalog.version_on("admin_penalty", decided)
    assert version is not None
    submit_rows(platform, "admin_penalty", "samr", [
        valid_row(version, 7, person=False, decision_date=decided.isoformat(), source_id="O7"),
        person_row(platform, "admin_penalty", 5, decided, source_id="P5"),
    ], today)
    assert client.post("/me/register", data={"ric": ric_for(5), "name": "张三", "password": PASSWORD},
                       follow_redirects=False).status_code == 303
    with platform.db.write() as s:
        subjects = dict(s.execute(select(Record.source_id, Record.subject_id)).all())
        account = s.scalars(select(PersonAccount).where(PersonAccount.subject_id == subjects["P5"])).one()
        orgs.link_organisation(s, platform.keyring, account_id=account.id, uscc=uscc_for(7), basis="授权委托书",
                               actor=Actor(kind="staff", name="office", role="credit_office"),
                               now=dt.datetime.now(dt.UTC))
    assert client.post("/me/login", data={"ric": ric_for(5), "password": PASSWORD, "totp_code": ""},
                       follow_redirects=False).status_code == 303
    return subjects


def _sign(client: TestClient, template: str, subject_id: int, department: str, matter: str,
          agree: bool = True) -> Any:
    page = client.get("/me/commitments/new").text
    version = re.search(rf'name="template" value="{template}">\s*<input type="hidden" name="template_version" '
                        r'value="([^"]+)"', page)
    assert version, page
    return client.post("/me/commitments", data={
        "csrf_token": _csrf(page), "template": template, "template_version": version.group(1),
        "subject_id": str(subject_id), "department": department, "matter": matter, "agree": "1" if agree else ""},
        follow_redirects=False)


def test_sign_on_the_portal_then_see_it_on_me_and_in_the_public_display(
    client: TestClient, signed_in: dict[str, int],
) -> None:
    assert "签署信用承诺" in client.get("/me/commitments/new").text
    unticked = _sign(client, "ecommerce_operator", signed_in["O7"], "commerce", "旗舰店", agree=False)
    assert unticked.status_code == 400 and 'data-code="commitment.not_agreed"' in unticked.text
    forged = client.post("/me/commitments", data={"csrf_token": "forged", "template": "ecommerce_operator"})
    assert forged.status_code == 403

    r = _sign(client, "ecommerce_operator", signed_in["O7"], "commerce", "“常州好物”旗舰店")
    assert r.status_code == 303, r.text
    no = r.headers["location"].rsplit("/", 1)[1]
    detail = client.get(f"/commitments/{no}").text
    text = html.unescape(re.search(r'<pre class="commitment-text"[^>]*id="commitment-text">(.*?)</pre>', detail,
                                   re.S).group(1))  # type: ignore[union-attr]
    digest = re.search(r'id="commitment-sha256">([0-9a-f]{64})<', detail).group(1)  # type: ignore[union-attr]
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == digest  # anyone can check
    assert "与上方全文一致" in detail and "撤回承诺" in detail

    me = client.get("/me").text
    assert 'id="my-commitments"' in me and f'data-no="{no}"' in me

    own_private = _sign(client, "certificate_notice", signed_in["P5"], "samr", "申请许可")
    private_no = own_private.headers["location"].rsplit("/", 1)[1]
    assert client.get(f"/commitments/{private_no}").status_code == 200  # the subject sees its own

    client.cookies.clear()  # the public
    listing = client.get("/commitments").text
    assert f'data-no="{no}"' in listing and f'data-no="{private_no}"' not in listing
    assert f'data-no="{no}"' in client.get("/commitments", params={"q": uscc_for(7)}).text
    assert 'data-no=' not in client.get("/commitments", params={"q": "不存在的单位"}).text
    assert client.get(f"/commitments/{private_no}").status_code == 404
    public = client.get(f"/commitments/{no}").text
    assert "撤回承诺" not in public and "认定违诺" not in public
    assert "电子商务经营者信用承诺书" in client.get("/commitments/templates").text


def test_the_accepting_department_records_a_breach_on_the_portal(
    client: TestClient, platform: Platform, signed_in: dict[str, int], make_user: Callable[..., str],
) -> None:
    r = _sign(client, "ecommerce_operator", signed_in["O7"], "commerce", "旗舰店")
    no = r.headers["location"].rsplit("/", 1)[1]
    client.cookies.clear()
    client.cookies.set("cx_session", make_user("clerk", "samr"))
    assert 'id="breach-form"' not in client.get(f"/commitments/{no}").text  # not the acceptor
    client.cookies.set("cx_session", make_user("clerk", "commerce"))
    page = client.get(f"/commitments/{no}").text
    assert 'id="breach-form"' in page and 'id="fulfil-form"' in page
    forged = client.post(f"/commitments/{no}/breach", data={"csrf_token": "x", "facts": "f", "decision_no": "d"})
    assert forged.status_code == 403
    done = client.post(f"/commitments/{no}/breach", data={
        "csrf_token": _csrf(page), "facts": "虚构交易 300 单", "decision_no": "常商认〔2026〕9号", "severity": "general"},
        follow_redirects=False)
    assert done.status_code == 303, done.text
    after = client.get(f"/commitments/{no}").text
    assert 'id="commitment-breach"' in after and "虚构交易 300 单" in after and 'id="breach-form"' not in after
    with platform.db.read() as s:
        assert s.scalar(select(Record.id).where(Record.item_code == "commitment_breach",
                                                Record.subject_id == signed_in["O7"])) is not None
