"""Names: width, dots, spacing, traditional → simplified, case; pinyin keys with surnames."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuzhi.masterdata.normalize.evidence import Check
from shuzhi.masterdata.normalize.names import normalize_name
from shuzhi.masterdata.normalize.pinyin import (
    COMPOUND_SURNAME_READINGS,
    MAX_VARIANTS,
    SURNAME_READINGS,
    pinyin_key,
    pinyin_variants,
)
from shuzhi.masterdata.normalize.text import MIDDLE_DOTS, to_halfwidth, to_simplified

han = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
name_like = st.text(
    st.one_of(han, st.sampled_from(MIDDLE_DOTS + " 　.（）()ＡａBb·-"), st.characters()),
    max_size=12,
)


@pytest.mark.parametrize(
    ("raw", "value", "flag"),
    [
        ("單田芳", "单田芳", "traditional_converted"),
        ("歐陽鋒", "欧阳锋", "traditional_converted"),
        ("买买提•艾力", "买买提·艾力", "dot_unified"),
        ("阿卜杜勒・热合曼", "阿卜杜勒·热合曼", "dot_unified"),
        ("买买提.艾力", "买买提·艾力", "dot_unified"),
        ("古丽‧努尔", "古丽·努尔", "dot_unified"),
        ("张三（曾用名）", "张三", "note_removed"),
        ("ＷＡＮＧ　ｘｉａｏ", "WANG XIAO", "width_normalised"),
        ("John smith", "JOHN SMITH", "case_folded"),
    ],
)
def test_real_shaped_names(raw: str, value: str, flag: str) -> None:
    result = normalize_name(raw)
    assert result.value == value
    assert flag in result.field.flags
    assert result.field.raw == raw


def test_spaces_inside_han_names_go_and_blank_is_unknown() -> None:
    assert normalize_name(" 张 三 ").value == "张三"
    for blank in (None, "", "  ", "无", "NULL", "無", "（空）"):
        result = normalize_name(blank)
        assert result.value is None and result.field.check is Check.UNKNOWN


def test_controls_go_and_private_use_rare_characters_stay() -> None:
    # Rare name characters (生僻字) are often stored in the private-use area.
    assert normalize_name("王\ue000明").value == "王\ue000明"
    assert normalize_name("\udc80張\u200b三\x00").value == "张三"


def test_names_opencc_would_spoil_are_kept() -> None:
    assert normalize_name("錢乾").value == "钱乾"
    assert normalize_name("於光").value == "於光"
    assert normalize_name("乾隆").value == "乾隆"


def test_surname_reading_is_not_the_default_reading() -> None:
    # pypinyin reads 单 as "dan"; as a surname it is Shan.
    assert normalize_name("单田芳").surname_pinyin == "shan"
    assert pinyin_key("单田芳") == pinyin_key("善田芳") == "shan tian fang"
    assert pinyin_key("单") == "shan"
    # Outside the surname position the character keeps its ordinary reading.
    assert pinyin_key("张单") == "zhang dan"


@pytest.mark.parametrize(
    ("name", "surname", "key"),
    [
        ("仇英", "qiu", "qiu ying"),
        ("解缙", "xie", "xie jin"),
        ("曾国藩", "zeng", "zeng guo fan"),
        ("查良镛", "zha", "zha liang yong"),
        ("朴槿惠", "piao", "piao jin hui"),
        ("区永", "ou", "ou yong"),
        ("尉迟恭", "yu chi", "yu chi gong"),
        ("万俟卨", "mo qi", "mo qi xie"),
        ("长孙无忌", "zhang sun", "zhang sun wu ji"),
        ("吕布", "lv", "lv bu"),
    ],
)
def test_surname_overrides(name: str, surname: str, key: str) -> None:
    result = normalize_name(name)
    assert result.surname_pinyin == surname
    assert result.pinyin == key


def test_every_override_is_used_as_written() -> None:
    for surname, reading in SURNAME_READINGS.items():
        assert pinyin_key(surname + "明").split()[0] == reading
    for surname, syllables in COMPOUND_SURNAME_READINGS.items():
        assert pinyin_key(surname + "明").split()[:2] == list(syllables)


def test_polyphonic_given_names_get_variant_keys() -> None:
    # 乐 in a given name may be le or yue; the surname keeps its surname reading.
    result = normalize_name("单乐")
    assert result.pinyin in result.pinyin_variants
    assert {"shan le", "shan yue"} <= result.pinyin_variants
    assert all(v.startswith("shan ") for v in result.pinyin_variants)
    # A clerk who heard "Shan Yue" and wrote 善悦 meets 单乐 on a variant key.
    assert pinyin_key("善悦") in result.pinyin_variants


@given(st.text(han, min_size=1, max_size=4))
def test_variants_hold_the_key_and_are_bounded(name: str) -> None:
    variants = pinyin_variants(name)
    assert pinyin_key(name) in variants
    assert len(variants) <= MAX_VARIANTS


def test_traditional_and_simplified_names_share_a_key() -> None:
    assert normalize_name("張學友").pinyin == normalize_name("张学友").pinyin
    assert normalize_name("張學友").value == "张学友"


@given(name_like)
def test_name_normalisation_never_raises_and_is_idempotent(raw: str) -> None:
    first = normalize_name(raw)
    if first.value is None:
        return
    again = normalize_name(first.value)
    assert again.value == first.value
    assert again.pinyin == first.pinyin
    assert first.pinyin is None or first.pinyin == first.pinyin.strip()


@given(st.text(max_size=20))
def test_character_steps_are_idempotent(text: str) -> None:
    assert to_halfwidth(to_halfwidth(text)) == to_halfwidth(text)
    assert to_simplified(to_simplified(text)) == to_simplified(text)


def test_halfwidth_leaves_what_nfkc_would_spoil() -> None:
    # NFKC would turn these into 1, (株), 2 and TEL: house numbers and names change.
    assert to_halfwidth("①㈱²℡") == "①㈱²℡"
    assert to_halfwidth("１２３ＡＢＣ（）　⼈") == "123ABC() 人"


@given(st.text(han, min_size=1, max_size=4))
def test_pinyin_keys_are_lower_ascii_syllables(name: str) -> None:
    key = pinyin_key(name)
    assert key == key.lower() and key.isascii()
    assert len(key.split()) <= len(name)
