"""Pure rules of the credit check: which identifier was given, what the answer is, whether a feedback
is acceptable, when a check counts as unanswered. No I/O; ``today`` is passed in."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chengxin.checks.models import OUTCOMES
from chengxin.core.errors import DomainError, InvalidIdentifier
from chengxin.core.identifiers import normalize_ric, normalize_uscc
from chengxin.core.masking import mask_ric

PERSON, ORGANIZATION = "person", "organization"
PLATFORM_PREFIX = "platform:"  # the department code of an e-commerce platform's API key: platform:<USCC>
_RIC_CHARS = frozenset("0123456789Xx")


@dataclass(frozen=True, slots=True)
class GivenSubject:
    """A subject as the caller named it, validated: kind, normalised identifier, masked display form."""

    kind: str
    identifier: str
    display_id: str


def _as_person(raw: str) -> GivenSubject:
    ric = normalize_ric(raw)
    return GivenSubject(PERSON, ric, mask_ric(ric))


def _as_org(raw: str) -> GivenSubject:
    uscc = normalize_uscc(raw)
    return GivenSubject(ORGANIZATION, uscc, uscc)


def parse_subject(raw: object, kind: str | None = None, *, field: str = "subject") -> GivenSubject:
    """A citizen ID (GB 11643) or a USCC (GB 32100); ``kind`` forces one reading.

    Without ``kind``: a value of digits (and a final X) is read as a citizen ID first — the form of
    every citizen ID — and as a USCC when it is not a valid citizen ID but a valid USCC (a USCC may be
    all digits too). Anything else is a USCC. The error names the rule that failed (``ric.*`` /
    ``uscc.*`` codes of core.identifiers).
    """
    if not isinstance(raw, str) or not raw.strip():
        raise DomainError("check.subject_required", "请提供统一社会信用代码或公民身份号码",
                          "Give a USCC or a citizen ID number", field=field)
    text = raw.strip()
    if kind not in (None, PERSON, ORGANIZATION):
        raise DomainError("check.subject_kind", "主体类型只能是 person（自然人）或 organization（法人和非法人组织）",
                          "subject_kind must be person or organization", field="subject_kind")
    try:
        if kind == PERSON:
            return _as_person(text)
        if kind == ORGANIZATION:
            return _as_org(text)
        if set(text) <= _RIC_CHARS:
            try:
                return _as_person(text)
            except InvalidIdentifier as ric_error:
                try:
                    return _as_org(text)
                except InvalidIdentifier:
                    raise ric_error from None
        return _as_org(text)
    except InvalidIdentifier as exc:
        raise InvalidIdentifier(exc.code, exc.message, exc.message_en, field=field) from None


def current_lists(memberships: Sequence[dict[str, Any]]) -> list[str]:
    """The list kinds among memberships (in force), in a stable order: black, watch, red."""
    kinds = {m["list"] for m in memberships}
    return [k for k in ("black", "watch", "red") if k in kinds]


def visible_shop_risk(shops: Sequence[dict[str, Any]], department_code: str) -> list[dict[str, Any]]:
    """The owner's shops at risk that this caller may be told of (商家信用风险预警, issue #7).

    A platform hears of its own shops (it is their operator and gets the level by subscription anyway) and of
    any shop under a published risk notice (风险提示, public); a department — a government caller — of all.
    """
    if not department_code.startswith(PLATFORM_PREFIX):
        return list(shops)
    own = department_code.removeprefix(PLATFORM_PREFIX)
    return [s for s in shops if s.get("platform_uscc") == own or s.get("notice_no")]


def new_check_id(now_ns: int | None = None) -> str:
    """A 24-hex id: 12 of milliseconds since the epoch (time-ordered), 12 random (unguessable)."""
    ms = (now_ns if now_ns is not None else time.time_ns()) // 1_000_000
    return f"{ms:012x}{secrets.token_hex(6)}"


def check_id_valid(text: str) -> bool:
    return len(text) == 24 and all(c in "0123456789abcdef" for c in text)


# -- feedback ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedbackIn:
    case_no: str
    measures_applied: tuple[str, ...]
    outcome: str
    result: str | None
    note: str | None


def validate_feedback(body: dict[str, Any], returned: Sequence[str]) -> FeedbackIn:
    """The feedback of a check: a case number, the measures applied (each among those the check
    returned: only published measures returned for this subject may be applied, 浙江条例第二十八条),
    an outcome, and a note when nothing was applied."""
    case_no = body.get("case_no")
    if not isinstance(case_no, str) or not case_no.strip():
        raise DomainError("feedback.case_no_required", "请填写办件编号（case_no）", "case_no is required",
                          field="case_no")
    if len(case_no.strip()) > 64:
        raise DomainError("feedback.case_no_too_long", "办件编号不能超过 64 个字符", "case_no is longer than 64",
                          field="case_no")
    applied = body.get("measures_applied", [])
    if not isinstance(applied, list) or not all(isinstance(c, str) for c in applied):
        raise DomainError("feedback.measures_invalid", "measures_applied 应为措施代码的列表",
                          "measures_applied must be a list of measure codes", field="measures_applied")
    allowed = set(returned)
    for i, code in enumerate(applied):
        if code not in allowed:
            shown = "、".join(returned) if returned else "（无）"
            raise DomainError(
                "feedback.measure_not_returned",
                f"措施 {code} 不在本次核查返回的措施中（返回的措施：{shown}），不得据此实施",
                f"Measure {code} was not returned by this check (returned: {', '.join(returned) or 'none'})",
                field=f"measures_applied[{i}]")
    if len(set(applied)) != len(applied):
        raise DomainError("feedback.measure_repeated", "措施代码重复", "A measure code is repeated",
                          field="measures_applied")
    outcome = body.get("outcome")
    if outcome not in OUTCOMES:
        raise DomainError("feedback.outcome", "outcome 只能是 applied（已实施）、partially_applied（部分实施）、"
                          "not_applied（未实施）", "outcome must be applied, partially_applied or not_applied",
                          field="outcome")
    if outcome in ("applied", "partially_applied") and not applied:
        raise DomainError("feedback.measures_required", "已实施或部分实施时，请列出实施的措施（measures_applied）",
                          "List the measures applied", field="measures_applied")
    if outcome == "not_applied" and applied:
        raise DomainError("feedback.not_applied_with_measures", "未实施时不应列出已实施的措施",
                          "not_applied cannot list applied measures", field="measures_applied")
    result, note = body.get("result"), body.get("note")
    for name, value, limit in (("result", result, 500), ("note", note, 2000)):
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            raise DomainError(f"feedback.{name}", f"{name} 应为不超过 {limit} 个字符的文本",
                              f"{name} must be text of at most {limit} characters", field=name)
    if outcome == "not_applied" and not (note or "").strip():
        raise DomainError("feedback.note_required", "未实施措施的，请在 note 中说明理由", "Say why in note",
                          field="note")
    return FeedbackIn(case_no.strip(), tuple(applied), outcome, (result or "").strip() or None,
                      (note or "").strip() or None)


def unanswered_cutoff(today: dt.date, due_days: int) -> dt.date:
    """Checks made before this day (Beijing) and never answered count as unanswered (未反馈)."""
    return today - dt.timedelta(days=due_days)

