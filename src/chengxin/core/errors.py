"""Errors a person can act on: a stable code, a Chinese message, an English message.

Every input path (API, file upload, CLI) reports what is wrong with these, so a clerk
reads "统一社会信用代码校验位错误：应为 Q，实为 0" and a program reads ``uscc.check_character``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one piece of input (a field, a row, a file)."""

    code: str
    message: str
    message_en: str
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class DomainError(Exception):
    """A refusal by the domain: carries a :class:`Problem` and an HTTP-ish status."""

    status: int = 400

    def __init__(
        self,
        code: str,
        message: str,
        message_en: str,
        *,
        field: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(f"{code}: {message_en}")
        self.problem = Problem(code=code, message=message, message_en=message_en, field=field)
        if status is not None:
            self.status = status

    @property
    def code(self) -> str:
        return self.problem.code

    @property
    def message(self) -> str:
        return self.problem.message

    @property
    def message_en(self) -> str:
        return self.problem.message_en


class InvalidIdentifier(DomainError):
    """An identifier (citizen ID, USCC, GTIN) broke a rule of its standard."""


class NotFound(DomainError):
    status = 404


class PermissionDenied(DomainError):
    status = 403


class Unauthenticated(DomainError):
    status = 401
