"""Lists through HTTP on the real app and database: the rule scan (idempotent), every transition
and its refusals (wrong state 409, wrong role 403, missing reason 400), the public API showing only
published entries in masked form, the per-subject status and the change feed kept in step, the
subject's notice and defence, expiry, and the repair seam (on the serious list: no repair)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chengxin.core.audit import Actor
from chengxin.core.clock import CHINA, today_cn
from chengxin.lists import service as lists
from chengxin.lists.models import ListChange, ListEntry, SubjectListStatus
from chengxin.platform import Platform
from chengxin.records.models import Record
from chengxin.repair.service import is_on_serious_list
from factories import person_row, ric_for, submit_rows, uscc_for, valid_row

RECORD_AGE = dt.timedelta(days=100)  # the records the scan finds were decided this long before today
OFFICE = Actor(kind="staff", name="office", role="credit_office")
PASSWORD = "correct horse battery"


@pytest.fixture()
def now() -> dt.datetime:
    """The clock of the service calls, read when the test starts — not at import, so a run across midnight
    (Beijing) still agrees with the server's own today."""
    return dt.datetime.now(dt.UTC)


@pytest.fixture()
def day(now: dt.datetime) -> dt.date:
    """Today (Beijing) at ``now``: the day the service takes from it."""
    return now.astimezone(CHINA).date()


def _server_day(value: str, before: dt.date) -> dt.date:
    """A date the server stamped as its today during a request sent on ``before``: that day, or the next if
    midnight (Beijing) passed meanwhile."""
    stamped = dt.date.fromisoformat(value)
    assert stamped in {before, today_cn()}, (value, before)
    return stamped


def _org_row(platform: Platform, item: str, n: int, day: dt.date, **kw: Any) -> dict[str, Any]:
    version = platform.catalog.version_on(item, day)
    assert version is not None
    return valid_row(version, n, person=False, decision_date=day.isoformat(), **kw)


@pytest.fixture()
def world(platform: Platform, day: dt.date) -> dict[str, int]:
    """Org 7: a serious food violation (black) and its registration (legal representative);
    org 8: tax grade A (red); org 9: three penalties this year (watch); person 5: a breach of a
    credit commitment (watch); org 10 and person 6 (a district honour): nothing. Returns subject ids by name."""
    ago = day - RECORD_AGE
    submit_rows(platform, "food_drug_violation", "samr",
                [_org_row(platform, "food_drug_violation", 7, ago, source_id="F7", severity="serious")], day)
    submit_rows(platform, "org_registration", "samr", [_org_row(platform, "org_registration", 7, ago, source_id="R7")],
                day)
    submit_rows(platform, "tax_credit_rating", "tax",
                [_org_row(platform, "tax_credit_rating", 8, ago, source_id="T8", grade="A", score="95.00")], day)
    submit_rows(platform, "admin_penalty", "samr", [
        _org_row(platform, "admin_penalty", 9, ago - dt.timedelta(days=i * 30), source_id=f"P9-{i}", severity="general")
        for i in range(3)], day)
    submit_rows(platform, "commitment_breach", "credit_office",
                [person_row(platform, "commitment_breach", 5, ago, source_id="C5", severity="general")], day)
    submit_rows(platform, "org_registration", "samr", [_org_row(platform, "org_registration", 10, ago, source_id="R10")],
                day)
    submit_rows(platform, "commendation", "civil",
                [person_row(platform, "commendation", 6, ago, source_id="H6", honour_level="district")], day)
    with platform.db.read() as s:
        by_source = dict(s.execute(select(Record.source_id, Record.subject_id)).all())
        records = dict(s.execute(select(Record.source_id, Record.id)).all())
    return {"org7": by_source["F7"], "org8": by_source["T8"], "org9": by_source["P9-0"], "person5": by_source["C5"],
            "org10": by_source["R10"], "rec_f7": records["F7"], "rec_r10": records["R10"]}


def _scan(platform: Platform, now: dt.datetime) -> lists.RuleRun:
    with platform.db.write() as s:
        return lists.propose_by_rules(s, platform.catalog, now=now)


def _entry_of(platform: Platform, subject_id: int, kind: str) -> ListEntry:
    with platform.db.read() as s:
        return s.scalars(select(ListEntry).where(ListEntry.subject_id == subject_id, ListEntry.list_kind == kind)
                         .order_by(ListEntry.id.desc())).first()  # type: ignore[return-value]


