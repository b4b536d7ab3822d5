"""Use cases of the civic credit points and grades: score one subject, refresh on change, recompute all,
compare two model versions, read the distribution, staff reads (logged with their purpose).

On change (decided for issue #6): the record path (``records.service``: ingest and revocation) calls
:func:`records_changed` in its own transaction, so a new, corrected or revoked record moves the
subject's stored score in the same request. Display stops and holds set elsewhere (repair approval,
credit notices) and the passing of time (decay steps, display ends) are covered by the reads — the
person's and staff's reads always compute live from the records and store what they computed — and
by the batch (``chengxin scores recompute``, run nightly from cron). Bulk loads touching more than
``INLINE_BATCH`` subjects drop those subjects' stored rows instead (a stale band must never be read by a
list criterion); the next batch or read fills them.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import orjson
import polars as pl
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from chengxin.catalog.loader import load_catalog
from chengxin.catalog.model import Catalog
from chengxin.core import audit
from chengxin.core.clock import today_cn
from chengxin.core.db import BulkWriter, Database, one_of_ids, utcnow
from chengxin.core.errors import DomainError, NotFound
from chengxin.lists.models import SubjectListStatus
from chengxin.records.models import Record, RecordVersion
from chengxin.scores import batch
from chengxin.scores.model import Models, PointsModel, get_models
from chengxin.scores.models import ScoreCurrent, ScoreRun
from chengxin.scores.rules import Membership, RecordFact, Score, membership_from_status, score_subject
from chengxin.scores.svg import histogram_svg
from chengxin.subjects.models import Subject

INLINE_RULES = 50  # up to this many subjects: the per-subject rules, in the same transaction
INLINE_BATCH = 20_000  # up to this many: the vectorised path restricted to them; more: stored rows dropped
HIST_BINS = 30


def models_of(catalog: Catalog) -> Models:
    return get_models(catalog)


def model_for(catalog: Catalog, subject_kind: str, day: dt.date, model_id: str | None = None) -> PointsModel:
    models = get_models(catalog)
    if model_id is not None:
        try:
            return models.get(model_id)
        except KeyError:
            raise NotFound("score.model_unknown", f"没有积分模型 {model_id}", f"No model {model_id}") from None
    model = models.in_force(subject_kind, day)
    if model is None:
        raise NotFound("score.no_model", "该类主体没有生效的积分模型", f"No model in force for {subject_kind}")
    return model


# -- one subject ---------------------------------------------------------------------------------------


def facts_of(session: Session, model: PointsModel, subject_id: int) -> list[RecordFact]:
    """The record facts of one subject (with the quantity of per-unit items from the current version)."""
    rows = session.execute(
        select(Record.id, Record.item_code, Record.severity, Record.decision_date, Record.status,
               Record.display_stopped_on, Record.display_from, Record.under_objection, Record.version_id)
        .where(Record.subject_id == subject_id, Record.item_code.in_(sorted(model.items)))
    ).all()
    fields_by_version: dict[int, dict[str, Any]] = {}
    wanted = [r.version_id for r in rows if model.items[r.item_code].per_unit is not None]
    if wanted:
        for vid, fields in session.execute(
                select(RecordVersion.id, RecordVersion.fields).where(RecordVersion.id.in_(wanted))):
            fields_by_version[vid] = fields if isinstance(fields, dict) else orjson.loads(fields)
    out = []
    for r in rows:
        unit = model.items[r.item_code].per_unit
        quantity = None
        if unit is not None:
            quantity = _decimal(fields_by_version.get(r.version_id, {}).get(unit.field))
        out.append(RecordFact(r.id, r.item_code, r.severity, r.decision_date, r.status, r.display_stopped_on,
                              r.display_from, quantity, bool(r.under_objection)))
    return out


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def memberships_of(session: Session, subject_id: int) -> list[Membership]:
    row = session.get(SubjectListStatus, subject_id)
    return [membership_from_status(m) for m in (row.memberships if row else [])]


def subject_kind_of(session: Session, subject_id: int) -> str:
    kind = session.execute(select(Subject.kind).where(Subject.id == subject_id)).scalar_one_or_none()
    if kind is None:
        raise NotFound("subject.not_found", "信用主体不存在", "No such subject")
    return kind


def compute_one(session: Session, catalog: Catalog, subject_id: int, day: dt.date, *,
                model_id: str | None = None, explain: bool = True) -> Score:
    """The score of one subject on ``day`` under the model in force (or ``model_id``), from its records."""
    model = model_for(catalog, subject_kind_of(session, subject_id), day, model_id)
    if model_id is not None and model.subject_kind.value != subject_kind_of(session, subject_id):
        raise DomainError("score.model_kind", "该模型不适用于此类主体", "The model does not apply to this subject")
    return score_subject(model, catalog, facts_of(session, model, subject_id), memberships_of(session, subject_id),
                         day, explain=explain)


def store(session: Session, subject_id: int, score: Score, source: str) -> None:
    """Upsert the subject's current score row."""
    row = session.get(ScoreCurrent, subject_id)
    dims = score.dimension_totals()
    if row is None:
        session.add(ScoreCurrent(subject_id=subject_id, model_id=score.model_id, total=score.total, band=score.band,
                                 dimensions=dims, as_of=score.day, computed_at=utcnow(), source=source))
        return
    if (row.model_id, row.total, row.band, row.dimensions, row.as_of) != (
            score.model_id, score.total, score.band, dims, score.day):
        row.model_id, row.total, row.band, row.dimensions, row.as_of = (
            score.model_id, score.total, score.band, dims, score.day)
        row.computed_at, row.source = utcnow(), source


