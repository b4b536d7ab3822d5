"""Objection pages on the portal: the person files (with an attachment) and follows the case on /me,
the clerk answers from the department's queue, the office forwards and reviews; CSRF on every form,
refused forms come back with the message and what was typed; statements; representatives."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.api.test_objections_support import PASSWORD, PDF, World, build_world, csrf

from chengxin.objections.models import Objection
from chengxin.platform import Platform
from chengxin.records.models import Record, RecordVersion
from factories import ric_for


@pytest.fixture()
def world(platform: Platform, client: TestClient) -> World:
    return build_world(platform, client)


@pytest.fixture()
def staff(client: TestClient) -> Iterator[Callable[..., TestClient]]:
    """A second browser for a staff member (role, department) signed in with the session cookie."""
    opened: list[TestClient] = []

    def make(token: str) -> TestClient:
        c = TestClient(client.app)
        c.__enter__()
        c.cookies.set("cx_session", token)
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.__exit__(None, None, None)


def _sign_in(client: TestClient, n: int) -> None:
    r = client.post("/me/login", data={"ric": ric_for(n), "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text


def _file(client: TestClient, record_id: int, **data: str) -> httpx.Response:
    form = client.get(f"/me/objections/new?record={record_id}").text
    files = [("files", ("决定书.pdf", PDF, "application/pdf"))]
    return client.post("/me/objections", data={"csrf_token": csrf(form), "record_id": str(record_id),
                                               "grounds": "wrong_information", "reason": "处罚内容有误", **data},
                       files=files, follow_redirects=False)


def _staff_post(c: TestClient, url: str, **data: str) -> httpx.Response:
    return c.post(url, data={"csrf_token": csrf(c.get(url).text), **data}, follow_redirects=False)


def test_a_person_files_on_the_portal_and_the_clerk_answers(
    client: TestClient, platform: Platform, world: World, make_user: Callable[..., str],
    staff: Callable[..., TestClient],
) -> None:
    _sign_in(client, 5)
    me = client.get("/me").text
    assert f'id="object-{world.p5}"' in me and "我的异议" in me and f'id="object-{world.p5_revoked}"' not in me
    form = client.get(f"/me/objections/new?record={world.p5}")
    assert form.status_code == 200 and "信息错误" in form.text and 'enctype="multipart/form-data"' in form.text

    no_token = client.post("/me/objections", data={"record_id": str(world.p5), "grounds": "other", "reason": "x"})
    assert no_token.status_code == 403 and "安全校验失败" in no_token.text
    no_reason = client.post("/me/objections", data={"csrf_token": csrf(form.text), "record_id": str(world.p5),
                                                    "grounds": "other", "reason": " "})
    assert no_reason.status_code == 400 and "请填写异议理由" in no_reason.text
    assert 'value="other" required checked' in no_reason.text  # what was chosen is kept
    bad_file = client.post("/me/objections", data={"csrf_token": csrf(form.text), "record_id": str(world.p5),
                                                   "grounds": "other", "reason": "我的理由很长"},
                           files=[("files", ("病毒.pdf", b"MZ not a pdf", "application/pdf"))])
    assert bad_file.status_code == 400 and "不是允许的文件类型" in bad_file.text and "我的理由很长" in bad_file.text

    filed = _file(client, world.p5)
    assert filed.status_code == 303
    page = client.get(filed.headers["location"]).text
    assert "异议已提交" in page and "待核查转办" in page and "决定书.pdf" in page
    found = re.search(r"异议 (\d+)", page)
    assert found
    oid = int(found.group(1))
    me = client.get("/me").text
    assert f'id="objection-{oid}"' in me and "异议中" in me and f"异议 {oid}：待核查转办" in me

    clerk = staff(make_user("clerk", "samr"))
    assert f'id="objection-{oid}"' not in clerk.get("/dept/objections").text  # not forwarded yet
    office = staff(make_user("credit_office"))
    assert f'id="objection-{oid}"' in office.get("/office/objections?stage=check").text
    forwarded = _staff_post(office, f"/office/objections/{oid}", action="forward", reason="与来源一致")
    assert forwarded.status_code == 303

    queue = clerk.get("/dept/objections").text
    row = re.search(rf'<tr id="objection-{oid}".*?</tr>', queue, re.S)
    assert row and "待部门处理" in row.group(0) and re.search(r"\d{4}-\d{2}-\d{2}", row.group(0))
    case_url = f"/dept/objections/{oid}"
    case = clerk.get(case_url).text
    assert 'id="act-uphold"' in case and 'id="act-forward"' not in case and "决定书.pdf" in case
    attachment = re.search(rf'href="(/dept/objections/{oid}/attachments/\d+)"', case)
    assert attachment and clerk.get(attachment.group(1)).content == PDF
    missing = _staff_post(clerk, case_url, action="uphold", reason="")
    assert missing.status_code == 400 and "维持原记录须说明理由" in missing.text
    wrong_state = _staff_post(clerk, case_url, action="forward", reason="")
    assert wrong_state.status_code == 409 and "不能核查后转交数据提供单位" in wrong_state.text
    no_csrf = clerk.post(case_url, data={"action": "uphold", "reason": "维持"})
    assert no_csrf.status_code == 403
    done = _staff_post(clerk, case_url, action="uphold", reason="处罚事实清楚、证据确凿")
    assert done.status_code == 303
    assert "已办理：维持原记录" in clerk.get(done.headers["location"]).text

    me = client.get("/me").text
    row = re.search(rf'<tr id="objection-{oid}".*?</tr>', me, re.S)
    assert row and "维持原记录" in row.group(0) and "申请复核" in row.group(0) and "处罚事实清楚" in row.group(0)
    detail = client.get(f"/me/objections/{oid}").text
    assert 'id="contest"' in detail
    contested = client.post(f"/me/objections/{oid}/act", data={"csrf_token": csrf(detail), "action": "contest",
                                                              "reason": ""})
    assert contested.status_code == 400 and "申请复核须说明理由" in contested.text
    contested = client.post(f"/me/objections/{oid}/act", data={"csrf_token": csrf(detail), "action": "contest",
                                                              "reason": "笔录签名不是本人"}, follow_redirects=False)
    assert contested.status_code == 303
    assert f'id="objection-{oid}"' in office.get("/office/objections?stage=review").text
    confirmed = _staff_post(office, f"/office/objections/{oid}", action="confirm", reason="复核维持")
    assert confirmed.status_code == 303
    assert "复核维持原处理结果" in client.get(f"/me/objections/{oid}").text


def test_the_clerk_corrects_through_the_form(client: TestClient, platform: Platform, world: World,
                                             make_user: Callable[..., str], staff: Callable[..., TestClient]) -> None:
    _sign_in(client, 5)
    _file(client, world.p5)
    with platform.db.read() as s:
        oid = s.scalar(select(Objection.id))
    office = staff(make_user("credit_office"))
    _staff_post(office, f"/office/objections/{oid}", action="forward")
    clerk = staff(make_user("clerk", "samr"))
    url = f"/dept/objections/{oid}"
    invalid = _staff_post(clerk, url, action="correct", reason="更正", f_fine_amount="很多")
    assert invalid.status_code == 400 and "罚款金额" in invalid.text
    assert 'value="很多"' in invalid.text
    ok = _staff_post(clerk, url, action="correct", reason="处罚内容登记有误", f_penalty_content="警告")
    assert ok.status_code == 303
    with platform.db.read() as s:
        record = s.get_one(Record, world.p5)
        version = s.get_one(RecordVersion, record.version_id)
    assert record.version == 2 and version.change == "correct" and version.fields["penalty_content"] == "警告"
    assert not record.under_objection
    assert "已更正记录" in client.get("/me").text


def test_other_departments_and_the_public_are_kept_out(client: TestClient, world: World,
                                                       make_user: Callable[..., str],
                                                       staff: Callable[..., TestClient]) -> None:
    _sign_in(client, 5)
    _file(client, world.p5)
    tax = staff(make_user("clerk", "tax"))
    assert "objection-1" not in tax.get("/dept/objections?all=1").text
    assert tax.get("/dept/objections/1").status_code == 403
    refused = tax.post("/dept/objections/1", data={"csrf_token": csrf(tax.get("/dept/objections").text),
                                                   "action": "uphold", "reason": "x"})
    assert refused.status_code == 403
    assert tax.get("/office/objections", follow_redirects=False).headers["location"] == "/dept/objections"
    anonymous = TestClient(client.app)
    assert anonymous.get("/dept/objections", follow_redirects=False).status_code == 303
    assert anonymous.get("/me/objections/1", follow_redirects=False).headers["location"] == "/me/login"
    _sign_in(anonymous, 6)
    assert anonymous.get("/me/objections/1").status_code == 404
    assert anonymous.get(f"/me/objections/new?record={world.p5}").status_code == 404
    assert anonymous.get(f"/me/statements/{world.p5}").status_code == 404


def test_statements_on_the_portal(client: TestClient, world: World) -> None:
    _sign_in(client, 5)
    url = f"/me/statements/{world.p5}"
    page = client.get(url).text
    too_long = client.post(url, data={"csrf_token": csrf(page), "text": "长" * 501})
    assert too_long.status_code == 400 and "不能超过 500 字" in too_long.text and "长" * 501 in too_long.text
    assert client.post(url, data={"text": "x"}).status_code == 403
    saved = client.post(url, data={"csrf_token": csrf(page), "text": "已缴清罚款"}, follow_redirects=False)
    assert saved.status_code == 303
    assert "已保存" in client.get(saved.headers["location"]).text
    me = client.get("/me").text
    assert "本人声明：</span>已缴清罚款" in me and "修改本人声明" in me
    withdrawn = client.post(url, data={"csrf_token": csrf(page), "op": "withdraw"}, follow_redirects=False)
    assert withdrawn.status_code == 303
    history = client.get(url).text
    assert "撤回" in history and "附加：已缴清罚款" in history
    assert "本人声明：</span>已缴清罚款" not in client.get("/me").text


def test_a_representative_acts_for_the_organisation(client: TestClient, world: World) -> None:
    _sign_in(client, 5)
    me = client.get("/me").text
    assert f'href="/me/represented/{world.org_subject}"' in me
    org = client.get(f"/me/represented/{world.org_subject}").text
    assert "常州异议测试科技有限公司" in org and f'id="object-{world.org}"' in org
    assert _file(client, world.org).status_code == 303
    assert "异议中" in client.get(f"/me/represented/{world.org_subject}").text
    other = TestClient(client.app)
    _sign_in(other, 6)
    assert other.get(f"/me/represented/{world.org_subject}").status_code == 404
