"""Pure rules of e-commerce trade: the row parsers of shops, orders and ratings, the follow-up review rules,
the rating points (信用互评积分), the good-rating rate, and the decision a badge link's verification shows.

No database, no clock: ``now`` / ``today`` and the rules in force are passed in. A parser returns the
parsed row or the list of every problem it found (each with field, code, Chinese and English message),
so a platform fixes a row in one round trip.

Personal data never comes in clear (电子商务法 Art. 31 keeps transaction data with the platform; we get
keyed hashes): every ``*_hash`` field must be 64 hexadecimal characters, and a value that looks like a
phone number, an ID number, an e-mail or a name is refused with ``hash.clear_personal_data``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from chengxin.catalog.rules import CONTROL_CHARS
from chengxin.core.clock import CHINA
from chengxin.core.errors import DomainError, Problem
from chengxin.core.identifiers import normalize_gtin, normalize_ric, normalize_uscc
from chengxin.ecommerce.trade.params import DIRECTIONS, RATING_VALUES, PointsRules, TradeRules, trade_rules_on

__all__ = [
    "BADGE_STATUS_ZH", "DIRECTIONS", "DIRECTION_ZH", "FieldProblem", "ORDER_STATUSES", "ORDER_STATUS_ZH", "RATING_VALUES",
    "RATING_VALUE_ZH", "SHOP_STATUSES", "SHOP_STATUS_ZH", "ItemRow", "OrderRow",
    "RatingFact", "RatingRow", "ShipmentRow", "ShopRow", "badge_message", "badge_status", "decode_signature",
    "encode_signature", "follow_up_change_problem", "good_rate", "normalise_text", "pair_points", "parse_hash",
    "parse_order", "parse_rating", "parse_shop", "period_of", "points", "text_hash",
]

SHOP_STATUSES = ("open", "suspended", "closed")
ORDER_STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled", "refunded")
# The Chinese labels of the codes: the Excel template's drop-down lists offer them, and the parsers take
# either form (a spreadsheet filled in Chinese reads the same as a JSON push in codes).
SHOP_STATUS_ZH = {"open": "营业中", "suspended": "暂停经营", "closed": "已关闭"}
ORDER_STATUS_ZH = {"placed": "已下单", "paid": "已付款", "shipped": "已发货", "delivered": "已签收",
                   "cancelled": "已取消", "refunded": "已退款"}
DIRECTION_ZH = {"buyer_to_shop": "买家评价店铺", "shop_to_buyer": "店铺评价买家"}
RATING_VALUE_ZH = {"good": "好评", "neutral": "中评", "bad": "差评"}

MAX_ID = 64  # source ids, shop codes, licence numbers
MAX_NAME = 200
MAX_CATEGORY = 64
MAX_URL = 500
MAX_TEXT = 2000
MAX_ITEMS = 500
MAX_CENTS = 10**13  # ¥100 billion: beyond any single order
MAX_QUANTITY = 1_000_000
MAX_WEIGHT_G = 100_000_000  # 100 t
MAX_SCANS = 10_000
MAX_DISTANCE_KM = 50_000.0
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
CLOCK_SKEW = dt.timedelta(minutes=10)  # a platform's clock may run a little ahead of ours

SHOP_FIELDS = frozenset({"shop_code", "name", "url", "owner_ric", "owner_uscc", "owner_name", "licence_no", "category",
                         "opened_on", "status"})
ORDER_FIELDS = frozenset({"source_order_id", "shop_code", "buyer_account_hash", "amount", "placed_at", "status",
                          "address_hash", "device_hash", "payment_hash", "items", "shipment"})
ITEM_FIELDS = frozenset({"gtin", "name", "quantity", "unit_price", "unit_weight_g"})
SHIPMENT_FIELDS = frozenset({"logistics_uscc", "tracking_hash", "declared_weight_g", "shipped_at", "signed_at",
                             "scan_count", "distance_km"})
RATING_FIELDS = frozenset({"source_rating_id", "source_order_id", "direction", "value", "stars", "text", "rated_at",
                           "follow_up_text", "follow_up_at"})



def _aliases(labels: Mapping[str, str]) -> dict[str, str]:
    """Code or Chinese label → code."""
    return {**{code: code for code in labels}, **{zh: code for code, zh in labels.items()}}


_VALUE_ALIASES = _aliases(RATING_VALUE_ZH)
_SHOP_STATUS_ALIASES = _aliases(SHOP_STATUS_ZH)
_ORDER_STATUS_ALIASES = _aliases(ORDER_STATUS_ZH)
_DIRECTION_ALIASES = _aliases(DIRECTION_ZH)
_HASH = re.compile(r"[0-9a-f]{64}")
# Not inside a longer run of letters and digits: a malformed hex hash is "invalid", not "personal data".
_PHONE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?![0-9A-Za-z])")
_RIC_LIKE = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_HAN = re.compile(r"[\u3400-\u9fff]")
_URL = re.compile(r"https?://[^\s]+", re.IGNORECASE)
_SURROGATES = re.compile("[\ud800-\udfff]")
_SPACES = re.compile(r"\s+")
_SHOP_CODE = re.compile(r"[^\s/?#%\\]+")


class FieldProblem(DomainError):
    """One problem with one field: collected by the row parsers, raised (400) by single-value callers."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.code, problem.message, problem.message_en, field=problem.field)


