"""Pure rules about subjects (信用主体): how a submission names one and how it is looked up.

No database here: the ingest's reader process (``records.reader``) uses these without loading the ORM.
"""

from __future__ import annotations

from typing import NamedTuple

from chengxin.catalog.model import SubjectKind
from chengxin.core.crypto import KeyRing


class SubjectKey(NamedTuple):
    """A subject as a submission names it: kind, normalised identifier and name (a named tuple, as
    ``SubjectRef``: made for every row of a bulk ingest, at half the cost of a frozen dataclass)."""

    kind: SubjectKind
    identifier: str
    name: str


def lookup_index(keyring: KeyRing, kind: str, identifier: str) -> bytes:
    """Blind index of ``kind:identifier`` — the only way a subject is looked up."""
    return keyring.blind_index(f"{kind}:{identifier}")
