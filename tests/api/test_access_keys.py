"""账号与密钥, the keys' list over time: a form or call sent twice issues one key, when a key was last used
(written behind the requests, shown on the page, the API and the CLI), and the list filtered and paged."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from tests.api.test_access_pages import KEY_PROBE, PAGE, _csrf, _sign_in
from typer.testing import CliRunner

from chengxin.accounts import rules as account_rules
from chengxin.accounts import service as accounts
from chengxin.accounts.models import ApiKey
from chengxin.core.audit import SYSTEM
from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.platform import Platform
from factories import plain_subject, uscc_for

BASE = "/api/v1/access"


@pytest.fixture()
def quiet_writer(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    """No periodic write of key uses during the test: only the ones the test (or a page) asks for."""
    platform.api_keys.close()
    monkeypatch.setattr(platform.api_keys, "use_interval", 3600.0)


def _last_used(platform: Platform, key_id: str) -> dt.datetime | None:
    with platform.db.read() as session:
        return session.execute(select(ApiKey.last_used_at).where(ApiKey.key_id == key_id)).scalar_one()


def _keys(platform: Platform) -> list[ApiKey]:
    with platform.db.read() as session:
        return list(session.execute(select(ApiKey)).scalars())


def test_a_refreshed_issue_form_issues_no_second_key(client: TestClient, platform: Platform,
                                                     make_user: Callable[..., str]) -> None:
    _sign_in(client, make_user("credit_office"))
    page = client.get(PAGE).text
    csrf = _csrf(client)
    token = re.search(r'name="issue_token" value="([^"]+)"', page)
    assert token is not None
    form = {"csrf_token": csrf, "department": "samr", "label": "执法系统", "issue_token": token.group(1)}
    first = client.post(f"{PAGE}/keys", data=form)
    assert first.status_code == 200 and 'id="issued-key"' in first.text
    again = client.post(f"{PAGE}/keys", data=form)  # what the browser's refresh sends
    [key] = _keys(platform)
    assert again.status_code == 409 and 'id="issued-key"' not in again.text
    assert f"密钥 {key.key_id} 已签发" in again.text and "请吊销它后重新签发" in again.text
    # each rendering of the form carries its own token, so the next key is issued as usual
    fresh = re.search(r'name="issue_token" value="([^"]+)"', again.text)
    assert fresh is not None and fresh.group(1) != token.group(1)
    assert client.post(f"{PAGE}/keys", data={**form, "issue_token": fresh.group(1)}).status_code == 200
    assert len(_keys(platform)) == 2


def test_an_api_retry_with_the_same_idempotency_key_issues_nothing(client: TestClient, platform: Platform,
                                                                   make_user: Callable[..., str]) -> None:
    office = {"Authorization": f"Bearer {make_user('credit_office')}"}
    body = {"department": "samr", "label": "执法系统"}
    first = client.post(f"{BASE}/api-keys", headers={**office, "Idempotency-Key": "req-1"}, json=body)
    assert first.status_code == 201
    retry = client.post(f"{BASE}/api-keys", headers={**office, "Idempotency-Key": "req-1"}, json=body)
    assert retry.status_code == 409 and retry.json()["error"]["code"] == "api_key.already_issued"
    assert first.json()["key_id"] in retry.json()["error"]["message"] and "cx_" not in retry.text
    assert client.post(f"{BASE}/api-keys", headers={**office, "Idempotency-Key": "req-2"}, json=body).status_code == 201
    assert client.post(f"{BASE}/api-keys", headers=office, json=body).status_code == 201  # no header: always issues
    assert client.post(f"{BASE}/api-keys", headers=office, json=body).status_code == 201
    assert len(_keys(platform)) == 4


@pytest.mark.usefixtures("quiet_writer")
def test_a_keys_last_use_is_written_behind_the_request_and_shown(
    client: TestClient, platform: Platform, make_user: Callable[..., str], make_api_key: Callable[[str], str]
) -> None:
    used, unused = make_api_key("samr"), make_api_key("samr")
    used_id, unused_id = used.split("_", 2)[1], unused.split("_", 2)[1]
    before = utcnow().replace(microsecond=0)
    assert client.get(KEY_PROBE, headers={"X-API-Key": used}).status_code == 404  # accepted
    assert client.get(KEY_PROBE, headers={"X-API-Key": used}).status_code == 404  # accepted from the cache
    assert _last_used(platform, used_id) is None  # not in the request's own time

    _sign_in(client, make_user("credit_office"))
    page = client.get(PAGE).text  # the page writes this process's uses first
    at = _last_used(platform, used_id)
    assert at is not None and before <= at <= utcnow()
    assert _last_used(platform, unused_id) is None
    rows = {m.group(1): m.group(2) for m in re.finditer(r"<code>([0-9a-f]{12})</code>(.*?)</tr>", page, re.S)}
    assert "从未使用" in rows[unused_id] and "从未使用" not in rows[used_id]
    assert at.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M") in rows[used_id]

    listed = client.get(f"{BASE}/api-keys", headers={"Authorization": f"Bearer {make_user('admin')}"}).json()
    by_id = {k["key_id"]: k["last_used_at"] for k in listed}
    assert by_id[unused_id] is None and dt.datetime.fromisoformat(by_id[used_id]) == at


@pytest.mark.usefixtures("quiet_writer")
def test_a_last_use_only_moves_forward_and_a_failed_write_is_kept(
    platform: Platform, make_api_key: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key_id = make_api_key("samr").split("_", 2)[1]
    later = utcnow() + dt.timedelta(days=1)
    with platform.db.write() as session:  # another process wrote a later use meanwhile
        session.execute(update(ApiKey).where(ApiKey.key_id == key_id).values(last_used_at=later))
    cache = platform.api_keys
    cache._note_use(key_id)
    assert cache.write_uses() == 1
    assert _last_used(platform, key_id) == later  # not moved back to now

    with platform.db.write() as session:
        session.execute(update(ApiKey).where(ApiKey.key_id == key_id).values(last_used_at=None))
    cache._note_use(key_id)
    real_write = cache.db.write

    def busy() -> None:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(cache.db, "write", busy)
    assert cache.write_uses() == 0  # failed: logged, kept
    monkeypatch.setattr(cache.db, "write", real_write)
    assert cache.write_uses() == 1 and _last_used(platform, key_id) is not None
    assert cache.write_uses() == 0  # nothing left


def test_close_writes_what_was_noted_and_a_later_use_starts_the_writer_again(
    platform: Platform, make_api_key: Callable[[str], str]
) -> None:
    cache = accounts.ApiKeyCache(platform.db, ttl=5.0, use_interval=0.05)
    key = make_api_key("samr")
    key_id = key.split("_", 2)[1]
    cache.actor(key)
    cache.close()
    assert _last_used(platform, key_id) is not None and cache._thread is None
    with platform.db.write() as session:
        session.execute(update(ApiKey).where(ApiKey.key_id == key_id).values(last_used_at=None))
    assert cache.cached(key) is not None  # a use from the cache counts too, and restarts the writer
    deadline = utcnow() + dt.timedelta(seconds=10)
    while _last_used(platform, key_id) is None and utcnow() < deadline:
        time.sleep(0.02)
    assert _last_used(platform, key_id) is not None  # written by the thread, without close
    cache.close()


def test_the_list_is_filtered_by_owner_and_state_and_paged(
    client: TestClient, platform: Platform, make_user: Callable[..., str]
) -> None:
    with platform.db.write() as session:
        issued = [accounts.create_api_key(session, department_code="samr" if n % 3 else "tax", label=f"系统{n}",
                                          actor=SYSTEM) for n in range(accounts.PER_PAGE + 10)]
        for k in issued[:4]:
            accounts.revoke_api_key(session, k.key_id, actor=SYSTEM)
    _sign_in(client, make_user("credit_office"))

    def shown(query: str) -> list[str]:
        page = client.get(f"{PAGE}{query}")
        assert page.status_code == 200
        return re.findall(r"<td><code>([0-9a-f]{12})</code></td>", page.text)

    first, second = shown(""), shown("?page=2")
    assert len(first) == accounts.PER_PAGE and len(second) == 10 and not set(first) & set(second)
    revoked = {k.key_id for k in issued[:4]}
    assert set(second[-4:]) == revoked  # valid keys first, then the revoked
    assert first[0] == issued[-1].key_id  # newest first
    assert set(shown("?state=revoked")) == revoked
    tax = {k.key_id for k in issued if k.department_code == "tax"}
    assert set(shown("?owner=tax")) == tax
    assert set(shown("?owner=tax&state=active")) == tax - revoked
    assert shown("?page=99") == second  # past the end: the last page
    assert shown("?state=nonsense") == first  # an unknown state filters nothing
    assert "没有符合条件的密钥" in client.get(f"{PAGE}?owner=nobody").text
    assert f"共 {len(issued) - len(tax)} 个密钥" in client.get(f"{PAGE}?owner=samr").text
    active = client.get(f"{PAGE}?state=active").text  # 56 valid keys: two pages, the filter kept in the links
    assert f"共 {len(issued) - 4} 个密钥" in active
    assert 'href="/office/access?state=active&amp;page=2#keys-title"' in active

    office = {"Authorization": f"Bearer {make_user('credit_office')}"}
    listed = client.get(f"{BASE}/api-keys", headers=office, params={"state": "revoked", "limit": 3})
    assert listed.status_code == 200 and listed.headers["x-total-count"] == "4" and len(listed.json()) == 3
    rest = client.get(f"{BASE}/api-keys", headers=office, params={"state": "revoked", "limit": 3, "offset": 3}).json()
    assert {k["key_id"] for k in listed.json() + rest} == revoked
    bad = client.get(f"{BASE}/api-keys", headers=office, params={"state": "nonsense"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "api_key.state"


def test_the_accounts_list_is_paged(client: TestClient, platform: Platform, make_user: Callable[..., str]) -> None:
    admin = make_user("admin")
    for n in range(accounts.PER_PAGE + 5):
        make_user("clerk", "samr", username=f"clerk{n:03d}")
    _sign_in(client, admin)
    first = client.get(PAGE).text
    second = client.get(f"{PAGE}?upage=2").text
    names = re.compile(r"<td><code>([^<]*)</code></td>")
    on_first, on_second = set(names.findall(first)), set(names.findall(second))
    assert len(on_first) == accounts.PER_PAGE and not on_first & on_second
    assert len(on_first | on_second) == accounts.PER_PAGE + 6  # the clerks and the admin
    headers = {"Authorization": f"Bearer {admin}"}
    listed = client.get(f"{BASE}/users", headers=headers, params={"limit": 10, "offset": 50})
    assert listed.headers["x-total-count"] == str(accounts.PER_PAGE + 6) and len(listed.json()) == 6


def test_accounts_are_found_by_name_role_and_department_with_the_key_filters_kept(
    client: TestClient, platform: Platform, make_user: Callable[..., str]
) -> None:
    admin = make_user("admin", username="chief")
    make_user("clerk", "samr", username="wang_samr")
    make_user("clerk", "tax", username="wang_tax")
    make_user("clerk", "tax", username="li_tax")
    make_user("credit_office", username="zhao_office")
    make_user("clerk", "samr", username="under_score")
    _sign_in(client, admin)

    def found(query: str) -> set[str]:
        page = client.get(f"{PAGE}{query}")
        assert page.status_code == 200
        table = page.text.split('id="users"', 1)[1] if 'id="users"' in page.text else ""
        return set(re.findall(r"<td><code>([^<]*)</code></td>", table))

    assert found("?q=WANG") == {"wang_samr", "wang_tax"}  # username, any case
    assert found("?q=wang&department=tax") == {"wang_tax"}
    assert found("?role=clerk&department=tax") == {"wang_tax", "li_tax"}
    assert found("?q=_") == {"wang_samr", "wang_tax", "li_tax", "zhao_office", "under_score"}  # _ is a letter
    assert found("?q=%25") == set()  # and % too
    assert found("?role=boss") >= {"chief", "li_tax"}  # an unknown role filters nothing
    page = client.get(f"{PAGE}?q=nobody&state=revoked").text
    assert "没有符合条件的账号" in page and "共 0 个账号符合条件" in page
    assert '<input type="hidden" name="state" value="revoked">' in page  # the keys' filter kept by the search form

    headers = {"Authorization": f"Bearer {admin}"}
    listed = client.get(f"{BASE}/users", headers=headers, params={"q": "wang", "role": "clerk"})
    assert {u["username"] for u in listed.json()} == {"wang_samr", "wang_tax"} and listed.headers["x-total-count"] == "2"
    bad = client.get(f"{BASE}/users", headers=headers, params={"role": "boss"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "user.role"


@pytest.mark.usefixtures("quiet_writer")
def test_the_cli_lists_keys_with_their_last_use(platform: Platform, make_api_key: Callable[[str], str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from chengxin.cli import main as cli

    key = make_api_key("samr")
    platform.api_keys.actor(key)
    platform.api_keys.write_uses()
    monkeypatch.setattr(cli, "_platform", lambda: platform)
    runner = CliRunner()
    out = runner.invoke(cli.app, ["api-keys", "list", "--state", "active"], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert key.split("_", 2)[1] in out.output and "从未使用" not in out.output
    bad = runner.invoke(cli.app, ["api-keys", "list", "--state", "nonsense"])
    assert bad.exit_code != 0 and "api_key.state" in bad.output


def test_a_platforms_key_is_named_by_its_operator_before_the_platform_registers(
    client: TestClient, platform: Platform, make_user: Callable[..., str], make_api_key: Callable[[str], str]
) -> None:
    plain_subject(platform, uscc=uscc_for(61), name="常州好物网络科技有限公司")
    known, unknown = make_api_key(f"platform:{uscc_for(61)}"), make_api_key(f"platform:{uscc_for(62)}")
    _sign_in(client, make_user("credit_office"))
    page = client.get(PAGE).text
    rows = {m.group(1): m.group(2) for m in re.finditer(r"<code>([0-9a-f]{12})</code>(.*?)</tr>", page, re.S)}
    assert "电商平台·常州好物网络科技有限公司" in rows[known.split("_", 2)[1]]
    assert f"电商平台 {uscc_for(62)}" in rows[unknown.split("_", 2)[1]]  # known to nobody: its code


def _expire(platform: Platform, key_id: str, at: dt.datetime) -> None:
    with platform.db.write() as session:
        session.execute(update(ApiKey).where(ApiKey.key_id == key_id).values(expires_at=at))


def test_an_expired_key_is_refused_saying_until_when(client: TestClient, platform: Platform,
                                                     make_api_key: Callable[[str], str]) -> None:
    key = make_api_key("samr")
    key_id = key.split("_", 2)[1]
    _expire(platform, key_id, account_rules.key_expiry(today_cn() + dt.timedelta(days=1), today_cn()))  # type: ignore[arg-type]
    assert client.get(KEY_PROBE, headers={"X-API-Key": key}).status_code == 404  # valid through tomorrow
    platform.api_keys._entries.clear()
    _expire(platform, key_id, utcnow() - dt.timedelta(hours=1))
    refused = client.get(KEY_PROBE, headers={"X-API-Key": key})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "auth.expired_api_key"
    assert "API 密钥已过期（有效期至" in refused.json()["error"]["message"]


def test_a_key_is_not_trusted_from_the_cache_past_its_end(client: TestClient, platform: Platform,
                                                          make_api_key: Callable[[str], str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [50_000.0]
    monkeypatch.setattr(platform.api_keys, "clock", lambda: clock[0])
    key = make_api_key("samr")
    _expire(platform, key.split("_", 2)[1], utcnow() + dt.timedelta(seconds=1))
    assert client.get(KEY_PROBE, headers={"X-API-Key": key}).status_code == 404  # trusted for ≤ 1 s, not the ttl
    time.sleep(1.1)
    clock[0] += 1.1  # well inside the cache's 5-second window
    refused = client.get(KEY_PROBE, headers={"X-API-Key": key})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "auth.expired_api_key"


@pytest.mark.parametrize(("valid_days", "status", "shown"), [
    ("90", 200, "有效（至 {d90}）"),
    ("0", 200, "有效（长期）"),
    ("", 200, "有效（至 {d365}）"),  # no choice sent: the suggested year
    ("7", 400, "请选择有效期"),  # not one the page offers
])
def test_the_page_issues_a_key_for_a_period(client: TestClient, platform: Platform, make_user: Callable[..., str],
                                            valid_days: str, status: int, shown: str) -> None:
    _sign_in(client, make_user("credit_office"))
    answer = client.post(f"{PAGE}/keys", data={"csrf_token": _csrf(client), "department": "samr",
                                                "valid_days": valid_days})
    today = today_cn()
    expected = shown.format(d90=today + dt.timedelta(days=90), d365=today + dt.timedelta(days=365))
    assert answer.status_code == status and expected in answer.text
    if status == 200:
        [key] = _keys(platform)
        assert account_rules.valid_until(key.expires_at) == ({"90": today + dt.timedelta(days=90), "0": None}.get(
            valid_days, today + dt.timedelta(days=365)))
    else:
        assert _keys(platform) == []


def test_the_list_marks_keys_ending_soon_and_ended(client: TestClient, platform: Platform,
                                                   make_user: Callable[..., str],
                                                   make_api_key: Callable[[str], str]) -> None:
    soon, ended, later = (make_api_key("samr").split("_", 2)[1] for _ in range(3))
    today = today_cn()
    _expire(platform, soon, account_rules.key_expiry(today + dt.timedelta(days=10), today))  # type: ignore[arg-type]
    _expire(platform, ended, utcnow() - dt.timedelta(days=2))
    _expire(platform, later, account_rules.key_expiry(today + dt.timedelta(days=200), today))  # type: ignore[arg-type]
    _sign_in(client, make_user("credit_office"))
    page = client.get(PAGE).text
    rows = {m.group(1): m.group(2) for m in re.finditer(r"<code>([0-9a-f]{12})</code>(.*?)</tr>", page, re.S)}
    assert "即将到期" in rows[soon] and "已过期" not in rows[soon]
    assert "已过期" in rows[ended] and "即将到期" not in rows[ended]
    assert "有效（至" in rows[later] and "即将到期" not in rows[later]
    assert set(re.findall(r"<td><code>([0-9a-f]{12})</code></td>", client.get(f"{PAGE}?state=expired").text)) == {
        ended}
    assert ended not in client.get(f"{PAGE}?state=active").text
    office = {"Authorization": f"Bearer {make_user('credit_office')}"}
    listed = {k["key_id"]: k["valid_until"] for k in client.get(f"{BASE}/api-keys", headers=office).json()}
    assert listed[soon] == (today + dt.timedelta(days=10)).isoformat()
    assert [k["key_id"] for k in client.get(f"{BASE}/api-keys", headers=office,
                                            params={"state": "expired"}).json()] == [ended]


def test_the_api_and_the_cli_issue_a_key_until_a_day(client: TestClient, platform: Platform,
                                                      make_user: Callable[..., str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    office = {"Authorization": f"Bearer {make_user('credit_office')}"}
    until = (today_cn() + dt.timedelta(days=30)).isoformat()
    issued = client.post(f"{BASE}/api-keys", headers=office, json={"department": "samr", "valid_until": until})
    assert issued.status_code == 201 and issued.json()["valid_until"] == until
    past = client.post(f"{BASE}/api-keys", headers=office,
                       json={"department": "samr", "valid_until": today_cn().isoformat()})
    assert past.status_code == 400 and past.json()["error"]["code"] == "api_key.valid_until"
    assert past.json()["error"]["field"] == "valid_until"

    from chengxin.cli import main as cli

    monkeypatch.setattr(cli, "_platform", lambda: platform)
    made = CliRunner().invoke(cli.app, ["api-keys", "create", "-d", "tax", "--valid-until", until])
    assert made.exit_code == 0 and f"有效期至 {until}" in made.output, made.output
    key_id = made.output.strip().splitlines()[-1].split("_", 2)[1]
    with platform.db.read() as session:
        stored = session.execute(select(ApiKey).where(ApiKey.key_id == key_id)).scalar_one()
    assert account_rules.valid_until(stored.expires_at) == dt.date.fromisoformat(until)
    bad = CliRunner().invoke(cli.app, ["api-keys", "create", "-d", "tax", "--valid-until", "2020-01-01"])
    assert bad.exit_code == 2 and "api_key.valid_until" in bad.output


def test_the_office_console_counts_keys_to_replace(client: TestClient, platform: Platform,
                                                   make_user: Callable[..., str],
                                                   make_api_key: Callable[[str], str]) -> None:
    from tests.api.test_console import _row

    today = today_cn()
    in_ten_days, tomorrow, ended, revoked_ended, in_a_year, no_end = (
        make_api_key("samr").split("_", 2)[1] for _ in range(6))
    _expire(platform, in_ten_days, account_rules.end_of_day(today + dt.timedelta(days=10)))
    _expire(platform, tomorrow, account_rules.end_of_day(today + dt.timedelta(days=1)))
    _expire(platform, ended, utcnow() - dt.timedelta(days=1))
    _expire(platform, revoked_ended, utcnow() - dt.timedelta(days=1))
    _expire(platform, in_a_year, account_rules.end_of_day(today + dt.timedelta(days=365)))
    with platform.db.write() as session:
        accounts.revoke_api_key(session, revoked_ended, actor=SYSTEM)
    label = f"接口密钥 · {account_rules.RENEW_WITHIN_DAYS} 天内到期或已过期"
    _sign_in(client, make_user("credit_office"))
    office = client.get("/office").text
    assert _row(office, label) == (3, 1, 1)  # to replace; within 2 working days; ended and still listed as valid
    assert "账号与密钥" in office and 'href="/office/access?state=active"' in office
    _sign_in(client, make_user("clerk", "samr"))
    assert "账号与密钥" not in client.get("/office").text  # the office issues keys: no line for a department
    assert no_end
