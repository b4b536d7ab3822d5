"""Validation and normalisation of the identifiers the platform ingests.

Three national/international standards (RULES §9, regulatory-anchors §8):

* **公民身份号码**, GB 11643-1999 — :func:`normalize_ric` and friends.
  6-digit address code + ``YYYYMMDD`` birth date + 3-digit sequence (odd = male) + ISO 7064
  MOD 11-2 check character. Legacy 15-digit numbers (``YYMMDD``, no check digit) are upgraded
  to 18 digits (century 19, computed check digit).
* **统一社会信用代码**, GB 32100-2015 (with amendment No. 1, 2016) — :func:`normalize_uscc`.
  Registration-authority code, organisation-category code (validated as a *pair* against the
  standard's table, :data:`USCC_AUTHORITIES`), 6-digit administrative-division code, the
  9-character organisation code with its own GB 11714-1997 check character, and the MOD 31
  check character. The standard is followed in full: letter authorities (``A``, ``N``, ``Y``)
  are accepted, unlike ``stdnum.cn.uscc`` which requires the first 8 characters to be digits.
* **GTIN** (GS1 GTIN-8/12/13/14) — :func:`normalize_gtin`.

Every refusal raises :class:`~chengxin.core.errors.InvalidIdentifier` with a stable code
(``ric.check_digit``, ``uscc.category``, …), a concrete Chinese message (what failed, the
expected and the actual value) and an English one. ``field`` is left ``None``; the caller
knows which field it was validating.

Region (address / administrative-division) codes
------------------------------------------------
The set of valid 6-digit codes is built once at import from python-stdnum's bundled
``stdnum/cn/loc.dat`` (the GB/T 2260 history compiled from Wikipedia, 6 885 codes). *Every*
code in that file is accepted regardless of the ``[start-end]`` year annotations: RULES §9
says a code stays valid for the people born under it after the region is renamed or merged,
and a number's address code is that of the place of first registration, which need not
match the birth year either (stdnum's own year check is therefore deliberately not used).

Measured against Faker's ``zh_CN`` ``ssn()`` area-code list (3 513 codes, taken from the
2015 GB/T 2260 release plus the 港澳台居民居住证 codes) exactly two codes are missing from
stdnum's data, and both are genuine, so they are added explicitly
(:data:`_SUPPLEMENTARY_REGION_CODES`):

* ``620201`` — 嘉峪关市市辖区, listed in the official 2015 GB/T 2260 release;
* ``830000`` — 台湾居民, the address code of 台湾居民居住证 numbers (国办发〔2018〕81号
  《港澳台居民居住证申领发放办法》; ``810000``/``820000`` are already in stdnum's data).

A looser rule (accept any code whose first two digits are a valid province code) was
considered and rejected: with the two additions above every Faker number validates, and a
prefix rule would let typos in the address code through.

USCC positions 3–8 accept the same set plus ``100000`` (national-level registration).

Speed
-----
These functions run on every ingested row, so all tables are built at import and the
check-character sums use ``int(text, base)`` with a base congruent to the weight ratio
(see :func:`_ric_check_char`, :func:`_uscc_check_char`, :func:`_org_code_check_char`); the
tests compare each shortcut with the literal weight tables of the standards.
"""

from __future__ import annotations

import time as _time
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from importlib.resources import files
from types import MappingProxyType
from typing import Final, Literal

from chengxin.core.errors import InvalidIdentifier

__all__ = [
    "ORG_CODE_WEIGHTS",
    "RIC_REGION_CODES",
    "RIC_WEIGHTS",
    "USCC_AUTHORITIES",
    "USCC_CHARSET",
    "USCC_REGION_CODES",
    "USCC_WEIGHTS",
    "is_valid_gtin",
    "is_valid_ric",
    "is_valid_uscc",
    "make_ric",
    "make_uscc",
    "normalize_gtin",
    "normalize_ric",
    "normalize_uscc",
    "ric_birth_date",
    "ric_sex",
    "uscc_authority_label",
    "uscc_category_label",
]


# ---------------------------------------------------------------------------------------------
# Region codes (GB/T 2260), shared by RIC and USCC
# ---------------------------------------------------------------------------------------------

#: Genuine codes missing from stdnum's data; see the module docstring.
_SUPPLEMENTARY_REGION_CODES: Final = frozenset({"620201", "830000"})