def _fail(code: str, field: str, zh: str, en: str) -> FieldProblem:
    return FieldProblem(Problem(code=code, message=zh, message_en=en, field=field))


class _Collector:
    """Runs field parsers, keeping every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def take(self, parse: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return parse(*args, **kwargs)
        except FieldProblem as bad:
            self.problems.append(bad.problem)
            return None


# -- field parsers -------------------------------------------------------------------------------------


def _str(raw: object) -> str:
    """``str`` of a value, but a huge JSON integer (Python refuses to print more than 4,300 digits) is a
    short stand-in that no check accepts."""
    if isinstance(raw, int) and not isinstance(raw, bool) and raw.bit_length() > 256:
        return f"<{raw.bit_length()}-bit integer>"
    return str(raw)


def _present(raw: object) -> bool:
    return raw is not None and not (isinstance(raw, str) and not raw.strip())


def _text(raw: object, field: str, *, max_len: int, required: bool, one_line: bool = True) -> str | None:
    """Text of at most ``max_len`` characters, no control characters; numbers are taken as their digits."""
    if not _present(raw):
        if required:
            raise _fail("field.required", field, f"“{field}”为必填项", f"{field} is required")
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int) or (isinstance(raw, int) and raw.bit_length() > 64):
        raise _fail("field.type", field, f"“{field}”应为文本", f"{field} must be text")
    text = _str(raw).strip()
    if one_line:
        text = _SPACES.sub(" ", text)
    if CONTROL_CHARS.search(text) or _SURROGATES.search(text):
        raise _fail("field.control_chars", field, f"“{field}”含有不可见的控制字符", f"{field} contains control characters")
    if len(text) > max_len:
        raise _fail("field.too_long", field, f"“{field}”不能超过 {max_len} 个字符（实为 {len(text)}）",
                    f"{field} is longer than {max_len} characters ({len(text)})")
    return text


def _looks_personal(text: str) -> bool:
    return bool(_PHONE.search(text) or _RIC_LIKE.search(text) or _EMAIL.search(text) or _HAN.search(text))


def parse_hash(raw: object, field: str, *, required: bool) -> str | None:
    """A keyed hash from the platform: exactly 64 hexadecimal characters (case-insensitive, kept lower case).

    Anything else is refused; a value that looks like clear personal data (a phone number, an ID number,
    an e-mail address, Chinese characters such as a name or an address) gets its own code so the platform
    sees at once that it sent what must never leave it (个人信息保护法 Arts. 6, 51)."""
    if not _present(raw):
        if required:
            raise _fail("field.required", field, f"“{field}”为必填项（64 位十六进制哈希）", f"{field} is required (64 hex)")
        return None
    text = _str(raw).strip() if isinstance(raw, str | int) and not isinstance(raw, bool) else ""
    lowered = text.lower()
    if _HASH.fullmatch(lowered):
        return lowered
    if text and _looks_personal(text):
        raise _fail("hash.clear_personal_data", field,
                    f"“{field}”看起来是明文个人信息（手机号、身份证号、邮箱、姓名或地址）；只接受平台以自有密钥计算的 64 位十六进制哈希",
                    f"{field} looks like clear personal data; only a 64-hex keyed hash is accepted")
    raise _fail("hash.invalid", field, f"“{field}”应为 64 位十六进制哈希值（SHA-256/HMAC-SHA256）",
                f"{field} must be 64 hexadecimal characters")


def _cents(raw: object, field: str, *, required: bool = True) -> int | None:
    """An amount in yuan (元) with at most two decimals, 0 ≤ amount ≤ 10^11, as integer cents."""
    if not _present(raw):
        if required:
            raise _fail("field.required", field, f"“{field}”为必填项（金额，元）", f"{field} is required (yuan)")
        return None
    if isinstance(raw, bool):
        raise _fail("amount.invalid", field, f"“{field}”应为金额（元，最多两位小数）", f"{field} must be an amount in yuan")
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise _fail("amount.invalid", field, f"“{field}”应为金额（元，最多两位小数）", f"{field} must be an amount")
        text = repr(raw)
    elif isinstance(raw, int | str):
        text = _str(raw).strip().replace(",", "").removeprefix("¥").removeprefix("￥")
    else:
        raise _fail("amount.invalid", field, f"“{field}”应为金额（元，最多两位小数）", f"{field} must be an amount")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _fail("amount.invalid", field, f"“{field}”应为金额（元，最多两位小数），实为“{text[:20]}”",
                    f"{field} must be an amount in yuan, got {text[:20]!r}") from None
    if not value.is_finite():
        raise _fail("amount.invalid", field, f"“{field}”应为金额（元，最多两位小数）", f"{field} must be an amount")
    cents = value * 100
    if cents != cents.to_integral_value():
        raise _fail("amount.precision", field, f"“{field}”最多两位小数（分）", f"{field} has more than two decimals")
    if value < 0 or cents > MAX_CENTS:
        raise _fail("amount.range", field, f"“{field}”应在 0 至 {MAX_CENTS // 100} 元之间",
                    f"{field} must be between 0 and {MAX_CENTS // 100} yuan")
    return int(cents)


def _int(raw: object, field: str, *, lo: int, hi: int, required: bool) -> int | None:
    if not _present(raw):
        if required:
            raise _fail("field.required", field, f"“{field}”为必填项", f"{field} is required")
        return None
    value: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, float) and raw.is_integer():
        value = int(raw)
    elif isinstance(raw, str) and re.fullmatch(r"[+-]?\d{1,18}", raw.strip()):
        value = int(raw.strip())
    if value is None:
        raise _fail("int.invalid", field, f"“{field}”应为整数", f"{field} must be an integer")
    if not lo <= value <= hi:
        raise _fail("int.range", field, f"“{field}”应在 {lo} 至 {hi} 之间（实为 {value}）",
                    f"{field} must be between {lo} and {hi} ({value})")
    return value


def _float(raw: object, field: str, *, lo: float, hi: float) -> float | None:
    if not _present(raw):
        return None
    try:
        value = float(raw.strip()) if isinstance(raw, str) else float(raw) if isinstance(raw, int | float) \
            and not isinstance(raw, bool) else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise _fail("number.invalid", field, f"“{field}”应为数值", f"{field} must be a number")
    if not lo <= value <= hi:
        raise _fail("number.range", field, f"“{field}”应在 {lo:g} 至 {hi:g} 之间", f"{field} must be in {lo:g}..{hi:g}")
    return value


def _datetime(raw: object, field: str, *, now: dt.datetime, required: bool) -> dt.datetime | None:
    """ISO 8601 date-time; without an offset it is Beijing time. Not before 2000, not in the future."""
    if not _present(raw):
        if required:
            raise _fail("field.required", field, f"“{field}”为必填项（日期时间）", f"{field} is required (date-time)")
        return None
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, str):
        text = raw.strip().replace("Z", "+00:00").replace("z", "+00:00")
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise _fail("datetime.invalid", field, f"“{field}”应为日期时间，如 2026-03-01T10:30:00+08:00",
                        f"{field} must be an ISO 8601 date-time") from None
    else:
        raise _fail("datetime.invalid", field, f"“{field}”应为日期时间，如 2026-03-01T10:30:00+08:00",
                    f"{field} must be an ISO 8601 date-time")
    if value.tzinfo is None:
        value = value.replace(tzinfo=CHINA)  # platforms in Changzhou write Beijing time
    try:
        value = value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise _fail("datetime.invalid", field, f"“{field}”不是有效的日期时间", f"{field} is not a valid date-time") from None
    if value < EARLIEST:
        raise _fail("datetime.range", field, f"“{field}”早于 2000 年", f"{field} is before 2000")
    if value > now + CLOCK_SKEW:
        raise _fail("datetime.future", field, f"“{field}”晚于当前时间", f"{field} is in the future")
    return value


def _date(raw: object, field: str, *, today: dt.date, required: bool) -> dt.date | None:
    if not _present(raw):
        if required:
            raise _fail("field.required", field, f"“{field}”为必填项（日期）", f"{field} is required (date)")
        return None
    if isinstance(raw, dt.datetime):
        value = raw.date()
    elif isinstance(raw, dt.date):
        value = raw
    elif isinstance(raw, str):
        try:
            value = dt.date.fromisoformat(raw.strip())
        except ValueError:
            raise _fail("date.invalid", field, f"“{field}”应为日期，如 2024-05-01", f"{field} must be a date YYYY-MM-DD") \
                from None
    else:
        raise _fail("date.invalid", field, f"“{field}”应为日期，如 2024-05-01", f"{field} must be a date YYYY-MM-DD")
    if value.year < 1990:
        raise _fail("date.range", field, f"“{field}”早于 1990 年", f"{field} is before 1990")
    if value > today:
        raise _fail("date.future", field, f"“{field}”晚于今天", f"{field} is in the future")
    return value


def _enum(raw: object, field: str, options: Mapping[str, str], *, default: str | None = None) -> str:
    if not _present(raw):
        if default is not None:
            return default
        raise _fail("field.required", field, f"“{field}”为必填项", f"{field} is required")
    key = _str(raw).strip()
    value = options.get(key) or options.get(key.lower())
    if value is None:
        shown = "、".join(sorted(set(options.values())))
        raise _fail("enum.invalid", field, f"“{field}”只能是：{shown}（实为“{key[:20]}”）",
                    f"{field} must be one of {sorted(set(options.values()))}, got {key[:20]!r}")
    return value


def _url(raw: object, field: str) -> str | None:
    text = _text(raw, field, max_len=MAX_URL, required=False)
    if text is not None and not _URL.fullmatch(text):
        raise _fail("url.invalid", field, f"“{field}”应为 http:// 或 https:// 开头的网址", f"{field} must be an http(s) URL")
    return text


def _unknown_keys(values: Mapping[str, object], known: frozenset[str], where: str = "") -> list[Problem]:
    extra = sorted(k for k in values if k not in known)
    if not extra:
        return []
    names = ", ".join(str(k)[:40] for k in extra[:10])
    return [Problem("field.unknown", f"{where}含有不认识的字段：{names}（字段名请见接口文档）",
                    f"{where or 'row'}: unknown fields {names}", field=str(extra[0])[:64])]


def _canonical(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


# -- shops ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShopRow:
    """A shop as a platform registers it (实名登记): the owner's identifier normalised, not yet encrypted."""

    row_no: int
    shop_code: str
    name: str
    url: str | None
    owner_kind: str  # person | organization
    owner_identifier: str  # normalised citizen ID or USCC (encrypted by the service for persons)
    owner_name: str
    licence_no: str | None
    category: str
    opened_on: dt.date
    status: str


