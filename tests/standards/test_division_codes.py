"""Resident IDs are checked against the GB/T 2260 division codes, historical ones included."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from shuzhi.security.categories import Category
from shuzhi.security.detectors import DETECTORS, make_cell
from shuzhi.standards.divisions import CODES_FILE, division_codes, is_division_code
from shuzhi.standards.identifiers import ric_check_char
from shuzhi.standards.resident_id import parse_resident_id


def _id(region: str, born: dt.date, serial: int = 123) -> str:
    first17 = f"{region}{born:%Y%m%d}{serial:03d}"
    return first17 + ric_check_char(first17)


def test_a_county_that_never_existed_is_refused() -> None:
    # Province 11 (Beijing) is real; 1199xx and 110199 are not counties.
    for region in ("119901", "110199", "330199", "330698"):
        assert not is_division_code(region)
        value = _id(region, dt.date(1985, 3, 12))
        assert parse_resident_id(value) is None, value
        assert DETECTORS[Category.RESIDENT_ID](make_cell(value)) < 2


def test_historical_codes_stay_valid() -> None:
    # 崇文区 110103 and 宣武区 110104 were merged away in 2010; 杭州市江干区 330104 in 2021.
    for region in ("110103", "110104", "330104", "330101"):
        assert parse_resident_id(_id(region, dt.date(1960, 5, 1))) is not None


def test_residence_permits_of_hk_macau_taiwan_residents() -> None:
    for region in ("810000", "820000", "830000"):
        assert parse_resident_id(_id(region, dt.date(1990, 1, 1))) is not None


def test_the_list_is_small_documented_and_complete_enough() -> None:
    head = CODES_FILE.read_text(encoding="utf-8").splitlines()[:5]
    assert any("Source:" in line and "generated 20" in line for line in head)
    assert CODES_FILE.stat().st_size < 40_000
    codes = division_codes()
    assert 3000 < len(codes) < 10_000
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert {"110101", "330106", "440305", "650102", "540102"} <= codes


_CODES = sorted(division_codes())


@given(
    st.sampled_from(_CODES),
    st.dates(dt.date(1900, 1, 1), dt.date(2020, 12, 31)),
    st.integers(0, 999),
)
def test_every_listed_code_is_accepted(region: str, born: dt.date, serial: int) -> None:
    assert parse_resident_id(_id(region, born, serial)) is not None


@given(
    st.from_regex(r"[1-9][0-9]{5}", fullmatch=True).filter(lambda c: not is_division_code(c)),
    st.dates(dt.date(1900, 1, 1), dt.date(2020, 12, 31)),
)
def test_every_unlisted_code_is_refused(region: str, born: dt.date) -> None:
    assert parse_resident_id(_id(region, born)) is None
