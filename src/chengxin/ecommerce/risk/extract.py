"""The detection frames (issue #7 contract, ``ecommerce.detection.frames``) read from the trade tables.

Columnar and chunked, so a detection run scales to millions of orders: the orders of the window are read
in ranges of order ids (``ORDER_RANGE`` ids a query), with the driver's own cursor (no ORM object per row),
each chunk turned into a polars frame at once. Times come as epoch microseconds from PostgreSQL and as
SQLite's stored text (naive UTC), parsed column-wise by polars. Ratings and shipments are read by the same
order-id ranges (their indexes start with ``order_id``), so every rating and shipment in the frames belongs
to an order in the orders frame (the two are joined to it in polars, not row by row in SQL). ``expected_weight_g`` is the sum of the items' ``unit_weight_g × quantity``
when every item has a weight, else null (an unknown weight is not a light parcel).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from chengxin.ecommerce.detection.frames import empty, validate
from chengxin.scores.batch import _rows  # the driver-cursor reader in chunks (no ORM, no per-row processing)

__all__ = ["ORDER_RANGE", "Frames", "read_frames"]

ORDER_RANGE = 200_000  # order ids per query
UTC_US = pl.Datetime("us", "UTC")


@dataclass(frozen=True)
class Frames:
    orders: pl.DataFrame
    ratings: pl.DataFrame
    shipments: pl.DataFrame


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _ts(session: Session, column: str) -> str:
    """A timestamp column as the driver should hand it over: epoch µs (PostgreSQL) or stored text (SQLite)."""
    if _dialect(session) == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM {column}) * 1000000 AS BIGINT)"
    return column


def _param(session: Session, value: dt.datetime) -> Any:
    """A UTC time as a raw query parameter (SQLite keeps SQLAlchemy's naive-UTC text form)."""
    if _dialect(session) == "sqlite":
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _times(session: Session, frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    if _dialect(session) == "postgresql":
        return frame.with_columns(pl.col(c).cast(pl.Int64).cast(UTC_US) for c in columns)
    return frame.with_columns(pl.col(c).cast(pl.String).str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_zone="UTC",
                                                                         time_unit="us") for c in columns)


def _frame(session: Session, sql: str, params: Sequence[Any], schema: list[tuple[str, Any]],
           times: Sequence[str]) -> Iterator[pl.DataFrame]:
    raw_schema = [(name, pl.String if name in times and _dialect(session) == "sqlite" else
                   pl.Int64 if name in times else dtype) for name, dtype in schema]
    for chunk in _rows(session, sql, params):
        yield _times(session, pl.DataFrame(chunk, schema=raw_schema, orient="row"), times)


_ORDERS = [("order_id", pl.Int64), ("platform_id", pl.Int64), ("shop_id", pl.Int64), ("buyer_id", pl.Int64),
           ("placed_at", pl.Int64), ("amount_cents", pl.Int64), ("address_hash", pl.String),
           ("device_hash", pl.String), ("payment_hash", pl.String)]
_RATINGS = [("order_id", pl.Int64), ("shop_id", pl.Int64), ("buyer_id", pl.Int64), ("direction", pl.String),
            ("value", pl.Int8), ("stars", pl.Int8), ("text_hash", pl.String), ("rated_at", pl.Int64),
            ("delivered_at", pl.Int64)]
_SHIPMENTS = [("order_id", pl.Int64), ("shop_id", pl.Int64), ("declared_weight_g", pl.Int64),
              ("expected_weight_g", pl.Int64), ("shipped_at", pl.Int64), ("signed_at", pl.Int64),
              ("scan_count", pl.Int64), ("distance_km", pl.Float64)]


def read_frames(session: Session, *, since: dt.datetime, until: dt.datetime,
                progress: Callable[[int], None] | None = None) -> Frames:
    """The three frames of the orders placed in [``since``, ``until``], validated against the contract."""
    lo, hi = session.connection().exec_driver_sql("SELECT min(id), max(id) FROM ec_order").one()
    window = [_param(session, since), _param(session, until)]
    orders: list[pl.DataFrame] = []
    ratings: list[pl.DataFrame] = []
    shipments: list[pl.DataFrame] = []
    if lo is not None:
        for start in range(int(lo), int(hi) + 1, ORDER_RANGE):
            ids = [start, start + ORDER_RANGE - 1]
            chunk_orders = list(_frame(session, (
                f"SELECT o.id, o.platform_id, o.shop_id, o.buyer_account_id, {_ts(session, 'o.placed_at')}, "
                "o.amount_cents, o.address_hash, o.device_hash, o.payment_hash FROM ec_order o "
                "WHERE o.id BETWEEN ? AND ? AND o.placed_at >= ? AND o.placed_at <= ?"),
                [*ids, *window], _ORDERS, ["placed_at"]))
            if not chunk_orders:
                continue
            orders.extend(chunk_orders)
            if progress:
                progress(sum(f.height for f in chunk_orders))
            in_window = pl.concat([f.select("order_id") for f in chunk_orders])
            shop_of = pl.concat([f.select("order_id", "shop_id") for f in chunk_orders])
            # Shipments of the window's orders, each with its order's shop (joined here, not per row in SQL).
            chunk_ships = [f.join(shop_of, on="order_id").select([c for c, _ in _SHIPMENTS]) for f in _frame(session, (
                "SELECT s.order_id, s.declared_weight_g, w.expected, "
                f"{_ts(session, 's.shipped_at')}, {_ts(session, 's.signed_at')}, s.scan_count, s.distance_km "
                "FROM ec_shipment s LEFT JOIN ("
                "  SELECT order_id, CASE WHEN count(unit_weight_g) = count(*) "
                "    THEN sum(unit_weight_g * quantity) END AS expected "
                "  FROM ec_order_item WHERE order_id BETWEEN ? AND ? GROUP BY order_id) w ON w.order_id = s.order_id "
                "WHERE s.order_id BETWEEN ? AND ?"), [*ids, *ids], [x for x in _SHIPMENTS if x[0] != "shop_id"],
                ["shipped_at", "signed_at"])]
            shipments.extend(chunk_ships)
            # Ratings by the same order-id range (their unique index starts with order_id), kept for the orders
            # of the window and given the shipment's signing time here rather than by two joins per row.
            signed = (pl.concat([f.select("order_id", pl.col("signed_at").alias("delivered_at")) for f in chunk_ships])
                      if chunk_ships else pl.DataFrame(schema={"order_id": pl.Int64, "delivered_at": UTC_US}))
            for f in _frame(session, (
                    "SELECT r.order_id, r.shop_id, r.buyer_account_id, r.direction, "
                    "CASE r.value WHEN 'good' THEN 1 WHEN 'bad' THEN -1 ELSE 0 END, r.stars, r.text_hash, "
                    f"{_ts(session, 'r.rated_at')} FROM ec_rating r WHERE r.order_id BETWEEN ? AND ?"),
                    ids, _RATINGS[:-1], ["rated_at"]):
                ratings.append(f.join(in_window, on="order_id", how="semi").join(signed, on="order_id", how="left"))

    def whole(parts: list[pl.DataFrame], kind: Any) -> pl.DataFrame:
        return validate(pl.concat(parts, how="vertical"), kind) if parts else empty(kind)

    return Frames(whole(orders, "orders"), whole(ratings, "ratings"), whole(shipments, "shipments"))
