"""Issue #4 §1 in a real browser (Debian's chromium through Playwright, real uvicorn server): a person
signs in and files an objection to one of their records with a PDF attached; the credit office checks
and forwards it; a clerk of the source department signs in, finds it in the department's queue with its
deadline and answers "uphold" with a reason; the person sees the outcome on /me.

Only the data is set up through the service layer (the department's submission, the person's
registration); every step of the people involved is clicks and form fills.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from chengxin.core.clock import today_cn
from chengxin.objections.models import Objection
from chengxin.people.identity import PopulationRegisterProvider
from chengxin.people.service import register
from chengxin.platform import Platform
from chengxin.records.service import find_record_id
from factories import person_row, ric_for, submit_rows

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
PERSON_N = 4511
PENALTY_NO = "常市监处罚〔2026〕77号"
REASON = "决定书载明的违法行为发生时本人在外地出差，有车票为证"
ANSWER = "经核查，现场检查笔录、询问笔录均有当事人签字，处罚决定事实清楚、证据确凿"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture()
def record_id(platform: Platform) -> int:
    today = today_cn()  # taken when the test starts, not at import (a run may cross midnight)
    day = today - dt.timedelta(days=20)
    submit_rows(platform, "admin_penalty", "samr", [person_row(platform, "admin_penalty", PERSON_N, day,
                                                               source_id="OBJ-PEN", severity="general",
                                                               decision_no=PENALTY_NO)], today)
    with platform.db.write() as s:
        register(s, platform.keyring, PopulationRegisterProvider(platform.keyring), ric=ric_for(PERSON_N),
                 name="张三", password=PASSWORD)
        return find_record_id(s, "samr", "OBJ-PEN")


def _shot(pg: Page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{name}: a near-empty screenshot"


def _staff_sign_in(pg: Page, username: str) -> None:
    pg.get_by_label("用户名").fill(username)
    pg.get_by_label("密码").fill(PASSWORD)
    pg.get_by_role("button", name="登录").click()


def test_a_person_objects_and_the_clerk_answers(server: str, page: Page, browser: Browser, platform: Platform,
                                                record_id: int, make_user: Callable[..., str],
                                                tmp_path: Path) -> None:
    make_user("clerk", "samr", username="samr_objections", password=PASSWORD)
    make_user("credit_office", username="office_objections", password=PASSWORD)
    evidence = tmp_path / "出差车票.pdf"
    evidence.write_bytes(PDF)

    # 1. The person signs in and files an objection with the PDF.
    pg = page
    pg.goto(server + "/me")
    expect(pg).to_have_url(re.compile(r"/me/login$"))
    pg.get_by_label("公民身份号码").fill(ric_for(PERSON_N))
    pg.get_by_label("密码", exact=True).fill(PASSWORD)
    pg.get_by_role("button", name="登录", exact=True).click()
    expect(pg).to_have_url(re.compile(r"/me$"))
    row = pg.locator(f"#record-{record_id}")
    expect(row).to_contain_text(PENALTY_NO)
    row.get_by_role("link", name="提出异议").click()
    expect(pg.get_by_role("heading", name="提出异议")).to_be_visible()
    pg.get_by_label("信息错误").check()
    pg.get_by_label("异议理由").fill(REASON)
    pg.set_input_files("#files", str(evidence))
    _shot(pg, tmp_path, "1-objection-form")
    pg.get_by_role("button", name="提交异议").click()
    expect(pg).to_have_url(re.compile(r"/me/objections/\d+\?filed=1$"))
    expect(pg.locator("#objection-flash")).to_contain_text("异议已提交")
    expect(pg.locator("#objection-state")).to_have_text("待核查转办")
    expect(pg.get_by_role("link", name="出差车票.pdf")).to_be_visible()
    found = re.search(r"/me/objections/(\d+)", pg.url)
    assert found
    objection_id = int(found.group(1))
    pg.goto(server + "/me")
    expect(pg.locator(f"#record-{record_id}")).to_contain_text("异议中")
    expect(pg.locator(f"#objection-{objection_id}")).to_contain_text("待核查转办")

    # 2. The credit office checks the platform's copy and forwards it to the source department.
    office_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    office = office_context.new_page()
    office.set_default_timeout(15_000)
    office.goto(server + "/office/objections")
    _staff_sign_in(office, "office_objections")
    expect(office).to_have_url(re.compile(r"/office/objections$"))
    office.locator(f"#objection-{objection_id}").get_by_role("link", name=str(objection_id)).click()
    office.locator("#act-forward summary").click()
    office.locator("#act-forward textarea").fill("平台数据与来源单位数据一致")
    office.locator("#act-forward").get_by_role("button", name="核查后转交数据提供单位").click()
    expect(office.locator("#case-done")).to_contain_text("核查后转交数据提供单位")
    office_context.close()

    # 3. The clerk of the source department finds it in the queue with its deadline and upholds.
    with platform.db.read() as s:
        due = s.scalar(select(Objection.due_on).where(Objection.id == objection_id))
    assert due is not None
    clerk_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    clerk = clerk_context.new_page()
    clerk.set_default_timeout(15_000)
    clerk.goto(server + "/dept/objections")
    expect(clerk).to_have_url(re.compile(r"/login\?next=/dept/objections$"))
    _staff_sign_in(clerk, "samr_objections")
    expect(clerk).to_have_url(re.compile(r"/dept/objections$"))
    queued = clerk.locator(f"#objection-{objection_id}")
    expect(queued).to_contain_text("待部门处理")
    expect(queued.locator(".objection-due")).to_have_text(due.isoformat())
    _shot(clerk, tmp_path, "2-department-queue")
    queued.get_by_role("link", name=str(objection_id)).click()
    expect(clerk.locator("main")).to_contain_text(REASON)
    expect(clerk.get_by_role("link", name="出差车票.pdf")).to_be_visible()
    clerk.locator("#act-uphold summary").click()
    clerk.locator("#act-uphold textarea").fill(ANSWER)
    clerk.locator("#act-uphold").get_by_role("button", name="维持原记录").click()
    expect(clerk.locator("#case-done")).to_contain_text("维持原记录")
    expect(clerk.locator("#case-outcome")).to_contain_text(ANSWER)
    _shot(clerk, tmp_path, "3-answered")
    clerk_context.close()

    # 4. The person sees the outcome on /me, with the button to contest it.
    pg.goto(server + "/me")
    mine = pg.locator(f"#objection-{objection_id}")
    expect(mine).to_contain_text("维持原记录")
    expect(mine).to_contain_text(ANSWER)
    expect(mine.get_by_role("link", name="申请复核")).to_be_visible()
    expect(pg.locator(f"#record-{record_id}")).not_to_contain_text("异议中")
    expect(pg.locator(".objection-notices")).to_contain_text("维持原记录")
    _shot(pg, tmp_path, "4-outcome-on-me")