def _expand_numdb_token(token: str) -> list[str]:
    """Expand a numdb range token (``0101``, ``0101-0105``, ``0101,0103``) to its codes."""
    codes: list[str] = []
    for part in token.split(","):
        low, _, high = part.partition("-")
        if not high:
            codes.append(low)
        else:
            width = len(low)
            codes.extend(str(n).zfill(width) for n in range(int(low), int(high) + 1))
    return codes


def _load_region_codes() -> frozenset[str]:
    """Read every 6-digit code, current or historical, from ``stdnum/cn/loc.dat``.

    The file is a two-level numdb: an unindented 2-digit province line followed by indented
    4-digit lines for the prefectures and counties under it (see ``stdnum.cn.ric``, which
    reads it with ``numdb.get('cn/loc')``).
    """
    text = files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    codes: set[str] = set()
    province = ""
    for line in text.splitlines():
        if line[6:7] == " " and line[2:6].isdigit():  # fast path: "  0101 county=..."
            codes.add(province + line[2:6])
        elif line.strip() and not line.startswith("#"):
            token = line.split(maxsplit=1)[0]
            if line[0] != " ":
                for province in _expand_numdb_token(token):
                    codes.add(province + "0000")
            else:
                codes.update(province + rest for rest in _expand_numdb_token(token))
    if len(codes) < 3000 or any(len(c) != 6 or not c.isdigit() for c in codes):
        raise RuntimeError("stdnum/cn/loc.dat did not parse into 6-digit region codes")
    return frozenset(codes)


#: Valid address codes for 公民身份号码 (current and historical, see module docstring).
RIC_REGION_CODES: Final[frozenset[str]] = _load_region_codes() | _SUPPLEMENTARY_REGION_CODES

#: Valid administrative-division codes for USCC positions 3–8 (``100000`` = national level).
USCC_REGION_CODES: Final[frozenset[str]] = RIC_REGION_CODES | {"100000"}


def _is_ascii_digits(text: str) -> bool:
    """True for a non-empty string of ``0``–``9`` only (``str.isdigit`` alone accepts ``１``, ``²``)."""
    return text.isascii() and text.isdigit()


# ---------------------------------------------------------------------------------------------
# 公民身份号码 GB 11643-1999
# ---------------------------------------------------------------------------------------------

#: Weights ``2^(17-i) mod 11`` of GB 11643-1999 (documentation; see :func:`_ric_check_char`).
RIC_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
#: Check character for ``Σ aᵢ·Wᵢ mod 11`` = 0 … 10.
_RIC_CHECK_MAP: Final = "10X98765432"
_RIC_LAST_CHARS: Final = frozenset("0123456789X")
_RIC_EARLIEST: Final = "18900101"
#: Valid ``MMDD`` of a leap year; ``0229`` is further checked against the year.
_MONTH_DAYS: Final = frozenset(
    f"{m:02d}{d:02d}"
    for m, days in enumerate((31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31), start=1)
    for d in range(1, days + 1)
)

# Today's local date as ``YYYYMMDD`` with the epoch interval [from, until) it is valid for;
# one tuple, so that threads always see a consistent triple.
_today_cache: tuple[float, float, str] = (0.0, 0.0, "")


def _today_yyyymmdd() -> str:
    """Today's local date as ``YYYYMMDD``; ``date.today()`` is only called once a day."""
    global _today_cache
    valid_from, valid_until, key = _today_cache
    now = _time.time()
    if not valid_from <= now < valid_until:
        today = date.today()
        midnight = datetime.combine(today, datetime.min.time())
        key = today.strftime("%Y%m%d")
        _today_cache = (midnight.timestamp(), (midnight + timedelta(days=1)).timestamp(), key)
    return key


def _ric_check_char(body17: str) -> str:
    """GB 11643 check character of 17 ASCII digits.

    ``Σ aᵢ·2^(17-i)`` over i = 1…17 equals ``2·Σ aᵢ·13^(17-i)`` modulo 11 because 13 ≡ 2, so
    one ``int(body17, 13)`` replaces the weighted sum with :data:`RIC_WEIGHTS`.
    """
    return _RIC_CHECK_MAP[2 * int(body17, 13) % 11]


def _ric_error(code: str, message: str, message_en: str) -> InvalidIdentifier:
    return InvalidIdentifier(f"ric.{code}", message, message_en)


