"""Files platforms upload: shops, orders and ratings as JSON Lines or CSV (UTF-8 or GBK), read through the
records ingest's streaming reader (``records.fileio.open_rows``: format from content, encodings, Chinese or
English headers, row numbers as the clerk sees them).

JSON Lines carry an order's ``items`` (a list) and ``shipment`` (an object) nested. CSV is flat, as platforms
export it: one line per order item (``item_*`` columns), consecutive lines with the same ``source_order_id``
being one order; the shipment in ``shipment_*`` columns. :func:`order_rows` turns either into the nested
form the parser takes, so both reach ``rules.parse_order`` alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from chengxin.catalog.model import Column, FieldType
from chengxin.core.errors import Problem
from chengxin.records.fileio import RowSource, SourceRow, open_rows

__all__ = ["KINDS", "columns_for", "open_kind", "order_rows"]

_S, _T, _I, _D = FieldType.STRING, FieldType.TEXT, FieldType.INTEGER, FieldType.DECIMAL


def _col(code: str, zh: str, kind: FieldType = _S, required: bool = False) -> Column:
    return Column(code=code, label_zh=zh, label_en=code.replace("_", " "), required=required, type=kind)


SHOP_COLUMNS: Final = (
    _col("shop_code", "店铺编号", required=True), _col("name", "店铺名称", required=True), _col("url", "店铺网址"),
    _col("owner_ric", "经营者公民身份号码"), _col("owner_uscc", "经营者统一社会信用代码"),
    _col("owner_name", "经营者名称", required=True), _col("licence_no", "营业执照号码"),
    _col("category", "经营类目", required=True), _col("opened_on", "开店日期", FieldType.DATE, required=True),
    _col("status", "店铺状态"),
)
_ITEM: Final = (
    _col("item_gtin", "商品条码"), _col("item_name", "商品名称"), _col("item_quantity", "数量", _I),
    _col("item_unit_price", "单价", _D), _col("item_unit_weight_g", "单件重量克", _I),
)
_SHIPMENT: Final = (
    _col("shipment_logistics_uscc", "物流企业统一社会信用代码"), _col("shipment_tracking_hash", "运单号哈希"),
    _col("shipment_declared_weight_g", "申报重量克", _I), _col("shipment_shipped_at", "发货时间"),
    _col("shipment_signed_at", "签收时间"), _col("shipment_scan_count", "物流扫描次数", _I),
    _col("shipment_distance_km", "运输距离公里", _D),
)
ORDER_COLUMNS: Final = (
    _col("source_order_id", "订单编号", required=True), _col("shop_code", "店铺编号", required=True),
    _col("buyer_account_hash", "买家账号哈希", required=True), _col("amount", "订单金额", _D, required=True),
    _col("placed_at", "下单时间", required=True), _col("status", "订单状态", required=True),
    _col("address_hash", "收货地址哈希"), _col("device_hash", "设备哈希"), _col("payment_hash", "支付账户哈希"),
    _col("items", "商品明细", _T), _col("shipment", "物流信息", _T), *_ITEM, *_SHIPMENT,
)
RATING_COLUMNS: Final = (
    _col("source_rating_id", "评价编号", required=True), _col("source_order_id", "订单编号", required=True),
    _col("direction", "评价方向", required=True), _col("value", "评价结果", required=True),
    _col("stars", "星级", _I), _col("text", "评价内容", _T), _col("rated_at", "评价时间", required=True),
    _col("follow_up_text", "追加评价内容", _T), _col("follow_up_at", "追加评价时间"),
)
KINDS: Final = {"shops": SHOP_COLUMNS, "orders": ORDER_COLUMNS, "ratings": RATING_COLUMNS}


def columns_for(kind: str) -> tuple[Column, ...]:
    return KINDS[kind]


def open_kind(path: Path, kind: str, *, max_bytes: int | None, filename: str | None = None) -> RowSource:
    """Open a file of ``kind`` (shops | orders | ratings); raises ``FileRejected`` for an unreadable file."""
    return open_rows(path, KINDS[kind], max_bytes=max_bytes, filename=filename)


@dataclass(slots=True)
class _Pending:
    row: SourceRow
    flat: bool


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _nest(row: SourceRow) -> _Pending:
    """Move the flat ``item_*`` / ``shipment_*`` values of a row into ``items`` / ``shipment``."""
    values = dict(row.values)
    item = {k.removeprefix("item_"): values.pop(k) for k in list(values) if k.startswith("item_")}
    shipment = {k.removeprefix("shipment_"): values.pop(k) for k in list(values) if k.startswith("shipment_")}
    flat = any(not _blank(v) for v in item.values())
    if flat:
        if not _blank(values.get("items")):
            row.problems.append(Problem("items.both_forms", "同一行不能同时填写“商品明细”（items）和 item_* 列",
                                        "Give items either nested or as item_* columns, not both", field="items"))
        values["items"] = [{k: v for k, v in item.items() if not _blank(v)}]
    elif _blank(values.get("items")):
        values.pop("items", None)
    if any(not _blank(v) for v in shipment.values()):
        values["shipment"] = {k: v for k, v in shipment.items() if not _blank(v)}
    elif _blank(values.get("shipment")):
        values.pop("shipment", None)
    for key in [k for k, v in values.items() if _blank(v)]:
        del values[key]  # a blank CSV cell is an absent value
    return _Pending(SourceRow(row.row_no, values, list(row.problems)), flat)


def order_rows(rows: Iterator[SourceRow] | RowSource) -> Iterator[SourceRow]:
    """Orders from file rows: a flat line continuing the order of the line before (same ``source_order_id``)
    adds its item to that order; the order keeps the first line's number and other values."""
    pending: _Pending | None = None
    for row in rows:
        current = _nest(row)
        if (pending is not None and pending.flat and current.flat
                and current.row.values.get("source_order_id") == pending.row.values.get("source_order_id")):
            items = pending.row.values["items"]
            assert isinstance(items, list)
            items.extend(current.row.values["items"])  # type: ignore[arg-type]
            pending.row.problems.extend(current.row.problems)
            continue
        if pending is not None:
            yield pending.row
        pending = current
    if pending is not None:
        yield pending.row


def plain_rows(rows: Iterator[SourceRow] | RowSource) -> Iterator[SourceRow]:
    """Shops and ratings: blank cells dropped (absent), nothing else changed."""
    for row in rows:
        yield SourceRow(row.row_no, {k: v for k, v in row.values.items() if not _blank(v)}, list(row.problems))
