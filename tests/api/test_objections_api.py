"""Objections end to end through HTTP on the real database: object → correct (a new version in the
ledger, the mark cleared, the subject told); object → uphold → contest → the office decides; object →
unverifiable (kept, noted); the mark on the public page and in reports; who may do what."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.api.test_objections_support import PDF, World, act, bearer, build_world, file_objection, person_token

from chengxin.attachments.models import Attachment
from chengxin.core.audit import AuditEvent
from chengxin.ledger.service import verify
from chengxin.objections.models import Objection
from chengxin.platform import Platform
from chengxin.records.models import Record
from chengxin.reports.signing import pdf_text


@pytest.fixture()
def world(platform: Platform, client: TestClient) -> World:
    return build_world(platform, client)


@pytest.fixture()
def office(make_user: Callable[..., str]) -> dict[str, str]:
    return bearer(make_user("credit_office"))


def _marked(platform: Platform, record_id: int) -> bool:
    with platform.db.read() as s:
        return bool(s.get_one(Record, record_id).under_objection)


def _my_item(client: TestClient, auth: dict[str, str], record_id: int) -> dict[str, Any]:
    file = client.get("/api/v1/me/file", headers=auth).json()
    return next(i for i in file["items"] if i["record_id"] == record_id)


def test_object_then_the_department_corrects(client: TestClient, platform: Platform, world: World,
                                             office: dict[str, str], make_api_key: Callable[[str], str]) -> None:
    me = person_token(client, 5)
    r = file_objection(client, me, world.p5, files=[("决定书.pdf", PDF)])
    assert r.status_code == 201, r.text
    o = r.json()
    assert o["state"] == "filed" and o["marks_record"] and o["due_on"] == o["forward_due"]
    assert o["check_due"] <= o["forward_due"] <= o["cap_due"]
    # Marked at once, wherever the record is shown to its subject.
    assert _marked(platform, world.p5) and _my_item(client, me, world.p5)["under_objection"] is True

    forwarded = act(client, office, o["id"], "forward", "平台数据与来源一致")
    assert forwarded.status_code == 200, forwarded.text
    assert forwarded.json()["state"] == "forwarded" and forwarded.json()["due_on"] <= o["cap_due"]

    samr = {"X-API-Key": make_api_key("samr")}
    queue = client.get("/api/v1/objections", headers=samr).json()
    assert [q["id"] for q in queue] == [o["id"]]
    detail = client.get(f"/api/v1/objections/{o['id']}", headers=samr).json()
    assert detail["role"] == "department" and {a["action"] for a in detail["actions"]} == {
        "extend", "correct", "revoke", "uphold", "unverifiable"}
    assert any(f["code"] == "penalty_content" and f["current"] == "罚款二千元" for f in detail["editable"])
    evidence = client.get(f"/api/v1/objections/{o['id']}/attachments/{detail['attachments'][0]['id']}", headers=samr)
    assert evidence.status_code == 200 and evidence.content == PDF

    same = act(client, samr, o["id"], "correct", "核实后更正", penalty_content="罚款二千元")
    assert same.status_code == 409 and same.json()["error"]["code"] == "correction.unchanged"
    bad = act(client, samr, o["id"], "correct", "核实后更正", fine_amount="很多")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "correction.invalid"
    assert "罚款金额" in bad.json()["error"]["message"]
    done = act(client, samr, o["id"], "correct", "经核查处罚内容登记有误，已更正", penalty_content="警告")
    assert done.status_code == 200, done.text
    out = done.json()
    assert out["state"] == "decided" and out["outcome"] == "corrected" and out["corrected_version"] == 2
    assert out["contest_due"] and out["can_contest"] and not out["marks_record"]

    # A new version through the normal ingest: in the ledger, which still verifies.
    record = client.get(f"/api/v1/records/{world.p5}", headers=samr).json()
    assert [v["change"] for v in record["versions"]] == ["create", "correct"]
    assert record["versions"][1]["fields"]["penalty_content"] == "警告"
    assert record["versions"][1]["fields"]["legal_representative_ric"]["masked"] == \
        record["versions"][0]["fields"]["legal_representative_ric"]["masked"]  # identifiers carried over
    with platform.db.read() as s:
        assert verify(s, platform.keyring).ok
    # The mark is cleared and the subject is told.
    assert not _marked(platform, world.p5)
    item = _my_item(client, me, world.p5)
    assert item["under_objection"] is False and {"code": "penalty_content", "label_zh": "处罚内容",
                                                 "value": "警告"} in item["fields"]
    mine = client.get(f"/api/v1/me/objections/{o['id']}", headers=me).json()
    assert mine["objection"]["outcome_zh"] == "已更正记录" and [a["action"] for a in mine["actions"]] == [
        "contest", "accept"]
    assert all("actor" not in e for e in mine["history"])  # staff names are not shown to the subject
    notices = client.get("/api/v1/me/objection-notices", headers=me).json()
    assert [n["kind"] for n in notices] == ["decided", "filed"]
    assert "已更正记录" in notices[0]["text"] and out["contest_due"] in notices[0]["text"]
    assert client.post(f"/api/v1/me/objections/{o['id']}/accept", headers=me).json()["state"] == "closed"


def test_object_uphold_contest_and_the_office_decides(client: TestClient, platform: Platform, world: World,
                                                      office: dict[str, str], make_user: Callable[..., str]) -> None:
    me = person_token(client, 5)
    oid = file_objection(client, me, world.p5, grounds="other", reason="我没有这项违法行为").json()["id"]
    clerk = bearer(make_user("clerk", "samr"))
    early = act(client, clerk, oid, "uphold", "维持")
    assert early.status_code == 409 and "待核查转办" in early.json()["error"]["message"]
    assert act(client, office, oid, "forward").status_code == 200
    no_reason = act(client, clerk, oid, "uphold", "  ")
    assert no_reason.status_code == 400 and no_reason.json()["error"]["code"] == "workflow.reason_required"
    upheld = act(client, clerk, oid, "uphold", "经核查，处罚决定事实清楚、证据确凿")
    assert upheld.status_code == 200 and upheld.json()["outcome"] == "upheld"
    assert not _marked(platform, world.p5)

    blank = client.post(f"/api/v1/me/objections/{oid}/contest", headers=me, json={"reason": " "})
    assert blank.status_code == 400 and blank.json()["error"]["code"] == "workflow.reason_required"
    contested = client.post(f"/api/v1/me/objections/{oid}/contest", headers=me,
                            json={"reason": "现场检查笔录签字并非本人"})
    assert contested.status_code == 200, contested.text
    assert contested.json()["state"] == "contested" and contested.json()["due_on"]
    assert _marked(platform, world.p5)  # under objection again while the office reviews
    assert act(client, clerk, oid, "confirm", "x").status_code == 403  # the review is the office's

    office_queue = client.get("/api/v1/objections?stage=review", headers=office).json()
    assert [q["id"] for q in office_queue] == [oid]
    revoked = act(client, office, oid, "review_revoke", "笔录签名存疑，复核撤销该记录")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["state"] == "closed" and revoked.json()["review_outcome"] == "revoked"
    with platform.db.read() as s:
        record = s.get_one(Record, world.p5)
        assert record.status == "revoked" and not record.under_objection
    history = client.get(f"/api/v1/objections/{oid}", headers=office).json()["history"]
    assert [e["action"] for e in history] == ["file", "forward", "uphold", "contest", "review_revoke"]
    assert history[-1]["actor"].startswith("staff:") and history[-1]["role"] == "office"
    mine = client.get(f"/api/v1/me/objections/{oid}", headers=me).json()
    assert mine["objection"]["review_zh"] == "复核后撤销记录" and mine["actions"] == []
    assert client.get("/api/v1/me/objection-notices", headers=me).json()[0]["kind"] == "reviewed"


def test_the_office_may_confirm_the_departments_answer(client: TestClient, platform: Platform, world: World,
                                                       office: dict[str, str], make_api_key: Callable[[str], str]) -> None:
    me = person_token(client, 5)
    oid = file_objection(client, me, world.p5).json()["id"]
    samr = {"X-API-Key": make_api_key("samr")}
    act(client, office, oid, "forward")
    act(client, samr, oid, "uphold", "事实清楚")
    client.post(f"/api/v1/me/objections/{oid}/contest", headers=me, json={"reason": "不服"})
    confirmed = act(client, office, oid, "confirm", "经复核，原处理结果正确")
    assert confirmed.json()["state"] == "closed" and confirmed.json()["review_outcome"] == "confirmed"
    assert not _marked(platform, world.p5)
    again = client.post(f"/api/v1/me/objections/{oid}/contest", headers=me, json={"reason": "再次不服"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "workflow.invalid_transition"


def test_unverifiable_keeps_the_record_with_the_check_and_the_objection_noted(
    client: TestClient, platform: Platform, world: World, office: dict[str, str], make_user: Callable[..., str]
) -> None:
    me = person_token(client, 5)  # person 5 acts for organisation 7 (经办人)
    subjects = client.get("/api/v1/me/objections/subjects", headers=me).json()
    assert [s["own"] for s in subjects] == [True, False] and subjects[1]["subject_id"] == world.org_subject
    org_file = client.get(f"/api/v1/me/objections/subjects/{world.org_subject}/file", headers=me).json()
    assert [i["record_id"] for i in org_file["items"]] == [world.org]
    wrong_subject = file_objection(client, me, world.org, subject_id=world.p5_subject)
    assert wrong_subject.status_code == 400 and wrong_subject.json()["error"]["code"] == "objection.subject_mismatch"
    oid = file_objection(client, me, world.org, grounds="wrong_information", reason="本公司未收到处罚决定书",
                         subject_id=world.org_subject).json()["id"]
    assert "异议中" in client.get(f"/subjects/{world.org_subject}").text
    act(client, office, oid, "forward")
    clerk = bearer(make_user("clerk", "samr"))
    answer = act(client, clerk, oid, "unverifiable", "送达回证已遗失，无法核实是否送达")
    assert answer.status_code == 200 and answer.json()["outcome"] == "unverifiable"
    assert answer.json()["marks_record"] and answer.json()["outcome_zh"] == "异议未能核实，保留记录并标注"
    with platform.db.read() as s:
        record = s.get_one(Record, world.org)
        assert record.status == "active" and record.under_objection and record.version == 1
    assert client.post(f"/api/v1/me/objections/{oid}/accept", headers=me).json()["state"] == "closed"
    assert _marked(platform, world.org)  # the note stays (征信业管理条例 Art. 25)
    page = client.get(f"/subjects/{world.org_subject}").text
    assert "异议中" in page
    # A new objection may be filed later; withdrawing it leaves the earlier note in place.
    second = file_objection(client, me, world.org, reason="补充材料").json()["id"]
    assert client.post(f"/api/v1/me/objections/{second}/withdraw", headers=me).json()["outcome"] == "withdrawn"
    assert _marked(platform, world.org)


def test_the_mark_and_the_statement_show_on_the_public_page_and_in_reports(
    client: TestClient, platform: Platform, world: World
) -> None:
    me = person_token(client, 5)
    statement = "该处罚已于2026年全额缴纳罚款并完成整改。"
    assert client.put(f"/api/v1/me/records/{world.org}/statement", headers=me,
                      json={"text": statement}).status_code == 200
    file_objection(client, me, world.org, subject_id=world.org_subject)
    page = client.get(f"/subjects/{world.org_subject}").text
    assert "异议中" in page and statement in page
    public = pdf_text(client.get(f"/api/v1/reports/subjects/{world.org_subject}/public.pdf").content)
    assert "异议中" in public and statement.replace("。", "") in public.replace("\n", "").replace("。", "")

    file_objection(client, me, world.p5)
    client.put(f"/api/v1/me/records/{world.p5}/statement", headers=me, json={"text": "本人对处罚决定有异议"})
    report = client.post("/api/v1/me/reports", headers=me)
    assert report.status_code == 201
    text = pdf_text(report.content).replace("\n", "")
    assert "【异议中】" in text and "本人对处罚决定有异议" in text


def test_statements_are_kept_with_history_and_checked(client: TestClient, platform: Platform, world: World) -> None:
    me = person_token(client, 5)
    url = f"/api/v1/me/records/{world.p5}/statement"
    assert client.put(url, headers=me, json={"text": "字" * 501}).json()["error"]["code"] == "statement.too_long"
    assert client.put(url, headers=me, json={"text": "含有\x1b控制字符"}).json()["error"]["code"] == \
        "statement.control_characters"
    assert client.put(url, headers=me, json={"text": "   "}).status_code == 400
    assert client.put(url, headers=me, json={"text": "字" * 500}).status_code == 200
    replaced = client.put(url, headers=me, json={"text": "已整改完毕"}).json()
    assert replaced["statement"] == "已整改完毕" and [v["action"] for v in replaced["history"]] == ["set", "replace"]
    assert _my_item(client, me, world.p5)["statement"] == "已整改完毕"
    # Also on a revoked record: a statement may go with any of the subject's records.
    assert client.put(f"/api/v1/me/records/{world.p5_revoked}/statement", headers=me,
                      json={"text": "已撤销"}).status_code == 200
    withdrawn = client.delete(url, headers=me).json()
    assert withdrawn["statement"] is None and [v["action"] for v in withdrawn["history"]] == [
        "set", "replace", "withdraw"]
    assert client.delete(url, headers=me).status_code == 409
    assert _my_item(client, me, world.p5)["statement"] is None
    other = person_token(client, 6)
    assert client.put(url, headers=other, json={"text": "冒名声明"}).status_code == 404
    assert client.get(url, headers=other).status_code == 404
    with platform.db.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.like("statement.%"))) == 4


def test_filing_is_refused_clearly(client: TestClient, platform: Platform, world: World) -> None:
    me = person_token(client, 5)
    assert file_objection(client, me, world.p5, grounds="dislike").json()["error"]["field"] == "grounds"
    assert file_objection(client, me, world.p5, reason="  ").json()["error"]["code"] == "reason.required"
    bad_file = file_objection(client, me, world.p5, files=[("证据.pdf", b"MZ\x90\x00 not a pdf")])
    assert bad_file.status_code == 400 and bad_file.json()["error"]["code"] == "attachment.bad_type"
    revoked = file_objection(client, me, world.p5_revoked)
    assert revoked.status_code == 409 and revoked.json()["error"]["code"] == "objection.record_not_active"
    with platform.db.read() as s:  # nothing was written by the refusals
        assert s.scalar(select(func.count()).select_from(Objection)) == 0
        assert s.scalar(select(func.count()).select_from(Attachment)) == 0
    assert not _marked(platform, world.p5)
    first = file_objection(client, me, world.p5)
    assert first.status_code == 201
    second = file_objection(client, me, world.p5)
    assert second.status_code == 409 and second.json()["error"]["code"] == "objection.already_open"
    assert str(first.json()["id"]) in second.json()["error"]["message"]
    # After withdrawing, the record may be objected to again.
    client.post(f"/api/v1/me/objections/{first.json()['id']}/withdraw", headers=me)
    assert not _marked(platform, world.p5)
    assert file_objection(client, me, world.p5).status_code == 201


def test_an_extension_runs_to_the_cap_and_only_once(client: TestClient, world: World, office: dict[str, str],
                                                    make_api_key: Callable[[str], str]) -> None:
    oid = file_objection(client, person_token(client, 5), world.p5).json()["id"]
    samr = {"X-API-Key": make_api_key("samr")}
    assert act(client, samr, oid, "forward").status_code == 403  # the platform check is the office's
    forwarded = act(client, office, oid, "forward").json()
    assert act(client, samr, oid, "extend").status_code == 400
    extended = act(client, samr, oid, "extend", "需调取执法记录仪视频").json()
    assert extended["state"] == "extended" and extended["due_on"] == forwarded["cap_due"] == extended["cap_due"]
    assert extended["extended_on"] is not None
    again = act(client, samr, oid, "extend", "再延长")
    assert again.status_code == 409 and "延长处理期限" in again.json()["error"]["message"]
    assert act(client, samr, oid, "revoke", "决定书送达程序违法，撤销").json()["outcome"] == "revoked"


# -- who may do what (NetBox style: one row per caller) --------------------------------------------------


@pytest.mark.parametrize(("caller", "read", "decide"), [
    ("anonymous", 401, 401),
    ("person_token", 401, 401),  # the subject's token is not a staff credential
    ("clerk_other_department", 403, 403),
    ("api_key_other_department", 403, 403),
    ("clerk_source_department", 200, 200),
    ("api_key_source_department", 200, 200),
    ("credit_office", 200, 403),  # the office may read; deciding is the department's (role refused)
])
def test_staff_permissions(client: TestClient, world: World, office: dict[str, str], make_user: Callable[..., str],
                           make_api_key: Callable[[str], str], caller: str, read: int, decide: int) -> None:
    oid = file_objection(client, person_token(client, 5), world.p5, files=[("a.pdf", PDF)]).json()["id"]
    act(client, office, oid, "forward")
    headers = {
        "anonymous": {},
        "person_token": person_token(client, 5),
        "clerk_other_department": bearer(make_user("clerk", "tax")),
        "api_key_other_department": {"X-API-Key": make_api_key("tax")},
        "clerk_source_department": bearer(make_user("clerk", "samr")),
        "api_key_source_department": {"X-API-Key": make_api_key("samr")},
        "credit_office": office,
    }[caller]
    detail = client.get(f"/api/v1/objections/{oid}", headers=headers)
    assert detail.status_code == read
    attachment_id = client.get(f"/api/v1/objections/{oid}", headers=office).json()["attachments"][0]["id"]
    assert client.get(f"/api/v1/objections/{oid}/attachments/{attachment_id}", headers=headers).status_code == read
    queue = client.get("/api/v1/objections", headers=headers)
    if read == 200:
        assert [q["id"] for q in queue.json()] == [oid]
    elif read == 403:
        assert queue.status_code == 200 and queue.json() == []  # their own queue: empty
    assert act(client, headers, oid, "uphold", "维持").status_code == decide


def test_the_subject_side_is_the_subjects_own(client: TestClient, platform: Platform, world: World,
                                              make_user: Callable[..., str]) -> None:
    me, other = person_token(client, 5), person_token(client, 6)
    oid = file_objection(client, me, world.p5, files=[("a.pdf", PDF)]).json()["id"]
    attachment = client.get(f"/api/v1/me/objections/{oid}", headers=me).json()["attachments"][0]["id"]
    mine = client.get(f"/api/v1/me/objections/{oid}/attachments/{attachment}", headers=me)
    assert mine.status_code == 200 and mine.content == PDF
    for url in (f"/api/v1/me/objections/{oid}", f"/api/v1/me/objections/{oid}/attachments/{attachment}"):
        assert client.get(url, headers=other).status_code == 404
    assert client.post(f"/api/v1/me/objections/{oid}/withdraw", headers=other).status_code == 404
    assert client.get("/api/v1/me/objections", headers=other).json() == []
    assert file_objection(client, other, world.p5).status_code == 404  # not person 6's record
    assert file_objection(client, other, world.org).status_code == 404  # person 6 does not represent it
    assert client.get(f"/api/v1/me/objections/subjects/{world.org_subject}/file", headers=other).status_code == 404
    staff = bearer(make_user("credit_office"))
    assert client.get("/api/v1/me/objections", headers=staff).status_code == 401
    assert client.post(f"/api/v1/me/objections/{oid}/withdraw", headers=me).json()["state"] == "closed"
    with platform.db.read() as s:
        purposes = set(s.scalars(select(AuditEvent.purpose).where(AuditEvent.action == "attachment.read")))
    assert purposes == {"信用主体查看本人异议材料"}


def test_two_objections_filed_at_once_on_one_record_give_one_case(client: TestClient, platform: Platform,
                                                                  world: World) -> None:
    """The record's row is locked while filing (PostgreSQL; SQLite writes are serial): never two open cases."""
    from concurrent.futures import ThreadPoolExecutor

    from chengxin.core.db import utcnow
    from chengxin.core.errors import DomainError
    from chengxin.objections import service as objections
    from chengxin.people.models import PersonAccount

    def file_once(_: int) -> str:
        try:
            with platform.db.write() as s:
                account = s.scalars(select(PersonAccount).where(PersonAccount.subject_id == world.p5_subject)).one()
                objections.file_objection(s, platform.catalog, platform.keyring, account=account, record_id=world.p5,
                                          grounds="other", reason="同时提交", uploads=[], now=utcnow())
            return "filed"
        except DomainError as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = sorted(pool.map(file_once, range(4)))
    assert outcomes == ["filed", "objection.already_open", "objection.already_open", "objection.already_open"]
    with platform.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Objection)) == 1


