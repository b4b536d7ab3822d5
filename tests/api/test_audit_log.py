"""审计日志 (/office/audit, GET /api/v1/audit): who may read it, what the filters find, Beijing days, the capped
count, and the events of this session's features (keys, accounts, passwords) being there to find."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from tests.api.test_access_pages import _sign_in

from chengxin.core import audit
from chengxin.core.audit import Actor
from chengxin.core.clock import CHINA
from chengxin.platform import Platform

API = "/api/v1/audit"
PAGE = "/office/audit"


def _event(platform: Platform, action: str, *, who: str = "wang", department: str | None = "samr",
           at: dt.datetime | None = None, object_type: str | None = None, object_id: str | None = None) -> None:
    with platform.db.write() as session:
        audit.write(session, actor=Actor(kind="staff", name=who, role="clerk", department_code=department),
                    action=action, object_type=object_type, object_id=object_id, detail={"note": action})
        if at is not None:
            session.flush()
            newest = session.query(audit.AuditEvent).order_by(audit.AuditEvent.id.desc()).first()
            assert newest is not None
            newest.at = at


@pytest.mark.parametrize(("caller", "status"), [
    ("nobody", 401), ("api_key", 403), ("clerk", 403), ("credit_office", 200), ("admin", 200),
])
def test_who_may_read_the_audit_log(client: TestClient, make_user: Callable[..., str],
                                    make_api_key: Callable[[str], str], caller: str, status: int) -> None:
    headers = {"nobody": lambda: {}, "api_key": lambda: {"X-API-Key": make_api_key("samr")}}.get(
        caller, lambda: {"Authorization": f"Bearer {make_user(caller, 'samr' if caller == 'clerk' else None)}"})()
    answer = client.get(API, headers=headers)
    assert answer.status_code == status
    if status == 403 and caller == "clerk":
        assert answer.json()["error"]["code"] == "audit.forbidden"
    if caller in ("clerk", "credit_office"):
        _sign_in(client, make_user(caller, "samr" if caller == "clerk" else None))
        assert client.get(PAGE).status_code == status


def test_the_filters_find_what_they_name(client: TestClient, platform: Platform,
                                         make_user: Callable[..., str]) -> None:
    _event(platform, "api_key.create", who="office1", department=None, object_type="api_key", object_id="abc123")
    _event(platform, "record.revoke", who="wang", object_type="record", object_id="7")
    _event(platform, "user.locked", who="li", department="tax")
    office = {"Authorization": f"Bearer {make_user('credit_office', username='auditor')}"}

    def actions(**params: str) -> list[str]:
        answer = client.get(API, headers=office, params=params)
        assert answer.status_code == 200, answer.text
        mine = {"staff:office1", "staff:wang", "staff:li"}  # not the test's own sign-ins and account set-up
        return [e["action"] for e in answer.json() if e["actor"] in mine]

    assert actions(group="access") == ["user.locked", "api_key.create"]  # newest first
    assert actions(group="records") == ["record.revoke"]
    assert actions(who="wang") == ["record.revoke"]
    assert actions(department="tax") == ["user.locked"]
    assert actions(object_type="api_key", object_id="abc123") == ["api_key.create"]
    assert actions(who="%") == []  # a wildcard is a character
    first = client.get(API, headers=office, params={"group": "access"}).json()[-1]
    assert first["action_zh"] == "签发接口密钥" and first["detail"] == {"note": "api_key.create"}
    bad = client.get(API, headers=office, params={"group": "nonsense"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "audit.group"
    backwards = client.get(API, headers=office, params={"since": "2026-02-02", "until": "2026-02-01"})
    assert backwards.status_code == 400 and backwards.json()["error"]["code"] == "audit.dates"


def test_days_are_beijing_days(client: TestClient, platform: Platform, make_user: Callable[..., str]) -> None:
    late = dt.datetime(2026, 3, 1, 23, 30, tzinfo=CHINA)  # 15:30 UTC: still the 1st in Beijing
    early = dt.datetime(2026, 3, 2, 0, 30, tzinfo=CHINA)  # 16:30 UTC on the 1st: the 2nd in Beijing
    _event(platform, "calendar.set_year", who="late", at=late.astimezone(dt.UTC))
    _event(platform, "calendar.set_year", who="early", at=early.astimezone(dt.UTC))
    office = {"Authorization": f"Bearer {make_user('credit_office')}"}

    def who(since: str, until: str) -> list[str]:
        events = client.get(API, headers=office, params={"since": since, "until": until}).json()
        return [e["actor"] for e in events if e["action"] == "calendar.set_year"]

    assert who("2026-03-01", "2026-03-01") == ["staff:late"]
    assert who("2026-03-02", "2026-03-02") == ["staff:early"]
    assert who("2026-03-01", "2026-03-02") == ["staff:early", "staff:late"]


def test_the_page_shows_filters_pages_and_a_capped_count(
    client: TestClient, platform: Platform, make_user: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chengxin.web import audit_pages

    for n in range(7):
        _event(platform, "api_key.revoke", who=f"clerk{n}", object_type="api_key", object_id=f"k{n}")
    monkeypatch.setattr(audit_pages, "PER_PAGE", 3)
    _sign_in(client, make_user("admin"))
    page = client.get(PAGE, params={"group": "access", "who": "clerk"}).text
    rows = re.findall(r"<code>staff:(clerk\d)</code>", page)
    assert rows == ["clerk6", "clerk5", "clerk4"] and "共 7 条" in page and "吊销接口密钥" in page
    assert 'href="?group=access&amp;who=clerk&amp;page=3"' in page
    last = client.get(PAGE, params={"group": "access", "who": "clerk", "page": "3"}).text
    assert re.findall(r"<code>staff:(clerk\d)</code>", last) == ["clerk0"]
    monkeypatch.setattr(audit, "COUNT_CAP", 5)
    assert "超过 5 条，请缩小范围" in client.get(PAGE, params={"who": "clerk"}).text
    assert "起始日期晚于截止日期" in client.get(PAGE, params={"since": "2026-02-02", "until": "2026-02-01"}).text


def test_this_sessions_account_events_are_in_the_log(client: TestClient, make_user: Callable[..., str]) -> None:
    admin = {"Authorization": f"Bearer {make_user('admin', username='chief_admin')}"}
    issued = client.post("/api/v1/access/api-keys", headers=admin, json={"department": "samr"}).json()
    client.post(f"/api/v1/access/api-keys/{issued['key_id']}/revoke", headers=admin)
    events = client.get(API, headers=admin, params={"object_type": "api_key", "object_id": issued["key_id"]}).json()
    assert [(e["action"], e["actor"]) for e in events] == [("api_key.revoke", "staff:chief_admin"),
                                                         ("api_key.create", "staff:chief_admin")]
    assert events[1]["detail"]["department"] == "samr"


def test_the_export_is_the_filtered_log_as_excel_csv_and_is_itself_logged(
    client: TestClient, platform: Platform, make_user: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import csv

    for n in range(5):
        _event(platform, "api_key.revoke", who=f"exp{n}", object_type="api_key", object_id=f"k{n}")
    _event(platform, "record.revoke", who="exp9", object_type="record", object_id="1")
    monkeypatch.setattr(audit, "EXPORT_CAP", 4)  # at most this many: the newest
    _sign_in(client, make_user("credit_office", username="downloader"))
    page = client.get(PAGE, params={"group": "access", "who": "exp"}).text
    link = re.search(r'<a href="([^"]+)" id="audit-export">', page)
    assert link is not None and link.group(1).replace("&amp;", "&") == "/office/audit.csv?group=access&who=exp"
    answer = client.get("/office/audit.csv", params={"group": "access", "who": "exp"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith("\ufeff".encode())  # Excel opens it as UTF-8
    rows = list(csv.reader(answer.content.decode("utf-8-sig").splitlines()))
    assert rows[0][:4] == ["时间（北京时间） at", "操作人 actor", "单位 department", "事项 action"]
    assert [(r[1], r[4], r[6]) for r in rows[1:]] == [(f"staff:exp{n}", "吊销接口密钥", f"k{n}") for n in (4, 3, 2, 1)]
    exported = client.get(API, headers={"Authorization": f"Bearer {make_user('admin')}"},
                          params={"who": "downloader", "group": "access"}).json()
    assert [e["action"] for e in exported if e["action"] == "audit.export"] == ["audit.export"]
    assert exported[0]["detail"] == {"group": "access", "who": "exp"}
    _sign_in(client, make_user("clerk", "samr"))
    assert client.get("/office/audit.csv").status_code == 403


@pytest.mark.parametrize(("slice_rows", "cap"), [(2, 100), (3, 5), (50, 7), (1, 1)])
def test_the_export_reads_every_event_once_in_slices(platform: Platform, slice_rows: int, cap: int) -> None:
    for n in range(7):
        _event(platform, "calendar.set_year", who=f"slice{n}")
    what = audit.AuditFilter(actor="slice")
    with platform.db.read() as session:
        seen = [e.actor for e in audit.iter_events(session, what, cap=cap, slice_rows=slice_rows)]
    assert seen == [f"staff:slice{n}" for n in range(6, -1, -1)][:cap]
