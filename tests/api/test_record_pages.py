"""记录查询 and 撤销 in the portal (/records) through HTTP: a department finds its record by source id, reads
every version (citizen IDs in the fields masked, never decrypted), and revokes it with a reason; another
department can do neither; the credit office can for any department."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from chengxin.platform import Platform
from factories import ric_for, valid_row

BATCHES = "/api/v1/records/batches"


def _sign_in(client: TestClient, token: str | None) -> None:
    client.cookies.clear()
    if token:
        client.cookies.set("cx_session", token)


def _csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


@pytest.fixture()
def record_id(client: TestClient, platform: Platform, make_api_key: Callable[[str], str]) -> int:
    """A samr penalty naming a legal representative by citizen ID, then corrected once (two versions)."""
    version = platform.catalog.item("admin_penalty").latest
    key = {"X-API-Key": make_api_key("samr")}
    row = valid_row(version, 1, source_id="CZ-PORTAL-1", legal_representative_ric=ric_for(77))
    for fine in ("1000.00", "2000.00"):
        answer = client.post(BATCHES, headers=key, json={"item": "admin_penalty", "records": [{**row, "fine_amount": fine}]})
        assert answer.status_code == 200 and answer.json()["rejected"] == 0, answer.text
    found = client.get("/api/v1/records/by-source/samr/CZ-PORTAL-1", headers=key).json()
    assert found["version"] == 2
    return int(found["id"])


@pytest.mark.parametrize(("role", "department", "status"), [
    (None, None, 303), ("clerk", "tax", 403), ("clerk", "samr", 200), ("credit_office", None, 200),
])
def test_who_may_read_a_record(
    client: TestClient, make_user: Callable[..., str], record_id: int, role: str | None, department: str | None,
    status: int,
) -> None:
    _sign_in(client, make_user(role, department) if role else None)
    assert client.get(f"/records/{record_id}", follow_redirects=False).status_code == status


def test_a_clerk_finds_the_record_and_reads_its_history(
    client: TestClient, make_user: Callable[..., str], record_id: int
) -> None:
    _sign_in(client, make_user("clerk", "samr"))
    found = client.get("/records", params={"source_id": " CZ-PORTAL-1 "}, follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"] == f"/records/{record_id}"
    page = client.get(f"/records/{record_id}").text
    assert "行政处罚信息" in page and "CZ-PORTAL-1" in page and "当前第 2 版" in page
    assert re.findall(r"<td>(新建|更正|撤销)</td>", page) == ["新建", "更正"]
    assert "2000.00" in page  # the current version's fields, by their template labels
    assert "<dt>处罚类别</dt><dd>通报批评</dd>" in page and "criticism" not in page  # an option by its Chinese label
    assert ric_for(77) not in page and ric_for(77)[:6] + "********" in page  # masked, never decrypted
    assert "cipher" not in page
    missing = client.get("/records", params={"source_id": "NO-SUCH"})
    assert missing.status_code == 404 and "record.not_found" in missing.text
    other = client.get("/records", params={"source_id": "CZ-PORTAL-1", "department": "tax"}, follow_redirects=False)
    assert other.headers["location"] == f"/records/{record_id}"  # a clerk searches their own department only


def test_a_clerk_revokes_with_a_reason_once(
    client: TestClient, platform: Platform, make_user: Callable[..., str], record_id: int
) -> None:
    _sign_in(client, make_user("clerk", "samr"))
    path = f"/records/{record_id}"
    token = _csrf(client, path)
    assert client.post(f"{path}/revoke", data={"reason": "x"}).status_code == 403  # no CSRF token
    blank = client.post(f"{path}/revoke", data={"reason": "  ", "csrf_token": token})
    assert blank.status_code == 400 and "revoke.reason_required" in blank.text
    done = client.post(f"{path}/revoke", data={"reason": "行政复议决定撤销原处罚决定", "csrf_token": token},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"{path}?done=revoked"
    page = client.get(done.headers["location"]).text
    assert '<strong id="record-status">已撤销</strong>' in page and "行政复议决定撤销原处罚决定" in page
    assert re.findall(r"<td>(新建|更正|撤销)</td>", page) == ["新建", "更正", "撤销"]
    assert 'action="/records/' not in page  # no revoke form on a revoked record
    again = client.post(f"{path}/revoke", data={"reason": "再次", "csrf_token": token})
    assert again.status_code == 409 and "record.already_revoked" in again.text
    with platform.db.read() as session:
        from chengxin.core.audit import SYSTEM
        from chengxin.records.service import get_record

        assert get_record(session, record_id, actor=SYSTEM).status == "revoked"


def test_another_department_may_not_revoke(client: TestClient, make_user: Callable[..., str], record_id: int) -> None:
    _sign_in(client, make_user("clerk", "tax"))
    token = _csrf(client, "/records")
    answer = client.post(f"/records/{record_id}/revoke", data={"reason": "越权", "csrf_token": token})
    assert answer.status_code == 403
    _sign_in(client, make_user("credit_office"))
    assert "有效" in client.get(f"/records/{record_id}").text  # untouched


def test_the_office_searches_any_department(client: TestClient, make_user: Callable[..., str], record_id: int) -> None:
    _sign_in(client, make_user("credit_office"))
    assert 'name="department"' in client.get("/records").text
    needs = client.get("/records", params={"source_id": "CZ-PORTAL-1"})
    assert needs.status_code == 400 and "record.department_required" in needs.text
    found = client.get("/records", params={"source_id": "CZ-PORTAL-1", "department": "samr"}, follow_redirects=False)
    assert found.headers["location"] == f"/records/{record_id}"