def refresh_one(session: Session, catalog: Catalog, subject_id: int, day: dt.date, source: str = "change") -> Score | None:
    kind = subject_kind_of(session, subject_id)
    model = get_models(catalog).in_force(kind, day)
    if model is None:
        return None
    score = score_subject(model, catalog, facts_of(session, model, subject_id), memberships_of(session, subject_id),
                          day, explain=False)
    store(session, subject_id, score, source)
    return score


def refresh_subjects(session: Session, catalog: Catalog, subject_ids: Iterable[int], day: dt.date) -> int:
    """Bring the stored scores of ``subject_ids`` up to date, in the caller's transaction; returns how many."""
    ids = sorted(set(subject_ids))
    if not ids:
        return 0
    session.flush()
    if len(ids) <= INLINE_RULES:
        for subject_id in ids:
            refresh_one(session, catalog, subject_id, day)
        return len(ids)
    if len(ids) > INLINE_BATCH:
        _drop_stored(session, ids)
        return 0
    models = get_models(catalog)
    done = 0
    for kind in ("person", "organization"):
        model = models.in_force(kind, day)
        if model is None:
            continue
        frame = batch.compute(session, model, catalog, day, subjects=ids)
        _drop_stored(session, frame.subject_ids)
        write_frame(session, frame, source="change")
        done += len(frame)
    return done


def _drop_stored(session: Session, subject_ids: Iterable[int]) -> None:
    """Delete the stored scores of ``subject_ids`` (one statement, whatever their number)."""
    where, params = one_of_ids(session.get_bind().dialect.name, "subject_id", subject_ids)
    session.execute(text(f"DELETE FROM score_current WHERE {where}"), params)


def records_changed(session: Session, subject_ids: Iterable[int], catalog: Catalog | None = None) -> None:
    """The record path's hook (``records.service``): the subjects' records changed in this transaction."""
    refresh_subjects(session, catalog or load_catalog(), subject_ids, today_cn())


# -- reads ---------------------------------------------------------------------------------------------


def my_score(db: Database, catalog: Catalog, subject_id: int, day: dt.date) -> Score:
    """The person's own score with its explanation, computed live and stored (a read fills a stale row)."""
    with db.read() as session:
        score = compute_one(session, catalog, subject_id, day)
    _store_if_changed(db, subject_id, score)
    return score


