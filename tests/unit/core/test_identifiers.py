"""Tests for chengxin.core.identifiers (GB 11643-1999, GB 32100-2015, GS1 GTIN).

The reference implementations below use the literal weight tables of the standards, so they
also check the ``int(text, base)`` shortcuts used by the module.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from faker import Faker
from hypothesis import given
from hypothesis import strategies as st

from chengxin.core.errors import InvalidIdentifier
from chengxin.core.identifiers import (
    RIC_REGION_CODES,
    USCC_AUTHORITIES,
    USCC_CHARSET,
    USCC_REGION_CODES,
    is_valid_gtin,
    is_valid_ric,
    is_valid_uscc,
    make_ric,
    make_uscc,
    normalize_gtin,
    normalize_ric,
    normalize_uscc,
    ric_birth_date,
    ric_sex,
    uscc_authority_label,
    uscc_category_label,
)

# --------------------------------------------------------------------------------------------
# Reference implementations, straight from the standards' text
# --------------------------------------------------------------------------------------------

RIC_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
USCC_W = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_W = (3, 7, 9, 10, 5, 8, 4, 2)


def ref_ric_check(body17: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(body17, RIC_W, strict=True)) % 11]


def ref_org_check(body8: str) -> str:
    value = 11 - sum(int(c, 36) * w for c, w in zip(body8, ORG_W, strict=True)) % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def ref_uscc_check(body17: str) -> str:
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(body17, USCC_W, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def ref_uscc(first16: str) -> str:
    """Complete 16 characters with both check characters, without any other validation."""
    body17 = first16 + ref_org_check(first16[8:16])
    return body17 + ref_uscc_check(body17)


def ric(body17: str) -> str:
    return body17 + ref_ric_check(body17)


def error_code(func: object, raw: str) -> InvalidIdentifier:
    assert callable(func)
    with pytest.raises(InvalidIdentifier) as info:
        func(raw)
    return info.value


# --------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------

REGIONS = sorted(RIC_REGION_CODES)
USCC_REGIONS = sorted(USCC_REGION_CODES)
PAIRS = sorted(a + c for a, (_, cats) in USCC_AUTHORITIES.items() for c in cats)
births = st.dates(min_value=date(1890, 1, 1), max_value=date.today())
rics = st.builds(make_ric, st.sampled_from(REGIONS), births, st.integers(0, 999))
org_bodies = st.text(alphabet=USCC_CHARSET, min_size=8, max_size=8)
usccs = st.builds(
    lambda pair, region, body: make_uscc(pair[0], pair[1], region, body),
    st.sampled_from(PAIRS),
    st.sampled_from(USCC_REGIONS),
    org_bodies,
)

# ============================================================================================
# 公民身份号码
# ============================================================================================

VALID_RICS = [
    ("11010519491231002X", "11010519491231002X"),  # GB 11643-1999's own example
    ("  11010519491231002x\t", "11010519491231002X"),
    ("\u300011010519491231002X\u3000", "11010519491231002X"),  # full-width spaces
]


@pytest.mark.parametrize(("raw", "expected"), VALID_RICS)
def test_valid_ric(raw: str, expected: str) -> None:
    assert normalize_ric(raw) == expected
    assert is_valid_ric(raw)


# Hand-worked 15 → 18 upgrades: insert "19", then Σ aᵢ·Wᵢ mod 11 → 1 0 X 9 8 7 6 5 4 3 2.
#  110105 19491231 002: 7+9+0+0+8+20+2+9+24+27+7+18+20+15+0+0+4 = 170; 170 mod 11 = 5 → X
#  440524 19800101 001: 28+36+0+25+16+16+2+9+48+0+0+9+0+5+0+0+2 = 196; 196 mod 11 = 9 → 3
#  320402 19750615 123: 21+18+0+20+0+8+2+9+42+15+0+54+10+25+8+8+6 = 246; 246 mod 11 = 4 → 8
@pytest.mark.parametrize(
    ("legacy", "upgraded"),
    [
        ("110105491231002", "11010519491231002X"),
        ("440524800101001", "440524198001010013"),
        ("320402750615123", "320402197506151238"),
    ],
)
def test_fifteen_digit_upgrade(legacy: str, upgraded: str) -> None:
    assert normalize_ric(legacy) == upgraded
    assert normalize_ric(f" {legacy} ") == upgraded
    assert ric_birth_date(legacy) == ric_birth_date(upgraded)


TODAY = date.today()
TOMORROW = TODAY + timedelta(days=1)

RIC_ERRORS = [
    ("", "ric.empty", "公民身份号码为空"),
    ("   ", "ric.empty", "公民身份号码为空"),
    ("32040219900101123", "ric.length", "公民身份号码长度应为 18 位（或 15 位旧号码），实为 17 位"),
    ("3204021990010112345", "ric.length", "实为 19 位"),
    ("11010519491231002A", "ric.format", "第 18 位（校验位）应为数字或 X，实为“A”"),
    ("1101051949123100X2", "ric.format", "第 17 位应为数字，实为“X”"),
    ("11010519491２31002X", "ric.format", "第 12 位应为数字，实为“２”"),  # full-width digit
    ("11010549123100X", "ric.format", "15 位旧公民身份号码第 15 位应为数字"),
    (ric("99999919900101123"), "ric.region", "公民身份号码地址码 999999 不存在"),
    (ric("00000019900101123"), "ric.region", "地址码 000000 不存在"),
    (ric("32040219990230123"), "ric.birth_date", "公民身份号码出生日期无效：19990230"),
    (ric("32040219001301123"), "ric.birth_date", "出生日期无效：19001301"),
    (ric("32040219000229123"), "ric.birth_date", "出生日期无效：19000229"),  # 1900 not leap
    (ric("32040218891231123"), "ric.birth_date", "出生日期无效：18891231（早于 1890 年 1 月 1 日）"),
    (ric("320402" + TOMORROW.strftime("%Y%m%d") + "123"), "ric.birth_date", "（晚于今天）"),
    ("320402990230123", "ric.birth_date", "出生日期无效：19990230"),  # legacy, bad date
    ("110105194912310023", "ric.check_digit", "公民身份号码校验位错误：应为 X，实为 3"),
    ("440524198001010015", "ric.check_digit", "校验位错误：应为 3，实为 5"),
    # The check digit is right (stdnum's doctest number), but 1880 is before the 1890 bound.
    ("440524188001010014", "ric.birth_date", "出生日期无效：18800101（早于 1890 年 1 月 1 日）"),
]


@pytest.mark.parametrize(("raw", "code", "fragment"), RIC_ERRORS)
def test_ric_errors(raw: str, code: str, fragment: str) -> None:
    err = error_code(normalize_ric, raw)
    assert err.code == code
    assert fragment in err.message
    assert err.message_en
    assert err.problem.field is None
    assert not is_valid_ric(raw)


def test_every_ric_error_code_is_exercised() -> None:
    codes = {code for _, code, _ in RIC_ERRORS}
    assert codes == {f"ric.{c}" for c in ("empty", "length", "format", "region", "birth_date", "check_digit")}


def test_ric_boundary_dates() -> None:
    assert is_valid_ric(ric("320402" + "18900101" + "123"))
    assert is_valid_ric(ric("320402" + TODAY.strftime("%Y%m%d") + "123"))
    assert is_valid_ric(ric("32040220000229123"))  # 2000 is a leap year


def test_historical_region_codes_stay_valid() -> None:
    # 110103 崇文区 and 110104 宣武区 were merged away in 2010; 320402 天宁区 is current.
    for region in ("110103", "110104", "320402", "620201", "830000", "810000", "820000"):
        assert region in RIC_REGION_CODES
        assert is_valid_ric(make_ric(region, date(1960, 5, 4), 17))


def test_ric_birth_date_and_sex() -> None:
    assert ric_birth_date("11010519491231002X") == date(1949, 12, 31)
    assert ric_sex("11010519491231002X") == "female"  # sequence 002
    assert ric_sex("440524198001010013") == "male"  # sequence 001
    with pytest.raises(InvalidIdentifier):
        ric_sex("110105194912310023")


def test_make_ric_rejects_bad_parts() -> None:
    with pytest.raises(ValueError):
        make_ric("320402", date(1990, 1, 1), 1000)
    with pytest.raises(ValueError):
        make_ric("320402", date(1990, 1, 1), -1)
    assert error_code(lambda _: make_ric("999999", date(1990, 1, 1), 1), "").code == "ric.region"
    assert error_code(lambda _: make_ric("32040", date(1990, 1, 1), 1), "").code == "ric.region"
    assert error_code(lambda _: make_ric("320402", date(1889, 1, 1), 1), "").code == "ric.birth_date"


@given(st.sampled_from(REGIONS), births, st.integers(0, 999))
def test_make_ric_round_trips(region: str, birth: date, sequence: int) -> None:
    number = make_ric(region, birth, sequence)
    assert len(number) == 18
    assert normalize_ric(number) == number
    assert number[:6] == region
    assert number[14:17] == f"{sequence:03d}"
    assert number[17] == ref_ric_check(number[:17])
    assert ric_birth_date(number) == birth
    assert ric_sex(number) == ("male" if sequence % 2 else "female")


@given(rics, st.integers(0, 17), st.sampled_from("0123456789X"))
def test_any_single_substitution_in_ric_is_rejected(number: str, position: int, char: str) -> None:
    if number[position] == char:
        return
    changed = number[:position] + char + number[position + 1 :]
    assert not is_valid_ric(changed)


@given(st.sampled_from(REGIONS), births, st.integers(0, 999))
def test_lower_case_x_normalises(region: str, birth: date, start: int) -> None:
    body = None
    for offset in range(1000):  # find a sequence number whose check character is X
        candidate = f"{region}{birth:%Y%m%d}{(start + offset) % 1000:03d}"
        if ref_ric_check(candidate) == "X":
            body = candidate
            break
    assert body is not None
    assert normalize_ric(body + "x") == body + "X"
    assert normalize_ric(f" {body}x ") == body + "X"


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_ric_check_shortcut_matches_weights(body17: str) -> None:
    number = body17 + ref_ric_check(body17)
    try:
        normalize_ric(number)
    except InvalidIdentifier as err:
        assert err.code in {"ric.region", "ric.birth_date"}


def test_faker_zh_cn_ssn_validates() -> None:
    fake = Faker("zh_CN")
    fake.seed_instance(20240601)
    bad = [n for n in (fake.ssn() for _ in range(20_000)) if not is_valid_ric(n)]
    assert bad == []


def test_faker_area_codes_all_known() -> None:
    from faker.providers.ssn.zh_CN import Provider

    assert set(Provider.area_codes) <= RIC_REGION_CODES


def test_region_set_matches_stdnum_numdb() -> None:
    """Our import-time parser reads loc.dat exactly as stdnum's own numdb reader does."""
    from stdnum import numdb

    expected: set[str] = set()
    for _, low, high, _, children in numdb.get("cn/loc").prefixes:
        assert low == high
        for _, c_low, c_high, _, _ in children:
            expected.update(low + str(n).zfill(len(c_low)) for n in range(int(c_low), int(c_high) + 1))
        expected.add(low + "0000")
    assert RIC_REGION_CODES == expected | {"620201", "830000"}


