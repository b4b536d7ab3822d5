"""Credit repair on the portal: the explanation page, the per-record action and the section on /me,
the application form (every refusal reason, what was typed kept, CSRF), the department's queue and
decision page, the credit office's city-wide queue."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from chengxin.core.audit import Actor
from chengxin.core.clock import today_cn
from chengxin.core.policy import policy_on
from chengxin.platform import Platform
from chengxin.records.service import find_record_id, revoke_record
from chengxin.repair.models import RepairApplication
from factories import person_row, ric_for, submit_rows

DAY = today_cn()
PASSWORD = "correct horse battery"
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


@pytest.fixture()
def person(platform: Platform, client: TestClient) -> dict[str, int]:
    """Person 5, signed in on the portal: a displayed penalty (repairable), a revoked one, a recent one
    (minimum period not served), food-safety violation (training + rectification), physician
    information (basic: no repair)."""
    old, recent = DAY - dt.timedelta(days=200), DAY - dt.timedelta(days=20)
    submit_rows(platform, "admin_penalty", "samr", [
        person_row(platform, "admin_penalty", 5, old, source_id="P5-OLD", severity="general"),
        person_row(platform, "admin_penalty", 5, old, source_id="P5-REVOKED", severity="general",
                   violation_type="另一违法行为"),
        person_row(platform, "admin_penalty", 5, recent, source_id="P5-NEW", severity="general",
                   violation_type="第三种违法行为"),
    ], DAY)
    submit_rows(platform, "food_drug_violation", "health", [
        person_row(platform, "food_drug_violation", 5, old, source_id="P5-FOOD", severity="general")], DAY)
    submit_rows(platform, "occ_physician", "health", [person_row(platform, "occ_physician", 5, old,
                                                                 source_id="P5-DOC")], DAY)
    with platform.db.read() as s:
        ids = {src: find_record_id(s, dept, src) for src, dept in (
            ("P5-OLD", "samr"), ("P5-REVOKED", "samr"), ("P5-NEW", "samr"), ("P5-FOOD", "health"),
            ("P5-DOC", "health"))}
    revoke_record(platform.db, keyring=platform.keyring, record_id=ids["P5-REVOKED"], reason="复议撤销",
                  actor=Actor(kind="staff", name="office", role="credit_office"))
    assert client.post("/me/register", data={"ric": ric_for(5), "name": "张三", "password": PASSWORD},
                       follow_redirects=False).status_code == 303
    assert client.post("/me/login", data={"ric": ric_for(5), "password": PASSWORD, "totp_code": ""},
                       follow_redirects=False).status_code == 303
    return ids


def _apply(client: TestClient, record_id: int, *, sign: bool = True, proof: bool = True, **data: str) -> Any:
    page = client.get(f"/me/repairs/new?record_id={record_id}").text
    version = re.search(r'name="commitment_version" value="([^"]+)"', page)
    form = {"csrf_token": _csrf(page), "record_id": str(record_id), "commitment_version": version.group(1) if version
            else "", **data}
    if sign:
        form["commitment_signed"] = "1"
    files = [("proof", ("缴款凭证.pdf", PDF, "application/pdf"))] if proof else None
    return client.post("/me/repairs", data=form, files=files, follow_redirects=False)


def test_the_repair_page_explains_the_paths_from_the_catalog_and_the_policy(client: TestClient) -> None:
    page = client.get("/repair")
    assert page.status_code == 200
    html = page.text
    policy = policy_on(DAY).repair
    assert 'id="repair-free"' in html and "免费办理" in html
    assert f"{policy.decide_working_days} 个工作日" in html and f"{policy.min_interval_days} 天" in html
    assert f"{policy.platform_answer_working_days} 个工作日" in html
    assert 'data-item="admin_penalty"' in html and 'data-item="food_drug_violation"' in html
    food = html.split('data-item="food_drug_violation"')[1].split("</tr>")[0]
    assert "信用修复培训、整改报告" in food
    assert 'data-item="dishonest_debtor"' in html.split('id="not-repairable"')[1]
    positive = html.split('id="positive"')[1]
    assert "志愿服务信息" in positive and "慈善捐赠信息" in positive and "不会自动" in positive
    assert "信用承诺书" in html


def test_me_offers_repair_only_for_displayed_repairable_negative_records(
    client: TestClient, person: dict[str, int]
) -> None:
    html = client.get("/me").text

    def cell(key: str) -> str:
        return html.split(f'id="record-{person[key]}"')[1].split("</tr>")[0]

    assert f"/me/repairs/new?record_id={person['P5-OLD']}" in cell("P5-OLD")
    assert "申请信用修复" in cell("P5-NEW") and "起可申请" in cell("P5-NEW")  # shown, with the first day
    assert "申请信用修复" not in cell("P5-REVOKED") and "申请信用修复" not in cell("P5-DOC")
    assert 'id="my-repairs"' in html and "暂无信用修复申请" in html


def test_apply_on_the_portal_refusal_lists_every_reason_and_keeps_what_was_typed(
    client: TestClient, person: dict[str, int]
) -> None:
    form = client.get(f"/me/repairs/new?record_id={person['P5-FOOD']}").text
    assert "信用承诺书" in form and 'name="training"' in form and 'name="rectification"' in form
    refused = _apply(client, person["P5-FOOD"], sign=False, proof=False, note="已整改完毕", training_record="")
    assert refused.status_code == 200
    box = refused.text.split('id="repair-refused"')[1].split("</div>")[0]
    for code in ("repair.proof_missing", "repair.commitment_missing", "repair.training_missing",
                 "repair.rectification_missing"):
        assert f'data-code="{code}"' in box
    assert "已整改完毕</textarea>" in refused.text  # what was typed is kept
    assert "申请编号" in box  # and the refused application is kept


def test_file_inputs_left_empty_by_a_browser_are_no_files(client: TestClient, person: dict[str, int]) -> None:
    page = client.get(f"/me/repairs/new?record_id={person['P5-OLD']}").text
    parts = {"csrf_token": _csrf(page), "record_id": str(person["P5-OLD"]), "commitment_signed": "1",
             "commitment_version": re.findall(r'name="commitment_version" value="([^"]+)"', page)[0]}
    body = b"".join(f'--B\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in parts.items())
    for name in ("proof", "training"):  # what a browser sends for an empty <input type=file>
        body += (f'--B\r\nContent-Disposition: form-data; name="{name}"; filename=""\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n\r\n").encode()
    r = client.post("/me/repairs", content=body + b"--B--\r\n",
                    headers={"content-type": "multipart/form-data; boundary=B"})
    assert r.status_code == 200
    box = r.text.split('id="repair-refused"')[1].split("</div>")[0]
    assert 'data-code="repair.proof_missing"' in box and "repair.commitment_missing" not in box


def test_apply_on_the_portal_accepted_then_followed_on_me(client: TestClient, person: dict[str, int]) -> None:
    r = _apply(client, person["P5-OLD"], note="罚款已缴清")
    assert r.status_code == 303 and r.headers["location"].startswith("/me/repairs/")
    page = client.get(r.headers["location"]).text
    assert 'id="repair-accepted"' in page and 'data-state="accepted"' in page and "缴款凭证.pdf" in page
    me = client.get("/me").text
    assert "信用修复办理中" in me.split(f'id="record-{person["P5-OLD"]}"')[1].split("</tr>")[0]
    section = me.split('id="my-repairs"')[1]
    assert "已受理，待决定" in section and "前决定" in section


def test_a_record_not_yet_repairable_shows_why_and_no_form(client: TestClient, person: dict[str, int]) -> None:
    page = client.get(f"/me/repairs/new?record_id={person['P5-NEW']}").text
    assert 'data-code="repair.min_period"' in page and "起申请" in page and 'id="repair-form"' not in page


def test_the_portal_form_needs_the_csrf_token_and_own_records(
    client: TestClient, platform: Platform, person: dict[str, int]
) -> None:
    r = client.post("/me/repairs", data={"record_id": str(person["P5-OLD"]), "csrf_token": "forged"},
                    files=[("proof", ("a.pdf", PDF, "application/pdf"))])
    assert r.status_code == 403
    submit_rows(platform, "admin_penalty", "samr", [person_row(platform, "admin_penalty", 6,
                                                               DAY - dt.timedelta(days=200), source_id="P6",
                                                               severity="general")], DAY)
    with platform.db.read() as s:
        other = find_record_id(s, "samr", "P6")
    assert client.get(f"/me/repairs/new?record_id={other}").status_code == 403


def test_the_department_decides_on_the_portal_and_the_office_sees_the_city(
    client: TestClient, platform: Platform, person: dict[str, int], make_user: Callable[..., str]
) -> None:
    location = _apply(client, person["P5-OLD"]).headers["location"]
    case_id = int(location.split("/")[-1].split("?")[0])
    client.cookies.set("cx_session", make_user("clerk", "tax"))
    assert client.get(f"/dept/repairs/{case_id}").status_code == 403
    assert 'id="repair-queue-empty"' in client.get("/dept/repairs").text
    assert client.get("/office/repairs").status_code == 403

    client.cookies.set("cx_session", make_user("clerk", "samr"))
    queue = client.get("/dept/repairs").text
    assert f'id="repair-{case_id}"' in queue
    page = client.get(f"/dept/repairs/{case_id}").text
    assert 'id="repair-decision"' in page and "缴款凭证.pdf" in page
    token = _csrf(page)
    bad = client.post(f"/dept/repairs/{case_id}/decision", data={"action": "reject", "reason": "  ",
                                                                  "csrf_token": token})
    assert bad.status_code == 400 and 'data-code="workflow.reason_required"' in bad.text
    assert 'value="reject" required checked' in bad.text  # the choice is kept
    forged = client.post(f"/dept/repairs/{case_id}/decision", data={"action": "approve", "csrf_token": "x"})
    assert forged.status_code == 403
    ok = client.post(f"/dept/repairs/{case_id}/decision", data={"action": "approve", "csrf_token": token},
                     follow_redirects=False)
    assert ok.status_code == 303
    done = client.get(ok.headers["location"]).text
    assert 'data-state="approved"' in done and "停止公开公示" in done and 'id="repair-decision"' not in done
    assert 'id="repair-queue-empty"' in client.get("/dept/repairs").text  # nothing open
    assert f'id="repair-{case_id}"' in client.get("/dept/repairs?state=approved").text
    cell = client.get("/me").text.split(f'id="record-{person["P5-OLD"]}"')[1].split("</tr>")[0]
    assert "已修复" in cell and "起停止公示" in cell and "申请信用修复" not in cell  # the subject still sees it

    client.cookies.set("cx_session", make_user("credit_office"))
    assert client.get("/dept/repairs", follow_redirects=False).headers["location"] == "/office/repairs"
    city = client.get("/office/repairs?state=all").text
    assert f'id="repair-{case_id}"' in city and "市场监督管理局" in city


def test_the_estimate_warning_is_shown_wherever_the_deadline_is(
    client: TestClient, platform: Platform, person: dict[str, int], make_user: Callable[..., str]
) -> None:
    location = _apply(client, person["P5-OLD"]).headers["location"]
    case_id = int(location.split("/")[-1].split("?")[0])
    with platform.db.write() as s:
        s.execute(update(RepairApplication).where(RepairApplication.id == case_id).values(due_estimated=True))
    assert 'id="repair-estimate"' in client.get(f"/me/repairs/{case_id}").text
    assert "按周一至周五估算" in client.get("/me").text.split('id="my-repairs"')[1]
    client.cookies.set("cx_session", make_user("clerk", "samr"))
    assert "按周一至周五估算" in client.get("/dept/repairs").text
    assert 'id="repair-estimate"' in client.get(f"/dept/repairs/{case_id}").text


def test_the_subject_withdraws_on_the_portal(client: TestClient, person: dict[str, int]) -> None:
    location = _apply(client, person["P5-OLD"]).headers["location"]
    case_id = int(location.split("/")[-1].split("?")[0])
    page = client.get(f"/me/repairs/{case_id}").text
    r = client.post(f"/me/repairs/{case_id}/withdraw", data={"csrf_token": _csrf(page)}, follow_redirects=False)
    assert r.status_code == 303
    assert 'data-state="withdrawn"' in client.get(f"/me/repairs/{case_id}").text
