"""Identity providers: who a person is, before they get an account (实名核验).

This is the seam a government unified-identity login replaces. Today
:class:`PopulationRegisterProvider` checks a citizen ID + name pair against the population register
the platform holds (the ``subject`` table, through blind indexes: nothing is decrypted). A future
``OidcIdentityProvider`` would take the verified ``sub``/ID-number claim of the government's OIDC
ID token instead and return the same thing — the subject id of a person — so ``people.service``
and the portal stay as they are.
"""

from __future__ import annotations

import hmac
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from chengxin.catalog.model import SubjectKind
from chengxin.core.crypto import KeyRing
from chengxin.core.errors import DomainError
from chengxin.core.identifiers import normalize_ric
from chengxin.subjects.models import Subject
from chengxin.subjects.rules import lookup_index


class IdentityMismatch(DomainError):
    """The pair is not in the register. Deliberately silent about which half was wrong."""

    status = 422

    def __init__(self) -> None:
        super().__init__("identity.mismatch", "实名核验未通过：公民身份号码与姓名不匹配或不在登记范围内",
                         "Identity check failed: the citizen ID and name do not match a registered person")


class IdentityProvider(Protocol):
    def verify_identity(self, session: Session, ric: str, name: str) -> int:
        """The subject id of the person with this citizen ID and name, or :class:`IdentityMismatch`."""
        ...


class PopulationRegisterProvider:
    """Real-name check against the platform's population register (persons in ``subject``)."""

    def __init__(self, keyring: KeyRing) -> None:
        self.keyring = keyring

    def verify_identity(self, session: Session, ric: str, name: str) -> int:
        identifier = normalize_ric(ric)  # a malformed number says what is wrong with it: that leaks nothing
        name = (name or "").strip()
        row = session.execute(
            select(Subject.id, Subject.name_index).where(
                Subject.lookup_index == lookup_index(self.keyring, SubjectKind.PERSON.value, identifier),
                Subject.kind == SubjectKind.PERSON.value,
            )
        ).first()
        expected = self.keyring.blind_index(name)
        # Compare even when the ID is unknown, so both mistakes take the same path.
        found = bytes(row.name_index) if row is not None and row.name_index is not None else b"\0" * len(expected)
        if row is None or not name or not hmac.compare_digest(found, expected):
            raise IdentityMismatch()
        return int(row.id)