def test_region_set_is_not_permissive() -> None:
    assert len(RIC_REGION_CODES) > 6000
    assert all(len(c) == 6 and c.isdigit() for c in RIC_REGION_CODES)
    for bogus in ("999999", "000000", "110199", "100000", "320499"):
        assert bogus not in RIC_REGION_CODES


# ============================================================================================
# 统一社会信用代码
# ============================================================================================

REAL_USCCS = [
    "91320100748204660Q",
    "91320281142232229Q",
    "91310000132215150M",
    "91320000134762764K",
    "9135010026017703XW",
]


@pytest.mark.parametrize("code", REAL_USCCS)
def test_real_uscc(code: str) -> None:
    assert normalize_uscc(code) == code
    assert normalize_uscc(f"  {code.lower()} ") == code
    assert is_valid_uscc(code)
    assert code[16] == ref_org_check(code[8:16])
    assert code[17] == ref_uscc_check(code[:17])


def test_letter_authorities_accepted() -> None:
    # stdnum.cn.uscc rejects these (it requires digits in positions 1–8); GB 32100 does not.
    for first16 in ("A1110000MB0X1234", "N2320402MA1MXXXX", "Y1100000ABCD1234", "N3320402ABCDEFGH"):
        code = ref_uscc(first16)
        assert normalize_uscc(code) == code


