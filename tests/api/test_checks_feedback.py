"""Feedback on checks, the statistics (unanswered checks), batch checks with bad rows, platform keys."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from chengxin.accounts.service import create_api_key
from chengxin.checks.models import CreditCheck
from chengxin.core.audit import SYSTEM
from chengxin.core.clock import today_cn
from chengxin.platform import Platform
from factories import listed_entry, plain_subject, ric_for, uscc_for

DAY = today_cn()
TERM = {"term_from": DAY - dt.timedelta(days=30), "term_to": DAY + dt.timedelta(days=300)}


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _black_check(client: TestClient, platform: Platform, key: str, n: int = 21) -> dict[str, Any]:
    uscc = uscc_for(n)
    listed_entry(platform, list_kind="black", uscc=uscc, **TERM)
    resp = client.post("/api/v1/checks", json={"subject": uscc, "scenario": "bidding"}, headers=_auth(key))
    assert resp.status_code == 200
    body: dict[str, Any] = resp.json()
    return body


def test_feedback_valid_unknown_measure_other_department(client: TestClient, platform: Platform,
                                                         make_api_key: Callable[[str], str]) -> None:
    key = make_api_key("housing")
    check = _black_check(client, platform, key)
    assert [m["code"] for m in check["measures"]] == ["B-BID-01"]
    url = f"/api/v1/checks/{check['check_id']}/feedback"
    bad = client.post(url, json={"case_no": "ZJ-2026-1", "measures_applied": ["B-PROC-01"], "outcome": "applied"},
                      headers=_auth(key))
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "feedback.measure_not_returned"
    assert "B-PROC-01" in bad.json()["error"]["message"] and bad.json()["error"]["field"] == "measures_applied[0]"
    other = client.post(url, json={"case_no": "X", "measures_applied": ["B-BID-01"], "outcome": "applied"},
                        headers=_auth(make_api_key("transport")))
    assert other.status_code == 403
    missing = client.post("/api/v1/checks/0123456789abcdef01234567/feedback",
                          json={"case_no": "X", "outcome": "not_applied", "note": "n"}, headers=_auth(key))
    assert missing.status_code == 404
    no_note = client.post(url, json={"case_no": "X", "outcome": "not_applied"}, headers=_auth(key))
    assert no_note.status_code == 400 and no_note.json()["error"]["field"] == "note"
    ok = client.post(url, json={"case_no": "ZJ-2026-1", "measures_applied": ["B-BID-01"], "outcome": "applied",
                                "result": "取消投标资格"}, headers=_auth(key))
    assert ok.status_code == 201, ok.text
    assert ok.json()["measures_applied"] == ["B-BID-01"]
    again = client.post(url, json={"case_no": "ZJ-2026-1", "measures_applied": ["B-BID-01"], "outcome": "applied"},
                        headers=_auth(key))
    assert again.status_code == 409


def test_stats_count_unanswered_checks(client: TestClient, platform: Platform, make_api_key: Callable[[str], str],
                                       make_user: Callable[..., str]) -> None:
    key = make_api_key("housing")
    old = _black_check(client, platform, key, 31)
    answered = _black_check(client, platform, key, 32)
    _recent = _black_check(client, platform, key, 33)
    plain_subject(platform, uscc=uscc_for(34))
    client.post("/api/v1/checks", json={"subject": uscc_for(34), "scenario": "bidding"}, headers=_auth(key))
    client.app.state.checker.log.flush()  # type: ignore[attr-defined]
    long_ago = DAY - dt.timedelta(days=45)  # beyond feedback_due_days (30)
    with platform.db.write() as session:
        session.execute(update(CreditCheck).where(CreditCheck.id.in_([old["check_id"], answered["check_id"]]))
                        .values(day=long_ago))
    assert client.post(f"/api/v1/checks/{answered['check_id']}/feedback",
                       json={"case_no": "A1", "measures_applied": ["B-BID-01"], "outcome": "applied"},
                       headers=_auth(key)).status_code == 201
    office = make_user("credit_office")
    body = client.get("/api/v1/checks/stats", headers=_auth(office)).json()
    assert body["due_days"] == 30
    [line] = body["lines"]
    assert line["department"] == "housing" and line["scenario"] == "bidding"
    assert (line["checks"], line["hits"], line["with_measures"], line["feedback"], line["unanswered"]) == (4, 3, 3, 1, 1)
    assert line["applied_by_kind"] == {"restriction": 1, "convenience": 0}
    # A department sees only its own; asking for another is refused.
    assert client.get("/api/v1/checks/stats", headers=_auth(key)).json()["totals"]["checks"] == 4
    assert client.get("/api/v1/checks/stats", params={"department": "samr"}, headers=_auth(key)).status_code == 403
    client.cookies.set("cx_session", office)
    page = client.get("/office/checks")
    assert page.status_code == 200 and "超期未反馈" in page.text


def test_batch_with_bad_rows(client: TestClient, platform: Platform, make_api_key: Callable[[str], str]) -> None:
    key = make_api_key("finance")
    listed_entry(platform, list_kind="black", uscc=uscc_for(41), **TERM)
    listed_entry(platform, list_kind="red", ric=ric_for(42), name="赵六", **TERM)
    plain_subject(platform, uscc=uscc_for(43))
    lines = ["主体标识,业务编号", f"{uscc_for(41)},A-1", f"{ric_for(42)},A-2", f"{uscc_for(43)},A-3",
             "91320400MA1MXXXX01,A-4", ",A-5", f"{uscc_for(44)},A-6"]
    resp = client.post("/api/v1/checks/batches", data={"scenario": "fiscal_support"},
                       files={"file": ("list.csv", "\n".join(lines).encode("utf-8"), "text/csv")}, headers=_auth(key))
    assert resp.status_code == 201, resp.text
    summary = resp.json()
    assert (summary["rows"], summary["found"], summary["hits"], summary["errors"]) == (6, 3, 2, 2)
    result = client.get(summary["result_csv"], headers=_auth(key))
    assert result.status_code == 200
    rows = list(csv.reader(io.StringIO(result.content.decode("utf-8-sig"))))[1:]
    by_ref = {r[2]: r for r in rows}
    assert "B-FUND-01" in by_ref["A-1"][8] and by_ref["A-1"][7] == "黑名单"
    assert "R-FUND-01" in by_ref["A-2"][8] and by_ref["A-2"][1] == ric_for(42) and by_ref["A-2"][4] != ric_for(42)
    assert by_ref["A-3"][6] == "不在名单中" and by_ref["A-6"][6] == "平台未登记"
    assert by_ref["A-4"][10].startswith("uscc.") and by_ref["A-4"][11]
    assert by_ref["A-5"][10] and by_ref["A-5"][6] == "行错误"
    xlsx = client.get(summary["result_xlsx"], headers=_auth(key))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert client.get(summary["result_csv"], headers=_auth(make_api_key("samr"))).status_code == 403
    with platform.db.read() as session:
        assert len(session.execute(select(CreditCheck).where(CreditCheck.batch_id == summary["id"])).all()) == 4


def test_platform_key_checks_but_never_ingests(client: TestClient, platform: Platform) -> None:
    with platform.db.write() as session:
        key = create_api_key(session, department_code=f"platform:{uscc_for(900)}", label="平台", actor=SYSTEM).key
    listed_entry(platform, list_kind="black", uscc=uscc_for(51), **TERM)
    check = client.post("/api/v1/checks", json={"subject": uscc_for(51), "scenario": "platform_entry"},
                        headers=_auth(key))
    assert check.status_code == 200 and check.json()["measures"][0]["code"] == "B-EC-01"
    fb = client.post(f"/api/v1/checks/{check.json()['check_id']}/feedback",
                     json={"case_no": "SHOP-1", "measures_applied": ["B-EC-01"], "outcome": "applied"},
                     headers=_auth(key))
    assert fb.status_code == 201
    for department in (None, "samr"):
        body: dict[str, Any] = {"item": "admin_penalty", "records": [{"source_id": "x"}]}
        if department:
            body["department"] = department
        resp = client.post("/api/v1/records/batches", json=body, headers=_auth(key))
        assert resp.status_code in (403, 404), resp.text
    from chengxin.records.models import Record

    with platform.db.read() as session:
        assert session.execute(select(Record)).first() is None


def test_cli_platform_key_validates_uscc(platform: Platform, monkeypatch: Any) -> None:
    from typer.testing import CliRunner

    from chengxin.cli import main

    monkeypatch.setattr(main, "_platform", lambda: platform)
    runner = CliRunner()
    bad = runner.invoke(main.app, ["api-keys", "create", "--platform", "91320400MA1MXXXX01"])
    assert bad.exit_code == 2
    good = runner.invoke(main.app, ["api-keys", "create", "--platform", uscc_for(901)])
    assert good.exit_code == 0, good.output
    assert good.output.strip().splitlines()[-1].startswith("cx_")
