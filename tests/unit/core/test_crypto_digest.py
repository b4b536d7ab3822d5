"""The blind index and keyed digests are HMAC-SHA256 with the index key (RFC 2104), whatever way they are
computed, and the same from every thread."""

from __future__ import annotations

import hmac
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chengxin.core.crypto import KeyRing, _hmac_pads


@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory) -> KeyRing:
    return KeyRing.open(tmp_path_factory.mktemp("digest") / "keys")


@given(data=st.binary(max_size=4096))
def test_keyed_digest_is_hmac_sha256(ring: KeyRing, data: bytes) -> None:
    assert ring.keyed_digest(data) == hmac.digest(ring._index_key, data, "sha256")


@given(key=st.binary(max_size=130), data=st.binary(max_size=300))
def test_the_keyed_states_give_hmac_for_any_key_length(key: bytes, data: bytes) -> None:
    """Keys shorter than SHA-256's 64-byte block are padded, longer ones hashed first (RFC 2104)."""
    inner, outer = _hmac_pads(key)
    digest = inner.copy()
    digest.update(data)
    keyed = outer.copy()
    keyed.update(digest.digest())
    assert keyed.digest() == hmac.digest(key, data, "sha256")


@given(value=st.text(max_size=64))
def test_blind_index_is_hmac_of_the_utf8_value(ring: KeyRing, value: str) -> None:
    assert ring.blind_index(value) == hmac.new(ring._index_key, value.encode(), "sha256").digest()


def test_same_digest_from_many_threads(ring: KeyRing) -> None:
    values = [f"32040219900101{n:04d}" for n in range(2000)]
    expected = [hmac.digest(ring._index_key, v.encode(), "sha256") for v in values]
    results: list[list[bytes]] = []

    def work() -> None:
        results.append([ring.blind_index(v) for v in values])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 4
