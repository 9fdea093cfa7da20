"""The quality rule and the classifier judge resident IDs by one validator."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from shuzhi.quality.checks import resident_id_invalid
from shuzhi.security.categories import Category
from shuzhi.security.detectors import DETECTORS, make_cell
from shuzhi.standards.divisions import division_codes
from shuzhi.standards.identifiers import ric_check_char
from shuzhi.standards.resident_id import decode_resident_id, is_valid_resident_id


def _id(region: str, yyyymmdd: str, serial: str = "123") -> str:
    first17 = region + yyyymmdd + serial
    return first17 + ric_check_char(first17)


def _flags(values: list[str]) -> list[bool | None]:
    return list(resident_id_invalid(pa.array(values, pa.string())).to_pylist())


def test_province_99_is_refused_by_the_rule() -> None:
    value = _id("990105", "19491231", "002")
    assert _flags([value]) == [True]
    assert not is_valid_resident_id(value)


def test_a_future_birth_date_is_refused_by_the_rule() -> None:
    future = dt.date.today().year + 1
    value = _id("330106", f"{future}0101")
    assert _flags([value]) == [True]
    assert _flags([_id("330106", "18000101")]) == [True]  # before any living person


def test_a_county_that_never_existed_is_refused_by_the_rule() -> None:
    assert _flags([_id("110199", "19850312"), _id("110101", "19850312")]) == [True, False]


_REGIONS = sorted(division_codes())
_ANY_ID = st.builds(
    _id,
    st.one_of(st.sampled_from(_REGIONS), st.from_regex(r"[1-9][0-9]{5}", fullmatch=True)),
    st.dates(dt.date(1800, 1, 1), dt.date(2200, 12, 31)).map(lambda d: f"{d:%Y%m%d}"),
    st.from_regex(r"[0-9]{3}", fullmatch=True),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_ANY_ID, _ANY_ID.map(str.lower)), min_size=1, max_size=8))
def test_rule_classifier_and_validator_agree(values: list[str]) -> None:
    expected = [decode_resident_id(v.strip().upper()) is None for v in values]
    assert _flags(values) == expected
    assert [not is_valid_resident_id(v) for v in values] == expected
    detect = DETECTORS[Category.RESIDENT_ID]
    assert [detect(make_cell(v)) < 2 for v in values] == expected