def parse_shop(values: Mapping[str, object], *, row_no: int, today: dt.date,
               read_problems: Iterable[Problem] = ()) -> ShopRow | list[Problem]:
    """One shop row, or every problem of it. The owner is named by exactly one of ``owner_ric`` (a person,
    GB 11643) and ``owner_uscc`` (an organisation, GB 32100), with ``owner_name`` (实名)."""
    c = _Collector()
    c.problems.extend(read_problems)
    c.problems.extend(_unknown_keys(values, SHOP_FIELDS))
    shop_code = c.take(_shop_code, values.get("shop_code"))
    name = c.take(_text, values.get("name"), "name", max_len=MAX_NAME, required=True)
    url = c.take(_url, values.get("url"), "url")
    owner_name = c.take(_text, values.get("owner_name"), "owner_name", max_len=MAX_NAME, required=True)
    licence_no = c.take(_text, values.get("licence_no"), "licence_no", max_len=MAX_ID, required=False)
    category = c.take(_text, values.get("category"), "category", max_len=MAX_CATEGORY, required=True)
    opened_on = c.take(_date, values.get("opened_on"), "opened_on", today=today, required=True)
    status = c.take(_enum, values.get("status"), "status", _SHOP_STATUS_ALIASES, default="open")
    ric, uscc = values.get("owner_ric"), values.get("owner_uscc")
    owner: tuple[str, str] | None = None
    if _present(ric) == _present(uscc):
        c.problems.append(Problem("owner.one_identifier", "店铺经营者须且只须填写一个证件号：自然人填 owner_ric（公民身份号码），"
                                  "单位填 owner_uscc（统一社会信用代码）",
                                  "Give exactly one of owner_ric (a person) and owner_uscc (an organisation)",
                                  field="owner_ric"))
    else:
        owner = c.take(_owner, ric, uscc)
    if c.problems:
        return c.problems
    assert owner is not None
    return ShopRow(row_no, shop_code, name, url, owner[0], owner[1], owner_name, licence_no, category, opened_on, status)