USCC_ERRORS = [
    ("", "uscc.empty", "统一社会信用代码为空"),
    ("\t ", "uscc.empty", "统一社会信用代码为空"),
    ("91320100748204660", "uscc.length", "统一社会信用代码长度应为 18 位，实为 17 位"),
    ("9132 0100748204660Q", "uscc.length", "实为 19 位"),
    ("91320100748204660I", "uscc.charset", "第 18 位字符“I”不合法"),
    ("9132010074820O660Q", "uscc.charset", "第 14 位字符“O”不合法"),
    ("Z1320100748204660Q", "uscc.charset", "第 1 位字符“Z”不合法"),
    ("91320100-48204660Q", "uscc.charset", "第 9 位字符“-”不合法"),
    (ref_uscc("B1320100MA1MXXXX"), "uscc.registration_authority", "登记管理部门代码“B”不存在"),
    (ref_uscc("01320100MA1MXXXX"), "uscc.registration_authority", "登记管理部门代码“0”不存在"),
    (ref_uscc("95320100MA1MXXXX"), "uscc.category", "机构类别代码“5”在登记管理部门“9”（工商）下不存在"),
    (ref_uscc("Y2320100MA1MXXXX"), "uscc.category", "机构类别代码“2”在登记管理部门“Y”（其他）下不存在"),
    (ref_uscc("99320100MA1MXXXX"), "uscc.category", "“9”（工商）下不存在"),
    (ref_uscc("9132AB00MA1MXXXX"), "uscc.region", "行政区划码“32AB00”应为 6 位数字"),
    (ref_uscc("91999999MA1MXXXX"), "uscc.region", "统一社会信用代码行政区划码 999999 不存在"),
    ("91320100748204661M", "uscc.organization_code", "组织机构代码 74820466-1 校验位错误：应为 0，实为 1"),
    ("91320100748204660R", "uscc.check_character", "统一社会信用代码校验位错误：应为 Q，实为 R"),
    ("913201007482046600", "uscc.check_character", "统一社会信用代码校验位错误：应为 Q，实为 0"),
]


