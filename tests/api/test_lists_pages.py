"""Portal pages of the lists: the public tabs, search, publicity window and detail page; the criteria
page; the office queue, proposal form and actions with CSRF; the console line."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from chengxin.core.audit import Actor
from chengxin.core.clock import today_cn
from chengxin.lists import service as lists
from chengxin.lists.models import ListEntry
from chengxin.platform import Platform
from chengxin.records.models import Record
from factories import submit_rows, uscc_for, valid_row

NOW = dt.datetime.now(dt.UTC)
DAY = today_cn()
AGO = DAY - dt.timedelta(days=100)
OFFICE = Actor(kind="staff", name="office", role="credit_office")


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _org(platform: Platform, item: str, n: int, **kw: str) -> dict[str, object]:
    version = platform.catalog.version_on(item, AGO)
    assert version is not None
    return valid_row(version, n, person=False, decision_date=AGO.isoformat(), **kw)


def _world(platform: Platform) -> dict[str, int]:
    submit_rows(platform, "food_drug_violation", "samr",
                [_org(platform, "food_drug_violation", 7, source_id="F7", severity="serious")], DAY)
    submit_rows(platform, "tax_credit_rating", "tax",
                [_org(platform, "tax_credit_rating", 8, source_id="T8", grade="A", score="96.00"),
                 _org(platform, "tax_credit_rating", 9, source_id="T9", grade="A", score="97.00")], DAY)
    with platform.db.write() as s:
        lists.propose_by_rules(s, platform.catalog, now=NOW - dt.timedelta(days=20))
        entries = {e.subject_id: e.id for e in s.scalars(select(ListEntry))}
        subjects = dict(s.execute(select(Record.source_id, Record.subject_id)).all())
        black = entries[subjects["F7"]]
        lists.send_notice(s, platform.catalog, entry_id=black, actor=OFFICE, now=NOW - dt.timedelta(days=20))
        lists.decide(s, platform.catalog, entry_id=black, action="list", actor=OFFICE, now=NOW,
                     decision_no="常信用黑〔2026〕7号")
        red_listed, red_candidate = entries[subjects["T8"]], entries[subjects["T9"]]
        lists.start_publicity(s, platform.catalog, entry_id=red_listed, actor=OFFICE, now=NOW - dt.timedelta(days=20))
        lists.decide(s, platform.catalog, entry_id=red_listed, action="list", actor=OFFICE, now=NOW,
                     decision_no="常信用红〔2026〕8号")
        lists.start_publicity(s, platform.catalog, entry_id=red_candidate, actor=OFFICE, now=NOW)
    return {"black": black, "red": red_listed, "candidate": red_candidate}


def test_public_tabs_search_publicity_and_detail(client: TestClient, platform: Platform) -> None:
    ids = _world(platform)
    page = client.get("/lists")  # default tab: the serious-dishonesty list
    assert page.status_code == 200
    assert f'id="entry-{ids["black"]}"' in page.text and "常信用黑〔2026〕7号" in page.text
    assert 'aria-current="page" href="/lists"' in page.text or 'href="/lists"' in page.text
    assert client.get("/lists", params={"kind": "black", "q": "常州测试7"}).text.count('id="entry-') == 1
    assert 'id="lists-empty"' in client.get("/lists", params={"kind": "black", "q": "无此主体"}).text
    red = client.get("/lists", params={"kind": "red"}).text
    assert f'id="entry-{ids["red"]}"' in red and f'id="candidate-{ids["candidate"]}"' in red
    assert f'id="entry-{ids["candidate"]}"' not in red  # a candidate is not listed yet
    assert 'id="lists-empty"' in client.get("/lists", params={"kind": "watch"}).text
    assert client.get("/lists", params={"kind": "nonsense", "page": "x"}).status_code == 200
    detail = client.get(f"/lists/{ids['black']}").text
    assert "常信用黑〔2026〕7号" in detail and 'id="entry-exit"' in detail and "救济途径" in detail
    assert "国办发〔2020〕49号" in detail
    assert 'id="entry-defence"' not in detail and "依据记录" not in detail  # staff-only facts hidden
    assert client.get(f"/lists/{ids['candidate']}").status_code == 200  # in its publicity window
    assert client.get("/lists/99999").status_code == 404
    alias = client.get(f"/lists/entries/{ids['black']}", follow_redirects=False)
    assert alias.status_code == 308 and alias.headers["location"] == f"/lists/{ids['black']}"
    criteria = client.get("/lists/criteria").text
    assert 'id="criterion-black.dishonest_debtor"' in criteria and "移出条件" in criteria


def test_office_queue_propose_and_decide_with_csrf(client: TestClient, platform: Platform,
                                                   make_user: Callable[..., str]) -> None:
    submit_rows(platform, "admin_penalty", "samr", [
        _org(platform, "admin_penalty", 12, source_id=f"P12-{i}", severity="general") for i in range(3)], DAY)
    assert client.get("/office/lists", follow_redirects=False).status_code == 303  # sign in first
    client.cookies.set("cx_session", make_user("clerk", "samr"))
    queue = client.get("/office/lists")
    assert queue.status_code == 200 and 'id="lists-queue-empty"' in queue.text
    token = _csrf(queue.text)
    form = {"list_kind": "watch", "criterion": "watch.repeated_penalties", "subject_code": uscc_for(12),
            "record_ids": "", "reason": "一年内三次行政处罚"}
    assert client.post("/office/lists", data={**form, "csrf_token": "forged"}).status_code == 403
    bad = client.post("/office/lists", data={**form, "record_ids": "a,b", "csrf_token": token})
    assert bad.status_code == 400 and 'data-code="lists.record_ids"' in bad.text
    bad = client.post("/office/lists", data={**form, "subject_code": "91320400MA00000000", "csrf_token": token})
    assert bad.status_code in (400, 404) and 'id="lists-error"' in bad.text and "一年内三次行政处罚" in bad.text
    done = client.post("/office/lists", data={**form, "csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303, re.findall(r"data-code=\"[^\"]+\"", done.text)
    entry_id = int(done.headers["location"].split("/")[-1].split("?")[0])
    page = client.get(f"/office/lists/{entry_id}").text
    assert 'id="action-withdraw"' in page and 'id="action-notice"' not in page  # a department cannot notice
    forbidden = client.post(f"/office/lists/{entry_id}/notice", data={"csrf_token": _csrf(page)})
    assert forbidden.status_code == 403

    client.cookies.set("cx_session", make_user("credit_office"))
    queue = client.get("/office/lists").text
    assert f'id="queue-{entry_id}"' in queue
    page = client.get(f"/office/lists/{entry_id}").text
    token = _csrf(page)
    assert client.post(f"/office/lists/{entry_id}/notice", data={"csrf_token": "x"}).status_code == 403
    assert client.post(f"/office/lists/{entry_id}/notice", data={"csrf_token": token},
                       follow_redirects=False).status_code == 303
    early = client.post(f"/office/lists/{entry_id}/list", data={"csrf_token": token, "decision_no": "常信用关〔2026〕1号"})
    assert early.status_code == 409 and 'data-code="lists.defence_running"' in early.text
    bad_date = client.post(f"/office/lists/{entry_id}/list", data={"csrf_token": token, "decision_no": "X",
                                                                   "term_to": "2026-13-01"})
    assert bad_date.status_code == 400 and 'data-code="lists.term_to"' in bad_date.text
    client.post(f"/office/lists/{entry_id}/defence", data={"csrf_token": token, "text": "电话陈述：已整改"})
    listed = client.post(f"/office/lists/{entry_id}/list", data={"csrf_token": token, "decision_no": "常信用关〔2026〕1号"},
                         follow_redirects=False)
    assert listed.status_code == 303
    page = client.get(f"/office/lists/{entry_id}").text
    assert 'data-state="listed"' in page and 'id="action-remove"' in page and "电话陈述：已整改" in page
    assert client.post(f"/office/lists/{entry_id}/bogus", data={"csrf_token": token}).status_code == 404
    assert f'id="entry-{entry_id}"' in client.get("/lists", params={"kind": "watch"}).text
    removed = client.post(f"/office/lists/{entry_id}/remove", data={"csrf_token": token, "reason": "已整改到位"},
                          follow_redirects=False)
    assert removed.status_code == 303
    assert f'id="entry-{entry_id}"' not in client.get("/lists", params={"kind": "watch"}).text
    console = client.get("/office").text
    assert "名单认定（待办）" in console