def _store_if_changed(db: Database, subject_id: int, score: Score) -> None:
    with db.read() as session:
        row = session.get(ScoreCurrent, subject_id)
        same = row is not None and (row.model_id, row.total, row.band, row.as_of) == (
            score.model_id, score.total, score.band, score.day)
    if not same:
        db.write_grouped(lambda s: store(s, subject_id, score, "read"))


STAFF_BASIS = "信用评价结果的政务共享：按《常州市个人文明信用积分》模型计算，记入查询使用登记"


def staff_read(db: Database, catalog: Catalog, subject_id: int, actor: audit.Actor, purpose: str,
               day: dt.date) -> Score:
    """A staff or department read of one subject's score: the purpose is required and logged (查询使用登记)."""
    from chengxin.disclosure.service import log_query  # the query log is disclosure's

    purpose = (purpose or "").strip()
    if not purpose:
        raise DomainError("query.purpose_required", "请说明查询目的", "State the purpose of the query",
                          field="purpose", status=422)
    with db.read() as session:
        score = compute_one(session, catalog, subject_id, day)

    def log(session: Session) -> None:
        log_query(session, subject_id=subject_id, reader_kind=actor.kind if actor.kind in ("staff", "api_key") else "staff",
                  reader_name=actor.name, reader_department=actor.department_code, purpose=purpose,
                  basis=STAFF_BASIS, channel="api", detail={"read": "score", "model": score.model_id})
        store(session, subject_id, score, "read")

    db.write_grouped(log)
    return score


def stored_score(session: Session, subject_id: int) -> ScoreCurrent | None:
    return session.get(ScoreCurrent, subject_id)


# -- batch ---------------------------------------------------------------------------------------------


def write_frame(session: Session, frame: batch.ScoreFrame, source: str) -> None:
    """Bulk-insert the frame's rows (the caller removed the rows they replace)."""
    bulk = BulkWriter(session)
    model_id, as_of, computed_at = frame.model.id, bulk.date(frame.day), utcnow()
    codes = [b.code for b in frame.model.bands]
    bands = np.array(codes, dtype=object)[frame.bands.astype(np.int64)]
    dims_out = batch.dimension_json(frame)  # JSON text: SQLite stores it, COPY hands it to jsonb as is
    columns = ("subject_id", "model_id", "total", "band", "dimensions", "as_of", "computed_at", "source")
    if bulk.dialect == "postgresql":
        # One CSV text rendered by polars and streamed to COPY: adapting 1M rows value by value took 20 s.
        table = pl.DataFrame({"subject_id": frame.subject_ids, "model_id": [model_id] * len(frame),
                              "total": frame.totals, "band": bands.tolist(), "dimensions": dims_out,
                              "as_of": [frame.day.isoformat()] * len(frame), "computed_at": [computed_at.isoformat()] * len(frame),
                              "source": [source] * len(frame)})
        bulk.copy_csv("score_current", columns, table.write_csv(include_header=False).encode())
        return
    rows = list(zip(frame.subject_ids.tolist(), [model_id] * len(frame), frame.totals.tolist(), bands.tolist(),
                    dims_out, [as_of] * len(frame), [bulk.datetime(computed_at)] * len(frame), [source] * len(frame), strict=True))
    for start in range(0, len(rows), 100_000):
        bulk.insert("score_current", columns, rows[start:start + 100_000])


def histogram(model: PointsModel, totals: np.ndarray, bins: int = HIST_BINS) -> dict[str, list[int]]:
    edges = np.linspace(model.range_min, model.range_max, bins + 1).round().astype(np.int64)
    counts, _ = np.histogram(totals, bins=edges)
    return {"edges": edges.tolist(), "counts": counts.tolist()}


