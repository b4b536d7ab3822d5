"""Property tests of the row parsers: hash fields (never clear personal data), amounts, date-times, and the
follow-up window — what any platform may send, valid or not."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from chengxin.core.clock import CHINA
from chengxin.core.errors import Problem
from chengxin.core.identifiers import make_ric
from chengxin.ecommerce.trade import rules

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
HEX = "0123456789abcdefABCDEF"


def _order(**kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"source_order_id": "O1", "shop_code": "S1", "buyer_account_hash": "a" * 64,
                           "amount": "10.00", "placed_at": "2026-05-01T10:00:00+08:00", "status": "paid",
                           "items": [{"name": "茶", "quantity": 1, "unit_price": "10.00"}]}
    row.update(kw)
    return row


def _codes(result: object) -> set[str]:
    assert isinstance(result, list), result
    return {p.code for p in result if isinstance(p, Problem)}


# -- hash fields -----------------------------------------------------------------------------------------


@given(st.text(alphabet=HEX, min_size=64, max_size=64))
def test_any_64_hex_is_a_hash_kept_lower_case(value: str) -> None:
    assert rules.parse_hash(value, "device_hash", required=True) == value.lower()
    assert rules.parse_hash(f"  {value} ", "device_hash", required=True) == value.lower()


@given(st.text(max_size=80))
def test_anything_else_is_refused(value: str) -> None:
    assume(value.strip() and not (len(value.strip()) == 64 and all(c in HEX for c in value.strip())))
    with pytest.raises(rules.FieldProblem) as caught:
        rules.parse_hash(value, "address_hash", required=True)
    assert caught.value.code in {"hash.invalid", "hash.clear_personal_data"}
    assert caught.value.problem.field == "address_hash"


@given(st.from_regex(r"1[3-9]\d{9}", fullmatch=True))
def test_a_mobile_number_is_clear_personal_data(phone: str) -> None:
    with pytest.raises(rules.FieldProblem) as caught:
        rules.parse_hash(phone, "buyer_account_hash", required=True)
    assert caught.value.code == "hash.clear_personal_data"


@given(st.dates(dt.date(1940, 1, 1), dt.date(2010, 12, 31)), st.integers(0, 999))
def test_a_citizen_id_is_clear_personal_data(birth: dt.date, seq: int) -> None:
    with pytest.raises(rules.FieldProblem) as caught:
        rules.parse_hash(make_ric("320402", birth, seq), "payment_hash", required=True)
    assert caught.value.code == "hash.clear_personal_data"


@pytest.mark.parametrize("value", ["张三", "江苏省常州市天宁区延陵西路 1 号", "zhang.san@example.com", "138-1234-5678"])
def test_names_addresses_emails_are_clear_personal_data(value: str) -> None:
    result = rules.parse_order(_order(address_hash=value), row_no=1, now=NOW)
    assert _codes(result) == {"hash.clear_personal_data"}


# -- amounts ---------------------------------------------------------------------------------------------


@given(st.decimals(min_value=0, max_value=10**11, places=2, allow_nan=False, allow_infinity=False))
def test_amounts_in_yuan_become_exact_cents(amount: Decimal) -> None:
    for raw in (str(amount), f"{amount:,.2f}", f"¥{amount}"):
        result = rules.parse_order(_order(amount=raw), row_no=1, now=NOW)
        assert isinstance(result, rules.OrderRow), (raw, result)
        assert result.amount_cents == int(amount * 100)


@given(st.integers(0, 10**9))
def test_integer_and_float_amounts(cents: int) -> None:
    result = rules.parse_order(_order(amount=cents / 100), row_no=1, now=NOW)
    assert isinstance(result, rules.OrderRow) and result.amount_cents == cents
    whole = rules.parse_order(_order(amount=cents), row_no=1, now=NOW)
    assert isinstance(whole, rules.OrderRow) and whole.amount_cents == cents * 100


@given(st.decimals(min_value=Decimal("0.001"), max_value=10**6, places=3, allow_nan=False))
def test_more_than_two_decimals_is_refused(amount: Decimal) -> None:
    assume(amount * 100 != (amount * 100).to_integral_value())
    assert _codes(rules.parse_order(_order(amount=str(amount)), row_no=1, now=NOW)) == {"amount.precision"}


@pytest.mark.parametrize("amount, code", [
    ("-0.01", "amount.range"), ("1e20", "amount.range"), ("abc", "amount.invalid"), (True, "amount.invalid"),
    ("NaN", "amount.invalid"), (float("inf"), "amount.invalid"), ("", "field.required"), (None, "field.required"),
])
def test_bad_amounts(amount: object, code: str) -> None:
    assert _codes(rules.parse_order(_order(amount=amount), row_no=1, now=NOW)) == {code}


# -- date-times ------------------------------------------------------------------------------------------


@given(st.datetimes(min_value=dt.datetime(2000, 1, 2), max_value=dt.datetime(2026, 5, 31),
                    timezones=st.sampled_from([dt.UTC, CHINA, dt.timezone(dt.timedelta(hours=-5))])))
def test_aware_times_keep_their_instant(placed: dt.datetime) -> None:
    result = rules.parse_order(_order(placed_at=placed.isoformat()), row_no=1, now=NOW)
    assert isinstance(result, rules.OrderRow) and result.placed_at == placed


@given(st.datetimes(min_value=dt.datetime(2000, 1, 2), max_value=dt.datetime(2026, 5, 31)))
def test_times_without_offset_are_beijing_time(placed: dt.datetime) -> None:
    result = rules.parse_order(_order(placed_at=placed.isoformat()), row_no=1, now=NOW)
    assert isinstance(result, rules.OrderRow) and result.placed_at == placed.replace(tzinfo=CHINA)


@given(st.datetimes(min_value=dt.datetime(2026, 6, 1, 12, 11), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)))
def test_future_times_are_refused(placed: dt.datetime) -> None:
    assert _codes(rules.parse_order(_order(placed_at=placed.isoformat()), row_no=1, now=NOW)) == {"datetime.future"}


@pytest.mark.parametrize("value", ["2026-02-30T10:00:00", "yesterday", "2026/05/01 10:00", 20260501])
def test_malformed_times(value: object) -> None:
    assert _codes(rules.parse_order(_order(placed_at=value), row_no=1, now=NOW)) == {"datetime.invalid"}


# -- the whole row ---------------------------------------------------------------------------------------


def test_content_hash_is_stable_and_tracks_content() -> None:
    a = rules.parse_order(_order(), row_no=1, now=NOW)
    b = rules.parse_order(_order(placed_at="2026-05-01T02:00:00Z"), row_no=7, now=NOW)  # same instant, other row
    c = rules.parse_order(_order(amount="10.01"), row_no=1, now=NOW)
    assert isinstance(a, rules.OrderRow) and isinstance(b, rules.OrderRow) and isinstance(c, rules.OrderRow)
    assert a.content_hash == b.content_hash != c.content_hash and len(a.content_hash) == 64


def test_every_problem_of_a_row_at_once() -> None:
    result = rules.parse_order({"amount": "x", "items": [{"quantity": "two"}], "shipment": {"scan_count": -1}},
                               row_no=3, now=NOW)
    fields = {p.field for p in result} if isinstance(result, list) else set()
    assert {"source_order_id", "shop_code", "buyer_account_hash", "amount", "placed_at", "status",
            "items[1].name", "items[1].quantity", "items[1].unit_price", "shipment.tracking_hash",
            "shipment.shipped_at", "shipment.scan_count"} <= fields


# -- ratings and follow-ups ------------------------------------------------------------------------------


def _rating(**kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"source_rating_id": "R1", "source_order_id": "O1", "direction": "buyer_to_shop",
                           "value": "good", "rated_at": "2025-01-10T10:00:00+08:00"}
    row.update(kw)
    return row


@given(st.integers(0, 180 * 24 * 60))
def test_a_follow_up_within_180_days_is_taken(minutes: int) -> None:
    rated = dt.datetime(2025, 1, 10, 10, tzinfo=CHINA)
    follow = rated + dt.timedelta(minutes=minutes)
    result = rules.parse_rating(_rating(follow_up_text="追评", follow_up_at=follow.isoformat()), row_no=1, now=NOW)
    assert isinstance(result, rules.RatingRow) and result.follow_up_at == follow


@given(st.integers(180 * 24 * 60 + 1, 400 * 24 * 60))
def test_a_later_follow_up_is_refused(minutes: int) -> None:
    follow = dt.datetime(2025, 1, 10, 10, tzinfo=CHINA) + dt.timedelta(minutes=minutes)
    result = rules.parse_rating(_rating(follow_up_text="追评", follow_up_at=follow.isoformat()), row_no=1, now=NOW)
    assert _codes(result) == {"follow_up.window"}


def test_the_window_comes_from_the_rules_of_the_rating_day() -> None:
    from chengxin.ecommerce.trade.params import trade_rules_on

    short = trade_rules_on(dt.date(2026, 1, 1))
    short = short.model_copy(update={"ratings": short.ratings.model_copy(update={"follow_up_window_days": 90})})
    row = _rating(follow_up_text="追评", follow_up_at="2025-05-01T10:00:00+08:00")  # 111 days
    assert isinstance(rules.parse_rating(row, row_no=1, now=NOW), rules.RatingRow)
    assert _codes(rules.parse_rating(row, row_no=1, now=NOW, rules=lambda _day: short)) == {"follow_up.window"}


@pytest.mark.parametrize("stored, new, problem", [
    ((None, None), ("a", 1), None),  # the first follow-up
    (("a", 1), ("a", 1), None),  # the same one again
    (("a", 1), ("b", 1), "follow_up.once"),  # changed
    (("a", 1), (None, None), "follow_up.once"),  # withdrawn
    (("a", 1), ("a", 2), "follow_up.once"),  # re-dated
])
def test_a_follow_up_is_made_once(stored: tuple[str | None, int | None], new: tuple[str | None, int | None],
                                  problem: str | None) -> None:
    def when(n: int | None) -> dt.datetime | None:
        return None if n is None else dt.datetime(2026, 1, n, tzinfo=dt.UTC)

    found = rules.follow_up_change_problem(stored[0], when(stored[1]), new[0], when(new[1]))
    assert (found.code if found else None) == problem


@given(st.text(alphabet=st.sampled_from("好评五星质量不错abcXYZ019"), min_size=1, max_size=30))
def test_text_hash_ignores_spacing_width_and_case(text: str) -> None:
    spaced = " ".join(text.upper())
    assert rules.text_hash(spaced) == rules.text_hash(text.lower())
    assert rules.text_hash("好评！ 五星") == rules.text_hash("好评!五星")
    assert rules.text_hash("   ") is None and rules.text_hash(None) is None


# -- totality: whatever JSON a platform sends, the parsers answer (a row or its problems), never raise ----------

_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=70),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
                     max_leaves=12)


def _rows(fields: frozenset[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(sorted(fields)) | st.text(max_size=8), _JSON, max_size=len(fields) + 2)


@given(_rows(rules.ORDER_FIELDS | {"items", "shipment"}))
def test_parse_order_is_total(values: dict[str, Any]) -> None:
    result = rules.parse_order(values, row_no=1, now=NOW)
    assert isinstance(result, rules.OrderRow) or (isinstance(result, list) and result)


@given(_rows(rules.RATING_FIELDS))
def test_parse_rating_is_total(values: dict[str, Any]) -> None:
    result = rules.parse_rating(values, row_no=1, now=NOW)
    assert isinstance(result, rules.RatingRow) or (isinstance(result, list) and result)


@given(_rows(rules.SHOP_FIELDS))
def test_parse_shop_is_total(values: dict[str, Any]) -> None:
    result = rules.parse_shop(values, row_no=1, today=NOW.date())
    assert isinstance(result, rules.ShopRow) or (isinstance(result, list) and result)


@given(st.lists(st.fixed_dictionaries({}, optional=dict.fromkeys(sorted(rules.ITEM_FIELDS), _JSON)), max_size=3),
       st.fixed_dictionaries({}, optional=dict.fromkeys(sorted(rules.SHIPMENT_FIELDS), _JSON)))
def test_nested_items_and_shipment_are_total(items: list[dict[str, Any]], shipment: dict[str, Any]) -> None:
    result = rules.parse_order(_order(items=items, shipment=shipment), row_no=1, now=NOW)
    assert isinstance(result, rules.OrderRow) or (isinstance(result, list) and result)


@pytest.mark.parametrize("field", ["shop_code", "amount", "buyer_account_hash", "status", "source_order_id"])
def test_a_huge_json_integer_is_refused_not_a_crash(field: str) -> None:
    assert isinstance(rules.parse_order(_order(**{field: 10**5000}), row_no=1, now=NOW), list)
    assert isinstance(rules.parse_shop({"owner_uscc": 10**5000, "shop_code": 10**5000}, row_no=1, today=NOW.date()),
                      list)