@pytest.mark.parametrize(("raw", "code", "fragment"), USCC_ERRORS)
def test_uscc_errors(raw: str, code: str, fragment: str) -> None:
    err = error_code(normalize_uscc, raw)
    assert err.code == code
    assert fragment in err.message, err.message
    assert err.message_en
    assert err.problem.field is None
    assert not is_valid_uscc(raw)


def test_every_uscc_error_code_is_exercised() -> None:
    expected = {
        "empty",
        "length",
        "charset",
        "registration_authority",
        "category",
        "region",
        "organization_code",
        "check_character",
    }
    assert {code for _, code, _ in USCC_ERRORS} == {f"uscc.{c}" for c in expected}


def test_uscc_table_matches_gb32100() -> None:
    table = {a: set(cats) for a, (_, cats) in USCC_AUTHORITIES.items()}
    assert table == {
        "1": {"1", "2", "3", "9"},
        "2": {"1", "9"},
        "3": {"1", "2", "3", "4", "5", "9"},
        "4": {"1", "9"},
        "5": {"1", "2", "3", "9"},
        "6": {"1", "2", "9"},
        "7": {"1", "2", "9"},
        "8": {"1", "9"},
        "9": {"1", "2", "3"},
        "A": {"1", "9"},
        "N": {"1", "2", "3", "9"},
        "Y": {"1"},
    }


@pytest.mark.parametrize("pair", PAIRS)
def test_every_table_pair_builds_a_valid_code(pair: str) -> None:
    code = make_uscc(pair[0], pair[1], "320402", "MA1MXXXX")
    assert normalize_uscc(code) == code
    assert code == ref_uscc(pair + "320402MA1MXXXX")
    assert uscc_authority_label(code) == USCC_AUTHORITIES[pair[0]][0]
    assert uscc_category_label(code) == USCC_AUTHORITIES[pair[0]][1][pair[1]]