@dataclass(frozen=True)
class RecomputeResult:
    model_id: str
    subjects: int
    bands: dict[str, int]
    seconds: float
    run_id: int


def recompute(db: Database, catalog: Catalog, day: dt.date, *, actor: audit.Actor, model_id: str | None = None,
              progress: Callable[[int], None] | None = None) -> list[RecomputeResult]:
    """Recompute everyone in one transaction and one scan of the records: the model in force per subject
    kind, or only ``model_id`` (its family's stored rows are replaced)."""
    models = get_models(catalog)
    chosen = [model_for(catalog, "", day, model_id)] if model_id else [
        m for m in (models.in_force(k, day) for k in ("person", "organization")) if m is not None]
    out = []
    started = time.perf_counter()
    with db.write() as session:
        frames = batch.compute_many(session, chosen, catalog, day, progress=progress)
        for model in chosen:
            frame = frames[model.id]
            family_ids = [m.id for m in models.family(model.family)]
            session.execute(delete(ScoreCurrent).where(ScoreCurrent.model_id.in_(family_ids)))
            write_frame(session, frame, source="batch")
            seconds = time.perf_counter() - started
            bands = frame.band_counts()
            run = ScoreRun(kind="recompute", model_id=model.id, as_of=day, started_at=utcnow(), seconds=seconds,
                           subjects=len(frame), actor=actor.label,
                           summary={"bands": bands, "histogram": histogram(model, frame.totals),
                                    "mean": float(frame.totals.mean()) if len(frame) else None})
            session.add(run)
            session.flush()
            audit.write(session, actor=actor, action="scores.recompute", object_type="score_run", object_id=run.id,
                        detail={"model": model.id, "subjects": len(frame), "bands": bands})
            out.append(RecomputeResult(model.id, len(frame), bands, seconds, run.id))
    return out


def latest_run(session: Session, model_id: str) -> ScoreRun | None:
    return session.execute(
        select(ScoreRun).where(ScoreRun.model_id == model_id, ScoreRun.kind == "recompute")
        .order_by(ScoreRun.id.desc()).limit(1)
    ).scalar_one_or_none()


@dataclass(frozen=True)
class Distribution:
    model: PointsModel
    bands: dict[str, int]
    histogram: dict[str, list[int]]
    subjects: int
    as_of: dt.date | None
    svg: str


def distribution(session: Session, catalog: Catalog, subject_kind: str, day: dt.date) -> Distribution | None:
    """The current distribution of the model in force: from the last batch run (no scan per page view)."""
    model = get_models(catalog).in_force(subject_kind, day)
    if model is None:
        return None
    run = latest_run(session, model.id)
    if run is None:
        return Distribution(model, {b.code: 0 for b in model.bands}, {"edges": [], "counts": []}, 0, None, "")
    hist = run.summary.get("histogram", {"edges": [], "counts": []})
    svg = histogram_svg(model, hist["edges"], [("当前", hist["counts"])]) if hist["edges"] else ""
    return Distribution(model, dict(run.summary.get("bands", {})), hist, run.subjects, run.as_of, svg)


# -- governance: compare two versions ------------------------------------------------------------------


@dataclass(frozen=True)
class Mover:
    subject_id: int
    display_id: str  # masked (persons) — never the identifier in clear
    display_name: str
    old_total: int
    new_total: int
    old_band: str
    new_band: str

    @property
    def delta(self) -> int:
        return self.new_total - self.old_total


@dataclass(frozen=True)
class Comparison:
    old: PointsModel
    new: PointsModel
    day: dt.date
    subjects: int
    old_bands: dict[str, int]
    new_bands: dict[str, int]
    matrix: list[list[int]]  # [old band][new band], bands from the top
    movers: list[Mover]
    old_hist: dict[str, list[int]]
    new_hist: dict[str, list[int]]
    svg: str
    mean_delta: float
    run_id: int


