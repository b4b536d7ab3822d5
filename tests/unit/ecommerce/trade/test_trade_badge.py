"""The badge link: Ed25519 signature over (platform, shop, issue time) with the platform's real signing key,
and what the verification page says — valid, expired, tampered, closed — decided by the pure rule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chengxin.core.crypto import KeyRing, verify_signature
from chengxin.ecommerce.trade import rules
from chengxin.ecommerce.trade.badge import badge_svg

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
T = int(NOW.timestamp())


@pytest.mark.parametrize("ok, issued, shop, status", [
    (True, T, "open", "valid"),
    (True, T - 7 * 86400, "open", "valid"),  # the last second of 7 days
    (True, T - 7 * 86400 - 1, "open", "expired"),
    (False, T, "open", "invalid"),
    (True, T + 3600, "open", "invalid"),  # issued in the future: not ours
    (True, 0, "open", "invalid"),
    (True, T, "closed", "closed"),
    (True, T - 30 * 86400, "closed", "closed"),  # closed says more than expired
    (False, T, "closed", "invalid"),  # a forged link tells nothing about the shop
    (True, T, "suspended", "suspended"),
])
def test_badge_status(ok: bool, issued: int, shop: str, status: str) -> None:
    assert rules.badge_status(signature_ok=ok, issued_at=issued, now=NOW, valid_days=7, shop_status=shop) == status
    assert rules.BADGE_STATUS_ZH[status]


@pytest.fixture(scope="module")
def keyring(tmp_path_factory: pytest.TempPathFactory) -> KeyRing:
    return KeyRing.open(Path(tmp_path_factory.mktemp("badge-keys")))


def _check(keyring: KeyRing, platform: str, shop: str, issued: int, sig: str) -> bool:
    raw = rules.decode_signature(sig)
    return raw is not None and verify_signature(keyring.public_key, raw, rules.badge_message(platform, shop, issued))


def test_signed_link_verifies_and_tampering_fails(keyring: KeyRing) -> None:
    sig = rules.encode_signature(keyring.sign(rules.badge_message("tmall", "S1", T)))
    assert _check(keyring, "tmall", "S1", T, sig)
    assert not _check(keyring, "tmall", "S2", T, sig)  # copied onto another shop
    assert not _check(keyring, "jd", "S1", T, sig)  # another platform
    assert not _check(keyring, "tmall", "S1", T + 86400, sig)  # a later date written in
    flipped = ("A" if sig[0] != "A" else "B") + sig[1:]
    assert not _check(keyring, "tmall", "S1", T, flipped)
    other = KeyRing.open(Path(keyring.key_dir.parent / "other-keys"))
    forged = rules.encode_signature(other.sign(rules.badge_message("tmall", "S1", T)))
    assert not _check(keyring, "tmall", "S1", T, forged)  # signed by someone else's key


@given(st.binary(min_size=64, max_size=64))
def test_signature_encoding_round_trips(raw: bytes) -> None:
    text = rules.encode_signature(raw)
    assert "=" not in text and rules.decode_signature(text) == raw


@pytest.mark.parametrize("text", ["", "abc", "!" * 86, "A" * 300, rules.encode_signature(b"x" * 32)])
def test_malformed_signatures(text: str) -> None:
    assert rules.decode_signature(text) is None


def test_message_names_its_purpose() -> None:
    assert rules.badge_message("tmall", "S1", T).startswith(b"chengxin/shop-badge/v1\n")


def test_svg_escapes_and_links() -> None:
    svg = badge_svg(shop_name='<script>"x"</script>店', platform_name="平台&", grade="A", shop_status="open",
                    verify_url="https://x.example/verify?t=1&sig=abc")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "t=1&amp;sig=abc" in svg
    assert "已验证" in svg and "信用等级 A" in svg
    closed = badge_svg(shop_name="店", platform_name="平台", grade=None, shop_status="closed", verify_url="/v")
    assert "店铺已关闭" in closed and "已验证" not in closed and "经营者已实名登记" in closed