def _changes(platform: Platform, entry_id: int) -> list[str]:
    with platform.db.read() as s:
        return list(s.scalars(select(ListChange.change).where(ListChange.entry_id == entry_id).order_by(ListChange.id)))


def _status(platform: Platform, subject_id: int) -> list[dict[str, Any]] | None:
    with platform.db.read() as s:
        row = s.get(SubjectListStatus, subject_id)
        return None if row is None else list(row.memberships)


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_rule_scan_proposes_each_qualifying_subject_once(platform: Platform, world: dict[str, int],
                                                            now: dt.datetime) -> None:
    run = _scan(platform, now)
    found = {(p.subject_id, p.list_kind, p.criterion_code) for p in run.proposals}
    assert found == {(world["org7"], "black", "black.food_drug_serious"), (world["org8"], "red", "red.tax_credit_a"),
                     (world["org9"], "watch", "watch.repeated_penalties"),
                     (world["person5"], "watch", "watch.commitment_breach")}
    entry = _entry_of(platform, world["org7"], "black")
    assert entry.state == "proposed" and entry.source == "rule" and entry.department_code == "samr"
    assert entry.record_ids == [world["rec_f7"]] and entry.criteria_version == "2020.1"
    assert "国办发〔2020〕49号" in entry.basis_zh
    assert _changes(platform, entry.id) == ["proposed"]
    assert _status(platform, world["org7"]) is None  # proposed is not a membership
    again = _scan(platform, now)
    assert again.proposals == [] and again.skipped_open == 4
    with platform.db.read() as s:
        dry = lists.propose_by_rules(s, platform.catalog, now=now, dry_run=True)
    assert dry.proposals == []


