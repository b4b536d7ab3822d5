"""The demo data set: loaded through the normal ingest path, reproducible, and private where it must be."""

from __future__ import annotations

import datetime as dt
import json
import random
import re

from sqlalchemy import func, select, text

from chengxin.accounts.models import StaffUser
from chengxin.accounts.service import authenticate
from chengxin.catalog.model import SubjectKind
from chengxin.commitments.models import Commitment
from chengxin.core.identifiers import normalize_ric, normalize_uscc
from chengxin.demo.load import (
    CHANGZHOU_DISTRICTS,
    DemoSummary,
    database_is_empty,
    demo_usernames,
    generate_organizations,
    generate_persons,
    load_demo,
    sample_pattern,
)
from chengxin.disclosure.rules import HELD_UNTIL_NOTICE
from chengxin.lists.models import ListEntry, SubjectListStatus
from chengxin.notices.models import CreditNotice
from chengxin.platform import Platform
from chengxin.records.models import IngestBatch, IngestRejection, Record
from chengxin.records.service import quality

TODAY = dt.date(2026, 6, 30)  # fixed, so the data set does not depend on the clock
PERSONS, ORGANIZATIONS, RECORDS = 300, 100, 3000
MASKED_RIC = re.compile(r"^\d{6}\*{8}\d{3}[\dX]$")
CLEAR_RIC = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9X])")
DELIBERATE_REJECTIONS = {  # what load_demo spoils on purpose; anything else would be a generator bug
    "ric.check_digit", "uscc.check_character", "field.required", "field.not_date", "field.not_option",
}


def _raw_bytes(value: object) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False).encode()
    return str(value).encode()


def _items_with_planned_rows(platform: Platform, today: dt.date) -> set[str]:
    """Items in force today that take persons or organisations. load_demo gives every such item at
    least min(5, records // items) planned rows, and only ~0.5 % of rows are spoiled, so with 3,000
    records over a catalog of a few dozen items every one of them must end up with records."""
    kinds = {SubjectKind.PERSON, SubjectKind.ORGANIZATION}
    return {
        code for code, item in platform.catalog.items.items()
        if (version := item.version_on(today)) is not None and version.subject_kinds & kinds
    }


