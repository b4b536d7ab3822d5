"""Field encryption, blind indexes and signatures, with keys kept outside the database.

- Personal identifiers (citizen ID numbers, person names) are stored as AES-256-GCM
  ciphertext (``nonce || ciphertext+tag``) bound by associated data to the row and field,
  so a ciphertext copied onto another subject fails to decrypt.
- Lookup uses an HMAC-SHA256 blind index, never the clear value.
- Ledger checkpoints (and later reports) are signed with Ed25519.

Keys live in ``key_dir`` (default ``var/keys``), generated on first use, never committed.
Data keys carry a version: ``rotate_data_key`` adds a new one; rows remember which version
encrypted them, and ``chengxin keys reencrypt`` moves rows to the current version.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chengxin.core.settings import get_settings

_KEYRING_FILE = "keyring.json"
_SIGNING_FILE = "signing-ed25519.pem"


class KeyProblem(Exception):
    """A key is missing or does not fit (wrong version, tampered ciphertext)."""


@dataclass(frozen=True)
class _State:
    current_data: int
    current_index: int


def _write_secret(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


class KeyRing:
    """All keys of one installation; create with :meth:`open`."""

    def __init__(self, key_dir: Path) -> None:
        self.key_dir = key_dir
        state = json.loads((key_dir / _KEYRING_FILE).read_text())
        self._state = _State(state["current_data"], state["current_index"])
        self._data: dict[int, AESGCM] = {}
        self._index: dict[int, bytes] = {}
        for path in key_dir.glob("data-v*.key"):
            self._data[int(path.stem.removeprefix("data-v"))] = AESGCM(path.read_bytes())
        for path in key_dir.glob("index-v*.key"):
            self._index[int(path.stem.removeprefix("index-v"))] = path.read_bytes()
        if self._state.current_data not in self._data or self._state.current_index not in self._index:
            raise KeyProblem(f"key files missing in {key_dir}")
        pem = (key_dir / _SIGNING_FILE).read_bytes()
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyProblem("signing key is not Ed25519")
        self._signing = key
        self._index_key = self._index[self._state.current_index]
        self._index_pads = _hmac_pads(self._index_key)

    @classmethod
    def open(cls, key_dir: Path) -> KeyRing:
        """Open the key ring in ``key_dir``, generating every key on first run."""
        key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not (key_dir / _KEYRING_FILE).exists():
            _write_secret(key_dir / "data-v1.key", AESGCM.generate_key(bit_length=256))
            _write_secret(key_dir / "index-v1.key", os.urandom(32))
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            _write_secret(key_dir / _SIGNING_FILE, pem)
            (key_dir / _KEYRING_FILE).write_text(json.dumps({"current_data": 1, "current_index": 1}))
        return cls(key_dir)

    # -- encryption --------------------------------------------------------------------
    @property
    def data_version(self) -> int:
        return self._state.current_data

    def encrypt(self, plaintext: str, aad: bytes) -> bytes:
        """AES-256-GCM with the current data key; returns ``nonce || ciphertext+tag``."""
        return self.encrypt_bytes(plaintext.encode(), aad)

    def decrypt(self, blob: bytes, version: int, aad: bytes) -> str:
        return self.decrypt_bytes(blob, version, aad).decode()

    def encrypt_bytes(self, plaintext: bytes, aad: bytes) -> bytes:
        """As :meth:`encrypt`, for bytes (attachments)."""
        nonce = os.urandom(12)
        return nonce + self._data[self._state.current_data].encrypt(nonce, plaintext, aad)

    def decrypt_bytes(self, blob: bytes, version: int, aad: bytes) -> bytes:
        try:
            aes = self._data[version]
        except KeyError as exc:
            raise KeyProblem(f"data key version {version} is not in {self.key_dir}") from exc
        try:
            return aes.decrypt(blob[:12], blob[12:], aad)
        except Exception as exc:  # InvalidTag: altered ciphertext or wrong associated data
            raise KeyProblem("ciphertext does not authenticate (altered, or moved to another row)") from exc

    def rotate_data_key(self) -> int:
        """Add a new data key version and make it current; old versions stay to decrypt old rows."""
        new = max(self._data) + 1
        _write_secret(self.key_dir / f"data-v{new}.key", AESGCM.generate_key(bit_length=256))
        self._data[new] = AESGCM((self.key_dir / f"data-v{new}.key").read_bytes())
        self._state = _State(new, self._state.current_index)
        (self.key_dir / _KEYRING_FILE).write_text(
            json.dumps({"current_data": new, "current_index": self._state.current_index})
        )
        return new

    # -- blind index -------------------------------------------------------------------
    def blind_index(self, value: str) -> bytes:
        """HMAC-SHA256 of a normalised value: equal inputs give equal indexes, nothing else leaks."""
        return self.keyed_digest(value.encode())

    def keyed_digest(self, data: bytes) -> bytes:
        """HMAC-SHA256 of arbitrary bytes with the index key (content hashes that must not be guessable).

        Copies of the keyed SHA-256 states, not ``hmac.digest``: the one-shot call releases the GIL even for a
        few bytes, and with another thread busy (the check log writer, the group commit) getting it back waits
        for the switch interval — 0.6 ms on average, 5 ms at worst, measured; a copy stays under the GIL for
        short input and is what the credit check's p99 needs (issue #5). The two hash states themselves, not an
        ``hmac.HMAC`` copy: 0.6 µs a digest against 1.0 (its copy, update and digest are Python methods), and
        the ingest's reader takes three a row (bench/RESULTS.md, ingest, session 20)."""
        inner, outer = self._index_pads
        digest = inner.copy()
        digest.update(data)
        keyed = outer.copy()
        keyed.update(digest.digest())
        return keyed.digest()

    # -- signatures --------------------------------------------------------------------
    @property
    def key_id(self) -> str:
        """Short id of the signing key (first 16 hex digits of SHA-256 of the raw public key)."""
        return signing_key_id(self.public_key)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._signing.public_key()

    def public_key_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def sign(self, message: bytes) -> bytes:
        return self._signing.sign(message)


def _hmac_pads(key: bytes) -> tuple[hashlib._Hash, hashlib._Hash]:
    """SHA-256 states keyed for HMAC (RFC 2104): after the key XOR ipad block, and after the key XOR opad block;
    HMAC(key, m) = SHA-256 of the opad state with SHA-256 of the ipad state with ``m``."""
    block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    return (hashlib.sha256(bytes(b ^ 0x36 for b in block)), hashlib.sha256(bytes(b ^ 0x5C for b in block)))


def signing_key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def verify_signature(public_key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


@lru_cache(maxsize=4)
def _open_cached(key_dir: str) -> KeyRing:
    return KeyRing.open(Path(key_dir))


def get_keyring(key_dir: Path | None = None) -> KeyRing:
    """The installation's key ring (cached per directory)."""
    return _open_cached(str((key_dir or get_settings().key_dir).resolve()))
