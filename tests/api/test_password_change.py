"""Staff sign-in: 修改密码 — a staff member changes their own password (portal and API); a password an
administrator set (a new account, a reset) is changed before anything else, and the change ends the member's other
sessions; 登录失败处理 — an account locks after failures in a row, on the portal and the API alike."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chengxin.accounts import service as accounts
from chengxin.accounts.models import StaffUser
from chengxin.core.audit import SYSTEM, AuditEvent
from chengxin.platform import Platform

PASSWORD = "correct horse battery"
NEW = "a-brand-new-secret"
PAGE = "/account/password"


def _sign_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    client.cookies.clear()
    answer = client.post("/login", data={"username": username, "password": password}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def _csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(PAGE).text)
    assert found
    return found.group(1)


def _token(client: TestClient, username: str, password: str) -> dict[str, object]:
    answer = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    return answer.json() if answer.status_code == 200 else {"status": answer.status_code}


def _open_by_admin(client: TestClient, make_user: Callable[..., str], username: str) -> None:
    admin = {"Authorization": f"Bearer {make_user('admin')}"}
    made = client.post("/api/v1/access/users", headers=admin, json={
        "username": username, "display_name": "新同事", "role": "clerk", "department": "samr", "password": PASSWORD})
    assert made.status_code == 201, made.text


def test_an_account_opened_by_an_administrator_changes_its_password_first(
    client: TestClient, platform: Platform, make_user: Callable[..., str]
) -> None:
    _open_by_admin(client, make_user, "newbie")
    assert _sign_in(client, "newbie") == f"{PAGE}?next=%2Fsubmit"
    for page in ("/batches", "/quality", "/", "/records?source_id=X"):  # every portal page leads here
        answer = client.get(page, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith(f"{PAGE}?next=")
    assert client.get("/static/app.css").status_code == 200
    assert "管理员设置" in client.get(PAGE).text

    changed = client.post(PAGE, data={"csrf_token": _csrf(client), "current_password": PASSWORD, "new_password": NEW,
                                      "repeat_password": NEW, "next": "/batches"}, follow_redirects=False)
    assert changed.status_code == 303 and changed.headers["location"] == "/batches"
    assert client.get("/batches", follow_redirects=False).status_code == 200  # the same session goes on
    assert _token(client, "newbie", PASSWORD) == {"status": 401}
    assert _token(client, "newbie", NEW)["must_change_password"] is False
    with platform.db.read() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.change_password")).all()
    assert [e.actor for e in events] == ["staff:newbie"]


def test_the_api_answers_only_the_password_change_until_it_is_made(
    client: TestClient, make_user: Callable[..., str]
) -> None:
    _open_by_admin(client, make_user, "apinewbie")
    issued = _token(client, "apinewbie", PASSWORD)
    assert issued["must_change_password"] is True
    bearer = {"Authorization": f"Bearer {issued['token']}"}
    refused = client.get("/api/v1/quality", headers=bearer)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "auth.password_change_required"
    wrong = client.post("/api/v1/auth/password", headers=bearer,
                        json={"current_password": "not it at all", "new_password": NEW})
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "user.wrong_password"
    assert wrong.json()["error"]["field"] == "current_password"
    done = client.post("/api/v1/auth/password", headers=bearer, json={"current_password": PASSWORD, "new_password": NEW})
    assert done.status_code == 204
    assert client.get("/api/v1/quality", headers=bearer).status_code == 200  # the asking token stays valid


@pytest.mark.parametrize(("current", "new", "repeat", "code"), [
    ("wrong password!", NEW, NEW, "user.wrong_password"),
    (PASSWORD, "short", "short", "user.password_too_short"),
    (PASSWORD, NEW, NEW + "x", "user.password_mismatch"),
    (PASSWORD, PASSWORD, PASSWORD, "user.password_unchanged"),
    (PASSWORD, "Wang_Clerk", "Wang_Clerk", "user.password_is_username"),
])
def test_a_refused_change_says_why_and_changes_nothing(
    client: TestClient, platform: Platform, make_user: Callable[..., str], current: str, new: str, repeat: str,
    code: str,
) -> None:
    make_user("clerk", "samr", username="wang_clerk")
    _sign_in(client, "wang_clerk")
    answer = client.post(PAGE, data={"csrf_token": _csrf(client), "current_password": current, "new_password": new,
                                     "repeat_password": repeat})
    assert answer.status_code == 400 and code in answer.text
    assert _token(client, "wang_clerk", PASSWORD)["token"]  # the old password still works


def test_a_change_ends_the_other_sessions_and_keeps_this_one(
    client: TestClient, make_user: Callable[..., str]
) -> None:
    make_user("credit_office", username="li_office")
    elsewhere = {"Authorization": f"Bearer {_token(client, 'li_office', PASSWORD)['token']}"}
    assert client.get("/api/v1/quality", headers=elsewhere).status_code == 200
    assert _sign_in(client, "li_office") == "/batches"  # not marked: no detour
    done = client.post(PAGE, data={"csrf_token": _csrf(client), "current_password": PASSWORD, "new_password": NEW,
                                   "repeat_password": NEW}, follow_redirects=False)
    assert done.headers["location"] == f"{PAGE}?done=1"
    assert "密码已修改" in client.get(done.headers["location"]).text
    assert client.get("/api/v1/quality", headers=elsewhere).status_code == 401  # the other session ended


def test_a_reset_marks_the_password_and_console_accounts_are_not_marked(
    client: TestClient, platform: Platform, make_user: Callable[..., str]
) -> None:
    make_user("clerk", "tax", username="zhao_tax")  # opened at the console (the CLI / the demo): its owner's choice
    assert _sign_in(client, "zhao_tax") == "/submit"
    admin = {"Authorization": f"Bearer {make_user('admin')}"}
    password = client.post("/api/v1/access/users/zhao_tax/reset-password", headers=admin).json()["password"]
    assert _sign_in(client, "zhao_tax", password) == f"{PAGE}?next=%2Fsubmit"
    with platform.db.read() as session:
        assert session.scalars(select(StaffUser.must_change_password).where(StaffUser.username == "zhao_tax")).one()


def test_nobody_changes_another_ones_password(platform: Platform, make_user: Callable[..., str]) -> None:
    make_user("clerk", "samr", username="owner_one")
    with platform.db.write() as session, pytest.raises(Exception) as refused:
        accounts.change_password(session, "owner_one", current=PASSWORD, new=NEW, actor=SYSTEM)
    assert getattr(refused.value, "code", "") == "user.not_yours"


def test_the_page_needs_a_signed_in_member_and_the_csrf_token(client: TestClient,
                                                              make_user: Callable[..., str]) -> None:
    assert client.get(PAGE, follow_redirects=False).headers["location"].startswith("/login")
    make_user("clerk", "samr", username="sun_clerk")
    _sign_in(client, "sun_clerk")
    forged = client.post(PAGE, data={"csrf_token": "forged", "current_password": PASSWORD, "new_password": NEW,
                                     "repeat_password": NEW})
    assert forged.status_code == 403
    assert _token(client, "sun_clerk", PASSWORD)["token"]


def test_the_console_can_mark_a_password_to_change(client: TestClient, platform: Platform,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from chengxin.cli import main as cli

    monkeypatch.setattr(cli, "_platform", lambda: platform)
    made = CliRunner().invoke(cli.app, ["users", "create", "qian", "--role", "clerk", "--department", "samr",
                                        "--password", PASSWORD, "--temporary"])
    assert made.exit_code == 0 and "首次登录须修改密码" in made.output, made.output
    assert _sign_in(client, "qian") == f"{PAGE}?next=%2Fsubmit"


def _policy() -> tuple[int, int]:
    from chengxin.core.clock import today_cn
    from chengxin.core.policy import policy_on

    sign_in = policy_on(today_cn()).sign_in
    return sign_in.max_failures, sign_in.lock_minutes


def _login(client: TestClient, username: str, password: str) -> tuple[int, str]:
    client.cookies.clear()
    answer = client.post("/login", data={"username": username, "password": password}, follow_redirects=False)
    code = re.search(r"<code>([a-z_.]+)</code>", answer.text)
    return answer.status_code, code.group(1) if code else ""


def test_a_staff_account_locks_after_failures_in_a_row(client: TestClient, platform: Platform,
                                                       make_user: Callable[..., str]) -> None:
    max_failures, lock_minutes = _policy()
    make_user("clerk", "samr", username="zhou_lock")
    for _ in range(max_failures - 1):
        assert _login(client, "zhou_lock", "not the password") == (401, "auth.bad_credentials")
    assert _login(client, "zhou_lock", PASSWORD)[0] == 303  # a success in time resets the count
    for _ in range(max_failures):
        assert _login(client, "zhou_lock", "not the password") == (401, "auth.bad_credentials")
    status, code = _login(client, "zhou_lock", PASSWORD)  # locked: even the right password is refused
    assert (status, code) == (401, "auth.locked")
    assert f"请 {lock_minutes} 分钟后再试" in client.post("/login", data={"username": "zhou_lock",
                                                                       "password": PASSWORD}).text
    token = client.post("/api/v1/auth/token", json={"username": "zhou_lock", "password": PASSWORD})
    assert token.status_code == 401 and token.json()["error"]["code"] == "auth.locked"  # the API too
    with platform.db.read() as session:
        locked = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.locked")).all()
    assert [e.actor for e in locked] == ["staff:zhou_lock"]

    with platform.db.write() as session:  # the lock's time is over
        user = session.scalars(select(StaffUser).where(StaffUser.username == "zhou_lock")).one()
        assert user.locked_until is not None
        user.locked_until = user.locked_until - dt.timedelta(minutes=lock_minutes + 1)
    assert _login(client, "zhou_lock", PASSWORD)[0] == 303


def test_failures_through_the_api_count_and_a_reset_unlocks(client: TestClient, platform: Platform,
                                                            make_user: Callable[..., str]) -> None:
    max_failures, _ = _policy()
    make_user("credit_office", username="wu_office")
    for _ in range(max_failures):
        assert client.post("/api/v1/auth/token", json={"username": "wu_office", "password": "x" * 12}).status_code == 401
    assert _login(client, "wu_office", PASSWORD) == (401, "auth.locked")
    admin = {"Authorization": f"Bearer {make_user('admin')}"}
    password = client.post("/api/v1/access/users/wu_office/reset-password", headers=admin).json()["password"]
    assert _login(client, "wu_office", password)[0] == 303  # a new password: the lock is over
    assert _login(client, "nobody_at_all", PASSWORD) == (401, "auth.bad_credentials")  # unknown: same answer


def test_the_console_lists_stops_restarts_and_resets_accounts(client: TestClient, platform: Platform,
                                                              make_user: Callable[..., str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console
    from typer.testing import CliRunner

    from chengxin.cli import main as cli

    monkeypatch.setattr(cli, "_platform", lambda: platform)
    monkeypatch.setattr(cli, "console", Console(width=200))
    run = CliRunner().invoke
    make_user("admin", username="only_admin")
    for _ in range(_policy()[0]):  # the only administrator locks themselves out
        _login(client, "only_admin", "forgotten password")
    listed = run(cli.app, ["users", "list", "only"])
    assert listed.exit_code == 0 and "only_admin" in listed.output and "锁定至" in listed.output
    reset = run(cli.app, ["users", "reset-password", "only_admin"])
    assert reset.exit_code == 0, reset.output
    password = reset.output.strip().splitlines()[-1]
    assert _sign_in(client, "only_admin", password) == f"{PAGE}?next=%2Fbatches"  # unlocked; to change first
    assert "待本人改密" in run(cli.app, ["users", "list"]).output
    assert run(cli.app, ["users", "deactivate", "only_admin"]).exit_code == 0
    assert _login(client, "only_admin", password) == (401, "auth.bad_credentials")
    assert run(cli.app, ["users", "activate", "only_admin"]).exit_code == 0
    assert _login(client, "only_admin", password)[0] == 303
    missing = run(cli.app, ["users", "reset-password", "nobody_here"])
    assert missing.exit_code == 2 and "user" in missing.output


def test_an_administrator_unlocks_an_account_which_keeps_its_password(
    client: TestClient, platform: Platform, make_user: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    max_failures, _ = _policy()
    make_user("clerk", "samr", username="he_clerk")
    for _ in range(max_failures):
        _login(client, "he_clerk", "a wrong guess")
    admin_token = make_user("admin", username="unlocker")
    admin = {"Authorization": f"Bearer {admin_token}"}
    listed = {u["username"]: u for u in client.get("/api/v1/access/users", headers=admin,
                                                   params={"q": "he_clerk"}).json()}
    assert listed["he_clerk"]["locked_until"] is not None and listed["he_clerk"]["must_change_password"] is False
    clerk = {"Authorization": f"Bearer {make_user('clerk', 'samr')}"}
    refused = client.post("/api/v1/access/users/he_clerk/unlock", headers=clerk)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "user.forbidden"

    client.cookies.clear()
    client.cookies.set("cx_session", admin_token)
    page = client.get("/office/access", params={"q": "he_clerk"}).text
    assert "已锁定至" in page and 'action="/office/access/users/he_clerk/unlock"' in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    done = client.post("/office/access/users/he_clerk/unlock", data={"csrf_token": csrf.group(1)},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/office/access?done=user_unlocked"
    assert _login(client, "he_clerk", PASSWORD)[0] == 303  # the same password, at once
    with platform.db.read() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action == "user.unlock")).all()
    assert actions == ["user.unlock"]

    for _ in range(max_failures):  # locked again; this time from the console
        _login(client, "he_clerk", "a wrong guess")
    from typer.testing import CliRunner

    from chengxin.cli import main as cli

    monkeypatch.setattr(cli, "_platform", lambda: platform)
    assert CliRunner().invoke(cli.app, ["users", "unlock", "he_clerk"]).exit_code == 0
    assert _login(client, "he_clerk", PASSWORD)[0] == 303
    assert client.post("/api/v1/access/users/he_clerk/unlock", headers=admin).json()["locked_until"] is None
