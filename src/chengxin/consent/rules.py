"""Pure rules of consent (授权): purposes, scope, validity, codes and the rate limit.

No database and no web: ``consent.service`` applies them.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Collection, Sequence

from chengxin.core.errors import DomainError
from chengxin.core.policy import ConsentPolicy

OTHER = "其他"
CATEGORIES = ("basic", "positive", "negative")
CATEGORY_ZH = {"basic": "基础信息", "positive": "良好信息", "negative": "失信信息"}
CODE_LENGTH = 12  # base32 characters: 60 bits

_ALPHABET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def purpose_text(policy: ConsentPolicy, purpose: str, note: str = "") -> str:
    """The stated purpose: one of the policy's purposes; 其他 needs the person's own words."""
    purpose = (purpose or "").strip()
    note = (note or "").strip()
    if purpose not in policy.purposes:
        raise DomainError("consent.bad_purpose", "请选择授权用途", "Choose a purpose", field="purpose")
    if purpose == OTHER:
        if not note:
            raise DomainError("consent.purpose_note_required", "选择“其他”时须填写具体用途",
                              "Describe the purpose when choosing 其他", field="purpose_note")
        if any(not ch.isprintable() for ch in note):
            raise DomainError("consent.purpose_note_invalid", "具体用途含有不可打印字符", "Unprintable characters",
                              field="purpose_note")
        if len(note) > 100:
            raise DomainError("consent.purpose_note_too_long", "具体用途不超过 100 字", "At most 100 characters",
                              field="purpose_note")
        return f"{OTHER}：{note}"
    return purpose


def scope(categories: Collection[str]) -> list[str]:
    """The categories covered, in catalog order; at least one."""
    chosen = [c for c in CATEGORIES if c in set(categories)]
    if not chosen or len(set(categories) - set(CATEGORIES)) > 0:
        raise DomainError("consent.bad_scope", "请至少选择一类授权查询的信息（基础、良好、失信）",
                          "Choose at least one category", field="categories")
    return chosen


def validity(policy: ConsentPolicy, single_use: bool, valid_until: dt.date | None, today: dt.date) -> dt.date | None:
    """None for single use; otherwise a date from today up to ``policy.max_valid_days`` ahead (inclusive)."""
    if single_use:
        return None
    if valid_until is None:
        raise DomainError("consent.valid_until_required", "请填写授权有效期截止日期，或选择单次有效",
                          "Give an end date or choose single use", field="valid_until")
    max_days = policy.max_valid_days
    if valid_until < today or valid_until > today + dt.timedelta(days=max_days):
        raise DomainError("consent.bad_valid_until", f"有效期截止日期须在今天至 {max_days} 天以内",
                          f"The end date must be within {max_days} days from today", field="valid_until")
    return valid_until


def new_code() -> str:
    """A fresh consent code: 12 base32 characters (60 random bits), shown as XXXX-XXXX-XXXX."""
    raw = base64.b32encode(secrets.token_bytes(10)).decode()[:CODE_LENGTH]
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def normalize_code(code: str) -> str | None:
    """The code without separators, upper case; None if it cannot be a code."""
    text = "".join((code or "").split()).replace("-", "").upper()
    if len(text) != CODE_LENGTH or not set(text) <= _ALPHABET:
        return None
    return text


def state(*, revoked: bool, single_use: bool, consumed: bool, valid_until: dt.date | None, today: dt.date) -> str:
    """``valid``, ``revoked``, ``used`` (a consumed single-use consent) or ``expired``."""
    if revoked:
        return "revoked"
    if single_use:
        return "used" if consumed else "valid"
    if valid_until is None or today > valid_until:
        return "expired"
    return "valid"


STATE_ZH = {"valid": "有效", "revoked": "已撤销", "used": "已使用", "expired": "已过期"}


def rate_limited(policy: ConsentPolicy, recent_failures: Sequence[int]) -> bool:
    """Given failure counts (per requester, per client IP) in the window: has any reached the limit?"""
    return any(n >= policy.rate_max_failures for n in recent_failures)
