"""登录失败处理 by client address (pure): which address failures are counted by, and until when an address is refused."""

from __future__ import annotations

import datetime as dt
import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chengxin.accounts.rules import ADDRESS_MAX_LENGTH, address_free_at, address_key

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(minutes=15)


@pytest.mark.parametrize(("host", "key"), [
    ("203.0.113.7", "203.0.113.7"),
    (" 203.0.113.7 ", "203.0.113.7"),
    ("::ffff:203.0.113.7", "203.0.113.7"),  # IPv4-mapped: the IPv4 client it is
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),  # IPv6: its /64, which one subscriber holds whole
    ("2001:db8:1:2::ffff", "2001:db8:1:2::/64"),
    ("2001:DB8:1:3::1", "2001:db8:1:3::/64"),  # another /64: another address
    ("::1", "::/64"),
    ("testclient", "testclient"),  # not an IP (a test client's name): as given
    ("x" * 100, "x" * ADDRESS_MAX_LENGTH),
])
def test_failures_are_counted_by_ipv4_address_or_ipv6_network(host: str, key: str) -> None:
    assert address_key(host) == key


@given(st.ip_addresses(v=6), st.integers(min_value=0, max_value=2**64 - 1))
def test_any_two_hosts_of_one_ipv6_64_share_a_key(ip: ipaddress.IPv6Address, host_part: int) -> None:
    sibling = ipaddress.IPv6Address((int(ip) >> 64 << 64) | host_part)
    if ip.ipv4_mapped is None and sibling.ipv4_mapped is None:
        assert address_key(str(ip)) == address_key(str(sibling))
        assert len(address_key(str(ip))) <= ADDRESS_MAX_LENGTH


@given(st.ip_addresses(v=4))
def test_an_ipv4_address_is_its_own_key(ip: ipaddress.IPv4Address) -> None:
    assert address_key(str(ip)) == str(ip) == address_key(f"::ffff:{ip}")


def _ago(*minutes: float) -> list[dt.datetime]:
    return [NOW - dt.timedelta(minutes=m) for m in minutes]


@pytest.mark.parametrize(("failures", "max_failures", "free_at"), [
    ([], 3, None),
    (_ago(1, 2), 3, None),  # under the limit
    (_ago(1, 2, 14), 3, NOW + dt.timedelta(minutes=1)),  # the third newest leaves the window in a minute
    (_ago(0, 0, 0), 3, NOW + WINDOW),  # three just now: a whole window
    (_ago(1, 2, 3, 14), 3, NOW + dt.timedelta(minutes=12)),  # more than the limit: the limit-th newest counts
    (_ago(5), 1, NOW + dt.timedelta(minutes=10)),
])
def test_an_address_is_refused_until_its_limit_th_newest_failure_leaves_the_window(
    failures: list[dt.datetime], max_failures: int, free_at: dt.datetime | None
) -> None:
    assert address_free_at(failures, max_failures=max_failures, window=WINDOW) == free_at
