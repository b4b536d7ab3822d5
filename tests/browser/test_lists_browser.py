"""Issue #5 §1 in a real browser: the credit office signs in, finds a proposed serious-dishonesty
entry (proposed by rule and noticed three weeks ago, defence period over) in its queue, decides to
list it with a decision number; the public then finds it on /lists with its basis, decision number,
term and exit conditions.

Only the data is set up through the service layer (the department's record, the rule scan and the
notice); every step of the people involved is clicks and form fills.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from chengxin.core.audit import Actor
from chengxin.core.clock import today_cn
from chengxin.lists import service as lists
from chengxin.lists.models import ListEntry
from chengxin.platform import Platform
from factories import submit_rows, valid_row

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
DECISION_NO = "常信用黑〔2026〕21号"


@pytest.fixture()
def entry_id(platform: Platform) -> int:
    today = today_cn()
    day = today - dt.timedelta(days=60)
    version = platform.catalog.version_on("food_drug_violation", day)
    assert version is not None
    submit_rows(platform, "food_drug_violation", "samr",
                [valid_row(version, 4321, decision_date=day.isoformat(), source_id="FD-4321", severity="serious",
                           subject_name="常州示范食品有限公司")], today)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=21)
    with platform.db.write() as s:
        lists.propose_by_rules(s, platform.catalog, now=past)
        entry = s.scalars(select(ListEntry)).one()
        lists.send_notice(s, platform.catalog, entry_id=entry.id,
                          actor=Actor(kind="staff", name="office", role="credit_office"), now=past)
        return entry.id


def _shot(pg: Page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{name}: a near-empty screenshot"


def test_the_office_lists_a_proposed_entry_and_the_public_sees_it(
    server: str, page: Page, browser: Browser, platform: Platform, entry_id: int, make_user: Callable[..., str],
    tmp_path: Path,
) -> None:
    make_user("credit_office", username="office_lists", password=PASSWORD)

    # Before the decision the public sees nothing.
    public = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    public.set_default_timeout(15_000)
    public.goto(server + "/lists?kind=black")
    expect(public.locator("#lists-empty")).to_be_visible()

    # 1. The office signs in, opens the queue and the entry.
    pg = page
    pg.goto(server + "/office/lists")
    pg.get_by_label("用户名").fill("office_lists")
    pg.get_by_label("密码").fill(PASSWORD)
    pg.get_by_role("button", name="登录").click()
    expect(pg).to_have_url(re.compile(r"/office/lists$"))
    row = pg.locator(f"#queue-{entry_id}")
    expect(row).to_contain_text("常州示范食品有限公司")
    expect(row).to_contain_text("已告知")
    row.get_by_role("link", name=str(entry_id)).click()
    expect(pg.locator("#entry-state")).to_have_text("已告知（陈述申辩期）")
    expect(pg.locator("#entry-basis")).to_contain_text("国办发〔2020〕49号")
    _shot(pg, tmp_path, "1-office-entry")

    # 2. The decision: number filled in, listed.
    pg.get_by_label("列入决定文号").fill(DECISION_NO)
    before = today_cn()  # the term starts on the server's today at the decision (a run may cross midnight)
    pg.get_by_role("button", name="决定列入").click()
    expect(pg).to_have_url(re.compile(rf"/office/lists/{entry_id}\?done=list$"))
    listed_on = re.compile("|".join({before.isoformat(), today_cn().isoformat()}))
    expect(pg.locator("#entry-state")).to_have_text("已列入")
    expect(pg.locator("#entry-decision-no")).to_have_text(DECISION_NO)
    _shot(pg, tmp_path, "2-office-listed")

    # 3. The public sees it on /lists and on its detail page.
    public.goto(server + "/lists")
    public.get_by_role("link", name="严重失信主体名单").click()
    line = public.locator(f"#entry-{entry_id}")
    expect(line).to_contain_text("常州示范食品有限公司")
    expect(line).to_contain_text(DECISION_NO)
    public.get_by_label("主体名称或代码").fill("示范食品")
    public.get_by_role("button", name="查询").click()
    expect(public.locator(f"#entry-{entry_id}")).to_be_visible()
    public.get_by_role("link", name="常州示范食品有限公司").click()
    expect(public).to_have_url(re.compile(rf"/lists/{entry_id}$"))
    expect(public.locator("#entry-decision-no")).to_have_text(DECISION_NO)
    expect(public.locator("#entry-exit")).to_contain_text("移出")
    expect(public.locator("#entry-term")).to_contain_text(listed_on)
    _shot(public, tmp_path, "3-public-entry")
