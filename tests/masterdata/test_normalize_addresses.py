"""Addresses: levels read in order, ambiguity reported instead of guessed, suffix rules below."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuzhi.masterdata.normalize.addresses import AddressStatus, parse_address
from shuzhi.masterdata.normalize.divisions import Division, division_index, short_name


def _levels(raw: str, within: str = "") -> tuple[str | None, ...]:
    a = parse_address(raw, within)
    names = (d.name if d else None for d in (a.province, a.city, a.county))
    return (*names, a.street, a.community, a.detail)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "浙江省杭州市西湖区西溪街道古荡社区文三路90号",
            ("浙江省", "杭州市", "西湖区", "西溪街道", "古荡社区", "文三路90号"),
        ),
        ("北京市朝阳区建国路88号", ("北京市", None, "朝阳区", None, None, "建国路88号")),
        ("长春市朝阳区人民大街1号", ("吉林省", "长春市", "朝阳区", None, None, "人民大街1号")),
        ("深圳南山科技园", ("广东省", "深圳市", "南山区", None, None, "科技园")),
        ("湖北省仙桃市沙嘴街道", ("湖北省", None, "仙桃市", "沙嘴街道", None, None)),
        (
            "内蒙古锡林郭勒盟阿巴嘎旗别力古台镇巴彦图嘎嘎查",
            ("内蒙古自治区", "锡林郭勒盟", "阿巴嘎旗", "别力古台镇", "巴彦图嘎嘎查", None),
        ),
        (
            "河南省郑州市中原区林山寨街道建设路社区居委会3号楼",
            ("河南省", "郑州市", "中原区", "林山寨街道", "建设路社区居委会", "3号楼"),
        ),
        ("广东省东莞市长安镇乌沙社区", ("广东省", "东莞市", None, "长安镇", "乌沙社区", None)),
        ("江苏省南京市鼓楼区宁海路街道", ("江苏省", "南京市", "鼓楼区", "宁海路街道", None, None)),
        ("臺灣省", ("台湾省", None, None, None, None, None)),
        ("住址：中国浙江省杭州市西湖区", ("浙江省", "杭州市", "西湖区", None, None, None)),
        ("中国人民大学", (None, None, None, None, None, "中国人民大学")),
        ("陕西省咸阳市乾县城关街道", ("陕西省", "咸阳市", "乾县", "城关街道", None, None)),
        ("上海市 浦东新区 张江镇", ("上海市", None, "浦东新区", "张江镇", None, None)),
    ],
)
def test_real_shaped_addresses(raw: str, expected: tuple[str | None, ...]) -> None:
    assert _levels(raw) == expected


def test_a_county_in_several_provinces_is_ambiguous_not_guessed() -> None:
    result = parse_address("朝阳区建国路88号")
    assert result.status is AddressStatus.AMBIGUOUS
    assert result.county is None and result.province is None
    assert {d.code for d in result.candidates} == {"110105", "220104"}
    assert result.detail == "朝阳区建国路88号"
    assert len(parse_address("鼓楼区中山路").candidates) == 4
    # A province narrows the candidates and is kept; two cities of 江苏 still have a 鼓楼区.
    within_province = parse_address("江苏省鼓楼区中山路")
    assert within_province.status is AddressStatus.AMBIGUOUS
    assert within_province.province is not None and within_province.province.name == "江苏省"
    assert {d.code for d in within_province.candidates} == {"320106", "320302"}
    assert parse_address("福建省鼓楼区").adcode == "350102"


def test_the_jurisdiction_chooses_among_candidates_and_says_so() -> None:
    result = parse_address("朝阳区建国路88号", within="2201")
    assert result.status is AddressStatus.PARSED and result.adcode == "220104"
    assert "resolved_by_jurisdiction" in result.flags
    # A jurisdiction that holds none of the candidates changes nothing.
    assert parse_address("朝阳区建国路88号", within="33").status is AddressStatus.AMBIGUOUS


@pytest.mark.parametrize("raw", ["陕西南路100号", "四川外国语大学", "启东市台湾风情街"])
def test_place_names_inside_roads_are_not_divisions(raw: str) -> None:
    result = parse_address(raw)
    assert result.province is None or result.province.name != "台湾省"
    assert result.province is None or result.province.code != "61"


def test_abolished_divisions_are_not_mapped_to_successors() -> None:
    result = parse_address("杭州市下城区")
    assert result.county is None and result.status is AddressStatus.PARTIAL
    assert result.detail == "下城区"


def test_empty_and_unparsed() -> None:
    assert parse_address(None).status is AddressStatus.EMPTY
    assert parse_address("不详").status is AddressStatus.EMPTY
    assert parse_address("某某小区3栋").status is AddressStatus.UNPARSED


_PIECES = [
    *(d.name for d in list(division_index().by_code.values())[::7]),
    *"省市区县镇乡村路街号栋室 　（）·0１",
    *("朝阳", "鼓楼", "南山", "街道", "社区", "居委会", "嘎查", "苏木", "陕西", "台湾", "深圳"),
    *("中国", "住址:", "地址：", "中华人民共和国"),
]
address_like = st.one_of(
    st.text(max_size=40), st.lists(st.sampled_from(_PIECES), max_size=8).map("".join)
)


@given(address_like)
def test_never_raises_and_is_idempotent(raw: str) -> None:
    first = parse_address(raw)
    again = parse_address(first.text)
    assert again.status is first.status or first.status is AddressStatus.EMPTY
    assert again.adcode == first.adcode
    assert (again.street, again.community, again.detail) == (
        first.street,
        first.community,
        first.detail,
    )


counties = st.sampled_from(
    [d for d in division_index().by_code.values() if d.level == 3 and d.code[:2] != "71"]
)


@given(counties, st.sampled_from(["", "人民路1号", "城关镇幸福村"]))
def test_a_full_path_finds_its_county(county: object, tail: str) -> None:
    assert isinstance(county, Division)
    index = division_index()
    province = index.by_code[county.code[:2] + "0000"]
    city = index.by_code.get(county.code[:4] + "00")
    if city is not None and (city == province or county.code[:2] in ("11", "12", "31", "50")):
        city = None
    raw = province.name + (city.name if city else "") + county.name + tail
    result = parse_address(raw)
    assert result.county == county, raw


@pytest.mark.parametrize(
    ("code", "short"),
    [
        ("330000", "浙江"),
        ("450000", "广西"),
        ("222400", "延边"),
        ("152500", "锡林郭勒"),
        ("232700", "大兴安岭"),
        ("440305", "南山"),
        ("530828", "澜沧"),
    ],
)
def test_short_names(code: str, short: str) -> None:
    assert short_name(division_index().by_code[code]) == short


def test_the_division_data_is_today_s() -> None:
    index = division_index()
    assert len(index.by_code) > 3000
    assert "330103" not in index.by_code  # 下城区, merged into 拱墅区 in 2021
    assert index.by_code["330105"].name == "拱墅区"
