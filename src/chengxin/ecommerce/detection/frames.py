"""The detection frames (issue #7 contract): polars schemas, a validator, and builders from Python rows.

Three frames feed every detector; ``ecommerce.risk`` builds them from the trade tables, the marketplace
generator (:mod:`chengxin.ecommerce.marketgen`) builds them synthetically, and tests build them from rows:

* ``orders``    — one row per order (``order_id`` unique);
* ``ratings``   — one row per rating (``(order_id, direction)`` unique); ``value`` +1 good / 0 neutral /
  −1 bad, ``delivered_at`` is the shipment's ``signed_at``;
* ``shipments`` — one row per shipment (``order_id`` unique); ``expected_weight_g`` is the sum of the
  items' ``unit_weight_g × quantity``.

Hashes only, never clear personal data (电子商务法 Art. 31 keeps the data with the platform; we get
pseudonymous ids). :func:`validate` coerces what can be coerced without loss (narrower integers, another
datetime unit or time zone) and refuses the rest with a :class:`FrameError` naming the frame and column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import polars as pl

from chengxin.core.errors import DomainError

__all__ = [
    "DIRECTIONS",
    "FRAMES",
    "ORDERS",
    "RATINGS",
    "SHIPMENTS",
    "VALUE_OF",
    "FrameError",
    "FrameKind",
    "empty",
    "orders_frame",
    "ratings_frame",
    "shipments_frame",
    "validate",
]

FrameKind = Literal["orders", "ratings", "shipments"]

UTC_US = pl.Datetime("us", "UTC")

# column → (dtype, nullable)
ORDERS: dict[str, tuple[pl.DataType, bool]] = {
    "order_id": (pl.Int64(), False),
    "platform_id": (pl.Int64(), False),
    "shop_id": (pl.Int64(), False),
    "buyer_id": (pl.Int64(), False),
    "placed_at": (UTC_US, False),
    "amount_cents": (pl.Int64(), False),
    "address_hash": (pl.String(), True),
    "device_hash": (pl.String(), True),
    "payment_hash": (pl.String(), True),
}
RATINGS: dict[str, tuple[pl.DataType, bool]] = {
    "order_id": (pl.Int64(), False),
    "shop_id": (pl.Int64(), False),
    "buyer_id": (pl.Int64(), False),
    "direction": (pl.String(), False),
    "value": (pl.Int8(), False),
    "stars": (pl.Int8(), True),
    "text_hash": (pl.String(), True),
    "rated_at": (UTC_US, False),
    "delivered_at": (UTC_US, True),
}
SHIPMENTS: dict[str, tuple[pl.DataType, bool]] = {
    "order_id": (pl.Int64(), False),
    "shop_id": (pl.Int64(), False),
    "declared_weight_g": (pl.Int64(), True),
    "expected_weight_g": (pl.Int64(), True),
    "shipped_at": (UTC_US, True),
    "signed_at": (UTC_US, True),
    "scan_count": (pl.Int64(), False),
    "distance_km": (pl.Float64(), True),
}
FRAMES: dict[str, dict[str, tuple[pl.DataType, bool]]] = {"orders": ORDERS, "ratings": RATINGS,
                                                          "shipments": SHIPMENTS}
KEYS: dict[str, tuple[str, ...]] = {"orders": ("order_id",), "ratings": ("order_id", "direction"),
                                    "shipments": ("order_id",)}
_FRAME_ZH = {"orders": "订单", "ratings": "评价", "shipments": "物流"}

DIRECTIONS = ("buyer_to_shop", "shop_to_buyer")
VALUE_OF = {"good": 1, "neutral": 0, "bad": -1}  # 好评 +1 / 中评 0 / 差评 −1 (RULES §8, Taobao model)


class FrameError(DomainError):
    """A detection frame does not match the contract; ``field`` is ``"<frame>.<column>"``."""


def _error(frame: str, column: str | None, code: str, zh: str, en: str) -> FrameError:
    name = f"{frame}.{column}" if column else frame
    return FrameError(f"detection.frame.{code}", f"{_FRAME_ZH.get(frame, frame)}数据 {name}：{zh}",
                      f"{name}: {en}", field=name)


def _coerce(frame: str, column: str, series: pl.Series, want: pl.DataType) -> pl.Series:
    got = series.dtype
    if got == want:
        return series
    if got == pl.Null:
        return series.cast(want)
    if isinstance(want, pl.Datetime):
        if not isinstance(got, pl.Datetime):
            raise _error(frame, column, "dtype", f"应为带时区的时间（UTC），实为 {got}",
                         f"expected a time-zone aware datetime (UTC), got {got}")
        if got.time_zone is None:
            # a naive time could be Beijing or UTC: refusing is safer than guessing (8 hours off).
            raise _error(frame, column, "naive_datetime", "时间缺少时区，无法确定是否为 UTC",
                         "datetime has no time zone; cannot tell whether it is UTC")
        return series.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    if want.is_integer() and got.is_integer():
        try:
            return series.cast(want, strict=True)
        except pl.exceptions.InvalidOperationError as exc:
            raise _error(frame, column, "out_of_range", f"整数超出 {want} 的范围",
                         f"integer out of the range of {want}") from exc
    if want == pl.Float64 and (got.is_integer() or got.is_float()):
        return series.cast(pl.Float64)
    if want == pl.String and isinstance(got, pl.Categorical | pl.Enum):
        return series.cast(pl.String)
    raise _error(frame, column, "dtype", f"类型应为 {want}，实为 {got}", f"expected dtype {want}, got {got}")


def validate(frame: pl.DataFrame, kind: FrameKind) -> pl.DataFrame:
    """``frame`` checked against the contract of ``kind`` and returned with exactly the contract's columns,
    in order, with the contract's dtypes (lossless coercions applied; extra columns dropped).

    Raises :class:`FrameError` (code ``detection.frame.<problem>``, ``field`` = ``"<kind>.<column>"``) for
    a missing column, a dtype that cannot be coerced without loss, a naive datetime, a null in a required
    column, a duplicate key, or a value outside its domain (``value`` ∉ {−1, 0, 1}, ``stars`` ∉ 1..5,
    ``direction`` unknown, negative counts, weights or distances)."""
    if kind not in FRAMES:
        raise _error(str(kind), None, "unknown_frame", "未知的数据框", "unknown frame kind")
    schema = FRAMES[kind]
    columns: list[pl.Series] = []
    for name, (dtype, nullable) in schema.items():
        if name not in frame.columns:
            raise _error(kind, name, "missing_column", "缺少该列", "column is missing")
        series = _coerce(kind, name, frame.get_column(name), dtype)
        if not nullable and series.null_count():
            raise _error(kind, name, "null", f"有 {series.null_count()} 行为空，该列必填",
                         f"{series.null_count()} row(s) are null; the column is required")
        columns.append(series.alias(name))
    out = pl.DataFrame(columns)
    _check_domains(out, kind)
    key = list(KEYS[kind])
    # one integer key (order_id, and the direction as its last bit): n_unique on it is a hash count,
    # many times cheaper than checking a struct for duplicates
    code = pl.col("order_id") * 2 + (pl.col("direction") == "shop_to_buyer").cast(pl.Int64) if kind == "ratings" \
        else pl.col("order_id")
    if out.height and out.select(code.n_unique()).item() != out.height:
        raise _error(kind, key[0] if len(key) == 1 else ",".join(key), "duplicate_key",
                     f"{'+'.join(key)} 有重复", f"duplicate {'+'.join(key)}")
    return out


_DOMAINS: dict[str, list[tuple[str, pl.Expr, str, str, str]]] = {  # column, "is bad", code, zh, en
    "ratings": [
        ("value", ~pl.col("value").is_in([-1, 0, 1]), "domain", "行不是 1（好评）、0（中评）或 -1（差评）",
         "row(s) are not 1 (good), 0 (neutral) or -1 (bad)"),
        ("stars", ~pl.col("stars").is_between(1, 5), "domain", "行星级不在 1–5 之间", "row(s) have stars outside 1..5"),
        ("direction", ~pl.col("direction").is_in(list(DIRECTIONS)), "domain",
         f"行评价方向不是 {'/'.join(DIRECTIONS)}", f"row(s) have a direction other than {'/'.join(DIRECTIONS)}"),
    ],
    "shipments": [(col, pl.col(col) < 0, "negative", "行为负数", "row(s) are negative")
                  for col in ("declared_weight_g", "expected_weight_g", "scan_count", "distance_km")],
    "orders": [("amount_cents", pl.col("amount_cents") < 0, "negative", "行金额为负数", "row(s) have a negative amount")],
}


def _check_domains(out: pl.DataFrame, kind: str) -> None:
    rules = _DOMAINS.get(kind, [])
    if not rules or not out.height:
        return
    counts = out.select([expr.fill_null(False).sum().alias(str(i)) for i, (_, expr, *_rest) in enumerate(rules)])
    for i, (column, _, code, zh, en) in enumerate(rules):
        n = int(counts.item(0, str(i)))
        if n:
            raise _error(kind, column, code, f"{n} {zh}", f"{n} {en}")


def empty(kind: FrameKind) -> pl.DataFrame:
    """An empty frame of ``kind`` with the contract's schema."""
    return pl.DataFrame(schema={name: dtype for name, (dtype, _) in FRAMES[kind].items()})


