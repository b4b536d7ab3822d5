"""Shop risk changes ride the list-change feed: who hears of them (a platform its own shops only) and what
a notification carries (the feature's masked snapshot plus the feed's own fields)."""

from __future__ import annotations

import datetime as dt

import pytest

from chengxin.subscriptions import rules
from chengxin.subscriptions.config import FEED_KINDS, KNOWN_CHANGES, config_on

AUDIENCE = {"audience": ["platform:91320400MA0000000A"], "data": {"subject": {"kind": "person", "display_id": "3204**",
                                                                                "display_name": "李*"}, "level": "high"}}


@pytest.mark.parametrize(("scope", "owner", "named", "entry_id", "payload", "expected"), [
    ("subjects", "platform:91320400MA0000000A", False, None, AUDIENCE, True),  # its own shop, named or not
    ("subjects", "platform:91320400MA0000000B", True, None, AUDIENCE, False),  # never another platform's
    ("subjects", "samr", True, None, AUDIENCE, True),  # departments: the subjects they name
    ("subjects", "samr", False, None, AUDIENCE, False),
    ("all", "credit_office", False, None, AUDIENCE, True),
    ("subjects", "platform:91320400MA0000000A", False, 5, {}, False),  # list entries: as before
    ("subjects", "platform:91320400MA0000000A", True, 5, {}, True),
])
def test_who_hears_of_a_feed_event(scope: str, owner: str, named: bool, entry_id: int | None,
                                   payload: dict[str, object], expected: bool) -> None:
    assert rules.in_scope(scope, owner, named, entry_id, payload) is expected


def test_the_event_data_is_the_snapshot_plus_the_feed_fields() -> None:
    at = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)
    data = rules.feed_event_data(change_id=9, list_kind="shop_risk", change="risk_changed", occurred_at=at,
                                 payload=AUDIENCE)
    assert data["change_id"] == 9 and data["list_kind_zh"] == "网店信用风险等级" and data["change_zh"] == "风险等级变化"
    assert data["level"] == "high" and data["subject"]["display_name"] == "李*" and "audience" not in data
    body = rules.body("msg_1", at, data, None)
    assert b'"type":"list.change"' in body and "李*".encode() in body


def test_the_parameters_in_force_allow_following_shop_risk() -> None:
    cfg = config_on(dt.date(2026, 11, 26))
    assert "shop_risk" in cfg.list_kinds_for["platform"] and "risk_changed" in cfg.changes
    assert "shop_risk" not in config_on(dt.date(2026, 6, 1)).list_kinds_for["platform"]  # not before it was published
    assert "shop_risk" in FEED_KINDS and "risk_changed" in KNOWN_CHANGES