@pytest.mark.parametrize(
    ("pair", "code"),
    [("95", "uscc.category"), ("Y2", "uscc.category"), ("B1", "uscc.registration_authority")],
)
def test_undefined_pairs_rejected(pair: str, code: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        make_uscc(pair[0], pair[1], "320402", "MA1MXXXX")
    assert info.value.code == code
    assert error_code(normalize_uscc, ref_uscc(pair + "320402MA1MXXXX")).code == code


def test_national_level_region() -> None:
    code = make_uscc("9", "1", "100000", "MA001234")
    assert code[2:8] == "100000"
    assert is_valid_uscc(code)


def test_labels() -> None:
    assert uscc_authority_label("9") == "工商"
    assert uscc_authority_label("91320100748204660Q") == "工商"
    assert uscc_category_label("91320100748204660Q") == "企业"
    assert uscc_category_label("n2") == "村级集体经济组织"
    assert uscc_category_label("62") == "港澳台地区旅游部门常驻内地（大陆）代表机构"
    assert uscc_authority_label("A") == "中央军委改革和编制办公室"
    assert error_code(uscc_authority_label, "B").code == "uscc.registration_authority"
    assert error_code(uscc_category_label, "95").code == "uscc.category"
    assert error_code(uscc_category_label, "").code == "uscc.registration_authority"


def test_make_uscc_rejects_bad_parts() -> None:
    with pytest.raises(ValueError):
        make_uscc("91", "", "320402", "MA1MXXXX")
    assert error_code(lambda _: make_uscc("9", "1", "320402", "MA1MXXXI"), "").code == "uscc.charset"
    assert error_code(lambda _: make_uscc("9", "1", "999999", "MA1MXXXX"), "").code == "uscc.region"


@given(usccs)
def test_make_uscc_output_validates(code: str) -> None:
    assert normalize_uscc(code) == code
    assert normalize_uscc(code.lower()) == code
    assert code[16] == ref_org_check(code[8:16])
    assert code[17] == ref_uscc_check(code[:17])


@given(usccs, st.integers(0, 17), st.sampled_from(USCC_CHARSET + "IOSVZ"))
def test_any_single_substitution_in_uscc_is_rejected(code: str, position: int, char: str) -> None:
    if code[position] == char:
        return
    changed = code[:position] + char + code[position + 1 :]
    assert not is_valid_uscc(changed)


@given(st.text(alphabet=USCC_CHARSET, min_size=17, max_size=17))
def test_uscc_check_shortcut_matches_weights(body17: str) -> None:
    code = body17 + ref_uscc_check(body17)
    try:
        normalize_uscc(code)
    except InvalidIdentifier as err:
        assert err.code != "uscc.check_character"


@given(org_bodies)
def test_org_code_shortcut_matches_weights(body8: str) -> None:
    code = make_uscc("9", "1", "320402", body8)
    assert code[16] == ref_org_check(body8)


# ============================================================================================
# GTIN
# ============================================================================================


@pytest.mark.parametrize(
    "gtin",
    ["4006381333931", "9780306406157", "6901234567892", "036000291452", "96385074", "10012345678902"],
)
def test_valid_gtin(gtin: str) -> None:
    assert normalize_gtin(gtin) == gtin
    assert normalize_gtin(f" {gtin}\n") == gtin
    assert is_valid_gtin(gtin)


@pytest.mark.parametrize(
    ("raw", "code", "fragment"),
    [
        ("", "gtin.empty", "商品条码（GTIN）为空"),
        ("690123456789", "gtin.check_digit", "校验位错误：应为 7，实为 9"),  # as a GTIN-12
        ("69012345678", "gtin.length", "长度应为 8、12、13 或 14 位，实为 11 位"),
        ("69012345678921", "gtin.check_digit", "应为 2，实为 1"),
        ("690123456789A", "gtin.format", "第 13 位应为数字，实为“A”"),
        ("6901234567893", "gtin.check_digit", "商品条码（GTIN）校验位错误：应为 2，实为 3"),
    ],
)
def test_gtin_errors(raw: str, code: str, fragment: str) -> None:
    err = error_code(normalize_gtin, raw)
    assert err.code == code
    assert fragment in err.message, err.message
    assert not is_valid_gtin(raw)


@given(
    st.sampled_from([7, 11, 12, 13]).flatmap(lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n))
)
def test_gtin_matches_stdnum(data: str) -> None:
    from stdnum import ean

    gtin = data + ean.calc_check_digit(data)
    assert normalize_gtin(gtin) == gtin
    wrong = gtin[:-1] + str((int(gtin[-1]) + 1) % 10)
    assert not is_valid_gtin(wrong)
