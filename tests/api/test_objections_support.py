"""Shared set-up of the objection tests (no tests here): records as the departments submit them, persons
through the portal, an organisation represented by person 5, and small HTTP helpers."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from chengxin.core.audit import SYSTEM
from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.people import orgs
from chengxin.people.models import PersonAccount
from chengxin.platform import Platform
from chengxin.records.models import Record
from factories import person_row, ric_for, submit_rows, uscc_for, valid_row

PASSWORD = "correct horse battery"
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ORG_N = 7
ORG_NAME = "常州异议测试科技有限公司"


@dataclass(frozen=True)
class World:
    p5: int  # person 5's penalty (samr)
    p5_tax: int  # person 5's penalty (tax)
    p5_revoked: int
    p6: int  # person 6's penalty (samr)
    org: int  # organisation 7's penalty (samr), public; person 5 represents organisation 7
    org_subject: int
    p5_subject: int


def build_world(platform: Platform, client: TestClient) -> World:
    today = today_cn()  # when the test builds its world, not at import (a run may cross midnight)
    decided = today - dt.timedelta(days=30)
    submit_rows(platform, "admin_penalty", "samr", [
        person_row(platform, "admin_penalty", 5, decided, source_id="P5-PEN", severity="general",
                   penalty_content="罚款二千元"),
        person_row(platform, "admin_penalty", 5, decided, source_id="P5-REV", severity="general"),
        person_row(platform, "admin_penalty", 6, decided, source_id="P6-PEN", severity="general"),
        valid_row(platform.catalog.version_on("admin_penalty", decided), ORG_N, decision_date=decided.isoformat(),
                  source_id="O7-PEN", severity="general", subject_name=ORG_NAME),
    ], today)
    submit_rows(platform, "admin_penalty", "tax", [
        person_row(platform, "admin_penalty", 5, decided, source_id="P5-TAX", severity="general")], today)
    for n in (5, 6):
        r = client.post("/me/register", data={"ric": ric_for(n), "name": "张三", "password": PASSWORD},
                        follow_redirects=False)
        assert r.status_code == 303, r.text
    with platform.db.write() as s:
        ids = dict(s.execute(select(Record.source_id, Record.id)).all())
        subjects = dict(s.execute(select(Record.source_id, Record.subject_id)).all())
        account = s.scalars(select(PersonAccount).where(PersonAccount.subject_id == subjects["P5-PEN"])).one()
        orgs.link_organisation(s, platform.keyring, account_id=account.id, uscc=uscc_for(ORG_N),
                               basis="授权委托书 2026-07", actor=SYSTEM, now=utcnow())
    from chengxin.records.service import revoke_record

    revoke_record(platform.db, keyring=platform.keyring, record_id=ids["P5-REV"], reason="复议撤销", actor=SYSTEM)
    return World(ids["P5-PEN"], ids["P5-TAX"], ids["P5-REV"], ids["P6-PEN"], ids["O7-PEN"], subjects["O7-PEN"],
                 subjects["P5-PEN"])


def person_token(client: TestClient, n: int) -> dict[str, str]:
    r = client.post("/api/v1/me/sessions", json={"ric": ric_for(n), "password": PASSWORD})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def file_objection(client: TestClient, auth: dict[str, str], record_id: int, *, grounds: str = "wrong_information",
                   reason: str = "处罚内容与决定书不符", files: list[tuple[str, bytes]] | None = None,
                   **extra: Any) -> Any:
    data = {"record_id": str(record_id), "grounds": grounds, "reason": reason,
            **{k: str(v) for k, v in extra.items()}}
    upload = [("files", (name, content, "application/octet-stream")) for name, content in (files or [])]
    return client.post("/api/v1/me/objections", data=data, files=upload or None, headers=auth)


def act(client: TestClient, auth: dict[str, str], objection_id: int, action: str, reason: str | None = None,
        **corrections: Any) -> Any:
    return client.post(f"/api/v1/objections/{objection_id}/actions", headers=auth,
                       json={"action": action, "reason": reason, "corrections": corrections})


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)
