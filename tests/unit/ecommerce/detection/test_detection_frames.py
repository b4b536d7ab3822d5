"""The detection frames' contract: what the validator refuses (naming the column), what it coerces."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chengxin.ecommerce.detection import frames as F

T = dt.datetime(2026, 10, 1, 8, 0, tzinfo=dt.UTC)


def _orders(**change: Any) -> pl.DataFrame:
    frame = F.orders_frame([{"order_id": 1, "shop_id": 10, "buyer_id": 100, "placed_at": T},
                            {"order_id": 2, "shop_id": 11, "buyer_id": 101, "placed_at": T}])
    return frame.with_columns(**change) if change else frame


def _ratings(**change: Any) -> pl.DataFrame:
    frame = F.ratings_frame([{"order_id": 1, "shop_id": 10, "buyer_id": 100, "value": "good", "stars": 5,
                              "rated_at": T, "delivered_at": T}])
    return frame.with_columns(**change) if change else frame


def _shipments(**change: Any) -> pl.DataFrame:
    frame = F.shipments_frame([{"order_id": 1, "shop_id": 10, "declared_weight_g": 900, "expected_weight_g": 800,
                                "shipped_at": T, "signed_at": T + dt.timedelta(days=2), "scan_count": 6,
                                "distance_km": 420.0}])
    return frame.with_columns(**change) if change else frame


CASES = [
    ("orders", lambda: _orders().drop("buyer_id"), "detection.frame.missing_column", "orders.buyer_id"),
    ("orders", lambda: _orders(placed_at=pl.col("placed_at").dt.replace_time_zone(None)),
     "detection.frame.naive_datetime", "orders.placed_at"),
    ("orders", lambda: _orders(shop_id=pl.lit(None, dtype=pl.Int64)), "detection.frame.null", "orders.shop_id"),
    ("orders", lambda: _orders(order_id=pl.lit(7, dtype=pl.Int64)), "detection.frame.duplicate_key", "orders.order_id"),
    ("orders", lambda: _orders(amount_cents=pl.lit(-5, dtype=pl.Int64)), "detection.frame.negative",
     "orders.amount_cents"),
    ("orders", lambda: _orders(buyer_id=pl.col("buyer_id").cast(pl.String)), "detection.frame.dtype", "orders.buyer_id"),
    ("ratings", lambda: _ratings(value=pl.lit(2, dtype=pl.Int8)), "detection.frame.domain", "ratings.value"),
    ("ratings", lambda: _ratings(stars=pl.lit(6, dtype=pl.Int8)), "detection.frame.domain", "ratings.stars"),
    ("ratings", lambda: _ratings(direction=pl.lit("buyer_to_buyer")), "detection.frame.domain", "ratings.direction"),
    ("ratings", lambda: pl.concat([_ratings(), _ratings()]), "detection.frame.duplicate_key",
     "ratings.order_id,direction"),
    ("shipments", lambda: _shipments(declared_weight_g=pl.lit(-1, dtype=pl.Int64)), "detection.frame.negative",
     "shipments.declared_weight_g"),
    ("shipments", lambda: _shipments(scan_count=pl.lit(None, dtype=pl.Int64)), "detection.frame.null",
     "shipments.scan_count"),
    ("shipments", lambda: _shipments(distance_km=pl.lit("far")), "detection.frame.dtype", "shipments.distance_km"),
]


@pytest.mark.parametrize(("kind", "build", "code", "field"), CASES, ids=[c[2] + ":" + c[3] for c in CASES])
def test_the_validator_refuses_with_a_code_and_the_column(kind: F.FrameKind, build: Any, code: str, field: str) -> None:
    with pytest.raises(F.FrameError) as err:
        F.validate(build(), kind)
    assert err.value.code == code and err.value.problem.field == field
    assert err.value.message and err.value.message_en  # Chinese and English


def test_lossless_coercions_and_the_contract_column_order() -> None:
    odd = _orders().with_columns(pl.col("placed_at").dt.convert_time_zone("Asia/Shanghai").dt.cast_time_unit("ns"),
                                 pl.col("shop_id").cast(pl.Int32), extra=pl.lit("dropped")).select(
        ["extra", *reversed(list(F.ORDERS))])
    out = F.validate(odd, "orders")
    assert out.columns == list(F.ORDERS) and out.schema["placed_at"] == pl.Datetime("us", "UTC")
    assert out.schema["shop_id"] == pl.Int64 and out["placed_at"].to_list() == [T, T]
    assert F.validate(_ratings(stars=pl.lit(None)), "ratings").schema["stars"] == pl.Int8  # an all-null column


def test_rows_builders_take_labels_and_refuse_unknown_columns() -> None:
    r = F.ratings_frame([{"order_id": 1, "shop_id": 1, "buyer_id": 1, "value": "bad", "rated_at": T},
                         {"order_id": 1, "shop_id": 1, "buyer_id": 1, "value": "neutral", "rated_at": T,
                          "direction": "shop_to_buyer"}])
    assert r["value"].to_list() == [-1, 0] and r["direction"].to_list() == ["buyer_to_shop", "shop_to_buyer"]
    with pytest.raises(F.FrameError, match="unknown_column"):
        F.orders_frame([{"shop_id": 1, "buyer_id": 1, "placed_at": T, "colour": "red"}])
    with pytest.raises(F.FrameError, match="naive_datetime"):
        F.orders_frame([{"shop_id": 1, "buyer_id": 1, "placed_at": dt.datetime(2026, 1, 1)}])
    assert F.empty("shipments").columns == list(F.SHIPMENTS)


_times = st.datetimes(dt.datetime(2020, 1, 1), dt.datetime(2030, 1, 1), timezones=st.just(dt.UTC))
_rating_rows = st.lists(st.fixed_dictionaries({
    "shop_id": st.integers(1, 50), "buyer_id": st.integers(1, 500), "value": st.sampled_from(["good", "neutral", "bad"]),
    "stars": st.none() | st.integers(1, 5), "text_hash": st.none() | st.text("0123456789abcdef", min_size=64,
                                                                               max_size=64),
    "rated_at": _times, "delivered_at": st.none() | _times,
    "direction": st.sampled_from(list(F.DIRECTIONS))}), max_size=30)


@settings(max_examples=50, deadline=None)
@given(rows=_rating_rows)
def test_valid_rows_round_trip(rows: list[dict[str, Any]]) -> None:
    rows = [r | {"order_id": n} for n, r in enumerate(rows, start=1)]
    frame = F.ratings_frame(rows)
    assert frame.height == len(rows)
    assert F.validate(frame, "ratings").equals(frame)  # validating again changes nothing


@settings(max_examples=50, deadline=None)
@given(rows=_rating_rows.filter(bool), column=st.sampled_from(list(F.RATINGS)), data=st.data())
def test_any_broken_column_is_named(rows: list[dict[str, Any]], column: str, data: st.DataObject) -> None:
    frame = F.ratings_frame([r | {"order_id": n} for n, r in enumerate(rows, start=1)])
    nullable = F.RATINGS[column][1]
    how = data.draw(st.sampled_from(["drop", "string"] + ([] if nullable else ["null"])))
    if how == "drop":
        broken = frame.drop(column)
    elif how == "null":
        broken = frame.with_columns(pl.lit(None, dtype=F.RATINGS[column][0]).alias(column))
    else:
        if F.RATINGS[column][0] == pl.String:  # a string column: break it with a number instead
            broken = frame.with_columns(pl.lit(1.5).alias(column))
        else:
            broken = frame.with_columns(pl.lit("x").alias(column))
    with pytest.raises(F.FrameError) as err:
        F.validate(broken, "ratings")
    assert err.value.problem.field == f"ratings.{column}"
