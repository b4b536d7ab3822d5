"""Pure rules of credit commitments (信用承诺): filling a template, validity, the public number, the
state a reader sees, what the public may see. No database, no clock: ``today`` is passed in."""

from __future__ import annotations

import datetime as dt
import re

from stdnum import luhn

from chengxin.catalog.rules import CONTROL_CHARS, add_duration
from chengxin.commitments.templates import Template, TemplateVersion
from chengxin.core.errors import DomainError

__all__ = [
    "BREACHED", "EXPIRED", "FULFILLED", "MAX_DOCUMENT_NO", "MAX_MATTER", "SIGNED", "STATES_ZH", "WITHDRAWN",
    "clean_document_no", "clean_matter", "unreadable", "effective_state", "format_number", "is_public", "parse_number", "render",
    "valid_until",
]

# States of a signed commitment. ``expired`` is also what a reader sees for a ``signed`` one past its
# validity before the nightly job (``chengxin commitments expire``) has marked it.
SIGNED, FULFILLED, BREACHED, EXPIRED, WITHDRAWN = "signed", "fulfilled", "breached", "expired", "withdrawn"
STATES_ZH = {SIGNED: "履行中", FULFILLED: "已履行", BREACHED: "已违诺", EXPIRED: "已到期", WITHDRAWN: "已撤回"}

MAX_MATTER = 200  # the catalog field commitment_breach.matter holds 200
MAX_DOCUMENT_NO = 64  # the catalog field commitment_breach.decision_no holds 64
LONG_TERM_ZH = "长期"
# A lone surrogate (JSON "\ud800") is no character: it cannot be encoded, kept or hashed.
_SURROGATES = re.compile("[\ud800-\udfff]")


def unreadable(text: str) -> bool:
    """Control characters or lone surrogates: refused in every text a commitment keeps."""
    return bool(CONTROL_CHARS.search(text) or _SURROGATES.search(text))


def clean_matter(raw: str) -> str:
    """承诺事项: one line, 1–200 characters, no control characters."""
    text = " ".join((raw or "").split())
    if not text:
        raise DomainError("commitment.matter_required", "请填写承诺事项", "State the matter of the commitment",
                          field="matter")
    if len(text) > MAX_MATTER:
        raise DomainError("commitment.matter_too_long", f"承诺事项不能超过 {MAX_MATTER} 字",
                          f"The matter is longer than {MAX_MATTER} characters", field="matter")
    if unreadable(text):
        raise DomainError("commitment.matter_control_chars", "承诺事项含有不可见的控制字符",
                          "The matter contains control characters", field="matter")
    return text


def clean_document_no(raw: str | None, *, field: str, required: bool) -> str | None:
    """A document number (纸质承诺书编号, 认定文书号): one line, at most 64 characters."""
    text = " ".join((raw or "").split())
    if not text:
        if required:
            raise DomainError("commitment.document_no_required", "请填写文书编号", "A document number is required",
                              field=field)
        return None
    if len(text) > MAX_DOCUMENT_NO or unreadable(text):
        raise DomainError("commitment.document_no_invalid", f"文书编号须为不超过 {MAX_DOCUMENT_NO} 个字符的一行文字",
                          f"A document number is one line of at most {MAX_DOCUMENT_NO} characters", field=field)
    return text


def valid_until(version: TemplateVersion, signed_on: dt.date) -> dt.date | None:
    """The last day (inclusive) the commitment runs: signed 2026-03-01 with P1Y → 2027-02-28."""
    if version.validity is None:
        return None
    return add_duration(signed_on, version.validity) - dt.timedelta(days=1)


def render(template: Template, version: TemplateVersion, *, subject_name: str, subject_id: str, matter: str,
           acceptor: str, signed_on: dt.date, until: dt.date | None) -> str:
    """The filled text — exactly what is kept, shown and hashed. Values are inserted as they are (a
    brace inside the matter stays a brace: ``format_map`` does not read its values again)."""
    del template  # the version carries the text; the template is named for the caller's clarity
    return version.text.format_map({
        "subject_name": subject_name, "subject_id": subject_id, "matter": matter, "acceptor": acceptor,
        "signed_on": signed_on.isoformat(), "valid_until": until.isoformat() if until else LONG_TERM_ZH,
    })


# -- the public number (公开编号): CN-<year>-<sequence>-<Luhn check digit> --------------------------

_NUMBER_RE = re.compile(r"CN-(\d{4})-(\d{6,12})-(\d)\Z")


def format_number(year: int, sequence: int) -> str:
    """``CN-2026-000123-3``: printable, unique (the sequence is the row's id), and a mistyped digit is
    caught by the check digit before any database look-up."""
    body = f"{year:04d}{sequence:06d}"
    return f"CN-{year:04d}-{sequence:06d}-{luhn.calc_check_digit(body)}"


def parse_number(raw: str) -> str | None:
    """The number in canonical form, or None when it is not one (wrong shape or check digit)."""
    text = (raw or "").strip().upper().replace("—", "-").replace("－", "-")
    match = _NUMBER_RE.match(text)
    if match is None:
        return None
    year, sequence, check = match.groups()
    return text if luhn.is_valid(year + sequence + check) else None


# -- what a reader sees --------------------------------------------------------------------------


def effective_state(state: str, until: dt.date | None, today: dt.date) -> str:
    """A commitment still ``signed`` after its last day is ``expired`` (到期未违诺) at read time."""
    if state == SIGNED and until is not None and today > until:
        return EXPIRED
    return state


def is_public(subject_kind: str, public_for_persons: bool, state: str) -> bool:
    """信用承诺公示: organisations' commitments always (E-III.1 向社会公开); persons' only where the
    template says so (and then masked); a withdrawn commitment (深圳条例第六十二条) is not displayed."""
    if state == WITHDRAWN:
        return False
    return subject_kind == "organization" or public_for_persons