def _shop_code(raw: object) -> str | None:
    """The platform's shop id: it becomes part of the public address /shops/{platform}/{shop}, so no spaces
    and none of / ? # % \\."""
    code = _text(raw, "shop_code", max_len=MAX_ID, required=True)
    if code is not None and not _SHOP_CODE.fullmatch(code):
        raise _fail("shop_code.invalid", "shop_code", "店铺编号不能含空格或 / ? # % \\ 等字符",
                    "shop_code may not contain spaces or / ? # % \\")
    return code


def _owner(ric: object, uscc: object) -> tuple[str, str]:
    field = "owner_ric" if _present(ric) else "owner_uscc"
    raw = ric if _present(ric) else uscc
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise _fail("field.type", field, f"“{field}”应为文本", f"{field} must be text")
    try:
        if field == "owner_ric":
            return "person", normalize_ric(_str(raw))
        return "organization", normalize_uscc(_str(raw))
    except DomainError as exc:
        raise FieldProblem(Problem(exc.code, exc.message, exc.message_en, field=field)) from None


# -- orders --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemRow:
    line_no: int
    gtin: str | None
    name: str
    quantity: int
    unit_price_cents: int
    unit_weight_g: int | None


@dataclass(frozen=True, slots=True)
class ShipmentRow:
    logistics_uscc: str | None
    tracking_hash: str
    declared_weight_g: int | None
    shipped_at: dt.datetime
    signed_at: dt.datetime | None
    scan_count: int
    distance_km: float | None