def _as_utc(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        raise _error("rows", None, "naive_datetime", "时间缺少时区", "datetime has no time zone")
    return value.astimezone(dt.UTC) if isinstance(value, dt.datetime) else value


def _from_rows(kind: FrameKind, rows: Iterable[Mapping[str, Any]], defaults: Mapping[str, Any]) -> pl.DataFrame:
    schema = FRAMES[kind]
    data: dict[str, list[Any]] = {name: [] for name in schema}
    for row in rows:
        unknown = set(row) - set(schema)
        if unknown:
            raise _error(kind, sorted(unknown)[0], "unknown_column", "不是该数据框的列",
                         "is not a column of this frame")
        for name in schema:
            value = row[name] if name in row else defaults.get(name)
            data[name].append(_as_utc(value))
    frame = pl.DataFrame({name: pl.Series(name, values, dtype=schema[name][0], strict=False)
                          for name, values in data.items()})
    return validate(frame, kind)


def orders_frame(rows: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """An ``orders`` frame from dicts (tests, small tools). Defaults: ``platform_id`` 1, ``amount_cents``
    1000, hashes null; ``order_id`` defaults to the row's position (from 1)."""
    rows = [dict(r) if "order_id" in r else {**r, "order_id": n} for n, r in enumerate(rows, start=1)]
    return _from_rows("orders", rows, {"platform_id": 1, "amount_cents": 1000})


def ratings_frame(rows: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """A ``ratings`` frame from dicts. ``value`` may be ``'good'|'neutral'|'bad'`` or −1/0/1;
    ``direction`` defaults to ``'buyer_to_shop'``."""
    fixed = []
    for row in rows:
        r = dict(row)
        if isinstance(r.get("value"), str):
            label = r["value"]
            if label not in VALUE_OF:
                raise _error("ratings", "value", "domain", f"未知的评价值 {label!r}", f"unknown rating value {label!r}")
            r["value"] = VALUE_OF[label]
        fixed.append(r)
    return _from_rows("ratings", fixed, {"direction": "buyer_to_shop"})


def shipments_frame(rows: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """A ``shipments`` frame from dicts; ``scan_count`` defaults to 0."""
    return _from_rows("shipments", rows, {"scan_count": 0})