def test_the_office_corrects_at_the_check_and_at_review(client: TestClient, platform: Platform, world: World,
                                                        office: dict[str, str],
                                                        make_api_key: Callable[[str], str]) -> None:
    """A mismatch found by the platform's check is corrected at once (as the platform, the office named in
    the case); a review may also order and make the correction. Both are new versions in the ledger."""
    from chengxin.records.models import IngestBatch

    me = person_token(client, 5)
    first = file_objection(client, me, world.p5).json()["id"]
    assert act(client, office, first, "check_correct", None, penalty_content="警告").status_code == 400
    checked = act(client, office, first, "check_correct", "平台转录时处罚内容有误，已按来源单位数据更正",
                  penalty_content="警告")
    assert checked.status_code == 200, checked.text
    assert checked.json()["outcome"] == "corrected" and checked.json()["check_note"].startswith("平台转录")
    assert checked.json()["corrected_version"] == 2
    client.post(f"/api/v1/me/objections/{first}/accept", headers=me)

    second = file_objection(client, me, world.p5, reason="罚款金额也不对").json()["id"]
    act(client, office, second, "forward")
    act(client, {"X-API-Key": make_api_key("samr")}, second, "uphold", "金额无误")
    client.post(f"/api/v1/me/objections/{second}/contest", headers=me, json={"reason": "缴款凭证为一千元"})
    reviewed = act(client, office, second, "review_correct", "复核认定罚款金额为一千元", fine_amount="1000")
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["review_outcome"] == "corrected" and reviewed.json()["corrected_version"] == 3
    with platform.db.read() as s:
        record = s.get_one(Record, world.p5)
        batches = s.scalars(select(IngestBatch).where(IngestBatch.channel == "objection")
                            .order_by(IngestBatch.id)).all()
        assert record.version == 3 and not record.under_objection and verify(s, platform.keyring).ok
    assert len(batches) == 2
    assert all(b.actor.startswith(f"system:objection-{n}/staff:") for b, n in zip(batches, (first, second)))
    fields = _my_item(client, me, world.p5)["fields"]
    assert {"code": "penalty_content", "label_zh": "处罚内容", "value": "警告"} in fields
    assert {"code": "fine_amount", "label_zh": "罚款金额（元）", "value": "1000.00"} in fields
