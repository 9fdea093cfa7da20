"""Mobile segments outside China's numbering plan for public mobile service are rejected.

1740x is the maritime satellite segment and 1749 the Tiantong satellite segment; 1741x and
194 are not allocated to public mobile numbers, so neither the validator nor the classifier's
value evidence may take them for mobile numbers.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shuzhi.security.categories import Category
from shuzhi.security.detectors import DETECTORS, make_cell
from shuzhi.standards.phones import CURRENT_MOBILE_PREFIXES, MOBILE_PREFIX_TABLES, parse_mobile
from shuzhi.standards.text import normalize

_TAIL = st.text("0123456789", min_size=7, max_size=7)


@given(_TAIL)
def test_1741_numbers_are_not_mobile_numbers(tail: str) -> None:
    number = "1741" + tail
    assert parse_mobile(number) is None
    assert DETECTORS[Category.MOBILE_PHONE](make_cell(normalize(number))) < 2


@given(st.text("0123456789", min_size=8, max_size=8))
def test_194_numbers_are_not_mobile_numbers(tail: str) -> None:
    number = "194" + tail
    assert parse_mobile(number) is None
    assert parse_mobile("+86 " + number) is None
    assert DETECTORS[Category.MOBILE_PHONE](make_cell(normalize(number))) < 2


@given(_TAIL)
def test_satellite_segments_stay_accepted(tail: str) -> None:
    assert parse_mobile("1740" + tail) is not None
    assert parse_mobile("1749" + tail) is not None


def test_no_prefix_table_allocates_them() -> None:
    for table in MOBILE_PREFIX_TABLES.values():
        assert "194" not in table.prefixes and "1741" not in table.prefixes
    assert not CURRENT_MOBILE_PREFIXES.allows("19412345678")