@dataclass(frozen=True, slots=True)
class OrderRow:
    row_no: int
    source_order_id: str
    shop_code: str
    buyer_account_hash: str
    amount_cents: int
    placed_at: dt.datetime
    status: str
    address_hash: str | None
    device_hash: str | None
    payment_hash: str | None
    items: tuple[ItemRow, ...]
    shipment: ShipmentRow | None
    content_hash: str = field(default="", compare=False)

    @property
    def period(self) -> str:
        return period_of(self.placed_at)


def _items(raw: object) -> tuple[ItemRow, ...]:
    if not isinstance(raw, list) or not raw:
        raise _fail("items.required", "items", "订单须至少有一项商品（items）", "An order needs at least one item")
    if len(raw) > MAX_ITEMS:
        raise _fail("items.too_many", "items", f"一笔订单最多 {MAX_ITEMS} 项商品", f"At most {MAX_ITEMS} items")
    out: list[ItemRow] = []
    c = _Collector()
    for line_no, entry in enumerate(raw, start=1):
        where = f"items[{line_no}]"
        if not isinstance(entry, dict):
            c.problems.append(Problem("items.not_object", f"第 {line_no} 项商品应为对象", f"{where} must be an object",
                                      field=where))
            continue
        c.problems.extend(_unknown_keys(entry, ITEM_FIELDS, f"第 {line_no} 项商品"))
        gtin = c.take(_gtin, entry.get("gtin"), f"{where}.gtin")
        name = c.take(_text, entry.get("name"), f"{where}.name", max_len=MAX_NAME, required=True)
        qty = c.take(_int, entry.get("quantity"), f"{where}.quantity", lo=1, hi=MAX_QUANTITY,
                                                   required=True)
        price = c.take(_cents, entry.get("unit_price"), f"{where}.unit_price")
        weight = c.take(_int, entry.get("unit_weight_g"), f"{where}.unit_weight_g", lo=0,
                                                      hi=MAX_WEIGHT_G, required=False)
        if name is not None and qty is not None and price is not None:
            out.append(ItemRow(line_no, gtin, name, qty, price, weight))
    if c.problems:
        raise _Many(c.problems)
    return tuple(out)