def _check_ric_birth(birth: str) -> None:
    """Validate an 8-digit ``YYYYMMDD`` birth date (real date, 1890-01-01 … today)."""
    month_day = birth[4:]
    if month_day not in _MONTH_DAYS or (month_day == "0229" and not _is_leap(int(birth[:4]))):
        raise _ric_error(
            "birth_date",
            f"公民身份号码出生日期无效：{birth}",
            f"Citizen ID number has an invalid birth date: {birth}",
        )
    if birth < _RIC_EARLIEST:
        raise _ric_error(
            "birth_date",
            f"公民身份号码出生日期无效：{birth}（早于 1890 年 1 月 1 日）",
            f"Citizen ID number has an invalid birth date: {birth} (before 1890-01-01)",
        )
    if birth > _today_yyyymmdd():
        raise _ric_error(
            "birth_date",
            f"公民身份号码出生日期无效：{birth}（晚于今天）",
            f"Citizen ID number has an invalid birth date: {birth} (in the future)",
        )


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _first_non_digit(text: str) -> int:
    """Index of the first character of ``text`` that is not an ASCII digit (or ``len``)."""
    for i, char in enumerate(text):
        if not ("0" <= char <= "9"):
            return i
    return len(text)


def normalize_ric(raw: str) -> str:
    """Validate a 公民身份号码 (GB 11643-1999) and return its canonical 18-character form.

    Surrounding whitespace is stripped, a lower-case ``x`` check character becomes ``X`` and
    a legacy 15-digit number (6 region + ``YYMMDD`` + 3 sequence) is upgraded to 18 digits
    (century 19, computed check digit).

    Raises :class:`InvalidIdentifier` with code ``ric.empty``, ``ric.length``, ``ric.format``,
    ``ric.region``, ``ric.birth_date`` or ``ric.check_digit``.

    >>> normalize_ric(" 11010519491231002x ")
    '11010519491231002X'
    >>> normalize_ric("110105491231002")
    '11010519491231002X'
    """
    number = raw.strip()
    length = len(number)
    if length == 18:
        if number[17] == "x":
            number = number[:17] + "X"
        if not (_is_ascii_digits(number[:17]) and number[17] in _RIC_LAST_CHARS):
            position = _first_non_digit(number[:17])
            if position == 17:
                raise _ric_error(
                    "format",
                    f"公民身份号码第 18 位（校验位）应为数字或 X，实为“{number[17]}”",
                    f"Citizen ID number: character 18 (check) must be a digit or X, got {number[17]!r}",
                )
            raise _ric_error(
                "format",
                f"公民身份号码第 {position + 1} 位应为数字，实为“{number[position]}”",
                f"Citizen ID number: character {position + 1} must be a digit, got {number[position]!r}",
            )
        body = number[:17]
    elif length == 15:
        if not _is_ascii_digits(number):
            position = _first_non_digit(number)
            raise _ric_error(
                "format",
                f"15 位旧公民身份号码第 {position + 1} 位应为数字，实为“{number[position]}”",
                f"Legacy 15-digit citizen ID number: character {position + 1} must be a digit, "
                f"got {number[position]!r}",
            )
        body = number[:6] + "19" + number[6:]
    elif length == 0:
        raise _ric_error("empty", "公民身份号码为空", "Citizen ID number is empty")
    else:
        raise _ric_error(
            "length",
            f"公民身份号码长度应为 18 位（或 15 位旧号码），实为 {length} 位",
            f"Citizen ID number must have 18 characters (or 15 for a legacy number), got {length}",
        )

    region = body[:6]
    if region not in RIC_REGION_CODES:
        raise _ric_error(
            "region",
            f"公民身份号码地址码 {region} 不存在",
            f"Citizen ID number: address code {region} does not exist",
        )
    _check_ric_birth(body[6:14])
    expected = _ric_check_char(body)
    if length == 15:
        return body + expected
    if number[17] != expected:
        raise _ric_error(
            "check_digit",
            f"公民身份号码校验位错误：应为 {expected}，实为 {number[17]}",
            f"Citizen ID number check digit is wrong: expected {expected}, got {number[17]}",
        )
    return number


def is_valid_ric(raw: str) -> bool:
    """True if :func:`normalize_ric` accepts ``raw``."""
    try:
        normalize_ric(raw)
    except InvalidIdentifier:
        return False
    return True


