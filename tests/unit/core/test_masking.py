"""Tests for chengxin.core.masking."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chengxin.core.identifiers import RIC_REGION_CODES, make_ric
from chengxin.core.masking import mask_name, mask_phone, mask_ric


@pytest.mark.parametrize(
    ("ric", "masked"),
    [
        ("32040219900101123X", "320402********123X"),
        ("11010519491231002X", "110105********002X"),
        (" 11010519491231002x ", "110105********002X"),
        ("110105491231002", "110105********002X"),  # legacy 15-digit number, upgraded first
        ("1101054912310", "*************"),  # malformed: nothing shown
        ("", ""),
    ],
)
def test_mask_ric(ric: str, masked: str) -> None:
    assert mask_ric(ric) == masked


@given(
    st.sampled_from(sorted(RIC_REGION_CODES)), st.dates(date(1890, 1, 1), date.today()), st.integers(0, 999)
)
def test_mask_ric_hides_birth_date(region: str, birth: date, sequence: int) -> None:
    number = make_ric(region, birth, sequence)
    masked = mask_ric(number)
    assert len(masked) == 18
    assert masked[:6] == number[:6]
    assert masked[6:14] == "********"
    assert masked[14:] == number[14:]


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("", ""),
        ("张", "*"),
        ("张三", "张*"),
        ("张小明", "张*明"),
        ("欧阳小明", "欧**明"),
        ("爱新觉罗溥仪", "爱****仪"),
        (" 张小明 ", "张*明"),
        ("阿卜杜拉·买买提", "阿***·**提"),
        ("买买提·艾力", "买**·*力"),
        ("阿依古丽·买买提·吐尔逊", "阿***·***·**逊"),
        ("阿•提", "阿•*"),  # only two name characters: like a 2-character name
        ("玛丽・居里", "玛*・*里"),  # katakana middle dot kept as is
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@given(st.text(alphabet="张王李赵阿卜杜拉买提·", min_size=1, max_size=12))
def test_mask_name_never_shows_more_than_two_characters(name: str) -> None:
    masked = mask_name(name)
    assert len(masked) == len(name.strip())
    shown = [c for c in masked if c not in "*·"]
    assert len(shown) <= 2


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812341234", "138****1234"),
        (" 13812341234 ", "138****1234"),
        ("138-1234-1234", "138-****-1234"),
        ("0519-86661234", "051*-****1234"),
        ("+8613812341234", "+86*******1234"),
        ("8666123", "*****23"),
        ("110", "***"),
        ("", ""),
    ],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked
