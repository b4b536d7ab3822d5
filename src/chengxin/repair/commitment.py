"""The credit commitment (信用承诺书) text in force on a day, from ``data/commitment.yaml``.

Each version's SHA-256 (of its exact UTF-8 text) is what an application keeps with the version
label and the time of signing: the promise can be shown again word for word, and a changed file
cannot pass for the text that was signed.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from chengxin.core.signed_text import text_sha256

__all__ = ["COMMITMENT_FILE", "Commitment", "commitment_on", "commitment_version", "load_commitments"]

COMMITMENT_FILE = Path(__file__).resolve().parent / "data" / "commitment.yaml"


@dataclass(frozen=True)
class Commitment:
    version: str
    effective_from: dt.date
    basis: str
    text: str

    @property
    def sha256(self) -> str:
        return text_sha256(self.text)


@functools.lru_cache(maxsize=2)
def load_commitments(path: Path = COMMITMENT_FILE) -> tuple[Commitment, ...]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{path}: expected a non-empty list of commitment versions")
    versions = []
    for entry in raw:
        if not isinstance(entry, dict) or set(entry) != {"version", "effective_from", "basis", "text"}:
            raise ValueError(f"{path}: each version needs exactly version, effective_from, basis, text")
        if not isinstance(entry["effective_from"], dt.date) or not str(entry["text"]).strip():
            raise ValueError(f"{path}: {entry.get('version')}: effective_from must be a date and text non-empty")
        versions.append(Commitment(str(entry["version"]), entry["effective_from"], str(entry["basis"]),
                                   str(entry["text"])))
    if [v.effective_from for v in versions] != sorted(v.effective_from for v in versions):
        raise ValueError(f"{path}: list versions oldest first")
    if len({v.version for v in versions}) != len(versions):
        raise ValueError(f"{path}: a version label is used twice")
    return tuple(versions)


def commitment_on(day: dt.date) -> Commitment:
    """The text in force on the Beijing date ``day`` (before the first version: the first)."""
    versions = load_commitments()
    current = versions[0]
    for version in versions:
        if version.effective_from <= day:
            current = version
    return current


def commitment_version(label: str) -> Commitment | None:
    """A version by its label (to show what an application signed)."""
    return next((v for v in load_commitments() if v.version == label), None)