def ric_birth_date(ric: str) -> date:
    """Birth date encoded in a 公民身份号码 (validated first; 15-digit numbers accepted)."""
    number = normalize_ric(ric)
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def ric_sex(ric: str) -> Literal["male", "female"]:
    """Sex encoded in a 公民身份号码: odd sequence number = male, even = female."""
    number = normalize_ric(ric)
    return "male" if int(number[16]) % 2 else "female"


def make_ric(region: str, birth: date, sequence: int) -> str:
    """Build a valid 18-character 公民身份号码 (for demo data and tests).

    ``region`` must be a known address code and ``birth`` a date from 1890-01-01 to today
    (else :class:`InvalidIdentifier` as from :func:`normalize_ric`); ``sequence`` is 0–999
    (odd = male), else :class:`ValueError`.
    """
    if not 0 <= sequence <= 999:
        raise ValueError(f"sequence must be in 0..999, got {sequence}")
    if len(region) != 6 or not _is_ascii_digits(region):
        raise _ric_error(
            "region",
            f"公民身份号码地址码 {region} 不存在",
            f"Citizen ID number: address code {region} does not exist",
        )
    body = f"{region}{birth.year:04d}{birth.month:02d}{birth.day:02d}{sequence:03d}"
    return normalize_ric(body + _ric_check_char(body))


# ---------------------------------------------------------------------------------------------
# 统一社会信用代码 GB 32100-2015
# ---------------------------------------------------------------------------------------------

#: The 31 characters of GB 32100-2015, in value order (no I, O, S, V, Z).
USCC_CHARSET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_CHARS: Final = frozenset(USCC_CHARSET)
#: Weights ``3^(i-1) mod 31`` of GB 32100-2015 (documentation; see :func:`_uscc_check_char`).
USCC_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
#: Weights of the GB 11714-1997 organisation code (see :func:`_org_code_check_char`).
ORG_CODE_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)
#: Maps each USCC character to the base-36 digit of its value (J → I = 18, …, Y → U = 30).
_USCC_TO_BASE36: Final = str.maketrans(USCC_CHARSET, "0123456789ABCDEFGHIJKLMNOPQRSTU")

