"""Files platforms upload: shops, orders and ratings as JSON Lines, CSV (UTF-8 or GBK) or Excel (.xlsx), read
through the records ingest's streaming reader (``records.fileio.open_rows``: format from content, encodings,
Chinese or English headers, row numbers as the clerk sees them). :func:`write_kind_template` writes the Excel
template of each kind with the records template's writer (``records.fileio.write_template``).

JSON Lines carry an order's ``items`` (a list) and ``shipment`` (an object) nested. CSV and xlsx are flat, as
platforms export them: one line per order item (``item_*`` columns), consecutive lines with the same
``source_order_id`` being one order; the shipment in ``shipment_*`` columns. :func:`order_rows` turns either
into the nested form the parser takes, so all reach ``rules.parse_order`` alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from chengxin.catalog.model import Column, EnumOption, FieldType
from chengxin.core.errors import Problem
from chengxin.ecommerce.trade import rules
from chengxin.records.fileio import RowSource, SourceRow, open_rows, write_template

__all__ = ["KINDS", "TEMPLATE_TITLES", "columns_for", "open_kind", "order_rows", "template_columns", "write_kind_template"]

_S, _T, _I, _D, _E = FieldType.STRING, FieldType.TEXT, FieldType.INTEGER, FieldType.DECIMAL, FieldType.ENUM
_TIME_HELP = "北京时间，如 2026-03-01 10:30:00；也可填带时区的 ISO 8601（2026-03-01T02:30:00Z）"
_HASH_HELP = "SHA-256 的 64 位十六进制小写字符串；不得填写明文个人信息"


def _col(code: str, zh: str, kind: FieldType = _S, required: bool = False, help_zh: str = "",
         labels: dict[str, str] | None = None) -> Column:
    """A column of the platforms' files; ``labels`` (code → Chinese) make it a drop-down in the Excel template
    (the parsers take either form, ``rules.*_ZH``)."""
    options = tuple(EnumOption(code_, zh_, code_) for code_, zh_ in (labels or {}).items())
    return Column(code=code, label_zh=zh, label_en=code.replace("_", " "), required=required, type=kind,
                  help_zh=help_zh, options=options)


SHOP_COLUMNS: Final = (
    _col("shop_code", "店铺编号", required=True, help_zh="平台内唯一的店铺编号，用于网址和后续订单"),
    _col("name", "店铺名称", required=True), _col("url", "店铺网址", help_zh="以 https:// 开头"),
    _col("owner_ric", "经营者公民身份号码", FieldType.RIC, help_zh="经营者为自然人时填写；与统一社会信用代码二选一"),
    _col("owner_uscc", "经营者统一社会信用代码", FieldType.USCC, help_zh="经营者为单位时填写；与公民身份号码二选一"),
    _col("owner_name", "经营者名称", required=True, help_zh="实名：自然人姓名或单位名称"),
    _col("licence_no", "营业执照号码"), _col("category", "经营类目", required=True),
    _col("opened_on", "开店日期", FieldType.DATE, required=True),
    _col("status", "店铺状态", _E, help_zh="不填为营业中", labels=rules.SHOP_STATUS_ZH),
)
_ITEM: Final = (
    _col("item_gtin", "商品条码", FieldType.GTIN, help_zh="GTIN/EAN 商品条码（如有）"), _col("item_name", "商品名称"),
    _col("item_quantity", "数量", _I), _col("item_unit_price", "单价", _D, help_zh="元，如 99.00"),
    _col("item_unit_weight_g", "单件重量克", _I),
)
_SHIPMENT: Final = (
    _col("shipment_logistics_uscc", "物流企业统一社会信用代码", FieldType.USCC),
    _col("shipment_tracking_hash", "运单号哈希", help_zh=_HASH_HELP),
    _col("shipment_declared_weight_g", "申报重量克", _I), _col("shipment_shipped_at", "发货时间", help_zh=_TIME_HELP),
    _col("shipment_signed_at", "签收时间", help_zh=_TIME_HELP), _col("shipment_scan_count", "物流扫描次数", _I),
    _col("shipment_distance_km", "运输距离公里", _D),
)
ORDER_COLUMNS: Final = (
    _col("source_order_id", "订单编号", required=True, help_zh="平台内唯一；一单多件商品时，连续多行填写同一订单编号"),
    _col("shop_code", "店铺编号", required=True),
    _col("buyer_account_hash", "买家账号哈希", required=True, help_zh=_HASH_HELP),
    _col("amount", "订单金额", _D, required=True, help_zh="元，如 199.00"),
    _col("placed_at", "下单时间", required=True, help_zh=_TIME_HELP),
    _col("status", "订单状态", _E, required=True, labels=rules.ORDER_STATUS_ZH),
    _col("address_hash", "收货地址哈希", help_zh=_HASH_HELP), _col("device_hash", "设备哈希", help_zh=_HASH_HELP),
    _col("payment_hash", "支付账户哈希", help_zh=_HASH_HELP),
    _col("items", "商品明细", _T), _col("shipment", "物流信息", _T), *_ITEM, *_SHIPMENT,
)
RATING_COLUMNS: Final = (
    _col("source_rating_id", "评价编号", required=True), _col("source_order_id", "订单编号", required=True),
    _col("direction", "评价方向", _E, required=True, labels=rules.DIRECTION_ZH),
    _col("value", "评价结果", _E, required=True, labels=rules.RATING_VALUE_ZH),
    _col("stars", "星级", _I, help_zh="1 至 5（可不填）"), _col("text", "评价内容", _T),
    _col("rated_at", "评价时间", required=True, help_zh=_TIME_HELP),
    _col("follow_up_text", "追加评价内容", _T, help_zh="追加评价须在规则允许的期限内，且与追加评价时间同时填写"),
    _col("follow_up_at", "追加评价时间", help_zh=_TIME_HELP),
)
KINDS: Final = {"shops": SHOP_COLUMNS, "orders": ORDER_COLUMNS, "ratings": RATING_COLUMNS}
# The nested JSON cells of an order (``items``, ``shipment``) are for JSON Lines and CSV exports; a spreadsheet
# gives them flat (item_* / shipment_* columns, one row per item), so the Excel template leaves them out.
_NESTED: Final = frozenset({"items", "shipment"})
TEMPLATE_TITLES: Final = {"shops": "电商平台店铺信息报送模板（shops）", "orders": "电商平台订单报送模板（orders）",
                          "ratings": "电商平台信用互评报送模板（ratings）"}
_TEMPLATE_NOTES: Final = {
    "shops": ("每行一家店铺；店铺编号相同的行是对同一店铺信息的更新。",
              "经营者为自然人填“经营者公民身份号码”，为单位填“经营者统一社会信用代码”，二者只填其一。"),
    "orders": ("每行一件商品：一个订单有多件商品时，连续多行填写相同的订单编号，订单信息以第一行为准。",
               "买家账号、收货地址、设备、支付账户、运单号只报送哈希值（SHA-256），不得报送明文个人信息。"),
    "ratings": ("每行一条评价；同一订单的买家评价店铺、店铺评价买家各占一行。",
                "追加评价须在评价后规则允许的期限内，同时填写追加评价内容和时间。"),
}
_UPLOAD_NOTE: Final = ("填好后上传：POST /api/v1/ecommerce/files（平台密钥，kind={kind}），"
                       "或 chengxin ecommerce ingest 文件 --platform 平台代码 --kind {kind}；回执列出被拒绝的行号和字段。")


def template_columns(kind: str) -> tuple[Column, ...]:
    """The columns of ``kind``'s Excel template (no nested JSON cells)."""
    return tuple(c for c in KINDS[kind] if c.code not in _NESTED)


def write_kind_template(kind: str, out: BinaryIO | Path) -> None:
    """The Excel template of ``kind`` (shops | orders | ratings): the records template's writer
    (``records.fileio.write_template``: Chinese headers, each with its code in a note, a 说明 sheet with the
    English names and codes), read back by :func:`open_kind`."""
    write_template(template_columns(kind), out, title_zh=TEMPLATE_TITLES[kind],
                   notes=(*_TEMPLATE_NOTES[kind], _UPLOAD_NOTE.format(kind=kind)))


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