def test_demo_load_small(platform: Platform) -> None:
    assert database_is_empty(platform)
    summary = load_demo(platform, persons=PERSONS, organizations=ORGANIZATIONS, records=RECORDS, today=TODAY)
    assert isinstance(summary, DemoSummary)
    assert not database_is_empty(platform)
    assert (summary.persons, summary.organizations) == (PERSONS, ORGANIZATIONS)
    # Planned rows plus ~2 % resubmissions, every one of them accounted for by the receipts.
    assert RECORDS <= summary.records_submitted <= RECORDS * 1.04
    assert summary.records_submitted == summary.accepted + summary.rejected + summary.corrected + summary.unchanged
    assert summary.rejected > 0 and summary.corrected > 0 and summary.unchanged > 0
    assert summary.rejected < RECORDS * 0.02

    with platform.db.read() as session:
        # Every accepted row is one record; corrections and unchanged rows add none. The demo's breached
        # commitments add their own records (item commitment_breach, source id CMT-<no>) in batches of their own.
        breaches = session.scalar(select(func.count()).select_from(Commitment).where(Commitment.state == "breached"))
        assert breaches
        assert session.scalar(select(func.count()).select_from(Record).where(
            Record.source_id.like("CMT-%"), Record.item_code == "commitment_breach")) == breaches
        assert session.scalar(select(func.count()).select_from(Record)) == summary.accepted + breaches
        assert session.scalar(select(func.count()).select_from(IngestBatch).where(
            IngestBatch.channel == "demo")) == summary.batches
        # The lists demo took entries through the real service: some listed, each with its status row.
        listed = session.scalar(select(func.count()).select_from(ListEntry).where(ListEntry.state == "listed"))
        assert listed and session.scalar(select(func.count()).select_from(SubjectListStatus)) >= 1
        assert session.scalar(select(func.sum(IngestBatch.rejected))) == summary.rejected
        assert session.scalar(select(func.sum(IngestBatch.corrected))) == summary.corrected
        assert (session.scalar(select(func.max(IngestBatch.received))) or 0) <= 20_000
        assert session.scalar(select(func.count()).select_from(IngestBatch).where(
            IngestBatch.channel.not_in(("demo", "commitment")))) == 0

        # Every catalog item in force got records, and only from departments it allows.
        pairs = session.execute(select(Record.item_code, Record.department_code).distinct()).all()
        assert _items_with_planned_rows(platform, TODAY) <= {item for item, _ in pairs}
        for item_code, department in pairs:
            assert any(department in v.departments for v in platform.catalog.item(item_code).versions)
        first, last = session.execute(select(func.min(Record.decision_date), func.max(Record.decision_date))).one()
        assert TODAY - dt.timedelta(days=4 * 366) <= first and last <= TODAY

        # Rejections: each with a code, and only the deliberate kinds (a name mismatch or a
        # pattern failure would mean the generator is wrong).
        codes = [code for (code,) in session.execute(select(IngestRejection.code))]
        assert codes and all(codes)
        assert set(codes) <= DELIBERATE_REJECTIONS, set(codes) - DELIBERATE_REJECTIONS
        assert any(row.rejected_by_reason for row in quality(session))

        # Persons: masked display ids, and no clear ID number anywhere in the subject table.
        persons = generate_persons(platform.settings.demo_seed, PERSONS)
        rics = {p.ric.encode() for p in persons}
        names = {p.name for p in persons}
        rows = session.execute(text("SELECT * FROM subject WHERE kind = 'person'")).mappings().all()
        assert len(rows) >= PERSONS * 0.9  # persons reach the database only through their records
        for row in rows:
            assert MASKED_RIC.match(row["display_id"]), row["display_id"]
            assert row["display_name"] not in names or len(row["display_name"]) < 2
            for column, value in row.items():
                raw = _raw_bytes(value)
                assert not any(ric in raw for ric in rics), f"clear citizen ID in subject.{column}"
        organizations = {o.uscc for o in generate_organizations(platform.settings.demo_seed, ORGANIZATIONS)}
        shown = set(session.scalars(text("SELECT display_id FROM subject WHERE kind = 'organization'")))
        assert shown == organizations  # organisations' codes are public and shown in full

        # Citizen IDs inside records (legal representatives …) are not stored in clear either.
        all_rics = {p.ric for p in persons}
        for (fields,) in session.execute(text("SELECT fields FROM record_version")):
            blob = fields if isinstance(fields, str) else json.dumps(fields, ensure_ascii=False)
            assert not set(CLEAR_RIC.findall(blob)) & all_rics

        # Arrears records need a credit notice first (notices.hold): the demo registers its paper
        # notices, so none stays held, each has a recorded notice dated before its decision, and the
        # record is displayed from the day after the notice period.
        held = session.scalar(select(func.count()).select_from(Record).where(Record.display_from == HELD_UNTIL_NOTICE))
        assert held == 0
        arrears = session.execute(select(Record.id, Record.decision_date, Record.display_from).where(
            Record.item_code.in_(["tax_arrears", "utility_arrears", "social_insurance_arrears"]))).all()
        assert arrears and all(r.display_from is not None and r.display_from <= r.decision_date for r in arrears)
        notices = dict(session.execute(select(CreditNotice.record_id, CreditNotice.issued_on).where(
            CreditNotice.state == "recorded")).all())
        assert all(notices[r.id] < r.decision_date for r in arrears)

        # Staff accounts, all able to sign in with the demo password.
        usernames = set(session.scalars(select(StaffUser.username)))
    assert set(summary.users) == set(demo_usernames(platform)) <= usernames
    assert {"admin", "office", "clerk_samr"} <= usernames
    with platform.db.write() as session:
        assert authenticate(session, "clerk_samr", "chengxin-demo").department_code == "samr"
        assert authenticate(session, "office", "chengxin-demo").role == "credit_office"

    # Loading again with the same seed adds nothing: every row is a resubmission.
    again = load_demo(platform, persons=PERSONS, organizations=ORGANIZATIONS, records=RECORDS, today=TODAY)
    assert not database_is_empty(platform)
    assert again.accepted == 0
    assert again.records_submitted == summary.records_submitted
    assert again.rejected == summary.rejected
    with platform.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Record)) == summary.accepted + breaches
        assert session.scalar(select(func.count()).select_from(StaffUser)) == len(usernames)


def test_generated_subjects_are_valid_unique_and_reproducible() -> None:
    persons = generate_persons(20181205, 2000)
    assert persons[:100] == generate_persons(20181205, 100)  # same seed, same people
    assert generate_persons(1, 100) != persons[:100]
    assert len({p.ric for p in persons}) == len(persons)
    assert all(normalize_ric(p.ric) == p.ric for p in persons)
    assert all(dt.date(1950, 1, 1) <= p.birth <= dt.date(2006, 12, 31) for p in persons)
    assert all(p.ric[6:14] == p.birth.strftime("%Y%m%d") for p in persons)
    changzhou = sum(p.ric[:6] in CHANGZHOU_DISTRICTS for p in persons)
    assert 0.75 * len(persons) <= changzhou < len(persons)  # mostly local, some from elsewhere
    lengths = {len(p.name) for p in persons if "·" not in p.name}
    assert {2, 3} <= lengths
    assert any("·" in p.name for p in persons)

    organizations = generate_organizations(20181205, 1000)
    assert len({o.uscc for o in organizations}) == len({o.name for o in organizations}) == 1000
    assert all(normalize_uscc(o.uscc) == o.uscc for o in organizations)
    categories = {o.category for o in organizations}
    assert {"91", "92", "93", "51", "52", "12"} <= categories
    assert sum(o.category == "91" for o in organizations) > 500
    assert all(o.uscc[:2] == o.category for o in organizations)


def test_sample_pattern_matches() -> None:
    rng = random.Random(7)
    for pattern in (r"[0-9]{17}", r"[0-9]{6}", r"(?:JY|JB)\d{14}", r"[A-Z]{2}-\d{3,5}", r"[\u4e00-\u9fa5]{2,4}号",
                    r"(ab|cd)\1", r"[^0-9]{3}", r"\w+@\w+\.com"):
        for _ in range(20):
            value = sample_pattern(pattern, rng)
            assert value is not None and re.fullmatch(pattern, value), (pattern, value)
    assert sample_pattern(r"[0-9]{20}", rng, max_length=10) is None
