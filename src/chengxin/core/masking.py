"""Masking of personal identifiers for display (PIPL: show no more than the purpose needs).

Organisation identifiers (统一社会信用代码) are public and are shown unmasked, so there is
no ``mask_uscc``. Each function here masks *more*, never less, when its input is malformed:
an unexpected shape must not leak the whole value.
"""

from __future__ import annotations

from typing import Final

from chengxin.core.errors import InvalidIdentifier
from chengxin.core.identifiers import normalize_ric

__all__ = ["mask_name", "mask_phone", "mask_ric"]

#: Separators between the parts of a transliterated name (e.g. 阿卜杜拉·买买提): the
#: middle dot U+00B7, the bullet U+2022, the katakana middle dot U+30FB and U+FF0E/ASCII dot.
_NAME_SEPARATORS: Final = frozenset("·•・．.")


def mask_ric(ric: str) -> str:
    """Mask a 公民身份号码: first 6 + eight ``*`` + last 4, e.g. ``320402********123X``.

    A 15-digit legacy number is upgraded first. Anything that is not a valid number is
    masked completely (one ``*`` per character).
    """
    number = ric.strip().upper()
    if len(number) != 18:
        try:
            number = normalize_ric(number)
        except InvalidIdentifier:
            return "*" * len(number)
    return number[:6] + "********" + number[-4:]


def _mask_plain(name: str) -> str:
    length = len(name)
    if length <= 1:
        return "*" * length
    if length == 2:
        return name[0] + "*"
    return name[0] + "*" * (length - 2) + name[-1]


def mask_name(name: str) -> str:
    """Mask a personal name, keeping the first and (from three characters on) the last one.

    ``张`` → ``*``, ``张三`` → ``张*``, ``张小明`` → ``张*明``, ``欧阳小明`` → ``欧**明``.
    In a name with separating dots every character is masked except the first character
    of the first part and the last character of the whole; the dots are kept:
    ``阿卜杜拉·买买提`` → ``阿***·**提``. Surrounding whitespace is stripped.
    """
    name = name.strip()
    if not _NAME_SEPARATORS.intersection(name):
        return _mask_plain(name)
    positions = [i for i, char in enumerate(name) if char not in _NAME_SEPARATORS]
    keep: set[int] = set()
    if len(positions) >= 2:
        keep.add(positions[0])
    if len(positions) >= 3:
        keep.add(positions[-1])
    return "".join(char if char in _NAME_SEPARATORS or i in keep else "*" for i, char in enumerate(name))


def mask_phone(phone: str) -> str:
    """Mask a telephone number: keep the first 3 and last 4 characters, ``138****1234``.

    Letters and digits in between become ``*``; separators (``-``, spaces, ``+``) are kept.
    Numbers shorter than 8 characters keep only their last 2 characters (shorter than 4:
    nothing).
    """
    phone = phone.strip()
    length = len(phone)
    if length >= 8:
        head, middle, tail = phone[:3], phone[3:-4], phone[-4:]
    elif length >= 4:
        head, middle, tail = "", phone[:-2], phone[-2:]
    else:
        head, middle, tail = "", phone, ""
    return head + "".join("*" if char.isalnum() else char for char in middle) + tail
