"""The vectorised scoring of many subjects: SQL aggregation, then polars/numpy, then a bulk write.

1. SQL (both engines): the records that can count — active, display not stopped, not held, of an item
   the model scores — aggregated per (subject, item, severity, decision date) with their count. The
   decision date *is* the age bucket: decay steps and display ends are per day, so a coarser bucket
   would make the batch disagree with the per-subject rules on boundary days.
   Quantity items (志愿服务时长, 捐赠金额) come from a second query, one row per record with its quantity.
2. polars: each row finds its weight window (``rules.record_weight_windows``: item, severity,
   decision-date range → weight, raw points, dimension) by an as-of join; contributions are rounded
   per record exactly as ``rules.contribution`` does, times the count.
3. numpy: sums per (subject, dimension) with ``bincount``, caps, base, range, bands by ``searchsorted``;
   list memberships (few subjects) are applied to their rows.

The result is a :class:`ScoreFrame` (arrays); ``service`` writes it with the bulk paths. The same
function scores a chosen set of subjects (the on-change path for large ingest batches).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import polars as pl
from sqlalchemy.orm import Session

from chengxin.catalog.model import Catalog
from chengxin.scores.model import PointsModel
from chengxin.scores.rules import (
    Membership,
    combine,
    current_memberships,
    membership_from_status,
    record_weight_windows,
)

FETCH = 200_000


@dataclass
class ScoreFrame:
    """Scores of many subjects under one model: parallel arrays, ordered by subject id."""

    model: PointsModel
    day: dt.date
    subject_ids: np.ndarray  # int64
    totals: np.ndarray  # int64
    bands: np.ndarray  # int8: index into model.bands (0 = top)
    dims: np.ndarray  # int64 [subjects × dimensions], clipped

    def __len__(self) -> int:
        return int(self.subject_ids.shape[0])

    def band_counts(self) -> dict[str, int]:
        counts = np.bincount(self.bands.astype(np.int64), minlength=len(self.model.bands))
        return {b.code: int(n) for b, n in zip(self.model.bands, counts, strict=True)}


def _raw(session: Session) -> Any:
    raw = session.connection().connection.driver_connection
    assert raw is not None
    return raw


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _rows(session: Session, sql: str, params: Sequence[Any]) -> Any:
    """Rows of a raw query in chunks (the driver's own tuples: no ORM, no per-row processing)."""
    raw = _raw(session)
    if _dialect(session) == "postgresql":
        sql = sql.replace("?", "%s")
    cur = raw.cursor()
    try:
        cur.execute(sql, tuple(params))
        while chunk := cur.fetchmany(FETCH):
            yield chunk
    finally:
        cur.close()


def _in_list(session: Session, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    if _dialect(session) == "postgresql":
        return f"{column} = ANY(?)", [list(values)]
    return f"{column} IN ({', '.join('?' * len(values))})", list(values)


def subject_ids_of_kind(session: Session, kind: str, only: Sequence[int] | None = None) -> np.ndarray:
    if only is not None:
        out: list[int] = []
        for start in range(0, len(only), 900):
            cond, params = _in_list(session, "id", only[start:start + 900])
            for chunk in _rows(session, f"SELECT id FROM subject WHERE kind = ? AND {cond}", [kind, *params]):
                out.extend(r[0] for r in chunk)
        return np.array(sorted(out), dtype=np.int64)
    # One text of ids from the database instead of a million tuples (see _aggregate_sql).
    agg = "group_concat(id)" if _dialect(session) == "sqlite" else "string_agg(id::text, ',')"
    text = next(_rows(session, f"SELECT {agg} FROM subject WHERE kind = ?", [kind]))[0][0]
    if not text:
        return np.zeros(0, dtype=np.int64)
    return np.sort(np.array(text.split(","), dtype=np.int64))


_RECORD_SCHEMA = {"subject_id": pl.Int64, "item": pl.String, "sev": pl.String, "d": pl.String}
_QTY_SCHEMA = {"subject_id": pl.Int64, "item": pl.String, "sev": pl.String, "d": pl.String, "q": pl.String}
ID_RANGE = 250_000  # record ids per aggregated chunk (one string of ~10 MB from the database)


def _filters(session: Session, items: Sequence[str], day: dt.date) -> tuple[str, list[Any]]:
    sqlite = _dialect(session) == "sqlite"
    day_param: Any = day.isoformat() if sqlite else day
    cond_items, p_items = _in_list(session, "r.item_code", list(items))
    where = (f"r.status = 'active' AND {cond_items} "
             "AND (r.display_stopped_on IS NULL OR r.display_stopped_on > ?) "
             "AND (r.display_from IS NULL OR r.display_from <= ?) AND r.decision_date <= ?")
    return where, [*p_items, day_param, day_param, day_param]


def _aggregate_sql(session: Session, columns: list[str]) -> str:
    """One text per chunk: the rows as CSV lines, concatenated by the database (group_concat / string_agg).

    The aggregate without GROUP BY needs no sort; the driver hands over one string per chunk instead of
    250,000 tuples, and polars' CSV reader parses it column-wise."""
    if _dialect(session) == "sqlite":
        return "group_concat(" + " || ',' || ".join(columns) + ", char(10))"
    return "string_agg(" + " || ',' || ".join(f"({c})::text" for c in columns) + ", chr(10))"


def _parse(text: str | None, schema: dict[str, Any]) -> pl.DataFrame:
    if not text:
        return pl.DataFrame(schema=schema)
    return pl.read_csv(io.StringIO(text), has_header=False, new_columns=list(schema), schema_overrides=schema)


def _chunks(session: Session, sql: str, params: list[Any], subjects: Sequence[int] | None,
            schema: dict[str, Any], progress: Callable[[int], None] | None) -> pl.DataFrame:
    """Run ``sql`` (with a ``{range}`` placeholder) over id ranges of ``record``, or over slices of the subjects."""
    frames: list[pl.DataFrame] = []
    if subjects is None:
        bounds = next(_rows(session, "SELECT min(id), max(id) FROM record", []))[0]
        ranges: list[tuple[str, list[Any]]] = []
        if bounds[0] is not None:
            ranges = [("r.id BETWEEN ? AND ?", [a, a + ID_RANGE - 1])
                      for a in range(int(bounds[0]), int(bounds[1]) + 1, ID_RANGE)]
    else:
        ranges = [_in_list(session, "r.subject_id", list(subjects[i:i + 800])) for i in range(0, len(subjects), 800)]
    for cond, extra in ranges:
        for chunk in _rows(session, sql.replace("{range}", cond), [*extra, *params]):
            frame = _parse(chunk[0][0], schema)
            frames.append(frame)
            if progress:
                progress(frame.height)
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


def load_rows(session: Session, items: Sequence[str], qty_fields: dict[str, str], day: dt.date,
              subjects: Sequence[int] | None = None,
              progress: Callable[[int], None] | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(record rows, quantity rows) of the records of ``items`` that can count on ``day``: one scan for
    every model. ``qty_fields``: item → the field holding its quantity (those rows come with it)."""
    sqlite = _dialect(session) == "sqlite"
    flat = sorted(set(items) - set(qty_fields))
    records = pl.DataFrame(schema=_RECORD_SCHEMA)
    if flat:
        where, params = _filters(session, flat, day)
        agg = _aggregate_sql(session, ["r.subject_id", "r.item_code", "coalesce(r.severity, '')", "r.decision_date"])
        records = _chunks(session, f"SELECT {agg} FROM record r WHERE {{range}} AND {where}", params, subjects,
                          _RECORD_SCHEMA, progress)
    qty_frames: list[pl.DataFrame] = []
    for code, name in sorted(qty_fields.items()):
        where, params = _filters(session, [code], day)
        value = (f"coalesce(CAST(json_extract(v.fields, '$.{name}') AS TEXT), '')" if sqlite
                 else f"coalesce(v.fields ->> '{name}', '')")
        agg = _aggregate_sql(session, ["r.subject_id", "r.item_code", "coalesce(r.severity, '')", "r.decision_date",
                                       value])
        qty_frames.append(_chunks(
            session, f"SELECT {agg} FROM record r JOIN record_version v ON v.id = r.version_id "
                     f"WHERE {{range}} AND {where}", params, subjects, _QTY_SCHEMA, progress))
    quantities = pl.concat(qty_frames) if qty_frames else pl.DataFrame(schema=_QTY_SCHEMA)
    return records, quantities


def load_memberships(session: Session, subjects: Sequence[int] | None = None) -> dict[int, list[Membership]]:
    out: dict[int, list[Membership]] = {}
    sql = "SELECT subject_id, memberships FROM subject_list_status"
    params: list[Any] = []
    if subjects is not None:
        cond, params = _in_list(session, "subject_id", list(subjects))
        sql += f" WHERE {cond}"
    for chunk in _rows(session, sql, params):
        for subject_id, raw in chunk:
            doc = orjson.loads(raw) if isinstance(raw, str | bytes) else raw
            out[int(subject_id)] = [membership_from_status(m) for m in doc or []]
    return out


def _round_half_away(num: np.ndarray, den: int) -> np.ndarray:
    q = (2 * np.abs(num) + den) // (2 * den)
    out: np.ndarray = np.where(num >= 0, q, -q)
    return out


def contributions(model: PointsModel, catalog: Catalog, day: dt.date, records: pl.DataFrame,
                  quantities: pl.DataFrame) -> pl.DataFrame:
    """Rows (subject_id, dim, points): every counting record's rounded contribution (times its count)."""
    windows = record_weight_windows(model, catalog, day)
    dim_index = {d.code: i for i, d in enumerate(model.dimensions)}
    has_sev = {code: any(v.severities for v in catalog.item(code).versions) for code in model.items}
    win = pl.DataFrame(
        {
            "item": [w.item_code for w in windows],
            "key": [(w.severity or "") if has_sev[w.item_code] else "" for w in windows],
            "lo": [w.decided_from for w in windows],
            "hi": [w.decided_to for w in windows],
            "w": [w.weight_milli for w in windows],
            "raw": [w.raw if w.raw is not None else 0 for w in windows],
            "dim": [dim_index[w.dimension] for w in windows],
        },
        schema={"item": pl.String, "key": pl.String, "lo": pl.Date, "hi": pl.Date, "w": pl.Int64, "raw": pl.Int64,
                "dim": pl.Int64},
    ).sort("lo")
    sev_items = [code for code, flag in has_sev.items() if flag]

    def windowed(frame: pl.DataFrame) -> pl.DataFrame:
        frame = frame.with_columns(
            d=pl.col("d").str.slice(0, 10).str.to_date("%Y-%m-%d"),
            key=pl.when(pl.col("item").is_in(sev_items)).then(pl.col("sev").fill_null("~")).otherwise(pl.lit("")),
        ).sort("d")
        joined = frame.join_asof(win, left_on="d", right_on="lo", by=["item", "key"], strategy="backward",
                                 check_sortedness=False)  # both sides sorted on the date above
        return joined.filter(pl.col("w").is_not_null() & (pl.col("d") <= pl.col("hi")))

    out = []
    if records.height:
        j = windowed(records)
        pts = _round_half_away(j["raw"].to_numpy() * j["w"].to_numpy(), 1000)
        out.append(pl.DataFrame({"subject_id": j["subject_id"], "dim": j["dim"], "points": pts}))
    if quantities.height:
        j = windowed(quantities)
        per_unit = {code: rule.per_unit for code, rule in model.items.items() if rule.per_unit is not None}
        scale = {code: 10 ** u.scale for code, u in per_unit.items()}
        unit_minor = {code: int(u.unit * 10 ** u.scale) for code, u in per_unit.items()}
        points = {code: u.points for code, u in per_unit.items()}
        j = j.with_columns(
            qm=(pl.col("q").cast(pl.Float64, strict=False).fill_null(0.0)
                * pl.col("item").replace_strict(scale, return_dtype=pl.Float64)).round(0).cast(pl.Int64),
            um=pl.col("item").replace_strict(unit_minor, return_dtype=pl.Int64),
            pp=pl.col("item").replace_strict(points, return_dtype=pl.Int64),
        )
        qm = np.maximum(j["qm"].to_numpy(), 0)
        raw = (qm // j["um"].to_numpy()) * j["pp"].to_numpy()
        pts = _round_half_away(raw * j["w"].to_numpy(), 1000)
        out.append(pl.DataFrame({"subject_id": j["subject_id"], "dim": j["dim"], "points": pts}))
    if not out:
        return pl.DataFrame(schema={"subject_id": pl.Int64, "dim": pl.Int64, "points": pl.Int64})
    return pl.concat(out)


def score_frame(model: PointsModel, day: dt.date, subject_ids: np.ndarray,
                contrib: pl.DataFrame, memberships: dict[int, list[Membership]]) -> ScoreFrame:
    """Totals and bands of ``subject_ids`` (sorted) from their contributions and memberships."""
    n, d = len(subject_ids), len(model.dimensions)
    sums = np.zeros(n * d, dtype=np.int64)
    if contrib.height:
        sid = contrib["subject_id"].to_numpy()
        idx = np.searchsorted(subject_ids, sid)
        idx_ok = idx < n
        idx_ok[idx_ok] &= subject_ids[idx[idx_ok]] == sid[idx_ok]
        flat = idx[idx_ok] * d + contrib["dim"].to_numpy()[idx_ok]
        # bincount sums in float64: exact for integers below 2**53 (points are a few thousand at most).
        weights = contrib["points"].to_numpy()[idx_ok].astype(np.float64)
        sums = np.rint(np.bincount(flat, weights=weights, minlength=n * d)).astype(np.int64)
    raw = sums.reshape(n, d)
    listed: dict[int, list[str]] = {}
    for subject_id, members in memberships.items():
        i = int(np.searchsorted(subject_ids, subject_id))
        if i >= n or subject_ids[i] != subject_id:
            continue
        kinds = [m.list_kind for m in current_memberships(members, day)]
        if not kinds:
            continue
        listed[i] = kinds
        for kind in kinds:
            rule = model.memberships.get(kind)
            if rule is not None and rule.points and rule.dimension is not None:
                raw[i, model.dimension_index(rule.dimension)] += rule.points
    lows = np.array([x.min for x in model.dimensions], dtype=np.int64)
    highs = np.array([x.max for x in model.dimensions], dtype=np.int64)
    dims = np.clip(raw, lows, highs)
    totals = np.clip(model.base + dims.sum(axis=1), model.range_min, model.range_max)
    mins = np.array([b.min for b in reversed(model.bands)], dtype=np.int64)  # ascending
    ranks = (len(model.bands) - np.searchsorted(mins, totals, side="right")).astype(np.int8)
    for i, kinds in listed.items():
        _, _, _, band, _ = combine(model, [int(x) for x in raw[i]], kinds)
        ranks[i] = model.band_rank(band.code)
    return ScoreFrame(model, day, subject_ids, totals.astype(np.int64), ranks, dims)


def compute(session: Session, model: PointsModel, catalog: Catalog, day: dt.date,
            subjects: Sequence[int] | None = None, progress: Callable[[int], None] | None = None) -> ScoreFrame:
    """Score every subject of the model's kind (or the given ones) on ``day``."""
    return compute_many(session, [model], catalog, day, subjects, progress)[model.id]


def compute_many(session: Session, models: Sequence[PointsModel], catalog: Catalog, day: dt.date,
                 subjects: Sequence[int] | None = None,
                 progress: Callable[[int], None] | None = None) -> dict[str, ScoreFrame]:
    """Score the subjects of every model's kind under it, from ONE scan of the records."""
    ids = {m.id: subject_ids_of_kind(session, m.subject_kind.value, subjects) for m in models}
    if subjects is not None:
        subjects = sorted({int(x) for a in ids.values() for x in a})
    items = sorted({code for m in models for code in m.items})
    qty_fields: dict[str, str] = {}
    for m in models:
        for code, rule in m.items.items():
            if rule.per_unit is not None:
                if qty_fields.setdefault(code, rule.per_unit.field) != rule.per_unit.field:
                    raise ValueError(f"models read different quantity fields of {code}")
    if subjects is not None and not subjects:
        records, quantities = pl.DataFrame(schema=_RECORD_SCHEMA), pl.DataFrame(schema=_QTY_SCHEMA)
    else:
        records, quantities = load_rows(session, items, qty_fields, day, subjects, progress)
    memberships = load_memberships(session, subjects)
    out = {}
    for m in models:
        mine = pl.Series("ids", ids[m.id])
        codes = sorted(m.items)
        r = records.filter(pl.col("item").is_in(codes) & pl.col("subject_id").is_in(mine.implode()))
        q = quantities.filter(pl.col("item").is_in(codes) & pl.col("subject_id").is_in(mine.implode()))
        contrib = contributions(m, catalog, day, r, q)
        out[m.id] = score_frame(m, day, ids[m.id], contrib, memberships)
    return out


def dimension_json(frame: ScoreFrame) -> list[str]:
    """``{"law": -40, …}`` per subject, built column-wise (no per-row dict)."""
    codes = [d.code for d in frame.model.dimensions]
    df = pl.DataFrame({c: frame.dims[:, i] for i, c in enumerate(codes)})
    parts: list[Any] = []
    for i, c in enumerate(codes):
        parts.append(pl.lit(("{" if i == 0 else ",") + f'"{c}":'))
        parts.append(pl.col(c).cast(pl.String))
    parts.append(pl.lit("}"))
    return df.select(pl.concat_str(parts).alias("j"))["j"].to_list()
