"""Repair use cases on the real database: every transition of the state machine allowed and refused,
the checks at decision time (a new penalty during the process, the 365-day interval), the stop of
display on approval, files, and the staff console's counts. Time is passed in (NOW)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update

from chengxin.attachments.service import Upload
from chengxin.core.audit import Actor, AuditEvent
from chengxin.core.errors import DomainError, NotFound, PermissionDenied
from chengxin.core.workflow import DEPARTMENT, OFFICE, SUBJECT, SYSTEM, case_history
from chengxin.people import orgs
from chengxin.people.identity import PopulationRegisterProvider
from chengxin.people.models import PersonAccount
from chengxin.people.service import register
from chengxin.platform import Platform
from chengxin.records.models import Record
from chengxin.records.service import find_record_id, revoke_record
from chengxin.repair import rules
from chengxin.repair import service as repair
from chengxin.repair.commitment import commitment_on
from chengxin.repair.models import RepairApplication
from chengxin.workdays import rules as workdays_rules
from chengxin.workdays.service import work_calendar
from factories import person_row, ric_for, submit_rows, uscc_for, valid_row

NOW = dt.datetime(2026, 11, 25, 2, tzinfo=dt.UTC)  # 10:00 in Beijing, Wednesday 2026-11-25
DAY = dt.date(2026, 11, 25)
DECIDED = DAY - dt.timedelta(days=200)  # 2026-05-09: a general penalty, repairable since 2026-08-09
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SAMR_CLERK = Actor(kind="staff", name="clerk_samr", role="clerk", department_code="samr")
SAMR_KEY = Actor(kind="api_key", name="k-samr", department_code="samr")
TAX_CLERK = Actor(kind="staff", name="clerk_tax", role="clerk", department_code="tax")
TAX_KEY = Actor(kind="api_key", name="k-tax", department_code="tax")
OFFICE_STAFF = Actor(kind="staff", name="office", role="credit_office")


def _org_row(platform: Platform, n: int, day: dt.date, **kw: Any) -> dict[str, Any]:
    version = platform.catalog.version_on("admin_penalty", day)
    assert version is not None
    return valid_row(version, n, person=False, decision_date=day.isoformat(), **kw)


@pytest.fixture()
def world(platform: Platform) -> dict[str, Any]:
    """Person 5 (an account; represents organisation 7) with a penalty; person 6 (an account) with one;
    organisation 7 with two penalties for different violations."""
    submit_rows(platform, "admin_penalty", "samr", [
        person_row(platform, "admin_penalty", 5, DECIDED, source_id="P5", severity="general"),
        person_row(platform, "admin_penalty", 6, DECIDED, source_id="P6", severity="general"),
        _org_row(platform, 7, DECIDED, source_id="O7-A", severity="general", violation_type="未按规定公示年度报告"),
        _org_row(platform, 7, DECIDED + dt.timedelta(days=20), source_id="O7-B", severity="general",
                 violation_type="虚假宣传"),
    ], DAY)
    with platform.db.write() as s:
        accounts = {}
        for n in (5, 6):
            account = register(s, platform.keyring, PopulationRegisterProvider(platform.keyring), ric=ric_for(n),
                               name="张三", password="correct horse battery")
            accounts[n] = account.id
        orgs.link_organisation(s, platform.keyring, account_id=accounts[5], uscc=uscc_for(7), basis="授权委托书 1",
                               actor=OFFICE_STAFF, now=NOW)
        records = {src: find_record_id(s, "samr", src) for src in ("P5", "P6", "O7-A", "O7-B")}
    return {"accounts": accounts, "records": records}


def _account(s: Any, world: dict[str, Any], n: int = 5) -> PersonAccount:
    account: PersonAccount = s.get_one(PersonAccount, world["accounts"][n])
    return account


def _materials(**kw: Any) -> repair.Materials:
    base: dict[str, Any] = {"proof": [Upload("缴款凭证.pdf", PDF)], "commitment_version": commitment_on(DAY).version,
                            "commitment_signed": True}
    return repair.Materials(**{**base, **kw})


def _apply(platform: Platform, world: dict[str, Any], source: str = "P5", n: int = 5,
           now: dt.datetime = NOW, **kw: Any) -> repair.RepairDetail:
    with platform.db.write() as s:
        return repair.apply(s, platform.catalog, platform.keyring, account=_account(s, world, n),
                            record_id=world["records"][source], materials=_materials(**kw), now=now)


def _decide(platform: Platform, case_id: int, action: str, actor: Actor = SAMR_CLERK, reason: str | None = None,
            now: dt.datetime = NOW) -> repair.RepairDetail:
    with platform.db.write() as s:
        return repair.decide(s, platform.catalog, case_id=case_id, action=action, reason=reason, actor=actor, now=now)


def _withdraw(platform: Platform, world: dict[str, Any], case_id: int, n: int = 5) -> repair.RepairDetail:
    with platform.db.write() as s:
        return repair.withdraw(s, platform.catalog, account=_account(s, world, n), case_id=case_id, now=NOW)


# -- applying -----------------------------------------------------------------------------------------


def test_an_application_is_accepted_at_once_with_its_deadlines(platform: Platform, world: dict[str, Any]) -> None:
    detail = _apply(platform, world, note="已于 2026 年 6 月缴清罚款。")
    view = detail.view
    with platform.db.read() as s:
        calendar = work_calendar(s)
        history = case_history(s, "repair", view.id)
        row = s.get_one(RepairApplication, view.id)
    assert view.state == repair.ACCEPTED and view.department_code == "samr"
    assert view.due_on == workdays_rules.add_working_days(calendar, DAY, 3).due == dt.date(2026, 11, 30)
    assert view.answer_due_on == workdays_rules.add_working_days(calendar, DAY, 10).due == dt.date(2026, 12, 9)
    assert not view.due_estimated and not view.overdue
    assert [(e.action, e.from_state, e.to_state, e.role) for e in history] == [
        ("apply", None, "submitted", SUBJECT), ("accept", "submitted", "accepted", SYSTEM)]
    commitment = commitment_on(DAY)
    assert (row.commitment_version, row.commitment_sha256) == (commitment.version, commitment.sha256)
    assert row.commitment_signed_at == NOW and row.note == "已于 2026 年 6 月缴清罚款。"
    assert [(kind, f.filename, f.mime) for kind, f in detail.files] == [("proof", "缴款凭证.pdf", "application/pdf")]
    assert [t.action for t in detail.actions] == ["withdraw"]


def test_a_refused_application_is_kept_with_every_reason(platform: Platform, world: dict[str, Any]) -> None:
    detail = _apply(platform, world, proof=[], commitment_signed=False)
    assert detail.view.state == repair.REFUSED and detail.view.due_on is None
    assert [r.code for r in detail.view.refusals] == ["repair.proof_missing", "repair.commitment_missing"]
    with platform.db.read() as s:
        row = s.get_one(RepairApplication, detail.view.id)
        history = case_history(s, "repair", detail.view.id)
    assert row.commitment_version is None and row.refusals[0]["clause"]
    assert history[-1].action == "refuse" and "信用承诺书" in (history[-1].reason or "")
    assert history[-1].detail == {"codes": ["repair.proof_missing", "repair.commitment_missing"]}


def test_a_stale_commitment_version_is_not_a_signature(platform: Platform, world: dict[str, Any]) -> None:
    detail = _apply(platform, world, commitment_version="1999.1")
    assert [r.code for r in detail.view.refusals] == ["repair.commitment_missing"]


def test_a_bad_file_stops_everything(platform: Platform, world: dict[str, Any]) -> None:
    with pytest.raises(DomainError) as err:
        _apply(platform, world, proof=[Upload("证明.pdf", b"MZ not a pdf")])
    assert err.value.code == "attachment.bad_type"
    with platform.db.read() as s:
        assert s.scalar(select(RepairApplication.id)) is None


def test_the_count_limit_is_over_the_whole_application(platform: Platform, world: dict[str, Any]) -> None:
    files = [Upload(f"{i}.pdf", PDF) for i in range(4)]
    with pytest.raises(DomainError) as err:
        _apply(platform, world, proof=files, training=files[:2])
    assert err.value.code == "attachment.too_many"


def test_only_the_subject_or_its_representative_applies(platform: Platform, world: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied) as err:
        _apply(platform, world, source="P5", n=6)
    assert err.value.code == "repair.not_your_record"
    assert _apply(platform, world, source="O7-A", n=5).view.state == repair.ACCEPTED  # represents organisation 7
    with pytest.raises(PermissionDenied):
        _apply(platform, world, source="O7-B", n=6)
    with platform.db.read() as s, pytest.raises(NotFound):
        repair.check(s, platform.catalog, account=_account(s, world), record_id=999_999,
                     submission=rules.Submission(), today=DAY)


def test_a_second_application_for_the_same_record_is_refused_while_one_is_open(
    platform: Platform, world: dict[str, Any]
) -> None:
    first = _apply(platform, world)
    again = _apply(platform, world)
    assert [r.code for r in again.view.refusals] == ["repair.pending"]
    assert f"编号 {first.view.id}" in again.view.refusals[0].message


# -- every transition, allowed and refused --------------------------------------------------------------

# (path of decisions taken first, then the action tried, by whom, with what reason) → new state or error code
TRANSITIONS: list[tuple[list[str], str, Actor | None, str | None, str]] = [
    ([], "approve", SAMR_CLERK, None, "approved"),
    ([], "approve", SAMR_KEY, None, "approved"),
    ([], "approve", OFFICE_STAFF, None, "approved"),
    ([], "reject", SAMR_CLERK, "罚款尚未缴清", "rejected"),
    ([], "reject", SAMR_CLERK, "  ", "workflow.reason_required"),
    ([], "extend", SAMR_CLERK, "需要实地核查整改情况", "extended"),
    ([], "extend", SAMR_CLERK, None, "workflow.reason_required"),
    ([], "withdraw", None, None, "withdrawn"),
    ([], "approve", TAX_CLERK, None, "repair.other_department"),
    ([], "approve", TAX_KEY, None, "repair.other_department"),
    ([], "delete", SAMR_CLERK, None, "repair.unknown_decision"),
    (["extend"], "extend", SAMR_CLERK, "再延一次", "workflow.invalid_transition"),
    (["extend"], "approve", SAMR_CLERK, None, "approved"),
    (["extend"], "reject", SAMR_CLERK, "材料不实", "rejected"),
    (["extend"], "withdraw", None, None, "withdrawn"),
    (["approve"], "approve", SAMR_CLERK, None, "workflow.invalid_transition"),
    (["approve"], "reject", SAMR_CLERK, "x", "workflow.invalid_transition"),
    (["approve"], "extend", SAMR_CLERK, "x", "workflow.invalid_transition"),
    (["approve"], "withdraw", None, None, "workflow.invalid_transition"),
    (["reject"], "approve", SAMR_CLERK, None, "workflow.invalid_transition"),
    (["withdraw"], "approve", SAMR_CLERK, None, "workflow.invalid_transition"),
    (["withdraw"], "withdraw", None, None, "workflow.invalid_transition"),
]


def _take(platform: Platform, world: dict[str, Any], case_id: int, action: str, actor: Actor | None,
          reason: str | None) -> str:
    if actor is None:
        return _withdraw(platform, world, case_id).view.state
    return _decide(platform, case_id, action, actor, reason).view.state


@pytest.mark.parametrize(("path", "action", "actor", "reason", "outcome"), TRANSITIONS,
                         ids=[f"{'>'.join(p) or 'accepted'}-{a}-{(x.name if x else 'subject')}-{o}"
                              for p, a, x, _, o in TRANSITIONS])
def test_transitions(platform: Platform, world: dict[str, Any], path: list[str], action: str, actor: Actor | None,
                     reason: str | None, outcome: str) -> None:
    case_id = _apply(platform, world).view.id
    for step in path:
        _take(platform, world, case_id, step, None if step == "withdraw" else SAMR_CLERK, "理由")
    if outcome in repair.WORKFLOW.states:
        assert _take(platform, world, case_id, action, actor, reason) == outcome
        with platform.db.read() as s:
            last = case_history(s, "repair", case_id)[-1]
            events = s.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "repair",
                                                               AuditEvent.object_id == str(case_id))).all()
        assert last.action == action and last.to_state == outcome
        assert f"repair.{action}" in events
        return
    with platform.db.read() as s:
        before = s.get_one(RepairApplication, case_id).state
    with pytest.raises(DomainError) as err:
        _take(platform, world, case_id, action, actor, reason)
    assert err.value.code == outcome
    assert err.value.status == {"workflow.invalid_transition": 409, "repair.other_department": 403}.get(outcome, 400)
    with platform.db.read() as s:
        assert s.get_one(RepairApplication, case_id).state == before  # nothing changed


def test_refused_applications_cannot_be_decided_or_withdrawn(platform: Platform, world: dict[str, Any]) -> None:
    case_id = _apply(platform, world, proof=[]).view.id
    for action in ("approve", "extend"):
        with pytest.raises(DomainError) as err:
            _decide(platform, case_id, action, reason="x")
        assert err.value.code == "workflow.invalid_transition"
    with pytest.raises(DomainError) as err:
        _withdraw(platform, world, case_id)
    assert err.value.code == "workflow.invalid_transition"


@pytest.mark.parametrize(("state", "action", "role", "outcome"), [
    (repair.SUBMITTED, "accept", SYSTEM, repair.ACCEPTED),
    (repair.SUBMITTED, "refuse", SYSTEM, "workflow.reason_required"),
    (repair.SUBMITTED, "accept", DEPARTMENT, "workflow.role_not_allowed"),
    (repair.SUBMITTED, "refuse", OFFICE, "workflow.role_not_allowed"),
    (repair.ACCEPTED, "approve", SUBJECT, "workflow.role_not_allowed"),
    (repair.ACCEPTED, "withdraw", DEPARTMENT, "workflow.role_not_allowed"),
    (repair.ACCEPTED, "accept", SYSTEM, "workflow.invalid_transition"),
    (repair.REFUSED, "accept", SYSTEM, "workflow.invalid_transition"),
])
def test_roles_of_the_state_machine(state: str, action: str, role: str, outcome: str) -> None:
    if outcome in repair.WORKFLOW.states:
        assert repair.WORKFLOW.check(state, action, role).target == outcome
        return
    with pytest.raises(DomainError) as err:
        repair.WORKFLOW.check(state, action, role)
    assert err.value.code == outcome


def test_the_extension_moves_the_deadline_once(platform: Platform, world: dict[str, Any]) -> None:
    view = _apply(platform, world).view
    extended = _decide(platform, view.id, "extend", reason="需要实地核查").view
    with platform.db.read() as s:
        calendar = work_calendar(s)
    assert view.due_on is not None
    assert extended.due_on == workdays_rules.add_working_days(calendar, view.due_on, 3).due
    assert extended.extended_on == DAY and extended.answer_due_on == view.answer_due_on
    assert extended.decision_reason == "需要实地核查"


# -- approval -----------------------------------------------------------------------------------------


def test_approval_stops_display_today_and_keeps_the_record(platform: Platform, world: dict[str, Any]) -> None:
    case_id = _apply(platform, world, source="O7-A").view.id
    approved = _decide(platform, case_id, "approve", SAMR_KEY).view
    assert approved.state == repair.APPROVED and approved.display_stopped_on == DAY and approved.decided_on == DAY
    with platform.db.read() as s:
        record = s.get_one(Record, world["records"]["O7-A"])
        stop = s.scalars(select(AuditEvent).where(AuditEvent.action == "record.stop_display")).one()
    assert record.display_stopped_on == DAY and record.status == "active"
    assert stop.object_id == str(record.id) and stop.detail["repair_application"] == case_id


def test_approval_is_refused_after_a_new_penalty_for_the_same_cause(platform: Platform, world: dict[str, Any]) -> None:
    case_id = _apply(platform, world, source="O7-A").view.id
    submit_rows(platform, "admin_penalty", "samr", [
        _org_row(platform, 7, DAY - dt.timedelta(days=1), source_id="O7-C", severity="general",
                 violation_type="未按规定公示年度报告")], DAY)
    with pytest.raises(DomainError) as err:
        _decide(platform, case_id, "approve")
    assert err.value.code == "repair.no_longer_eligible" and err.value.status == 409
    assert "同一原因" in err.value.message and "不予修复决定" in err.value.message
    assert _decide(platform, case_id, "reject", reason="修复期间因同一原因再次受到处罚").view.state == repair.REJECTED


def test_approval_is_refused_when_the_record_was_revoked_meanwhile(platform: Platform, world: dict[str, Any]) -> None:
    case_id = _apply(platform, world).view.id
    revoke_record(platform.db, keyring=platform.keyring, record_id=world["records"]["P5"], reason="复议撤销",
                  actor=SAMR_CLERK)
    with pytest.raises(DomainError) as err:
        _decide(platform, case_id, "approve")
    assert err.value.code == "repair.no_longer_eligible" and "撤销" in err.value.message


def test_a_second_repair_of_the_same_item_waits_365_days(platform: Platform, world: dict[str, Any]) -> None:
    first = _apply(platform, world, source="O7-A").view.id
    _decide(platform, first, "approve")
    second = _apply(platform, world, source="O7-B").view
    assert [r.code for r in second.refusals] == ["repair.interval"]
    assert (DAY + dt.timedelta(days=365)).isoformat() in second.refusals[0].message  # the first day one may apply


def test_two_open_applications_cannot_both_be_approved_within_the_interval(
    platform: Platform, world: dict[str, Any]
) -> None:
    a = _apply(platform, world, source="O7-A").view.id
    b = _apply(platform, world, source="O7-B").view.id  # both accepted: no repair approved yet
    _decide(platform, a, "approve")
    with pytest.raises(DomainError) as err:
        _decide(platform, b, "approve")
    assert err.value.code == "repair.no_longer_eligible" and "不满 365 天" in err.value.message


# -- reading ----------------------------------------------------------------------------------------


def test_queues_are_per_department_and_the_office_sees_all(platform: Platform, world: dict[str, Any]) -> None:
    case_id = _apply(platform, world).view.id
    with platform.db.read() as s:
        assert [v.id for v in repair.queue(s, platform.catalog, actor=SAMR_KEY, today=DAY)] == [case_id]
        assert [v.id for v in repair.queue(s, platform.catalog, actor=OFFICE_STAFF, today=DAY)] == [case_id]
        assert repair.queue(s, platform.catalog, actor=TAX_CLERK, today=DAY) == []
        assert [v.id for v in repair.queue(s, platform.catalog, actor=SAMR_CLERK, today=DAY, state="accepted")] == [
            case_id]
        assert repair.queue(s, platform.catalog, actor=SAMR_CLERK, today=DAY, state="approved") == []
        with pytest.raises(DomainError):
            repair.queue(s, platform.catalog, actor=SAMR_CLERK, today=DAY, state="bogus")
        with pytest.raises(PermissionDenied):
            repair.queue(s, platform.catalog, actor=Actor(kind="staff", name="x", role="clerk"), today=DAY)
        with pytest.raises(PermissionDenied):
            repair.detail_for_staff(s, platform.catalog, case_id=case_id, actor=TAX_KEY, today=DAY)


def test_files_are_read_by_the_subject_and_the_department_and_each_read_is_audited(
    platform: Platform, world: dict[str, Any]
) -> None:
    detail = _apply(platform, world)
    file_id = detail.files[0][1].id
    with platform.db.write() as s:
        info, data = repair.read_file(s, platform.keyring, case_id=detail.view.id, attachment_id=file_id,
                                      actor=SAMR_CLERK)
        assert data == PDF and info.filename == "缴款凭证.pdf"
        repair.read_file(s, platform.keyring, case_id=detail.view.id, attachment_id=file_id,
                         actor=Actor(kind="person", name="x"), account=_account(s, world, 5))
        with pytest.raises(PermissionDenied):
            repair.read_file(s, platform.keyring, case_id=detail.view.id, attachment_id=file_id, actor=TAX_CLERK)
        with pytest.raises(PermissionDenied):
            repair.read_file(s, platform.keyring, case_id=detail.view.id, attachment_id=file_id,
                             actor=Actor(kind="person", name="y"), account=_account(s, world, 6))
        with pytest.raises(NotFound):
            repair.read_file(s, platform.keyring, case_id=detail.view.id, attachment_id=file_id + 99,
                             actor=SAMR_CLERK)
    with platform.db.read() as s:
        purposes = s.scalars(select(AuditEvent.purpose).where(AuditEvent.action == "attachment.read")).all()
    assert sorted(purposes) == ["信用主体查看本人信用修复申请材料", "审核信用修复申请材料"]


def test_offers_are_the_displayed_repairable_negative_records(platform: Platform, world: dict[str, Any]) -> None:
    submit_rows(platform, "dishonest_debtor", "court", [person_row(platform, "dishonest_debtor", 5, DECIDED,
                                                                   source_id="P5-DEBT", severity="serious")], DAY)
    with platform.db.read() as s:
        subject = s.get_one(Record, world["records"]["P5"]).subject_id
        found = repair.offers(s, platform.catalog, [subject], DAY)
    assert list(found) == [world["records"]["P5"]]  # not the debtor entry (not repairable)
    offer = found[world["records"]["P5"]]
    assert offer.repair_from == dt.date(2026, 8, 9) and offer.pending_case_id is None
    case_id = _apply(platform, world).view.id
    with platform.db.read() as s:
        assert repair.offers(s, platform.catalog, [subject], DAY)[world["records"]["P5"]].pending_case_id == case_id
    _decide(platform, case_id, "approve")
    with platform.db.read() as s:
        assert repair.offers(s, platform.catalog, [subject], DAY) == {}  # display stopped: nothing to repair


# -- the staff console --------------------------------------------------------------------------------


def test_console_counts(platform: Platform, world: dict[str, Any],
                        make_api_key: Callable[[str], str]) -> None:
    ids = [_apply(platform, world, source=src, n=n).view.id for src, n in (("P5", 5), ("P6", 6), ("O7-A", 5))]
    _apply(platform, world, source="O7-B", proof=[])  # refused: not in the queue
    with platform.db.write() as s:  # one overdue, one due tomorrow, one due in a week
        s.execute(update(RepairApplication).where(RepairApplication.id == ids[0]).values(due_on=DAY - dt.timedelta(1)))
        s.execute(update(RepairApplication).where(RepairApplication.id == ids[1]).values(due_on=DAY + dt.timedelta(1)))
        s.execute(update(RepairApplication).where(RepairApplication.id == ids[2]).values(due_on=DAY + dt.timedelta(7)))
    with platform.db.read() as s:
        calendar = work_calendar(s)
        city = repair.console_counts(s, calendar, DAY, None)
        samr = repair.console_counts(s, calendar, DAY, "samr")
        tax = repair.console_counts(s, calendar, DAY, "tax")
    assert [(x.open, x.due_soon, x.overdue, x.link) for x in city] == [(3, 1, 1, "/office/repairs")]
    assert [(x.open, x.due_soon, x.overdue, x.link) for x in samr] == [(3, 1, 1, "/dept/repairs")]
    assert [(x.open, x.due_soon, x.overdue) for x in tax] == [(0, 0, 0)]
    assert city[0].label_zh.startswith("信用修复")
    _decide(platform, ids[0], "approve")
    with platform.db.read() as s:
        assert repair.console_counts(s, work_calendar(s), DAY, None)[0].open == 2


def test_a_deadline_in_an_unpublished_year_is_flagged(platform: Platform, world: dict[str, Any]) -> None:
    late = dt.datetime(2026, 12, 29, 2, tzinfo=dt.UTC)
    view = _apply(platform, world, now=late).view
    assert view.due_on == dt.date(2027, 1, 1) and view.due_estimated
    assert "估算" in view.estimate_warning