def test_black_list_notice_defence_decision_publication_and_removal(
    client: TestClient, platform: Platform, world: dict[str, int], make_user: Callable[..., str], now: dt.datetime,
    day: dt.date,
) -> None:
    _scan(platform, now)
    office = _h(make_user("credit_office"))
    entry_id = _entry_of(platform, world["org7"], "black").id
    assert client.get(f"/api/v1/lists/{entry_id}").status_code == 404  # a proposal is not published

    # Red-list-only step on a black entry, and a decision before notice: refused.
    r = client.post(f"/api/v1/lists/entries/{entry_id}/publicity", headers=office)
    assert r.status_code == 409 and r.json()["error"]["code"] == "lists.not_for_this_list"
    r = client.post(f"/api/v1/lists/entries/{entry_id}/decision", headers=office,
                    json={"action": "list", "decision_no": "常信用黑〔2026〕1号"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "workflow.invalid_transition"

    before = today_cn()
    r = client.post(f"/api/v1/lists/entries/{entry_id}/notice", headers=office)
    assert r.status_code == 200, r.text
    body = r.json()
    noticed_on = _server_day(body["notice_sent_on"], before)
    assert body["state"] == "noticed" and body["defence_due_on"] > noticed_on.isoformat()
    r = client.post(f"/api/v1/lists/entries/{entry_id}/decision", headers=office,
                    json={"action": "list", "decision_no": "常信用黑〔2026〕1号"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "lists.defence_running"

    r = client.post(f"/api/v1/lists/entries/{entry_id}/defence", headers=office, json={"text": "已整改，请求不予列入"})
    assert r.status_code == 200 and r.json()["defence"] == "已整改，请求不予列入"
    r = client.post(f"/api/v1/lists/entries/{entry_id}/decision", headers=office, json={"action": "list"})
    assert r.status_code == 400 and r.json()["error"]["field"] == "decision_no"
    r = client.post(f"/api/v1/lists/entries/{entry_id}/decision", headers=office,
                    json={"action": "list", "decision_no": "常信用黑〔2026〕1号", "term_from": day.isoformat(),
                          "term_to": (day - dt.timedelta(days=1)).isoformat()})
    assert r.status_code == 400 and r.json()["error"]["code"] == "lists.term_order"
    before = today_cn()
    r = client.post(f"/api/v1/lists/entries/{entry_id}/decision", headers=office,
                    json={"action": "list", "decision_no": "常信用黑〔2026〕1号"})
    assert r.status_code == 200, r.text
    listed = r.json()
    listed_on = _server_day(listed["term_from"], before)  # the term starts on the day of the decision
    assert listed["state"] == "listed"
    # P3Y: the last day in force is the day before the third anniversary.
    assert listed["term_to"] == (listed_on.replace(year=listed_on.year + 3) - dt.timedelta(days=1)).isoformat() or \
        listed_on.month == 2 and listed_on.day == 29
    [legal] = listed["related_persons"]
    assert legal["role"] == "法定代表人" and "*" in legal["display_name"] and "*" in legal["display_id"]
    assert [h["action"] for h in listed["history"]] == ["propose", "notice", "defence", "list"]

    # The status row and the feed are in step; the repair seam sees the listing.
    [membership] = _status(platform, world["org7"]) or []
    assert membership["list"] == "black" and membership["decision_no"] == "常信用黑〔2026〕1号"
    assert _changes(platform, entry_id) == ["proposed", "noticed", "noticed", "listed"]
    with platform.db.read() as s:
        assert is_on_serious_list(s, world["org7"], listed_on)
        assert not is_on_serious_list(s, world["org8"], listed_on)

    # Published: in the public list and detail, with basis, decision number, term, exit conditions.
    page = client.get("/api/v1/lists", params={"kind": "black"}).json()
    assert page["total"] == 1
    [item] = page["items"]
    assert item["id"] == entry_id and item["decision_no"] == "常信用黑〔2026〕1号"
    assert item["subject_display_id"] == uscc_for(7) and "exit_zh" in item and item["exit_zh"]
    assert "reasons" not in item and "defence" not in item and "related_persons" not in item
    assert client.get("/api/v1/lists", params={"kind": "black", "q": "不存在的名字"}).json()["total"] == 0
    assert client.get("/api/v1/lists", params={"kind": "red"}).json()["total"] == 0
    detail = client.get(f"/api/v1/lists/{entry_id}").json()
    assert detail["basis_zh"].startswith("国办发〔2020〕49号") and detail["remedies_zh"]

    # Already listed: a second decision is a wrong state.
    r = client.post(f"/api/v1/lists/entries/{entry_id}/decision", headers=office,
                    json={"action": "list", "decision_no": "X"})
    assert r.status_code == 409

    # Removal needs a reason; then the entry leaves the list, the status row and the public API.
    r = client.post(f"/api/v1/lists/entries/{entry_id}/removal", headers=office, json={"reason": " "})
    assert r.status_code == 400 and r.json()["error"]["code"] == "workflow.reason_required"
    r = client.post(f"/api/v1/lists/entries/{entry_id}/removal", headers=office,
                    json={"reason": "整改到位，经申请提前移出", "decision_no": "常信用移〔2026〕1号"})
    assert r.status_code == 200 and r.json()["state"] == "ended" and r.json()["end_kind"] == "removed"
    assert _status(platform, world["org7"]) is None
    assert _changes(platform, entry_id)[-1] == "ended"
    assert client.get(f"/api/v1/lists/{entry_id}").status_code == 404
    assert client.get("/api/v1/lists", params={"kind": "black"}).json()["total"] == 0
    with platform.db.read() as s:
        assert not is_on_serious_list(s, world["org7"], listed_on)
    assert client.post(f"/api/v1/lists/entries/{entry_id}/removal", headers=office,
                       json={"reason": "again"}).status_code == 409
    # The scan does not propose the same records again after the removal.
    assert _scan(platform, now).proposals == []


def test_red_list_publicity_then_confirmation(client: TestClient, platform: Platform, world: dict[str, int],
                                              make_user: Callable[..., str], now: dt.datetime) -> None:
    _scan(platform, now)
    office = _h(make_user("credit_office"))
    entry_id = _entry_of(platform, world["org8"], "red").id
    r = client.post(f"/api/v1/lists/entries/{entry_id}/notice", headers=office)
    assert r.status_code == 409 and r.json()["error"]["code"] == "lists.not_for_this_list"
    before = today_cn()
    r = client.post(f"/api/v1/lists/entries/{entry_id}/publicity", headers=office)
    assert r.status_code == 200
    body = r.json()
    publicity_from = _server_day(body["publicity_from"], before)
    assert body["publicity_to"] == (publicity_from + dt.timedelta(days=6)).isoformat()
    shown = client.get("/api/v1/lists", params={"kind": "red", "state": "publicity"}).json()
    assert [i["id"] for i in shown["items"]] == [entry_id]
    assert client.get(f"/api/v1/lists/{entry_id}").json()["state"] == "publicity"
    r = client.post(f"/api/v1/lists/entries/{entry_id}/decision", headers=office,
                    json={"action": "list", "decision_no": "常信用红〔2026〕1号"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "lists.publicity_running"
    # After the window (the service with a later clock, as the office would on day 8):
    day_8 = publicity_from + dt.timedelta(days=7)
    with platform.db.write() as s:
        view = lists.decide(s, platform.catalog, entry_id=entry_id, action="list", actor=OFFICE,
                            now=dt.datetime.combine(day_8, dt.time(10), tzinfo=CHINA), decision_no="常信用红〔2026〕1号")
    assert view.state == "listed" and view.term_from == day_8
    assert _changes(platform, entry_id) == ["proposed", "publicity", "listed"]
    [m] = _status(platform, world["org8"]) or []
    assert m["list"] == "red"


def test_roles_department_proposes_office_decides(client: TestClient, platform: Platform, world: dict[str, int],
                                                  make_user: Callable[..., str],
                                                  make_api_key: Callable[[str], str]) -> None:
    samr_key = {"X-API-Key": make_api_key("samr")}
    tax_key = {"X-API-Key": make_api_key("tax")}
    clerk = _h(make_user("clerk", "samr"))
    office = _h(make_user("credit_office"))
    proposal = {"kind": "watch", "criterion": "watch.repeated_penalties", "uscc": uscc_for(10),
                "reason": "一年内多次受到行政处罚", "record_ids": [world["rec_r10"]]}
    assert client.post("/api/v1/lists/entries", json=proposal).status_code == 401
    r = client.post("/api/v1/lists/entries", headers=samr_key, json=proposal)
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["state"] == "proposed" and entry["source"] == "department" and entry["department"] == "samr"
    assert entry["reasons"][0]["zh"] == "一年内多次受到行政处罚"
    r = client.post("/api/v1/lists/entries", headers=samr_key, json=proposal)
    assert r.status_code == 409 and r.json()["error"]["code"] == "lists.already_open"
    # The department may not notice or decide; another department may not withdraw.
    for path, body in (("notice", None), ("decision", {"action": "reject", "reason": "x"}),
                       ("removal", {"reason": "x"})):
        r = client.post(f"/api/v1/lists/entries/{entry['id']}/{path}", headers=clerk, json=body)
        assert r.status_code in (403, 409), (path, r.text)
        if path != "removal":
            assert r.status_code == 403
    r = client.post(f"/api/v1/lists/entries/{entry['id']}/withdraw", headers=tax_key, json={"reason": "不属本单位"})
    assert r.status_code == 403
    # The department sees its own queue; the office sees the city's.
    assert [e["id"] for e in client.get("/api/v1/lists/entries", headers=samr_key).json()] == [entry["id"]]
    assert client.get("/api/v1/lists/entries", headers=tax_key).json() == []
    assert client.get("/api/v1/lists/entries", headers=tax_key, params={"state": "nonsense"}).status_code == 400
    assert client.get("/api/v1/lists/entries").status_code == 401
    r = client.post(f"/api/v1/lists/entries/{entry['id']}/withdraw", headers=clerk, json={"reason": "补充材料后重新提出"})
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"
    assert client.post(f"/api/v1/lists/entries/{entry['id']}/withdraw", headers=clerk,
                       json={"reason": "again"}).status_code == 409
    # Withdrawn: a new proposal may be made; the office rejects it with a reason.
    r = client.post("/api/v1/lists/entries", headers=clerk, json=proposal)
    assert r.status_code == 201
    second = r.json()["id"]
    r = client.post(f"/api/v1/lists/entries/{second}/decision", headers=office, json={"action": "reject"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "workflow.reason_required"
    r = client.post(f"/api/v1/lists/entries/{second}/decision", headers=office,
                    json={"action": "reject", "reason": "不符合认定标准"})
    assert r.status_code == 200 and r.json()["state"] == "rejected"
    assert _changes(platform, second) == ["proposed", "rejected"]
    assert _status(platform, world["org10"]) is None


@pytest.mark.parametrize(("body", "code", "field"), [
    ({"kind": "watch", "criterion": "watch.nope", "uscc": "X", "reason": "r"}, "lists.unknown_criterion", "criterion"),
    ({"kind": "red", "criterion": "watch.repeated_penalties", "uscc": "X", "reason": "r"},
     "lists.criterion_list_mismatch", "criterion"),
    ({"kind": "watch", "criterion": "watch.repeated_penalties", "reason": "r"}, "lists.subject_required", "subject"),
    ({"kind": "watch", "criterion": "watch.repeated_penalties", "uscc": "91320400MA1XXXXX0X", "reason": "r"},
     None, None),
    ({"kind": "black", "criterion": "black.exam_cheating", "uscc": "ORG10", "reason": "r", "record_ids": [1]},
     "lists.subject_kind", "subject"),
    ({"kind": "black", "criterion": "black.food_drug_serious", "uscc": "ORG10", "reason": "r"},
     "lists.records_required", "record_ids"),
    ({"kind": "black", "criterion": "black.food_drug_serious", "uscc": "ORG10", "reason": "r", "record_ids": [999999]},
     "lists.records_not_of_subject", "record_ids"),
    ({"kind": "watch", "criterion": "watch.repeated_penalties", "uscc": "ORG10", "reason": "   "},
     "lists.reason_required", "reason"),
])
def test_proposals_are_validated_naming_the_field(client: TestClient, platform: Platform, world: dict[str, int],
                                                  make_api_key: Callable[[str], str], body: dict[str, Any],
                                                  code: str | None, field: str | None) -> None:
    if body.get("uscc") == "ORG10":
        body = {**body, "uscc": uscc_for(10)}
    r = client.post("/api/v1/lists/entries", headers={"X-API-Key": make_api_key("samr")}, json=body)
    assert 400 <= r.status_code < 500, r.text
    error = r.json()["error"]
    if code is not None:
        assert (error["code"], error["field"]) == (code, field)
    else:
        assert error["field"]  # a bad code: the identifier's own check names the field


def test_public_api_inputs_are_checked(client: TestClient, platform: Platform) -> None:
    assert client.get("/api/v1/lists", params={"kind": "grey"}).status_code == 422
    assert client.get("/api/v1/lists", params={"page": 0}).status_code == 422
    assert client.get("/api/v1/lists/99999").status_code == 404
    empty = client.get("/api/v1/lists").json()
    assert empty == {"total": 0, "page": 1, "pages": 1, "per_page": 20, "items": []}
    criteria = client.get("/api/v1/lists/criteria").json()
    black = [c for c in criteria if c["kind"] == "black"]
    assert black and all(c["domain_zh"] and c["notice_required"] for c in black)
    assert {c["code"] for c in criteria} >= {"watch.commitment_breach", "red.volunteer", "black.dishonest_debtor"}
    assert all(c["entry_zh"] and c["exit_zh"] and c["remedies_zh"] and c["basis_zh"] for c in criteria)
    civic = next(c for c in criteria if c["code"] == "red.civic_excellent")
    assert civic["score_bands"] == ["excellent"] and civic["items"] == [] and civic["subject_kinds"] == ["person"]
    old = client.get("/api/v1/lists/criteria", params={"day": "2020-06-01", "kind": "red"}).json()
    assert [(c["code"], c["version"]) for c in old] == [("red.tax_credit_a", "2019.1")]


def test_the_subject_is_told_and_states_a_defence(client: TestClient, platform: Platform, world: dict[str, int],
                                                  make_user: Callable[..., str], now: dt.datetime) -> None:
    _scan(platform, now)
    office = _h(make_user("credit_office"))
    entry_id = _entry_of(platform, world["person5"], "watch").id
    for n in (5, 6):
        r = client.post("/me/register", data={"ric": ric_for(n), "name": "张三", "password": PASSWORD},
                        follow_redirects=False)
        assert r.status_code == 303, r.text

    def person(n: int) -> dict[str, str]:
        r = client.post("/api/v1/me/sessions", json={"ric": ric_for(n), "password": PASSWORD})
        return _h(r.json()["token"])

    assert client.get("/api/v1/me/lists", headers=person(5)).json() == []  # not told yet
    assert client.post(f"/api/v1/lists/entries/{entry_id}/notice", headers=office).status_code == 200
    [mine] = client.get("/api/v1/me/lists", headers=person(5)).json()
    assert mine["id"] == entry_id and mine["state"] == "noticed" and mine["actions"] == ["defence"]
    assert mine["subject_display_id"] != ric_for(5) and "*" in mine["subject_display_id"]
    r = client.post(f"/api/v1/me/lists/{entry_id}/defence", headers=person(6), json={"text": "冒名"})
    assert r.status_code == 403
    r = client.post(f"/api/v1/me/lists/{entry_id}/defence", headers=person(5), json={"text": "承诺事项已履行"})
    assert r.status_code == 200 and r.json()["defence"] == "承诺事项已履行"
    r = client.post(f"/api/v1/lists/entries/{entry_id}/decision", headers=office,
                    json={"action": "list", "decision_no": "常信用关〔2026〕3号"})
    assert r.status_code == 200
    r = client.post(f"/api/v1/me/lists/{entry_id}/defence", headers=person(5), json={"text": "再次申辩"})
    assert r.status_code == 409
    [mine] = client.get("/api/v1/me/lists", headers=person(5)).json()
    assert mine["state"] == "listed" and mine["decision_no"] == "常信用关〔2026〕3号"
    # The person's own file page shows the section.
    client.post("/me/login", data={"ric": ric_for(5), "password": PASSWORD})
    page = client.get("/me")
    assert page.status_code == 200 and "名单告知" in page.text and "常信用关〔2026〕3号" in page.text


def test_expiry_ends_entries_after_their_last_day(platform: Platform, world: dict[str, int], now: dt.datetime,
                                                  day: dt.date) -> None:
    _scan(platform, now)
    entry_id = _entry_of(platform, world["org9"], "watch").id
    with platform.db.write() as s:
        lists.send_notice(s, platform.catalog, entry_id=entry_id, actor=OFFICE, now=now - dt.timedelta(days=30))
        view = lists.decide(s, platform.catalog, entry_id=entry_id, action="list", actor=OFFICE, now=now,
                            decision_no="常信用关〔2026〕9号", term_to=day + dt.timedelta(days=10))
    assert view.term_to == day + dt.timedelta(days=10)
    last_day = now + dt.timedelta(days=10)
    with platform.db.write() as s:
        assert lists.expire(s, now=last_day) == []  # the last day is still in force
    with platform.db.write() as s:
        assert lists.expire(s, now=last_day + dt.timedelta(days=1)) == [entry_id]
    entry = _entry_of(platform, world["org9"], "watch")
    assert entry.state == "ended" and entry.end_kind == "expired"
    assert entry.ended_on == day + dt.timedelta(days=11)
    assert _status(platform, world["org9"]) is None
    assert _changes(platform, entry_id)[-1] == "ended"
    with platform.db.write() as s:
        assert lists.expire(s, now=last_day + dt.timedelta(days=2)) == []


def test_the_scan_proposes_persons_in_the_excellent_band_for_the_red_list(platform: Platform, now: dt.datetime,
                                                                         day: dt.date) -> None:
    """red.civic_excellent: the stored band (score_current) excellent and no general-or-worse negative
    record in 1095 days. The scores come from the record path; a subject without a stored score is not
    proposed until ``scores recompute`` stores one."""
    from chengxin.scores import service as scores
    from chengxin.scores.models import ScoreCurrent

    ago = day - RECORD_AGE

    def volunteer(n: int, hours: str) -> dict[str, Any]:  # one-star: below red.volunteer's three stars
        return person_row(platform, "volunteer_service", n, ago, source_id=f"V{n}", service_hours=hours,
                          star_level="1")

    # 21: 600 + 150 (prosocial cap) + 40 (honour) = 790, excellent; 22: 600 + 60 = 660, good;
    # 23: 790 - 40 = 750, still excellent, but a general commitment breach bars the red list.
    submit_rows(platform, "volunteer_service", "civilization_office",
                [volunteer(21, "80"), volunteer(22, "30"), volunteer(23, "80")], day)
    submit_rows(platform, "commendation", "civil", [
        person_row(platform, "commendation", n, ago, source_id=f"H{n}", honour_level="district") for n in (21, 23)], day)
    submit_rows(platform, "commitment_breach", "credit_office",
                [person_row(platform, "commitment_breach", 23, ago, source_id="C23", severity="general")], day)
    with platform.db.read() as s:
        ids = dict(s.execute(select(Record.source_id, Record.subject_id)).all())
        bands = dict(s.execute(select(ScoreCurrent.subject_id, ScoreCurrent.band)).all())
    excellent, good, barred = ids["V21"], ids["V22"], ids["V23"]
    assert (bands[excellent], bands[good], bands[barred]) == ("excellent", "good", "excellent")
    with platform.db.write() as s:  # as if the score had never been stored
        s.delete(s.get(ScoreCurrent, excellent))
    assert not [p for p in _scan(platform, now).proposals if p.list_kind == "red"]

    scores.recompute(platform.db, platform.catalog, day, actor=OFFICE)
    run = _scan(platform, now)
    assert [(p.subject_id, p.criterion_code, p.record_ids) for p in run.proposals if p.list_kind == "red"] == [
        (excellent, "red.civic_excellent", ())]
    entry = _entry_of(platform, excellent, "red")
    assert entry.state == "proposed" and entry.department_code == "credit_office" and entry.record_ids == []
    assert [r["code"] for r in entry.reasons] == ["red.civic_excellent", "score_band", "no_negative"]
    model = scores.model_for(platform.catalog, "person", day).id
    assert entry.reasons[1]["zh"] == f"文明信用积分等级为“优秀”（模型 {model}，计算日 {day.isoformat()}）"
    assert "河南省社会信用条例第二十八条" in entry.basis_zh
    assert _entry_of(platform, good, "red") is None and _entry_of(platform, barred, "red") is None
    again = _scan(platform, now)
    assert not [p for p in again.proposals if p.list_kind == "red"] and again.skipped_open >= 1


def test_staff_reads_are_audited(client: TestClient, platform: Platform, world: dict[str, int],
                                 make_user: Callable[..., str], now: dt.datetime) -> None:
    from chengxin.core.audit import AuditEvent

    _scan(platform, now)
    office = _h(make_user("credit_office"))
    entry_id = _entry_of(platform, world["org7"], "black").id
    assert client.get(f"/api/v1/lists/entries/{entry_id}", headers=office).status_code == 200
    with platform.db.read() as s:
        reads = s.scalars(select(AuditEvent).where(AuditEvent.action == "list_entry.read")).all()
    assert [(r.subject_id, r.object_id) for r in reads] == [(world["org7"], str(entry_id))]


def test_the_cli_proposes_dry_run_then_for_real_shows_and_expires(
    platform: Platform, world: dict[str, int], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from chengxin.cli.main import app

    monkeypatch.setattr("chengxin.platform.open_platform", lambda *a, **k: platform)
    runner = CliRunner()
    dry = runner.invoke(app, ["lists", "propose", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "将提出拟列入4条" in "".join(dry.output.split())
    with platform.db.read() as s:
        assert s.scalars(select(ListEntry)).all() == []
    done = runner.invoke(app, ["lists", "propose"])
    assert done.exit_code == 0 and "已提出拟列入4条" in "".join(done.output.split())
    again = "".join(runner.invoke(app, ["lists", "propose"]).output.split())  # rich wraps lines
    assert "已提出拟列入0条" in again and "跳过4条" in again
    entry_id = _entry_of(platform, world["org7"], "black").id
    shown = runner.invoke(app, ["lists", "show", str(entry_id)])
    assert shown.exit_code == 0 and "严重失信主体名单" in shown.output and "国办发〔2020〕49号" in shown.output
    assert runner.invoke(app, ["lists", "show", "999999"]).exit_code == 2
    assert "期满移出0条" in "".join(runner.invoke(app, ["lists", "expire"]).output.split())
    assert runner.invoke(app, ["lists", "expire", "--as-of", "2026-13-01"]).exit_code != 0
    assert "red.volunteer" in runner.invoke(app, ["lists", "criteria"]).output


def test_the_demo_entries(platform: Platform, world: dict[str, int], now: dt.datetime) -> None:
    from chengxin.lists.demo import load_list_demo

    summary = load_list_demo(platform, now=now)
    assert summary.proposed == 4
    assert summary.listed == {"black": 1, "watch": 2, "red": 1} and summary.removed == 1
    assert _entry_of(platform, world["org7"], "black").state == "listed"
    assert _entry_of(platform, world["org8"], "red").state == "listed"
    again = load_list_demo(platform, now=now)
    assert again.proposed == 0 and again.listed == {}
