"""Consent (授权): a person grants a named requester a purpose, scope and validity; the requester
reads only what the consent covers with the code; revoke, expiry, single use, wrong requester or
person, brute force (429 + monitoring alert), and the person sees each use."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from chengxin.consent import rules
from chengxin.consent import service as consents
from chengxin.consent.models import Consent, ConsentAttempt
from chengxin.core.audit import Actor
from chengxin.core.clock import CHINA, today_cn
from chengxin.core.db import utcnow
from chengxin.core.errors import DomainError
from chengxin.core.policy import policy_on
from chengxin.disclosure.models import QueryLog
from chengxin.monitoring import service as monitoring
from chengxin.platform import Platform
from chengxin.records.models import Record
from chengxin.records.service import ApiRow, find_record_id, ingest, revoke_record
from factories import ric_for, uscc_for, valid_row

PASSWORD = "correct horse battery"
REQUESTER = uscc_for(901)
OTHER_REQUESTER = uscc_for(902)


def _submit(platform: Platform, item: str, dept: str, rows: list[dict[str, Any]], today: dt.date) -> None:
    receipt = ingest(platform.db, [ApiRow(i, r) for i, r in enumerate(rows, start=1)], catalog=platform.catalog,
                     keyring=platform.keyring, department=dept, item_code=item,
                     actor=Actor(kind="api_key", name="k", department_code=dept), channel="api", today=today)
    assert receipt.rejected == 0, receipt.rejections


def _row(platform: Platform, item: str, n: int, day: dt.date, **kw: Any) -> dict[str, Any]:
    version = platform.catalog.version_on(item, day)
    assert version is not None
    return valid_row(version, n, person=True, decision_date=day.isoformat(), **kw)


@pytest.fixture()
def person(platform: Platform, day: dt.date) -> dict[str, int]:
    """Person 5: a penalty (negative), a revoked penalty, physician information (basic) and a
    commendation (positive)."""
    recent = day - dt.timedelta(days=30)
    _submit(platform, "admin_penalty", "samr", [
        _row(platform, "admin_penalty", 5, recent, source_id="P5-PEN", severity="general"),
        _row(platform, "admin_penalty", 5, recent, source_id="P5-REVOKED", severity="general"),
    ], day)
    _submit(platform, "occ_physician", "health", [_row(platform, "occ_physician", 5, recent, source_id="P5-DOC")],
            day)
    with platform.db.read() as s:
        revoked = find_record_id(s, "samr", "P5-REVOKED")
        subjects = dict(s.execute(select(Record.source_id, Record.subject_id)).all())
    revoke_record(platform.db, keyring=platform.keyring, record_id=revoked, reason="复议撤销",
                  actor=Actor(kind="staff", name="office", role="credit_office"))
    return {"p5": subjects["P5-PEN"], "revoked": revoked}


def _sign_in(client: TestClient, n: int = 5) -> None:
    assert client.post("/me/register", data={"ric": ric_for(n), "name": "张三", "password": PASSWORD},
                       follow_redirects=False).status_code == 303
    assert client.post("/me/login", data={"ric": ric_for(n), "password": PASSWORD, "totp_code": ""},
                       follow_redirects=False).status_code == 303


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def _grant(client: TestClient, **overrides: Any) -> Any:
    data: dict[str, Any] = {"csrf_token": _csrf(client.get("/me/consents").text), "requester_uscc": REQUESTER,
                            "purpose": "招聘录用", "purpose_note": "", "categories": ["negative"],
                            "validity": "single", "valid_until": ""}
    data.update(overrides)
    return client.post("/me/consents", data=data)


def _code(page: Any) -> str:
    assert page.status_code == 200, page.text
    found = re.search(r'id="consent-code">([A-Z2-7-]+)<', page.text)
    assert found, page.text
    return found.group(1)


def _read(client: TestClient, code: str, uscc: str = REQUESTER, n: int = 5) -> Any:
    return client.post("/api/v1/consent/file", json={"uscc": uscc, "code": code, "ric": ric_for(n)})


def test_requester_reads_only_the_granted_categories_once(
    client: TestClient, platform: Platform, person: dict[str, int]
) -> None:
    _sign_in(client)
    code = _code(_grant(client))
    assert re.fullmatch(r"[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}", code)
    with platform.db.read() as s:
        stored = s.scalars(select(Consent)).one()
        assert code.replace("-", "").encode() not in stored.code_hash and len(stored.code_hash) == 32
    r = _read(client, code)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["audience"] == "requester"
    assert [i["category"] for i in body["items"]] == ["negative"]  # not the physician information (basic)
    assert person["revoked"] not in [i["record_id"] for i in body["items"]]  # displayed items only
    assert ric_for(5) not in r.text and "张三" not in r.text  # identity masked
    again = _read(client, code)  # single use: consumed
    assert again.status_code == 403 and again.json()["error"]["code"] == "consent.used"

    with platform.db.read() as s:
        log = s.scalars(select(QueryLog).where(QueryLog.reader_kind == "requester")).one()
    assert log.subject_id == person["p5"] and log.requester_uscc == REQUESTER
    assert log.purpose == "招聘录用" and log.basis == f"本人授权 {stored.reference}"

    page = client.get("/me/consents").text
    assert 'data-state="used"' in page and page.count('class="consent-use"') == 1
    assert f"（{REQUESTER}） · 招聘录用" in page
    me = client.get("/me").text
    assert stored.reference in me and "招聘录用" in me  # the query log on /me: basis and purpose


def test_a_dated_consent_is_reusable_until_it_expires(
    client: TestClient, platform: Platform, person: dict[str, int], day: dt.date
) -> None:
    _sign_in(client)
    until = (day + dt.timedelta(days=10)).isoformat()
    code = _code(_grant(client, validity="until", valid_until=until, categories=["basic", "negative"],
                        purpose="其他", purpose_note="合作前审查"))
    first, second = _read(client, code), _read(client, code)
    assert first.status_code == second.status_code == 200
    assert sorted({i["category"] for i in first.json()["items"]}) == ["basic", "negative"]
    with platform.db.write() as s:
        s.execute(update(Consent).values(valid_until=day - dt.timedelta(days=1)))
    expired = _read(client, code)
    assert expired.status_code == 403 and expired.json()["error"]["code"] == "consent.expired"
    assert "已过有效期" in expired.json()["error"]["message"] and "items" not in expired.json()
    page = client.get("/me/consents").text
    assert 'data-state="expired"' in page and page.count('class="consent-use"') == 2 and "其他：合作前审查" in page


def test_validity_boundaries_in_the_service(platform: Platform, person: dict[str, int]) -> None:
    now = dt.datetime(2026, 3, 1, 4, 0, tzinfo=dt.UTC)  # 12:00 Beijing
    actor = Actor(kind="person", name="x")
    with platform.db.write() as s:
        with pytest.raises(DomainError) as too_far:
            consents.grant(s, platform.keyring, subject_id=person["p5"], requester_uscc=REQUESTER, purpose="信贷审批",
                           categories=["negative"], single_use=False, valid_until=dt.date(2026, 5, 31), now=now,
                           actor=actor)
        assert too_far.value.code == "consent.bad_valid_until"
        granted = consents.grant(s, platform.keyring, subject_id=person["p5"], requester_uscc=REQUESTER,
                                 purpose="信贷审批", categories=["negative"], single_use=False,
                                 valid_until=dt.date(2026, 5, 30), now=now, actor=actor)  # day 90: allowed
    for when, status in ((dt.datetime(2026, 5, 30, 15, 59, tzinfo=dt.UTC), 200),  # 23:59 on the last day
                         (dt.datetime(2026, 5, 30, 16, 0, tzinfo=dt.UTC), 403)):  # 00:00 the day after
        with platform.db.write() as s:
            out = consents.read_file(s, platform.catalog, platform.keyring, requester_uscc=REQUESTER,
                                     code=granted.code, ric=ric_for(5), ip="10.0.0.1", now=when)
        assert out.status == status, out


def test_revoked_consent_gives_403(client: TestClient, platform: Platform, person: dict[str, int],
                                   day: dt.date) -> None:
    _sign_in(client)
    code = _code(_grant(client, validity="until", valid_until=(day + dt.timedelta(days=5)).isoformat()))
    with platform.db.read() as s:
        consent_id = s.scalars(select(Consent.id)).one()
    assert client.post(f"/me/consents/{consent_id}/revoke", data={}).status_code == 403  # CSRF
    page = client.get("/me/consents").text
    r = client.post(f"/me/consents/{consent_id}/revoke", data={"csrf_token": _csrf(page)}, follow_redirects=False)
    assert r.status_code == 303
    refused = _read(client, code)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "consent.revoked"
    assert 'data-state="revoked"' in client.get("/me/consents").text


def test_wrong_requester_or_person_learns_nothing(
    client: TestClient, platform: Platform, person: dict[str, int]
) -> None:
    _sign_in(client)
    code = _code(_grant(client))
    wrong_requester = _read(client, code, uscc=OTHER_REQUESTER)
    wrong_person = _read(client, code, n=6)
    unknown = _read(client, "AAAA-BBBB-CCCC")
    for r in (wrong_requester, wrong_person, unknown):
        assert r.status_code == 403
        assert r.json() == wrong_requester.json()  # one answer: nothing tells them apart
        assert set(r.json()) == {"error"} and "张" not in r.text and ric_for(5)[:6] not in r.text
    assert "未查询到任何信息" in unknown.json()["error"]["message"]
    with platform.db.read() as s:
        outcomes = [a.outcome for a in s.scalars(select(ConsentAttempt).order_by(ConsentAttempt.id))]
        assert not s.scalars(select(QueryLog).where(QueryLog.reader_kind == "requester")).all()
    assert outcomes == ["wrong_requester", "wrong_person", "unknown_code"]
    assert _read(client, code).status_code == 200  # the right requester still can (not consumed by failures)


def test_brute_force_is_rate_limited_and_raises_an_alert(
    client: TestClient, platform: Platform, person: dict[str, int], day: dt.date
) -> None:
    _sign_in(client)
    code = _code(_grant(client))
    start = utcnow()
    for i in range(policy_on(day).consent.rate_max_failures):
        assert _read(client, f"AAAA-BBBB-CC{'234567'[i % 6]}{'A' if i < 6 else 'B'}").status_code == 403
    limited = _read(client, code)  # even the right code, once over the limit
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "consent.rate_limited"
    assert "15 分钟" in limited.json()["error"]["message"]
    # Another requester from the same client IP is limited as well (counted per IP too).
    assert _read(client, code, uscc=OTHER_REQUESTER).status_code == 429

    with platform.db.write() as s:
        result = monitoring.scan(s, start - dt.timedelta(minutes=1), utcnow() + dt.timedelta(seconds=1), utcnow())
    assert result.raised >= 1
    with platform.db.read() as s:
        alerts = [(a.kind, a.reader) for a in monitoring.list_alerts(s)]
    assert ("failed_consent", f"requester:{REQUESTER}") in alerts


def test_rate_limit_window_is_counted_in_the_database(platform: Platform, person: dict[str, int]) -> None:
    now = dt.datetime(2026, 3, 1, 4, 0, tzinfo=dt.UTC)
    with platform.db.write() as s:
        for i in range(policy_on(now.astimezone(CHINA).date()).consent.rate_max_failures):
            s.add(ConsentAttempt(requester=REQUESTER, at=now - dt.timedelta(minutes=16 - i), outcome="unknown_code",
                                 ip=f"10.0.0.{i}"))
    with platform.db.write() as s:  # one of the ten is older than 15 minutes: not yet limited
        out = consents.read_file(s, platform.catalog, platform.keyring, requester_uscc=REQUESTER, code="x",
                                 ric=ric_for(5), ip="10.9.9.9", now=now)
    assert out.status == 403
    with platform.db.write() as s:
        out = consents.read_file(s, platform.catalog, platform.keyring, requester_uscc=REQUESTER, code="x",
                                 ric=ric_for(5), ip="10.9.9.9", now=now)
    assert out.status == 429


def test_grant_form_is_validated(client: TestClient, person: dict[str, int]) -> None:
    _sign_in(client)
    assert "consent.purpose_note_required" in _grant(client, purpose="其他").text
    assert "consent.bad_scope" in _grant(client, categories=[]).text
    assert "consent.purpose_note_invalid" in _grant(client, purpose="其他", purpose_note="a\x00b").text
    assert _grant(client, requester_uscc="123").status_code == 400
    # One day past the longest validity, counted from the server's today at the grant: asked again in the rare
    # case midnight (Beijing) passed during the request, when that today is not known.
    for _ in range(2):
        before = today_cn()
        far = (before + dt.timedelta(days=policy_on(before).consent.max_valid_days + 1)).isoformat()
        too_far = _grant(client, validity="until", valid_until=far)
        if today_cn() == before:
            break
    assert "consent.bad_valid_until" in too_far.text
    assert client.post("/me/consents", data={"requester_uscc": REQUESTER}).status_code == 403  # no CSRF token
    client.cookies.clear()
    assert client.get("/me/consents", follow_redirects=False).headers["location"] == "/me/login"


def test_a_person_cannot_revoke_another_persons_consent(
    client: TestClient, platform: Platform, person: dict[str, int], day: dt.date
) -> None:
    _sign_in(client)
    _code(_grant(client))
    with platform.db.read() as s:
        consent_id = s.scalars(select(Consent.id)).one()
    client.cookies.clear()
    _submit(platform, "admin_penalty", "samr", [_row(platform, "admin_penalty", 6, day, source_id="P6",
                                                     severity="general")], day)
    _sign_in(client, 6)
    page = client.get("/me/consents").text
    r = client.post(f"/me/consents/{consent_id}/revoke", data={"csrf_token": _csrf(page)})
    assert r.status_code == 404
    with platform.db.read() as s:
        assert s.get(Consent, consent_id).revoked_at is None  # type: ignore[union-attr]


def test_codes_and_rules() -> None:
    code = rules.new_code()
    assert rules.normalize_code(code.lower().replace("-", " ")) == code.replace("-", "")
    assert rules.normalize_code("AAAA-BBBB-CCC1") is None and rules.normalize_code("") is None
    assert rules.scope(["negative", "basic"]) == ["basic", "negative"]
    with pytest.raises(DomainError):
        rules.scope(["basic", "secret"])
    assert rules.state(revoked=False, single_use=False, consumed=False, valid_until=dt.date(2026, 1, 1),
                       today=dt.date(2026, 1, 1)) == "valid"
    policy = policy_on(dt.date(2026, 1, 1)).consent
    assert policy.rate_max_failures == 10
    assert rules.rate_limited(policy, [9, 0]) is False and rules.rate_limited(policy, [0, 10]) is True


def test_control_characters_in_a_bad_uscc_are_refused_cleanly(client: TestClient, platform: Platform) -> None:
    r = client.post("/api/v1/consent/file", json={"uscc": "\u0000ab\u0007", "code": "0", "ric": "0.1.0"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "consent.bad_uscc"
    with platform.db.read() as s:
        assert s.scalars(select(ConsentAttempt.requester)).one() == "AB"
