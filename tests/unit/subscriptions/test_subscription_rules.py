"""Subscription rules: Standard Webhooks signatures, back-off, SSRF refusals (property tests), items."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import socket

import orjson
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from chengxin.core.errors import DomainError
from chengxin.subscriptions import rules
from chengxin.subscriptions.config import CONFIG_FILE, ConfigError, config_on, parse_config

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
NONE: frozenset[str] = frozenset()

# -- signatures ---------------------------------------------------------------------------------------


def test_signature_matches_an_independent_hmac() -> None:
    key = bytes(range(32))
    secret = "whsec_" + base64.b64encode(key).decode()
    body = orjson.dumps({"data": {"change": "listed", "subject": {"display_name": "张*"}}})
    expected_mac = hmac.new(key, b"msg_cx_1_2.1767225600." + body, hashlib.sha256).digest()
    assert rules.signature(secret, "msg_cx_1_2", 1767225600, body) == "v1," + base64.b64encode(expected_mac).decode()


def test_signature_matches_the_standard_webhooks_published_vector() -> None:
    # The example of the Standard Webhooks reference libraries (svix): same secret, id, time, body.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    sig = rules.signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_verify_accepts_the_message_and_refuses_changes() -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    body = b'{"a":1}'
    headers = rules.headers_for(secret, "msg_1", 1_000_000, body)
    assert rules.verify(secret, headers, body, now=1_000_010)
    assert not rules.verify(secret, headers, b'{"a":2}', now=1_000_010)  # body altered
    assert not rules.verify(secret, {**headers, "webhook-id": "msg_2"}, body, now=1_000_010)  # id altered
    assert not rules.verify(secret, headers, body, now=1_000_000 + 301)  # too old (replay)
    other = "whsec_" + base64.b64encode(b"x" * 32).decode()
    assert not rules.verify(other, headers, body, now=1_000_010)
    # Several signatures (key rotation): any one valid signature suffices.
    both = {**headers, "webhook-signature": "v1,AAAA " + headers["webhook-signature"]}
    assert rules.verify(secret, both, body, now=1_000_010)


def test_body_adds_only_the_identifier_the_subscriber_gave() -> None:
    data = rules.event_data(
        change_id=7, entry_id=3, list_kind="black", change="listed",
        occurred_at=dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC), subject_kind="person",
        display_id="320402********1234", display_name="张*", decision_no="常信〔2026〕1号",
        decided_on=dt.date(2026, 3, 1), term_from=dt.date(2026, 3, 1), term_to=dt.date(2029, 2, 28),
        basis_zh="依据", department_code="samr", end_kind=None, public_url="https://x/lists/entries/3")
    sent = orjson.loads(rules.body("msg_cx_1_7", dt.datetime(2026, 3, 1, 2, 0, 1, tzinfo=dt.UTC), data, "ID-GIVEN"))
    assert sent["type"] == "list.change" and sent["id"] == "msg_cx_1_7"
    assert sent["data"]["subject"] == {"kind": "person", "display_id": "320402********1234", "display_name": "张*",
                                       "identifier": "ID-GIVEN"}
    assert sent["data"]["term_to"] == "2029-02-28" and sent["data"]["url"].endswith("/lists/entries/3")
    assert "identifier" not in data["subject"]  # the stored snapshot never holds it


# -- back-off -------------------------------------------------------------------------------------------

SCHEDULE = (10, 60, 300, 1800, 7200, 21600, 86400)


@pytest.mark.parametrize(("failed", "draw", "expected"), [
    (1, 0.5, 10.0), (2, 0.5, 60.0), (3, 0.5, 300.0), (7, 0.5, 86400.0),
    (1, 0.0, 9.0), (1, 0.999999, 10.99999), (4, 0.0, 1620.0),
    (8, 0.5, None), (9, 0.0, None),
])
def test_retry_wait(failed: int, draw: float, expected: float | None) -> None:
    wait = rules.retry_wait(SCHEDULE, failed, 0.1, draw)
    assert wait == (pytest.approx(expected) if expected is not None else None)


@given(st.integers(1, 7), st.floats(0, 1, exclude_max=True))
def test_retry_wait_stays_within_the_jitter(failed: int, draw: float) -> None:
    wait = rules.retry_wait(SCHEDULE, failed, 0.1, draw)
    assert wait is not None and SCHEDULE[failed - 1] * 0.9 <= wait <= SCHEDULE[failed - 1] * 1.1


# -- targets and SSRF -------------------------------------------------------------------------------------

# The IANA special-purpose blocks, written out here independently of the code under test.
SPECIAL_V4 = [ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
    "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
    "224.0.0.0/4", "240.0.0.0/4")]


def _special(ip: ipaddress.IPv4Address) -> bool:
    return any(ip in n for n in SPECIAL_V4)


@pytest.mark.parametrize(("url", "code"), [
    ("", "subscription.url_required"),
    ("ftp://example.com/x", "subscription.url_scheme"),
    ("http://hooks.example.com/x", "subscription.url_https_required"),
    ("https://user:pw@hooks.example.com/x", "subscription.url_userinfo"),
    ("https://hooks.example.com/x#frag", "subscription.url_fragment"),
    ("https://hooks.example.com:99999/x", "subscription.url_invalid"),
    ("https:///x", "subscription.url_invalid"),
    ("https://hooks.example.com/a b", "subscription.url_invalid"),
    ("https://localhost/x", "subscription.url_address_refused"),
    ("https://a.localhost/x", "subscription.url_address_refused"),
    ("https://127.0.0.1/x", "subscription.url_address_refused"),
    ("https://10.1.2.3/x", "subscription.url_address_refused"),
    ("https://169.254.169.254/latest/meta-data", "subscription.url_address_refused"),
    ("https://[::1]/x", "subscription.url_address_refused"),
    ("https://[fe80::1]/x", "subscription.url_address_refused"),
    ("https://[fd00::1]/x", "subscription.url_address_refused"),
    ("https://[::ffff:10.0.0.1]/x", "subscription.url_address_refused"),
    ("https://[64:ff9b::a00:1]/x", "subscription.url_address_refused"),
    ("https://2130706433/x", "subscription.url_address_refused"),
    ("https://0x7f.1/x", "subscription.url_address_refused"),
    ("https://0177.0.0.1/x", "subscription.url_address_refused"),
    ("https://0/x", "subscription.url_address_refused"),
    ("https://" + "a" * 2000 + ".com/", "subscription.url_too_long"),
])
def test_targets_refused(url: str, code: str) -> None:
    with pytest.raises(DomainError) as err:
        rules.parse_target(url, NONE)
    assert err.value.code == code and err.value.problem.field == "url"


@pytest.mark.parametrize("url", [
    "https://hooks.example.com/cx", "https://hooks.example.com:8443/cx?k=v", "https://8.8.8.8/x",
    "https://[2606:4700::1111]/x", "HTTPS://Hooks.Example.COM./x",
])
def test_targets_accepted(url: str) -> None:
    target = rules.parse_target(url, NONE)
    assert target.scheme == "https" and not target.allowed_host


def test_plain_http_only_to_allowed_hosts() -> None:
    target = rules.parse_target("http://127.0.0.1:8081/hook", LOOPBACK)
    assert target.allowed_host and target.port == 8081
    assert rules.pick_address(target, []) is None  # allowed hosts connect by name, unchecked
    with pytest.raises(DomainError):
        rules.parse_target("http://127.0.0.2/hook", LOOPBACK)


@given(st.integers(0, 2**32 - 1))
def test_every_ipv4_address_is_refused_exactly_when_special(n: int) -> None:
    ip = ipaddress.IPv4Address(n)
    refused = rules.address_refusal(ip) is not None
    if _special(ip):
        assert refused, ip
    elif refused:  # the code may refuse more than the IANA list (ipaddress's own non-global ranges) …
        assert not ip.is_global or ip.is_multicast or ip.is_reserved, ip
    else:  # … and what it accepts is global unicast
        assert ip.is_global and not ip.is_multicast


@given(st.sampled_from(SPECIAL_V4).flatmap(
    lambda net: st.integers(int(net.network_address), int(net.broadcast_address))))
def test_special_ipv4_refused_in_every_spelling(n: int) -> None:
    ip = ipaddress.IPv4Address(n)
    a, b, c, d = ip.packed
    spellings = [str(ip), str(n), hex(n), f"0{a:o}.{b}.{c}.{d}", f"{a}.{b}.{(c << 8) | d}",
                 f"[::ffff:{ip}]", f"[2002:{a:02x}{b:02x}:{c:02x}{d:02x}::1]", f"[64:ff9b::{ip}]"]
    for host in spellings:
        try:
            socket.inet_aton(host)  # the spelling means this address to a C resolver
        except OSError:
            if not host.startswith("["):
                continue
        with pytest.raises(DomainError):
            rules.parse_target(f"https://{host}/hook", NONE)


@given(st.integers(0, 2**128 - 1))
def test_ipv6_accepted_only_when_global(n: int) -> None:
    ip = ipaddress.IPv6Address(n)
    if rules.address_refusal(ip) is None:
        assert ip.is_global and not ip.is_multicast and ip.ipv4_mapped is None
        assert not any(ip in ipaddress.IPv6Network(x) for x in ("fc00::/7", "fe80::/10", "2001:db8::/32", "2002::/16"))


def test_dns_answers_are_checked_all_of_them() -> None:
    target = rules.parse_target("https://hooks.example.com/x", NONE)
    assert rules.pick_address(target, ["93.184.216.34"]) == "93.184.216.34"
    with pytest.raises(DomainError, match="refused"):
        rules.pick_address(target, ["93.184.216.34", "10.0.0.5"])  # one internal answer refuses the host
    with pytest.raises(DomainError) as err:
        rules.pick_address(target, [])
    assert err.value.code == "subscription.url_unresolved"
    with pytest.raises(DomainError):
        rules.pick_address(target, ["fe80::1%eth0"])


# -- subject items -------------------------------------------------------------------------------------------


def test_subject_items() -> None:
    from factories import ric_for, uscc_for

    assert rules.parse_subject_item(0, {"uscc": uscc_for(5).lower()}).identifier == uscc_for(5)
    assert rules.parse_subject_item(1, {"ric": ric_for(5)}).kind == "person"
    for raw in ({}, {"uscc": uscc_for(1), "ric": ric_for(1)}, {"uscc": "91320400XXXXXXXXXX"}, {"ric": "123"}):
        with pytest.raises(DomainError) as err:
            rules.parse_subject_item(3, raw)
        assert err.value.problem.field == "subjects[3]"


# -- the dated parameters ------------------------------------------------------------------------------------


def test_the_shipped_parameters_load() -> None:
    cfg = config_on(dt.date(2026, 6, 1))
    assert cfg.retry_schedule_seconds == SCHEDULE and cfg.max_attempts == 8
    assert "watch" not in cfg.list_kinds_for["platform"]


@pytest.mark.parametrize(("change", "message"), [
    ({"list_kinds_for": {"department": ["grey"]}}, "unknown list kinds"),
    ({"changes": ["listed", "exploded"]}, "unknown changes"),
    ({"retry_schedule_seconds": [10, -1]}, "positive"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_parameters_are_refused_with_the_field_named(change: dict[str, object], message: str) -> None:
    raw = yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8"))
    raw["versions"][0].update(change)
    with pytest.raises(ConfigError, match=message):
        parse_config(yaml.safe_dump(raw, allow_unicode=True), "webhooks.yaml")


def test_versions_must_be_in_order() -> None:
    raw = yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8"))
    older = {**raw["versions"][0], "version": "2025.1", "effective_from": dt.date(2025, 1, 1)}
    raw["versions"].append(older)
    with pytest.raises(ConfigError, match="oldest first"):
        parse_config(yaml.safe_dump(raw, allow_unicode=True), "webhooks.yaml")
