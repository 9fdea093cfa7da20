"""Which golden records a push-back selects: the area on the parsed address, ages on the
day of delivery, attribute values and source memberships (pure functions)."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from shuzhi.masterdata.models import LibraryKind
from shuzhi.masterdata.pushback_select import (
    Area,
    Condition,
    Selection,
    age_on,
    area_problem,
    canonical_community,
    canonical_street,
    division_text,
    normalised,
    parsed,
    table,
)


def _golden(
    address: str | None, birth: str | None = None, sex: str | None = None
) -> dict[str, dict[str, str | None]]:
    return {
        "address": {"value": address},
        "birth_date": {"value": birth},
        "sex": {"value": sex},
        "name": {"value": "王伟"},
    }


def test_street_and_community_are_compared_by_core_and_kind() -> None:
    assert canonical_street("北山街道办事处") == canonical_street("北山街道") == "北山街道"
    assert canonical_street("瓶窑镇") == "瓶窑镇" and canonical_street("镇") == "镇"
    assert canonical_community("保俶路社区居民委员会") == "保俶路社区"
    assert canonical_community("保俶路居委会") == "保俶路社区"
    assert canonical_community("西溪村村民委员会") == canonical_community("西溪村") == "西溪村"
    assert canonical_community("西溪社区") != canonical_community("西溪村")  # never one another
    assert canonical_street(None) is None and canonical_community("") is None


def test_divisions_an_address_can_end_at() -> None:
    assert division_text("330106") == "浙江省杭州市西湖区"
    assert division_text("110105") == "北京市朝阳区"  # municipalities have no prefecture
    assert division_text("441900") == "广东省东莞市"  # a prefecture without counties
    assert division_text("330100") is None  # 杭州市 has counties: name one
    assert division_text("330000") is None and division_text("000000") is None


def test_area_problems_name_the_field() -> None:
    assert area_problem("330106", "北山街道", "保俶路社区") is None
    assert area_problem("441900", "虎门镇", None) is None
    assert area_problem("330100", "北山街道", None)[0] == "division_code"  # type: ignore[index]
    assert area_problem("330106", "文三路", None)[0] == "street"  # type: ignore[index]
    assert area_problem("330106", "北山街道", "保俶路8号")[0] == "community"  # type: ignore[index]


def test_the_area_holds_addresses_of_its_county_street_and_community() -> None:
    area = Area.of("330106", "北山街道", None)
    community = Area.of("330106", "北山街道办事处", "保俶路社区居民委员会")
    inside = parsed("浙江省杭州市西湖区北山街道保俶路社区保俶路5号", "330106")
    village = parsed("杭州市西湖区北山街道西湖村3号", "330106")
    assert area.holds(inside) and area.holds(village)
    assert community.holds(inside) and not community.holds(village)
    other_county = parsed("浙江省杭州市上城区北山街道东坡路8号", "330106")
    no_county = parsed("杭州市北山街道保俶路99号", "330106")
    other_street = parsed("浙江省杭州市西湖区西溪街道文三路1号", "330106")
    assert not any(area.holds(a) for a in (other_county, no_county, other_street))


def test_ages_count_whole_years_on_the_day() -> None:
    day = date(2026, 3, 1)
    assert age_on("1946-03-01", day) == 80 and age_on("1946-03-02", day) == 79
    assert age_on("2000-02-29", date(2026, 2, 28)) == 25 and age_on("2000-02-29", day) == 26
    assert age_on(None, day) is None and age_on("1946-03", day) is None
    assert age_on("1946-13-01", day) is None


def test_conditions_and_selection() -> None:
    day = date(2026, 3, 1)
    beishan = "浙江省杭州市西湖区北山街道保俶路社区保俶路{}号"
    entities = [
        ("P3", _golden(beishan.format(3), "1940-01-01", "female")),
        ("P1", _golden(beishan.format(1), "1990-01-01", "female")),
        ("P2", _golden(beishan.format(2), "1930-05-05", "male")),
        ("P4", _golden(None, "1930-05-05", "female")),  # no address: nobody's
        ("P5", _golden(beishan.format(5), None, "female")),  # no birth date: no age
    ]
    sources = {"dialysis": {"P2", "P3"}}
    conditions = (
        Condition.of({"kind": "age", "min_age": 80, "max_age": None}),
        Condition.of({"kind": "equals", "attribute": "sex", "value": "female"}),
        Condition.of({"kind": "in_dataset", "resource_code": "dialysis"}),
    )
    selection = Selection(Area.of("330106", "北山街道", None), conditions, ("name", "sex"))
    assert [e for e, _ in selection.select(entities, day, sources)] == ["P3"]
    everyone = Selection(Area.of("330106", "北山街道", None), (), ("name", "sex"))
    chosen = everyone.select(entities, day, sources)
    assert [e for e, _ in chosen] == ["P1", "P2", "P3", "P5"]
    outside = Condition.of({"kind": "not_in_dataset", "resource_code": "dialysis"})
    assert not outside.holds("P2", entities[2][1], day, sources)
    rows = table(LibraryKind.PERSON, ("name", "sex"), chosen).to_pylist()
    assert rows[1] == {"实体标识": "P2", "姓名": "王伟", "性别": "男"}


def test_condition_values_are_normalised_as_golden_values() -> None:
    assert normalised(LibraryKind.PERSON, "sex", "女") == "female"
    assert normalised(LibraryKind.PERSON, "sex", "男性") == "male"
    assert normalised(LibraryKind.PERSON, "birth_date", "1946年3月1日") == "1946-03-01"
    assert normalised(LibraryKind.PERSON, "sex", "未知值") is None
    assert normalised(LibraryKind.PERSON, "name", "張三") == "张三"


@given(st.text(max_size=30), st.text(max_size=30), st.text(max_size=12))
def test_area_checks_never_raise(street: str, community: str, code: str) -> None:
    found = area_problem(code, street, community or None)
    assert found is None or found[0] in ("division_code", "street", "community")
    canonical_street(street)
    canonical_community(community)
    Area.of("330106", street, community).holds(parsed(street + community, "330106"))
