"""Taiwan travel documents, HK/Macau SAR passports, embassy and consulate plates and
Mastercard 2-series cards: recognised by value, masked, and never found in ordinary codes."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuzhi.security.categories import CATEGORY_INFO, Category
from shuzhi.security.classifier import classify_column
from shuzhi.security.detectors import DETECTORS, make_cell
from shuzhi.standards.documents import (
    is_diplomatic_plate,
    is_license_plate,
    is_sar_passport,
    is_taiwan_permit,
    parse_bank_card,
)
from shuzhi.standards.identifiers import luhn_ok
from shuzhi.standards.text import normalize
from tests.security import synthetic

C = Category
seeds = st.integers(min_value=0, max_value=2**32)


def _column(make: object, n: int = 80, seed: int = 1) -> list[str | None]:
    rng = random.Random(seed)
    return [make(rng) for _ in range(n)]  # type: ignore[operator]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12345678", True),  # 台湾居民来往大陆通行证, card form since 2015
        ("12345678(B)", True),  # booklet form with its issue letter
        ("L12345678", True),  # 大陆居民往来台湾通行证, card form
        ("T12345678", True),  # the older booklet form
        ("1234567", False),
        ("123456789", False),
        ("A12345678", False),
        ("L1234567", False),
    ],
)
def test_taiwan_permit_formats(value: str, expected: bool) -> None:
    assert is_taiwan_permit(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("K12345678", True),  # HKSAR passport
        ("KJ0123456", True),
        ("MA0123456", True),  # Macao SAR passport
        ("MA012345", False),
        ("K1234567", False),
        ("KI0123456", False),  # I and O are never used
        ("H12345678", False),  # that is a home-return permit (travel_permit)
    ],
)
def test_sar_passport_formats(value: str, expected: bool) -> None:
    assert is_sar_passport(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("使014578", True),
        ("使 014·578", True),
        ("224001使", True),
        ("沪A1234领", True),
        ("粤B0023领", True),
        ("使01457", False),
        ("浙A12345", False),
    ],
)
def test_diplomatic_plate_formats(value: str, expected: bool) -> None:
    assert is_diplomatic_plate(value) is expected
    if expected:
        assert not is_license_plate(value)  # one category, not two


@given(st.integers(2221, 2720), st.text("0123456789", min_size=11, max_size=11))
def test_mastercard_2_series(prefix: int, middle: str) -> None:
    body = f"{prefix}{middle}"
    number = next(body + d for d in "0123456789" if luhn_ok(body + d))
    card = parse_bank_card(number)
    assert card is not None and card.luhn
    assert DETECTORS[C.BANK_CARD](make_cell(number)) == 2


@given(
    st.integers(2000, 2220) | st.integers(2721, 2999),
    st.text("0123456789", min_size=12, max_size=12),
)
def test_outside_the_2_series_is_no_card(prefix: int, rest: str) -> None:
    assert parse_bank_card(f"{prefix}{rest}") is None


GENERATORS = {
    C.TAIWAN_PERMIT: synthetic.taiwan_permit,
    C.SAR_PASSPORT: synthetic.sar_passport,
    C.DIPLOMATIC_PLATE: synthetic.diplomatic_plate,
}


@pytest.mark.parametrize("category", sorted(GENERATORS))
@settings(max_examples=40)
@given(seed=seeds)
def test_generated_values_validate_and_mask(category: Category, seed: int) -> None:
    value = GENERATORS[category](random.Random(seed))
    assert DETECTORS[category](make_cell(normalize(value))) >= 1
    masked = CATEGORY_INFO[category].mask(value)
    assert masked != value and "*" in masked
    assert CATEGORY_INFO[category].mask(masked) == masked  # idempotent


@pytest.mark.parametrize(
    ("category", "value", "masked"),
    [
        (C.TAIWAN_PERMIT, "L12345678", "L******78"),
        (C.TAIWAN_PERMIT, "12345678", "1*****78"),
        (C.SAR_PASSPORT, "MA0123456", "M******56"),
        (C.DIPLOMATIC_PLATE, "使014578", "使014***"),
        (C.DIPLOMATIC_PLATE, "224001使", "224***使"),
        (C.DIPLOMATIC_PLATE, "沪A1234领", "沪A****领"),
        (C.BANK_CARD, "2223000048400011", "************0011"),
    ],
)
def test_masking_rules(category: Category, value: str, masked: str) -> None:
    assert CATEGORY_INFO[category].mask(value) == masked


def test_categories_are_identity_documents_or_identifiers() -> None:
    for c in (C.TAIWAN_PERMIT, C.SAR_PASSPORT):
        assert CATEGORY_INFO[c].sensitive and CATEGORY_INFO[c].identifying
    assert CATEGORY_INFO[C.DIPLOMATIC_PLATE].identifying


@pytest.mark.parametrize(
    ("name", "make", "category"),
    [
        ("col7", lambda r: "L" + synthetic._digits(r, 8), C.TAIWAN_PERMIT),
        ("证件", synthetic.sar_passport, C.SAR_PASSPORT),
        ("号码", synthetic.diplomatic_plate, C.DIPLOMATIC_PLATE),
        ("台胞证号码", lambda r: synthetic._digits(r, 8), C.TAIWAN_PERMIT),
        ("TBZHM", synthetic.taiwan_permit, C.TAIWAN_PERMIT),
        ("特区护照号码", synthetic.sar_passport, C.SAR_PASSPORT),
        ("卡号", synthetic.mastercard_2_series, C.BANK_CARD),
        ("col3", synthetic.mastercard_2_series, C.BANK_CARD),
    ],
)
def test_columns_are_found(name: str, make: object, category: Category) -> None:
    assert classify_column(name, _column(make)).category is category


@pytest.mark.parametrize(
    ("name", "make"),
    [
        # Eight-digit values are dates, amounts and case numbers far more often than permits.
        ("受理编号", lambda r: synthetic._digits(r, 8)),
        ("col2", lambda r: synthetic._digits(r, 8)),
        ("日期", lambda r: synthetic._birth(r).strftime("%Y%m%d")),
        # Letter-and-digits business numbers in a running sequence (tickets, batches).
        ("票号", lambda r: f"T{r.randrange(20240000, 20240900)}"),
        ("批次", lambda r: f"K{r.randrange(10000000, 10000700)}"),
        # Sixteen-digit serial numbers starting 22–27 pass Luhn one time in ten.
        ("流水号", lambda r: str(r.randint(2221, 2720)) + synthetic._digits(r, 12)),
    ],
)
def test_ordinary_codes_are_not_documents(name: str, make: object) -> None:
    found = classify_column(name, _column(make, 120, seed=7))
    assert found.category is C.NONE, found
