"""Search → subject page → signed public report → verification, end to end over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any

from chengxin.core.audit import Actor
from chengxin.platform import Platform
from chengxin.records.service import ApiRow, ingest
from chengxin.reports.signing import verify_pdf
from factories import uscc_for, valid_row


def _organisation_with_a_penalty(platform: Platform) -> str:
    version = platform.catalog.item("admin_penalty").version_on(dt.date(2026, 9, 1))
    assert version is not None
    row = valid_row(version, 5, decision_date="2026-09-01", subject_name="常州公开报告测试有限公司")
    ingest(platform.db, [ApiRow(2, row)], catalog=platform.catalog, keyring=platform.keyring, department="samr",
           item_code="admin_penalty", actor=Actor(kind="cli", name="t"), channel="api", today=dt.date(2026, 11, 25))
    return uscc_for(5)


def test_anyone_can_download_a_public_report_and_anyone_can_verify_it(client: Any, platform: Platform) -> None:
    uscc = _organisation_with_a_penalty(platform)
    hits = client.get("/api/v1/public/search", params={"q": uscc}).json()
    subject_id = hits["results"][0]["id"]
    page = client.get(f"/subjects/{subject_id}")
    assert page.status_code == 200 and f"/api/v1/reports/subjects/{subject_id}/public.pdf" in page.text

    pdf = client.get(f"/api/v1/reports/subjects/{subject_id}/public.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    number, code = pdf.headers["x-report-no"], pdf.headers["x-verification-code"]
    assert number.startswith("CX")

    offline = verify_pdf(pdf.content, platform.keyring.public_key)
    assert offline.ok, offline
    online = client.post("/api/v1/reports/verify", json={"report_no": number, "code": code}).json()
    assert online["valid"] is True and online["subject_name"] == "常州公开报告测试有限公司"
    wrong = client.post("/api/v1/reports/verify", json={"report_no": number, "code": "AAAAAAAAAA"}).json()
    assert wrong["valid"] is False


def test_a_person_without_public_information_has_no_public_report(client: Any, platform: Platform) -> None:
    version = platform.catalog.item("admin_penalty").version_on(dt.date(2026, 9, 1))
    assert version is not None
    ingest(platform.db, [ApiRow(2, valid_row(version, 9, person=True, decision_date="2026-09-01"))],
           catalog=platform.catalog, keyring=platform.keyring, department="samr", item_code="admin_penalty",
           actor=Actor(kind="cli", name="t"), channel="api", today=dt.date(2026, 11, 25))
    from sqlalchemy import select

    from chengxin.subjects.models import Subject

    with platform.db.read() as s:
        person_id = s.execute(select(Subject.id).where(Subject.kind == "person")).scalar_one()
    response = client.get(f"/api/v1/reports/subjects/{person_id}/public.pdf")
    assert response.status_code == 404 and response.json()["error"]["message"]
