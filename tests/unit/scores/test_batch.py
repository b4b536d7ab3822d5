"""The vectorised batch and the per-subject path agree on every subject of a generated data set (both
engines); the record path's hook keeps stored scores current; recompute and compare (issue #6 §4, §5)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select, update

from chengxin.core.audit import Actor
from chengxin.core.clock import today_cn
from chengxin.records.models import Record
from chengxin.records.service import revoke_record
from chengxin.scores import batch, service
from chengxin.scores.model import get_models
from chengxin.scores.models import ScoreCurrent, ScoreRun
from factories import listed_entry, ric_for, submit_rows, uscc_for, valid_row

TODAY = dt.date(2026, 11, 25)
CLI = Actor(kind="cli", name="test")
OFFICE = Actor(kind="staff", name="office", role="credit_office")


def _rows_for(platform: Any, rng: random.Random, code: str, kind: str, owners: list[int], serial: list[int]) -> dict[
        str, list[dict[str, Any]]]:
    """Random valid rows of one item for the given subjects, grouped by department."""
    out: dict[str, list[dict[str, Any]]] = {}
    item = platform.catalog.item(code)
    for n in owners:
        day = TODAY - dt.timedelta(days=rng.randint(0, 4 * 365))
        version = item.version_on(day)
        if version is None or kind not in {k.value for k in version.subject_kinds}:
            continue
        serial[0] += 1
        row = valid_row(version, n, person=(kind == "person"), decision_date=day.isoformat())
        row["source_id"] = f"GEN-{serial[0]:06d}"
        if kind == "person":
            row["ric"], row["subject_name"] = ric_for(n), "张三"
        else:
            row["uscc"], row["subject_name"] = uscc_for(n), f"常州生成{n}有限公司"
        if version.severities:
            row["severity"] = rng.choice(version.severities).value
        if code == "volunteer_service":
            row["service_hours"] = f"{rng.randint(5, 900) / 10:.1f}"
        if code == "charity_donation":
            row["amount"] = f"{rng.randint(1, 5_000_000) / 100:.2f}"
        department = sorted(version.departments)[0]
        out.setdefault(department, []).append(row)
    return out


@pytest.fixture()
def generated(platform: Any) -> dict[str, Any]:
    """~60 subjects with records of every scored item, some revoked, some repaired, some listed."""
    rng = random.Random(6)
    persons, orgs = list(range(1, 41)), list(range(1001, 1021))
    serial = [0]
    models = get_models(platform.catalog)
    items = sorted(set(models.get("civic-2025.1").items) | set(models.get("grade-2025.1").items))
    for code in items:
        for kind, owners in (("person", persons), ("organization", orgs)):
            chosen = [n for n in owners if rng.random() < 0.35]
            for department, rows in _rows_for(platform, rng, code, kind, chosen, serial).items():
                submit_rows(platform, code, department, rows, TODAY)
    with platform.db.read() as session:
        ids = [r[0] for r in session.execute(select(Record.id).order_by(Record.id))]
    for rid in rng.sample(ids, 8):
        revoke_record(platform.db, keyring=platform.keyring, record_id=rid, actor=CLI, reason="测试撤销")
    with platform.db.write() as session:
        stopped = list(rng.sample(ids, 10))
        session.execute(update(Record).where(Record.id.in_(stopped[:5])).values(display_stopped_on=TODAY))
        session.execute(update(Record).where(Record.id.in_(stopped[5:])).values(
            display_stopped_on=TODAY + dt.timedelta(days=30)))
    listed_entry(platform, list_kind="black", ric=ric_for(3))
    listed_entry(platform, list_kind="red", ric=ric_for(4))
    listed_entry(platform, list_kind="watch", uscc=uscc_for(1001))
    listed_entry(platform, list_kind="red", uscc=uscc_for(1002), term_to=dt.date(2026, 6, 30))
    return {"records": len(ids)}


@pytest.mark.parametrize("offset", [0, 200, 500])
def test_batch_and_per_subject_agree_on_every_subject(platform: Any, generated: dict[str, Any], offset: int) -> None:
    day = TODAY + dt.timedelta(days=offset)
    models = get_models(platform.catalog)
    seen = 0
    with platform.db.read() as session:
        for model_id in ("civic-2025.1", "civic-2026.1", "grade-2025.1"):
            model = models.get(model_id)
            frame = batch.compute(session, model, platform.catalog, day)
            assert len(frame) > 0
            for i, subject_id in enumerate(frame.subject_ids.tolist()):
                one = service.compute_one(session, platform.catalog, subject_id, day, model_id=model_id, explain=False)
                got = (int(frame.totals[i]), model.bands[int(frame.bands[i])].code,
                       dict(zip([d.code for d in model.dimensions], frame.dims[i].tolist(), strict=True)))
                assert got == (one.total, one.band, one.dimension_totals()), (model_id, subject_id)
                seen += 1
    assert seen >= 2 * 40 + 20
    assert generated["records"] > 100


def test_restricted_batch_equals_full_batch(platform: Any, generated: dict[str, Any]) -> None:
    model = get_models(platform.catalog).get("civic-2025.1")
    with platform.db.read() as session:
        full = batch.compute(session, model, platform.catalog, TODAY)
        some = [int(x) for x in full.subject_ids[::3]]
        part = batch.compute(session, model, platform.catalog, TODAY, subjects=some)
    assert part.subject_ids.tolist() == some
    idx = np.searchsorted(full.subject_ids, part.subject_ids)
    assert part.totals.tolist() == full.totals[idx].tolist()


def test_the_record_path_updates_the_stored_score(platform: Any) -> None:
    day = today_cn()
    version = platform.catalog.version_on("admin_penalty", day)
    row = valid_row(version, 7, person=True, decision_date=day.isoformat(), severity="serious")
    submit_rows(platform, "admin_penalty", "samr", [row], day)
    with platform.db.read() as session:
        subject_id = session.execute(select(Record.subject_id)).scalar_one()
        stored = session.get(ScoreCurrent, subject_id)
        assert stored is not None and stored.source == "change"
        assert stored.total == 600 - 120 and stored.dimensions["law"] == -120
        record_id = session.execute(select(Record.id)).scalar_one()
    revoke_record(platform.db, keyring=platform.keyring, record_id=record_id, actor=CLI, reason="撤销")
    with platform.db.read() as session:
        stored = session.get(ScoreCurrent, subject_id)
        assert stored is not None and stored.total == 600 and stored.band == "fair"


def test_many_subjects_take_the_vectorised_path(platform: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "INLINE_RULES", 2)
    day = today_cn()
    version = platform.catalog.version_on("admin_penalty", day)
    rows = [valid_row(version, n, person=True, decision_date=day.isoformat(), severity="general") for n in range(1, 6)]
    submit_rows(platform, "admin_penalty", "samr", rows, day)
    with platform.db.read() as session:
        totals = [r.total for r in session.execute(select(ScoreCurrent)).scalars()]
    assert totals == [560] * 5


def test_a_large_change_replaces_or_drops_exactly_the_stored_scores_of_its_subjects(
    platform: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored scores of the subjects a batch touched are replaced (vectorised path) or, past INLINE_BATCH,
    dropped — one DELETE for all their ids — and no other subject's stored score is touched."""
    day = today_cn()
    version = platform.catalog.version_on("admin_penalty", day)

    def penalties(numbers: range, severity: str, tag: str) -> list[dict[str, Any]]:
        return [valid_row(version, n, person=True, decision_date=day.isoformat(), severity=severity,
                          source_id=f"P-{n}-{tag}") for n in numbers]

    def stored() -> dict[int, int]:
        with platform.db.read() as session:
            return {r.subject_id: r.total for r in session.execute(select(ScoreCurrent)).scalars()}

    submit_rows(platform, "admin_penalty", "samr", penalties(range(1, 8), "general", "a"), day)  # inline
    before = stored()
    assert sorted(before.values()) == [560] * 7
    monkeypatch.setattr(service, "INLINE_RULES", 2)
    submit_rows(platform, "admin_penalty", "samr", penalties(range(1, 5), "general", "b"), day)  # vectorised
    after = stored()
    with platform.db.read() as session:
        touched = set(session.execute(select(Record.subject_id).where(Record.source_id.like("%-b"))).scalars())
    assert len(touched) == 4 and {after[s] for s in touched} == {520}  # replaced, not added beside
    assert {s: t for s, t in after.items() if s not in touched} == {s: t for s, t in before.items()
                                                                      if s not in touched}
    monkeypatch.setattr(service, "INLINE_BATCH", 3)
    submit_rows(platform, "admin_penalty", "samr", penalties(range(1, 5), "general", "c"), day)  # dropped
    assert stored() == {s: t for s, t in before.items() if s not in touched}