#: GB 32100-2015 Annex A (incl. amendment No. 1, 2016): registration-authority code →
#: (label, {organisation-category code: label}).
_USCC_TABLE: Final[dict[str, tuple[str, dict[str, str]]]] = {
    "1": ("机构编制", {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"}),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": (
        "司法行政",
        {
            "1": "律师执业机构",
            "2": "公证处",
            "3": "基层法律服务所",
            "4": "司法鉴定机构",
            "5": "仲裁委员会",
            "9": "其他",
        },
    ),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": (
        "旅游",
        {"1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地（大陆）代表机构", "9": "其他"},
    ),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": ("工商", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": ("农业", {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"}),
    "Y": ("其他", {"1": "其他"}),
}

#: Read-only view of the GB 32100 authority/category table.
USCC_AUTHORITIES: Final[Mapping[str, tuple[str, Mapping[str, str]]]] = MappingProxyType(
    {code: (label, MappingProxyType(cats)) for code, (label, cats) in _USCC_TABLE.items()}
)
_USCC_PAIRS: Final = frozenset(a + c for a, (_, cats) in USCC_AUTHORITIES.items() for c in cats)


def _uscc_check_char(body17: str) -> str:
    """GB 32100 check character of 17 valid USCC characters.

    ``Σ vᵢ·3^i`` (i = 0 leftmost) is ``int(reversed, 34) mod 31`` because 34 ≡ 3 (mod 31) and
    34 > 30, the largest character value; the characters are first mapped to the base-36 digit
    of their value. Equals the weighted sum with :data:`USCC_WEIGHTS`.
    """
    total = int(body17.translate(_USCC_TO_BASE36)[::-1], 34)
    return USCC_CHARSET[-total % 31]


def _org_code_check_char(body8: str) -> str:
    """GB 11714-1997 check character of an 8-character organisation-code body.

    The body must consist of USCC characters (values 0…34, standard base-36 digit values,
    A = 10). The weights 3 7 9 10 5 8 4 2 are ``2^(9-i) mod 11`` and 35 ≡ 2 (mod 11), so
    ``Σ vᵢ·Wᵢ ≡ 2·int(body8, 35)``. C9 = 11 − (Σ mod 11), with 10 → ``X`` and 11 → ``0``.
    """
    check = 11 - 2 * int(body8, 35) % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def _uscc_error(code: str, message: str, message_en: str) -> InvalidIdentifier:
    return InvalidIdentifier(f"uscc.{code}", message, message_en)


def _check_uscc_structure(code: str) -> None:
    """Length, character set, authority/category pair and region of an upper-cased USCC."""
    length = len(code)
    if length != 18:
        if length == 0:
            raise _uscc_error("empty", "统一社会信用代码为空", "Unified social credit code is empty")
        raise _uscc_error(
            "length",
            f"统一社会信用代码长度应为 18 位，实为 {length} 位",
            f"Unified social credit code must have 18 characters, got {length}",
        )
    if not _USCC_CHARS.issuperset(code):
        position, char = next((i, c) for i, c in enumerate(code) if c not in _USCC_CHARS)
        raise _uscc_error(
            "charset",
            f"统一社会信用代码第 {position + 1} 位字符“{char}”不合法"
            "（只能是数字或除 I、O、S、V、Z 以外的大写字母）",
            f"Unified social credit code: character {position + 1} ({char!r}) is not allowed "
            "(digits and upper-case letters except I, O, S, V, Z)",
        )
    if code[:2] not in _USCC_PAIRS:
        authority, category = code[0], code[1]
        entry = USCC_AUTHORITIES.get(authority)
        if entry is None:
            raise _uscc_error(
                "registration_authority",
                f"统一社会信用代码登记管理部门代码“{authority}”不存在",
                f"Unified social credit code: registration-authority code {authority!r} does not exist",
            )
        raise _uscc_error(
            "category",
            f"统一社会信用代码机构类别代码“{category}”在登记管理部门“{authority}”（{entry[0]}）下不存在",
            f"Unified social credit code: organisation-category code {category!r} does not exist "
            f"under registration authority {authority!r}",
        )
    region = code[2:8]
    if region not in USCC_REGION_CODES:
        if not region.isdigit():
            raise _uscc_error(
                "region",
                f"统一社会信用代码第 3–8 位行政区划码“{region}”应为 6 位数字",
                f"Unified social credit code: administrative-division code {region!r} must be 6 digits",
            )
        raise _uscc_error(
            "region",
            f"统一社会信用代码行政区划码 {region} 不存在",
            f"Unified social credit code: administrative-division code {region} does not exist",
        )


def normalize_uscc(raw: str) -> str:
    """Validate a 统一社会信用代码 (GB 32100-2015) and return it in canonical form.

    Surrounding whitespace is stripped and letters are upper-cased. Checks, in position order:
    length 18, character set, registration-authority code, organisation-category code (as a
    pair, :data:`USCC_AUTHORITIES`), administrative-division code, the GB 11714 check of the
    embedded organisation code (positions 9–17) and the check character (position 18).

    Raises :class:`InvalidIdentifier` with code ``uscc.empty``, ``uscc.length``,
    ``uscc.charset``, ``uscc.registration_authority``, ``uscc.category``, ``uscc.region``,
    ``uscc.organization_code`` or ``uscc.check_character``.

    >>> normalize_uscc(" 91320100748204660q")
    '91320100748204660Q'
    """
    code = raw.strip().upper()
    _check_uscc_structure(code)
    org_check = _org_code_check_char(code[8:16])
    if code[16] != org_check:
        org_code = f"{code[8:16]}-{code[16]}"
        raise _uscc_error(
            "organization_code",
            f"统一社会信用代码第 9–17 位组织机构代码 {org_code} 校验位错误："
            f"应为 {org_check}，实为 {code[16]}",
            f"Unified social credit code: embedded organisation code {org_code} has a wrong check "
            f"character: expected {org_check}, got {code[16]}",
        )
    expected = _uscc_check_char(code[:17])
    if code[17] != expected:
        raise _uscc_error(
            "check_character",
            f"统一社会信用代码校验位错误：应为 {expected}，实为 {code[17]}",
            f"Unified social credit code check character is wrong: expected {expected}, got {code[17]}",
        )
    return code


def is_valid_uscc(raw: str) -> bool:
    """True if :func:`normalize_uscc` accepts ``raw``."""
    try:
        normalize_uscc(raw)
    except InvalidIdentifier:
        return False
    return True


def make_uscc(authority: str, category: str, region: str, org_code_body8: str) -> str:
    """Build a valid 统一社会信用代码, computing both check characters (demo data, tests).

    Raises :class:`InvalidIdentifier` (same codes as :func:`normalize_uscc`) if the parts do
    not form a valid code, e.g. an undefined authority/category pair.
    """
    if len(authority) != 1 or len(category) != 1 or len(region) != 6 or len(org_code_body8) != 8:
        raise ValueError("make_uscc needs 1 + 1 + 6 + 8 characters")
    prefix = (authority + category + region + org_code_body8).upper()
    _check_uscc_structure(prefix + "00")  # placeholders for the two check characters
    body17 = prefix + _org_code_check_char(prefix[8:16])
    return normalize_uscc(body17 + _uscc_check_char(body17))


def uscc_authority_label(code: str) -> str:
    """Chinese label of the registration authority of a USCC (or of its first character).

    >>> uscc_authority_label("91320100748204660Q")
    '工商'
    """
    authority = code.strip().upper()[:1]
    entry = USCC_AUTHORITIES.get(authority)
    if entry is None:
        raise _uscc_error(
            "registration_authority",
            f"统一社会信用代码登记管理部门代码“{authority}”不存在",
            f"Unified social credit code: registration-authority code {authority!r} does not exist",
        )
    return entry[0]


def uscc_category_label(code: str) -> str:
    """Chinese label of the organisation category of a USCC (or of its first two characters).

    >>> uscc_category_label("92")
    '个体工商户'
    """
    pair = code.strip().upper()[:2]
    uscc_authority_label(pair)
    label, categories = USCC_AUTHORITIES[pair[0]]
    category = pair[1:]
    if category not in categories:
        raise _uscc_error(
            "category",
            f"统一社会信用代码机构类别代码“{category}”在登记管理部门“{pair[0]}”（{label}）下不存在",
            f"Unified social credit code: organisation-category code {category!r} does not exist "
            f"under registration authority {pair[0]!r}",
        )
    return categories[category]


# ---------------------------------------------------------------------------------------------
# GTIN (GS1)
# ---------------------------------------------------------------------------------------------

_GTIN_LENGTHS: Final = frozenset({8, 12, 13, 14})


def _gtin_check_digit(data: str) -> str:
    """GS1 mod-10 check digit of the data digits: weights 3, 1, 3, … from the right."""
    total = 3 * sum(map(int, data[::-2])) + sum(map(int, data[-2::-2]))
    return str(-total % 10)


def normalize_gtin(raw: str) -> str:
    """Validate a GTIN-8, -12 (UPC-A), -13 (EAN) or -14 and return its digits.

    Surrounding whitespace is stripped; the length is kept (no zero padding to 14).
    Raises :class:`InvalidIdentifier` with code ``gtin.empty``, ``gtin.length``,
    ``gtin.format`` or ``gtin.check_digit``.

    >>> normalize_gtin(" 6901234567892 ")
    '6901234567892'
    """
    number = raw.strip()
    length = len(number)
    if length not in _GTIN_LENGTHS:
        if length == 0:
            raise InvalidIdentifier("gtin.empty", "商品条码（GTIN）为空", "GTIN is empty")
        raise InvalidIdentifier(
            "gtin.length",
            f"商品条码（GTIN）长度应为 8、12、13 或 14 位，实为 {length} 位",
            f"GTIN must have 8, 12, 13 or 14 digits, got {length}",
        )
    if not _is_ascii_digits(number):
        position = _first_non_digit(number)
        raise InvalidIdentifier(
            "gtin.format",
            f"商品条码（GTIN）第 {position + 1} 位应为数字，实为“{number[position]}”",
            f"GTIN: character {position + 1} must be a digit, got {number[position]!r}",
        )
    expected = _gtin_check_digit(number[:-1])
    if number[-1] != expected:
        raise InvalidIdentifier(
            "gtin.check_digit",
            f"商品条码（GTIN）校验位错误：应为 {expected}，实为 {number[-1]}",
            f"GTIN check digit is wrong: expected {expected}, got {number[-1]}",
        )
    return number


def is_valid_gtin(raw: str) -> bool:
    """True if :func:`normalize_gtin` accepts ``raw``."""
    try:
        normalize_gtin(raw)
    except InvalidIdentifier:
        return False
    return True
