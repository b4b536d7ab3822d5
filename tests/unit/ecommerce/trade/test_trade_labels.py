"""The Chinese labels of the trade codes (the Excel template's drop-downs): every code has one, and a row
filled in with the labels parses exactly as the same row in codes (same values, same content hash)."""

from __future__ import annotations

import datetime as dt

from chengxin.ecommerce.trade import rules
from chengxin.ecommerce.trade.files import KINDS, template_columns

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def test_every_code_has_a_chinese_label_and_the_template_offers_them() -> None:
    assert tuple(rules.SHOP_STATUS_ZH) == rules.SHOP_STATUSES
    assert tuple(rules.ORDER_STATUS_ZH) == rules.ORDER_STATUSES
    assert tuple(rules.DIRECTION_ZH) == rules.DIRECTIONS
    assert tuple(rules.RATING_VALUE_ZH) == rules.RATING_VALUES
    options = {(kind, c.code): {o.value: o.label_zh for o in c.options}
               for kind in KINDS for c in template_columns(kind) if c.options}
    assert options == {("shops", "status"): rules.SHOP_STATUS_ZH, ("orders", "status"): rules.ORDER_STATUS_ZH,
                       ("ratings", "direction"): rules.DIRECTION_ZH, ("ratings", "value"): rules.RATING_VALUE_ZH}


def test_labels_parse_as_their_codes() -> None:
    for code, label in rules.ORDER_STATUS_ZH.items():
        row = {"source_order_id": "O1", "shop_code": "S1", "buyer_account_hash": "a" * 64, "amount": "10.00",
               "placed_at": "2026-05-01T10:00:00+08:00", "items": [{"name": "茶", "quantity": 1, "unit_price": "10"}]}
        by_code = rules.parse_order({**row, "status": code}, row_no=2, now=NOW)
        by_label = rules.parse_order({**row, "status": label}, row_no=2, now=NOW)
        assert isinstance(by_code, rules.OrderRow) and by_label == by_code
    for direction, label in rules.DIRECTION_ZH.items():
        rating = {"source_rating_id": "R1", "source_order_id": "O1", "value": "中评", "rated_at": "2026-05-02T10:00:00"}
        by_code = rules.parse_rating({**rating, "direction": direction}, row_no=2, now=NOW)
        by_label = rules.parse_rating({**rating, "direction": label}, row_no=2, now=NOW)
        assert isinstance(by_code, rules.RatingRow) and by_label == by_code and by_code.value == "neutral"
    refused = rules.parse_order({"status": "已发出"}, row_no=2, now=NOW)
    assert isinstance(refused, list) and any(p.field == "status" and p.code == "enum.invalid" for p in refused)
