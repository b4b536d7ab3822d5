"""登录失败处理 by client address: failed sign-ins from one address count over every account and both doors (staff,
person); at the limit the address is refused (429) before any password is checked — on the portal and the APIs —
while other addresses sign in as before, until its failures leave the window. Through HTTP on the real database."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from chengxin.accounts.models import SignInFailure, StaffUser
from chengxin.accounts.sign_in import note_address_failure
from chengxin.api.app import create_app
from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.core.policy import SignInPolicy, policy_on
from chengxin.platform import Platform
from factories import ric_for

PASSWORD = "correct horse battery"
HERE = "testclient"  # the address TestClient reports


@pytest.fixture()
def policy() -> SignInPolicy:
    return policy_on(today_cn()).sign_in


@pytest.fixture()
def elsewhere(platform: Platform) -> Iterator[TestClient]:
    """A client from another address."""
    with TestClient(create_app(platform), client=("198.51.100.9", 50000)) as c:
        yield c


def _failures(platform: Platform) -> list[tuple[str, str]]:
    with platform.db.read() as session:
        return [(f.address, f.realm) for f in session.scalars(select(SignInFailure).order_by(SignInFailure.id))]


def _fail_from(platform: Platform, address: str, times: int, *, minutes_ago: float = 0) -> None:
    with platform.db.write() as session:
        at = utcnow() - dt.timedelta(minutes=minutes_ago)
        for _ in range(times):
            note_address_failure(session, address, "staff", at)


def _portal(client: TestClient, username: str, password: str) -> tuple[int, str, str]:
    client.cookies.clear()
    answer = client.post("/login", data={"username": username, "password": password}, follow_redirects=False)
    code = re.search(r"<code>([a-z_.]+)</code>", answer.text)
    return answer.status_code, code.group(1) if code else "", answer.text


def _api(client: TestClient, username: str, password: str) -> tuple[int, str]:
    answer = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    return answer.status_code, answer.json().get("error", {}).get("code", "") if answer.status_code != 200 else ""


def _person(client: TestClient, n: int) -> tuple[int, str]:
    answer = client.post("/api/v1/me/sessions", json={"ric": ric_for(n), "password": PASSWORD})
    return answer.status_code, answer.json()["error"]["code"]


def test_every_failed_sign_in_is_counted_by_its_address_and_door_only(
    client: TestClient, platform: Platform, make_user: Callable[..., str]
) -> None:
    make_user("clerk", "samr", username="li_clerk")
    assert _portal(client, "li_clerk", "not the password")[:2] == (401, "auth.bad_credentials")
    assert _api(client, "nobody_here", "not the password") == (401, "auth.bad_credentials")
    assert _person(client, 7) == (401, "auth.bad_credentials")  # no account for this ID: a failure all the same
    assert client.post("/me/login", data={"ric": ric_for(8), "password": "x" * 12},
                       follow_redirects=False).status_code == 401
    assert _portal(client, "li_clerk", PASSWORD)[0] == 303  # a success is not a failure
    assert _failures(platform) == [(HERE, "staff"), (HERE, "staff"), (HERE, "person"), (HERE, "person")]
    # nothing of what was tried is kept: the row has no column for it
    assert set(SignInFailure.__table__.columns.keys()) == {"id", "address", "realm", "at"}


def test_an_address_at_the_limit_is_refused_everywhere_and_others_are_not(
    client: TestClient, elsewhere: TestClient, platform: Platform, make_user: Callable[..., str],
    policy: SignInPolicy,
) -> None:
    make_user("clerk", "samr", username="li_clerk")
    _fail_from(platform, HERE, policy.address_max_failures - 1, minutes_ago=2)
    assert _api(client, "li_clerk", PASSWORD) == (200, "")  # under the limit; a success does not clear the count
    assert _api(client, "someone_else", "a guess at it") == (401, "auth.bad_credentials")  # the limit-th failure

    status, code, page = _portal(client, "li_clerk", PASSWORD)  # the right password, refused all the same
    assert (status, code) == (429, "auth.address_limited")
    minutes = policy.address_window_minutes - 2  # until the oldest counted failure (2 minutes ago) leaves the window
    assert f"该网络地址登录失败次数过多，请 {minutes} 分钟后再试" in page
    assert _api(client, "li_clerk", PASSWORD) == (429, "auth.address_limited")
    assert _person(client, 7) == (429, "auth.address_limited")
    person_page = client.post("/me/login", data={"ric": ric_for(7), "password": PASSWORD})
    assert person_page.status_code == 429 and "该网络地址登录失败次数过多" in person_page.text
    # refusals are not failures: the table grows no faster than the limit, and no account is locked by them
    assert len(_failures(platform)) == policy.address_max_failures
    with platform.db.read() as session:
        assert session.scalar(select(StaffUser.failed_attempts).where(StaffUser.username == "li_clerk")) == 0

    assert _api(elsewhere, "li_clerk", PASSWORD) == (200, "")  # another address: as before
    assert _portal(elsewhere, "li_clerk", PASSWORD)[0] == 303


def test_the_address_signs_in_again_once_its_failures_leave_the_window(
    client: TestClient, platform: Platform, make_user: Callable[..., str], policy: SignInPolicy
) -> None:
    make_user("clerk", "samr", username="li_clerk")
    _fail_from(platform, HERE, policy.address_max_failures)
    assert _api(client, "li_clerk", PASSWORD) == (429, "auth.address_limited")
    with platform.db.write() as session:  # the window has passed for one of them
        oldest = session.scalar(select(func.min(SignInFailure.id)))
        session.execute(update(SignInFailure).where(SignInFailure.id == oldest)
                        .values(at=utcnow() - dt.timedelta(minutes=policy.address_window_minutes, seconds=1)))
    assert _api(client, "li_clerk", PASSWORD) == (200, "")
    assert _api(client, "li_clerk", "wrong again") == (401, "auth.bad_credentials")  # back at the limit
    assert _api(client, "li_clerk", PASSWORD) == (429, "auth.address_limited")


def test_the_console_lists_refused_addresses_and_an_administrator_releases_one(
    client: TestClient, platform: Platform, make_user: Callable[..., str], policy: SignInPolicy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rich.console import Console
    from typer.testing import CliRunner

    from chengxin.accounts.service import release_address
    from chengxin.cli import main as cli
    from chengxin.core.audit import Actor, AuditEvent
    from chengxin.core.errors import PermissionDenied

    monkeypatch.setattr(cli, "_platform", lambda: platform)
    monkeypatch.setattr(cli, "console", Console(width=200))
    run = CliRunner().invoke
    make_user("clerk", "samr", username="li_clerk")
    _fail_from(platform, HERE, policy.address_max_failures)
    _fail_from(platform, "2001:db8:5:6::1", 2)
    _fail_from(platform, "203.0.113.50", 3, minutes_ago=policy.address_window_minutes + 1)  # outside the window
    _fail_from(platform, HERE, 3, minutes_ago=policy.address_window_minutes + 1)
    listed = run(cli.app, ["users", "addresses"])
    assert listed.exit_code == 0, listed.output
    lines = [line for line in listed.output.splitlines() if "testclient" in line or "2001:db8" in line]
    assert len(lines) == 2 and "受限至" in lines[0] and str(policy.address_max_failures) in lines[0]
    assert "2001:db8:5:6::/64" in lines[1] and "未受限" in lines[1]
    assert "203.0.113.50" not in listed.output

    with platform.db.write() as session, pytest.raises(PermissionDenied):  # only an administrator
        release_address(session, HERE, actor=Actor(kind="staff", name="li_clerk", role="clerk",
                                                    department_code="samr"))
    assert _api(client, "li_clerk", PASSWORD) == (429, "auth.address_limited")
    released = run(cli.app, ["users", "release-address", HERE])
    assert released.exit_code == 0 and f"清除失败记录 {policy.address_max_failures} 条" in released.output
    assert _api(client, "li_clerk", PASSWORD) == (200, "")
    with platform.db.read() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.release_address")).one()
        kept = session.scalar(select(func.count()).select_from(SignInFailure).where(SignInFailure.address == HERE))
    assert event.detail == {"address": HERE, "failures": policy.address_max_failures}
    assert kept == 3  # its failures before the window are the record of what happened: kept
    assert "无需解除" in run(cli.app, ["users", "release-address", HERE]).output