def compare(db: Database, catalog: Catalog, old_id: str, new_id: str, day: dt.date, *, actor: audit.Actor,
            top: int = 20) -> Comparison:
    """How the distribution and bands would shift from ``old_id`` to ``new_id`` on ``day`` (nothing stored but the run)."""
    models = get_models(catalog)
    try:
        old, new = models.get(old_id), models.get(new_id)
    except KeyError as exc:
        raise NotFound("score.model_unknown", f"没有积分模型 {exc.args[0]}", f"No model {exc.args[0]}") from None
    if old.subject_kind is not new.subject_kind:
        raise DomainError("score.compare_kinds", "两个模型适用的主体类型不同", "The models score different subject kinds")
    if [b.code for b in old.bands] != [b.code for b in new.bands]:
        raise DomainError("score.compare_bands", "两个模型的等级不同，无法对照", "The models have different bands")
    started = time.perf_counter()
    with db.write() as session:
        both = batch.compute_many(session, [old, new], catalog, day)
        a, b = both[old.id], both[new.id]
        nb = len(old.bands)
        matrix = np.bincount(a.bands.astype(np.int64) * nb + b.bands.astype(np.int64), minlength=nb * nb).reshape(nb, nb)
        delta = b.totals - a.totals
        order = [int(i) for i in np.argsort(-np.abs(delta), kind="stable")[:top] if delta[i] != 0]
        subjects = {s.id: s for s in session.execute(
            select(Subject).where(Subject.id.in_([int(a.subject_ids[i]) for i in order]))).scalars()}
        movers = [Mover(int(a.subject_ids[i]), subjects[int(a.subject_ids[i])].display_id,
                        subjects[int(a.subject_ids[i])].display_name, int(a.totals[i]), int(b.totals[i]),
                        old.bands[a.bands[i]].code, new.bands[b.bands[i]].code) for i in order]
        lo, hi = min(old.range_min, new.range_min), max(old.range_max, new.range_max)
        edges = np.linspace(lo, hi, HIST_BINS + 1).round().astype(np.int64)
        old_hist = {"edges": edges.tolist(), "counts": np.histogram(a.totals, bins=edges)[0].tolist()}
        new_hist = {"edges": edges.tolist(), "counts": np.histogram(b.totals, bins=edges)[0].tolist()}
        svg = histogram_svg(new, old_hist["edges"], [(old.id, old_hist["counts"]), (new.id, new_hist["counts"])])
        mean_delta = float(delta.mean()) if len(delta) else 0.0
        run = ScoreRun(kind="compare", model_id=old.id, other_model_id=new.id, as_of=day, started_at=utcnow(),
                       seconds=time.perf_counter() - started, subjects=len(a), actor=actor.label,
                       summary={"old_bands": a.band_counts(), "new_bands": b.band_counts(),
                                "matrix": matrix.tolist(), "old_histogram": old_hist, "new_histogram": new_hist,
                                "mean_delta": mean_delta, "svg": svg})
        session.add(run)
        session.flush()
        audit.write(session, actor=actor, action="scores.compare", object_type="score_run", object_id=run.id,
                    detail={"old": old.id, "new": new.id, "subjects": len(a)})
        run_id = run.id
    return Comparison(old, new, day, len(a), a.band_counts(), b.band_counts(), matrix.tolist(), movers, old_hist,
                      new_hist, svg, mean_delta, run_id)


def latest_comparison(session: Session) -> ScoreRun | None:
    return session.execute(
        select(ScoreRun).where(ScoreRun.kind == "compare").order_by(ScoreRun.id.desc()).limit(1)
    ).scalar_one_or_none()


def band_names(model: PointsModel) -> dict[str, str]:
    return {b.code: b.name_zh for b in model.bands}


def subject_ids_with_scores(session: Session, ids: Sequence[int]) -> dict[int, ScoreCurrent]:
    return {r.subject_id: r for r in session.execute(
        select(ScoreCurrent).where(ScoreCurrent.subject_id.in_(list(ids)))).scalars()}