class _Many(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(len(problems))
        self.problems = problems


def _gtin(raw: object, field: str) -> str | None:
    if not _present(raw):
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise _fail("gtin.format", field, "商品条码（GTIN）应为数字", "GTIN must be digits")
    try:
        return normalize_gtin(_str(raw))
    except DomainError as exc:
        raise FieldProblem(Problem(exc.code, exc.message, exc.message_en, field=field)) from None


def _shipment(raw: object, placed_at: dt.datetime | None, now: dt.datetime) -> ShipmentRow | None:
    if raw is None or raw == {}:
        return None
    if not isinstance(raw, dict):
        raise _fail("shipment.not_object", "shipment", "shipment 应为对象", "shipment must be an object")
    c = _Collector()
    c.problems.extend(_unknown_keys(raw, SHIPMENT_FIELDS, "物流信息"))
    uscc = c.take(_logistics, raw.get("logistics_uscc"))
    tracking = c.take(parse_hash, raw.get("tracking_hash"), "shipment.tracking_hash", required=True)
    declared = c.take(_int, raw.get("declared_weight_g"), "shipment.declared_weight_g", lo=0, hi=MAX_WEIGHT_G,
                                   required=False)
    shipped = c.take(_datetime, raw.get("shipped_at"), "shipment.shipped_at", now=now, required=True)
    signed = c.take(_datetime, raw.get("signed_at"), "shipment.signed_at", now=now, required=False)
    scans = c.take(_int, raw.get("scan_count"), "shipment.scan_count", lo=0, hi=MAX_SCANS, required=False)
    distance = c.take(_float, raw.get("distance_km"), "shipment.distance_km", lo=0.0, hi=MAX_DISTANCE_KM)
    if shipped is not None and placed_at is not None and shipped < placed_at:
        c.problems.append(Problem("shipment.before_order", "发货时间早于下单时间", "shipped_at is before placed_at",
                                  field="shipment.shipped_at"))
    if shipped is not None and signed is not None and signed < shipped:
        c.problems.append(Problem("shipment.signed_before_shipped", "签收时间早于发货时间", "signed_at is before shipped_at",
                                  field="shipment.signed_at"))
    if c.problems:
        raise _Many(c.problems)
    return ShipmentRow(uscc, tracking, declared, shipped, signed, scans or 0, distance)


def _logistics(raw: object) -> str | None:
    if not _present(raw):
        return None
    try:
        return normalize_uscc(_str(raw))
    except DomainError as exc:
        raise FieldProblem(Problem(exc.code, exc.message, exc.message_en, field="shipment.logistics_uscc")) from None


def parse_order(values: Mapping[str, object], *, row_no: int, now: dt.datetime,
                read_problems: Iterable[Problem] = ()) -> OrderRow | list[Problem]:
    """One order with its items and optional shipment, or every problem of it."""
    c = _Collector()
    c.problems.extend(read_problems)
    c.problems.extend(_unknown_keys(values, ORDER_FIELDS))
    source_id = c.take(_text, values.get("source_order_id"), "source_order_id", max_len=MAX_ID, required=True)
    shop_code = c.take(_text, values.get("shop_code"), "shop_code", max_len=MAX_ID, required=True)
    buyer = c.take(parse_hash, values.get("buyer_account_hash"), "buyer_account_hash", required=True)
    amount = c.take(_cents, values.get("amount"), "amount")
    placed_at = c.take(_datetime, values.get("placed_at"), "placed_at", now=now, required=True)
    status = c.take(_enum, values.get("status"), "status", _ORDER_STATUS_ALIASES)
    hashes = {name: c.take(parse_hash, values.get(name), name, required=False)
              for name in ("address_hash", "device_hash", "payment_hash")}
    items: tuple[ItemRow, ...] = ()
    shipment: ShipmentRow | None = None
    try:
        items = _items(values.get("items"))
    except FieldProblem as bad:
        c.problems.append(bad.problem)
    except _Many as many:
        c.problems.extend(many.problems)
    try:
        shipment = _shipment(values.get("shipment"), placed_at, now)
    except FieldProblem as bad:
        c.problems.append(bad.problem)
    except _Many as many:
        c.problems.extend(many.problems)
    if c.problems:
        return c.problems
    row = OrderRow(row_no, source_id, shop_code, buyer, amount, placed_at, status, hashes["address_hash"],
                   hashes["device_hash"], hashes["payment_hash"], items, shipment)
    return OrderRow(**{**_fields(row), "content_hash": order_content_hash(row)})


def _fields(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in row.__dataclass_fields__}


def order_content_hash(row: OrderRow) -> str:
    """SHA-256 of the normalised order (row number excluded): equal submissions give equal hashes."""
    s = row.shipment
    payload = {
        "source_order_id": row.source_order_id, "shop_code": row.shop_code,
        "buyer_account_hash": row.buyer_account_hash, "amount_cents": row.amount_cents,
        "placed_at": _iso(row.placed_at), "status": row.status, "address_hash": row.address_hash,
        "device_hash": row.device_hash, "payment_hash": row.payment_hash,
        "items": [[i.line_no, i.gtin, i.name, i.quantity, i.unit_price_cents, i.unit_weight_g] for i in row.items],
        "shipment": None if s is None else [s.logistics_uscc, s.tracking_hash, s.declared_weight_g,
                                            _iso(s.shipped_at), _iso(s.signed_at), s.scan_count, s.distance_km],
    }
    return _canonical(payload)


def period_of(placed_at: dt.datetime) -> str:
    """The points period of an order: its Beijing natural month, ``YYYY-MM`` (淘宝：以订单创建时间计算)."""
    return placed_at.astimezone(CHINA).strftime("%Y-%m")


# -- ratings -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RatingRow:
    row_no: int
    source_rating_id: str
    source_order_id: str
    direction: str
    value: str
    stars: int | None
    text: str | None
    text_hash: str | None
    rated_at: dt.datetime
    follow_up_text: str | None
    follow_up_at: dt.datetime | None
    content_hash: str = field(default="", compare=False)


def normalise_text(text: str) -> str:
    """The form texts are compared in: NFKC (full-width folded), no whitespace at all, case-folded."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text)).casefold()


def text_hash(text: str | None) -> str | None:
    """SHA-256 of the normalised text, for identical-text detection (刷单好评 often repeat one text)."""
    if text is None:
        return None
    normal = normalise_text(text)
    return hashlib.sha256(normal.encode()).hexdigest() if normal else None


def parse_rating(values: Mapping[str, object], *, row_no: int, now: dt.datetime,
                 rules: Callable[[dt.date], TradeRules] = trade_rules_on,
                 read_problems: Iterable[Problem] = ()) -> RatingRow | list[Problem]:
    """One rating (评价) with its optional follow-up review (追加评价), or every problem of it.

    The follow-up must come after the rating, within the window of the rules in force on the rating's
    Beijing day, and only in a direction the rules allow (the buyer's)."""
    c = _Collector()
    c.problems.extend(read_problems)
    c.problems.extend(_unknown_keys(values, RATING_FIELDS))
    source_id = c.take(_text, values.get("source_rating_id"), "source_rating_id", max_len=MAX_ID,
                                     required=True)
    order_id = c.take(_text, values.get("source_order_id"), "source_order_id", max_len=MAX_ID, required=True)
    direction = c.take(_enum, values.get("direction"), "direction", _DIRECTION_ALIASES)
    value = c.take(_enum, values.get("value"), "value", _VALUE_ALIASES)
    stars = c.take(_int, values.get("stars"), "stars", lo=1, hi=5, required=False)
    text = c.take(_text, values.get("text"), "text", max_len=MAX_TEXT, required=False, one_line=False)
    rated_at = c.take(_datetime, values.get("rated_at"), "rated_at", now=now, required=True)
    follow_text = c.take(_text, values.get("follow_up_text"), "follow_up_text", max_len=MAX_TEXT,
                                       required=False, one_line=False)
    follow_at = c.take(_datetime, values.get("follow_up_at"), "follow_up_at", now=now, required=False)
    if (follow_text is None) != (follow_at is None) and not any(
            p.field in ("follow_up_text", "follow_up_at") for p in c.problems):
        c.problems.append(Problem("follow_up.incomplete", "追加评价须同时填写内容（follow_up_text）和时间（follow_up_at）",
                                  "A follow-up needs both follow_up_text and follow_up_at", field="follow_up_at"))
    if follow_at is not None and rated_at is not None and direction is not None:
        problem = follow_up_window_problem(direction, rated_at, follow_at, rules(rated_at.astimezone(CHINA).date()))
        if problem is not None:
            c.problems.append(problem)
    if c.problems:
        return c.problems
    row = RatingRow(row_no, source_id, order_id, direction, value, stars, text, text_hash(text), rated_at, follow_text,
                    follow_at)
    return RatingRow(**{**_fields(row), "content_hash": rating_content_hash(row)})


def rating_content_hash(row: RatingRow) -> str:
    payload = {k: v for k, v in _fields(row).items() if k not in ("row_no", "content_hash")}
    payload["rated_at"], payload["follow_up_at"] = _iso(row.rated_at), _iso(row.follow_up_at)
    return _canonical(payload)


def follow_up_window_problem(direction: str, rated_at: dt.datetime, follow_up_at: dt.datetime,
                             rules: TradeRules) -> Problem | None:
    """追加评价: only in an allowed direction, after the rating, within the window (rules of the rating's day)."""
    r = rules.ratings
    if direction not in r.follow_up_directions:
        return Problem("follow_up.direction", "只有买家可以追加评价（店铺对买家的评价不设追加评价）",
                       f"Follow-up reviews are allowed for {', '.join(r.follow_up_directions)} only",
                       field="follow_up_text")
    if follow_up_at < rated_at:
        return Problem("follow_up.before_rating", "追加评价时间早于初次评价时间", "follow_up_at is before rated_at",
                       field="follow_up_at")
    if follow_up_at - rated_at > dt.timedelta(days=r.follow_up_window_days):
        return Problem("follow_up.window", f"追加评价须在初次评价后 {r.follow_up_window_days} 天内作出（规则 {rules.version}）",
                       f"A follow-up must come within {r.follow_up_window_days} days of the rating "
                       f"(rules {rules.version})", field="follow_up_at")
    return None


def follow_up_change_problem(stored_text: str | None, stored_at: dt.datetime | None, new_text: str | None,
                             new_at: dt.datetime | None) -> Problem | None:
    """A follow-up is made once: once recorded it can be neither changed nor withdrawn by a resubmission
    (电子商务法 Art. 39: reviews may not be deleted). Resubmitting the same one is fine."""
    if stored_text is None:
        return None
    if new_text == stored_text and new_at == stored_at:
        return None
    return Problem("follow_up.once", "该评价已有追加评价；追加评价只能作出一次，不能修改或删除",
                   "This rating already has its follow-up review; it is made once and cannot be changed or removed",
                   field="follow_up_text")


# -- points and public figures -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RatingFact:
    """One rating as the points rule sees it: the counterparty (buyer account for a shop's points, shop
    for a buyer's), the order's period and amount, and the value."""

    counterparty: int
    period: str
    value: str
    amount_cents: int


def pair_points(total: int, rule: PointsRules) -> int:
    """The points one pair earns in one period: the net sum clamped to ±``pair_cap``."""
    return max(-rule.pair_cap, min(rule.pair_cap, total))


def points(facts: Iterable[RatingFact], rule: PointsRules) -> int:
    """信用互评积分 of one side: per counterparty and period, the ratings' points summed and clamped to
    ±pair_cap (淘宝：每个自然月相同买卖双方计分不超过 6 分); orders below ``min_amount_cents`` (¥1 or less)
    do not count. ``service.shop_points`` computes the same in SQL; a test checks they agree."""
    sums: dict[tuple[int, str], int] = {}
    for f in facts:
        if f.amount_cents < rule.min_amount_cents:
            continue
        key = (f.counterparty, f.period)
        sums[key] = sums.get(key, 0) + rule.values[f.value]
    return sum(pair_points(total, rule) for total in sums.values())


def good_rate(good: int, neutral: int, bad: int) -> float | None:
    """好评率 = good / (good + neutral + bad); None when nothing was rated."""
    total = good + neutral + bad
    return None if total == 0 else good / total


# -- the licence-display badge ---------------------------------------------------------------------------

BADGE_CONTEXT = "chengxin/shop-badge/v1"
BADGE_STATUS_ZH = {
    "valid": "有效", "expired": "已过期", "invalid": "签名无效", "closed": "店铺已关闭", "suspended": "店铺已暂停经营",
}


def badge_message(platform_code: str, shop_code: str, issued_at: int) -> bytes:
    """The bytes a badge link's signature covers: which shop, on which platform, issued when (Unix seconds)."""
    return f"{BADGE_CONTEXT}\n{platform_code}\n{shop_code}\n{issued_at}".encode()


def encode_signature(signature: bytes) -> str:
    return base64.urlsafe_b64encode(signature).decode().rstrip("=")


def decode_signature(text: str) -> bytes | None:
    """The signature bytes of a link's ``sig`` parameter, or None when it is not base64url of 64 bytes."""
    if not text or len(text) > 200 or not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 64 else None


def badge_status(*, signature_ok: bool, issued_at: int, now: dt.datetime, valid_days: int, shop_status: str) -> str:
    """What the verification page says, in this order: a bad signature (or an issue time in the future)
    tells nothing about any shop → ``invalid``; a closed or suspended shop → ``closed`` / ``suspended``;
    a link older than ``valid_days`` → ``expired``; else ``valid``."""
    issued = dt.datetime.fromtimestamp(issued_at, dt.UTC) if 0 < issued_at < 32_503_680_000 else None
    if not signature_ok or issued is None or issued > now + CLOCK_SKEW:
        return "invalid"
    if shop_status == "closed":
        return "closed"
    if shop_status == "suspended":
        return "suspended"
    if now - issued > dt.timedelta(days=valid_days):
        return "expired"
    return "valid"