def test_recompute_writes_every_subject_and_a_run(platform: Any, generated: dict[str, Any]) -> None:
    results = service.recompute(platform.db, platform.catalog, TODAY, actor=CLI)
    assert {r.model_id for r in results} == {"civic-2025.1", "grade-2025.1"}
    with platform.db.read() as session:
        count = session.scalar(select(func.count()).select_from(ScoreCurrent))
        assert count == sum(r.subjects for r in results) == 60
        rows = {r.subject_id: r for r in session.execute(select(ScoreCurrent)).scalars()}
        for subject_id in list(rows)[:15]:
            one = service.compute_one(session, platform.catalog, subject_id, TODAY, explain=False)
            assert (rows[subject_id].total, rows[subject_id].band, rows[subject_id].model_id) == (
                one.total, one.band, one.model_id)
            assert rows[subject_id].dimensions == one.dimension_totals()
        runs = list(session.execute(select(ScoreRun)).scalars())
        assert len(runs) == 2 and sum(runs[0].summary["histogram"]["counts"]) == runs[0].subjects
        dist = service.distribution(session, platform.catalog, "person", TODAY)
        assert dist is not None and dist.subjects == 40 and dist.svg.startswith("<svg")
    # twice is the same (idempotent), and a chosen model replaces its family's rows
    service.recompute(platform.db, platform.catalog, TODAY, actor=CLI, model_id="civic-2026.1")
    with platform.db.read() as session:
        models_used = {r[0] for r in session.execute(select(ScoreCurrent.model_id).distinct())}
        assert models_used == {"civic-2026.1", "grade-2025.1"}


def test_compare_reports_the_shift(platform: Any, generated: dict[str, Any]) -> None:
    c = service.compare(platform.db, platform.catalog, "civic-2025.1", "civic-2026.1", TODAY, actor=CLI, top=5)
    assert c.subjects == 40 and sum(map(sum, c.matrix)) == 40
    assert [sum(row) for row in c.matrix] == list(c.old_bands.values())
    assert [sum(r[j] for r in c.matrix) for j in range(len(c.matrix))] == list(c.new_bands.values())
    assert c.svg.startswith("<svg") and "civic-2026.1" in c.svg
    for m in c.movers:
        assert "*" in m.display_id  # masked: never the citizen ID in clear
        assert m.delta != 0
    assert [abs(m.delta) for m in c.movers] == sorted((abs(m.delta) for m in c.movers), reverse=True)
    with pytest.raises(Exception, match="different subject kinds|不同"):
        service.compare(platform.db, platform.catalog, "civic-2025.1", "grade-2025.1", TODAY, actor=CLI)
