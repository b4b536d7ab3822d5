"""账号与密钥 in a real browser: the administrator issues a department's API key (shown once, copied with one
click), revokes it (confirming the dialog), opens an account for a new clerk, and the clerk signs in with it —
changing the administrator's password first."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Dialog, Page, expect

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"


def test_the_administrator_issues_and_revokes_a_key_and_opens_an_account(
    server: str, page: Page, make_user: Callable[..., str]
) -> None:
    pg = page
    make_user("admin", username="access_admin", password=PASSWORD)
    pg.goto(server + "/login")
    pg.get_by_label("用户名").fill("access_admin")
    pg.get_by_label("密码").fill(PASSWORD)
    pg.get_by_role("button", name="登录").click()
    pg.get_by_role("navigation", name="工作台导航").get_by_role("link", name="账号与密钥").click()
    expect(pg).to_have_url(re.compile(r"/office/access$"))

    # 1. A key for the market regulator's case system: shown once, listed by its id.
    pg.get_by_label("数据提供单位").select_option("samr")
    pg.get_by_label("用途说明").fill("执法办案系统")
    pg.get_by_role("button", name="签发密钥").click()
    secret = pg.locator("#issued-key")
    expect(secret).to_have_text(re.compile(r"^cx_[0-9a-f]{12}_\S{20,}$"))
    key_id = secret.inner_text().split("_", 2)[1]
    pg.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    pg.locator(".secret-once").get_by_role("button", name="复制").click()
    expect(pg.locator(".secret-once").get_by_role("button", name="已复制")).to_be_visible()
    assert pg.evaluate("navigator.clipboard.readText()") == secret.inner_text()  # one click, the whole key
    row = pg.locator("#keys tbody tr", has_text=key_id)
    expect(row).to_contain_text("执法办案系统")
    expect(row).to_contain_text("有效")

    # 2. Revoked after confirming; the secret is no longer on the page.
    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    pg.once("dialog", accept)
    row.get_by_role("button", name="吊销").click()
    expect(pg.get_by_role("status")).to_contain_text("密钥已吊销")
    assert dialogs and key_id in dialogs[0]
    expect(pg.locator("#keys tbody tr", has_text=key_id)).to_contain_text("已吊销")
    expect(pg.locator("#issued-key")).to_have_count(0)

    # 3. An account for a new clerk, who then signs in and lands on 数据报送.
    users = pg.get_by_role("region", name="工作人员账号").get_by_role("form", name="新建账号")
    users.get_by_label("用户名").fill("zhou_clerk")
    users.get_by_label("姓名").fill("周经办")
    users.get_by_label("角色").select_option("clerk")
    users.get_by_label("所属单位（部门经办人必填）").select_option("samr")
    users.get_by_label(re.compile("初始密码")).fill(PASSWORD)
    users.get_by_role("button", name="创建账号").click()
    expect(pg.get_by_role("status")).to_contain_text("账号已创建")
    expect(pg.locator("#users tbody tr", has_text="zhou_clerk")).to_contain_text("部门经办人")
    finder = pg.get_by_role("form", name="查找账号")
    finder.get_by_label("用户名或姓名").fill("周经办")
    finder.get_by_role("button", name="查找").click()
    expect(pg.locator("#users tbody tr")).to_have_count(1)
    expect(pg.locator("#users tbody tr")).to_contain_text("zhou_clerk")

    pg.get_by_role("button", name="退出登录").click()
    pg.goto(server + "/login")
    pg.get_by_label("用户名").fill("zhou_clerk")
    pg.get_by_label("密码").fill(PASSWORD)
    pg.get_by_role("button", name="登录").click()
    # 4. The password the administrator chose is changed first: every page leads here until it is.
    expect(pg).to_have_url(re.compile(r"/account/password\?next=%2Fsubmit$"))
    expect(pg.locator("#password-first")).to_contain_text("管理员设置")
    pg.goto(server + "/batches")
    expect(pg).to_have_url(re.compile(r"/account/password\?next=%2Fbatches$"))
    pg.get_by_label("当前密码").fill(PASSWORD)
    pg.get_by_label(re.compile("^新密码")).fill("zhou-own-password-1")
    pg.get_by_label("再次输入新密码").fill("zhou-own-password-1")
    pg.get_by_role("button", name="修改密码").click()
    expect(pg).to_have_url(re.compile(r"/batches$"))
    expect(pg.locator(".who")).to_contain_text("周经办")
    pg.goto(server + "/submit")
    expect(pg).to_have_url(re.compile(r"/submit$"))
