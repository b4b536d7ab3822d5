"""A bulk ingest indexes the names of the organisations it creates exactly as the triggers would.

On PostgreSQL the batch computes the grams itself (``search.service.BulkNameIndex``) and copies them in gram
order, with the triggers off for the batch's own inserts; on SQLite the row triggers do it. Either way the
index and its counts must be exactly what ``search.rules.name_grams`` gives for every organisation
(``tests_support.index_in_sync``) — including names holding what ``COPY``'s CSV gives a meaning to (quotes,
commas, line breaks), folded characters, and more grams than one write holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from chengxin.catalog.model import SubjectKind
from chengxin.core.audit import Actor
from chengxin.core.db import BulkWriter
from chengxin.core.identifiers import make_uscc
from chengxin.ledger.service import lock_head, seal
from chengxin.platform import Platform
from chengxin.records.service import ApiRow, ingest
from chengxin.search import service as search_service
from chengxin.search.service import BulkNameIndex, search_subjects
from chengxin.subjects.rules import SubjectKey, lookup_index
from chengxin.subjects.service import ensure_subjects
from factories import valid_row
from tests_support import index_in_sync

ALPHABET = list("常州市科技有限公司华（）()ＡＢａbcXYZ１2 \u3000%_',;\"\\\t\n\r·")
CLERK = Actor(kind="api_key", name="k1", department_code="samr")


def _org(n: int, name: str) -> SubjectKey:
    return SubjectKey(SubjectKind.ORGANIZATION, make_uscc("9", "1", "320400", f"{n:08d}"), name)


def _create_in_bulk(platform: Platform, keys: list[SubjectKey], *, after: Sequence[SubjectKey] = ()) -> None:
    """``keys`` created the way the batch writer creates them; ``after``: more, in the same transaction once the
    bulk index is finished (the trigger indexes those again)."""
    with platform.db.write() as session:
        lock = lock_head(session)
        names = BulkNameIndex(session)
        for part in (keys[: len(keys) // 2], keys[len(keys) // 2 :]):  # two chunks
            wanted = {lookup_index(platform.keyring, k.kind.value, k.identifier): k for k in part}
            created = ensure_subjects(platform.keyring, lock, wanted, {}, BulkWriter(session))
            names.add((sid, key.name) for sid, key in created if key.kind is SubjectKind.ORGANIZATION)
        names.finish()
        if after:
            wanted = {lookup_index(platform.keyring, k.kind.value, k.identifier): k for k in after}
            ensure_subjects(platform.keyring, lock, wanted, {}, BulkWriter(session))
        seal(session, lock, platform.keyring)


def _no_subjects(platform: Platform) -> None:
    with platform.db.write() as session:  # the previous example's (through the delete triggers)
        session.execute(text("DELETE FROM subject"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(names=st.lists(st.text(st.sampled_from(ALPHABET), min_size=1, max_size=20), min_size=1, max_size=30),
       flush=st.sampled_from([3, 40, 500_000]))
def test_bulk_created_organisations_are_indexed_exactly(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, names: list[str], flush: int
) -> None:
    monkeypatch.setattr(search_service, "FLUSH_GRAMS", flush)  # several writes in one batch, or one
    _no_subjects(platform)
    _create_in_bulk(platform, [_org(n, name) for n, name in enumerate(names)], after=[_org(900, "批后新增有限公司")])
    index_in_sync(platform)


def test_a_person_created_in_bulk_is_not_indexed(platform: Platform) -> None:
    _no_subjects(platform)
    person = SubjectKey(SubjectKind.PERSON, "320402198803040011", "张科技")
    _create_in_bulk(platform, [_org(1, "常州科技有限公司"), person])
    index_in_sync(platform)
    with platform.db.read() as session:
        assert [h.display_name for h in search_subjects(session, "科技").results] == ["常州科技有限公司"]


def test_an_ingested_file_s_organisations_are_found_by_name(platform: Platform) -> None:
    """End to end through the ingest (the batch writer's path)."""
    version = platform.catalog.item("admin_penalty").version_on(dt.date(2025, 9, 1))
    assert version is not None
    rows = [valid_row(version, 5_100 + n, source_id=f"NAMES-{n}", subject_name=f"常州第{n}号批量科技有限公司")
            for n in range(12)]
    receipt = ingest(platform.db, [ApiRow(i, r) for i, r in enumerate(rows, 2)], catalog=platform.catalog,
                     keyring=platform.keyring, department="samr", item_code="admin_penalty", actor=CLERK,
                     channel="api", today=dt.date(2026, 11, 25))
    assert receipt.accepted == 12, receipt.rejections
    index_in_sync(platform)
    with platform.db.read() as session:
        found = {h.display_name for h in search_subjects(session, "号批量科技").results}
    assert found == {f"常州第{n}号批量科技有限公司" for n in range(12)}
