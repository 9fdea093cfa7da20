"""National identifier formats: resident IDs, phones, documents, plates, bank cards."""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuzhi.standards.documents import (
    is_license_plate,
    is_passport,
    is_travel_permit,
    parse_bank_card,
)
from shuzhi.standards.identifiers import USCC_AUTHORITIES, is_valid_uscc, uscc_from_parts
from shuzhi.standards.phones import (
    MOBILE_PREFIX_TABLES,
    MOBILE_PREFIXES_2020,
    parse_landline,
    parse_mobile,
)
from shuzhi.standards.resident_id import parse_resident_id, upgrade_15
from tests.security import synthetic

seeds = st.integers(min_value=0, max_value=2**32)


@pytest.mark.parametrize(
    "value",
    ["11010519491231002X", "360426199101010071", "11010519491231002x", " 110105 19491231 002X "],
)
def test_known_valid_resident_ids(value: str) -> None:
    assert parse_resident_id(value) is not None


def test_resident_id_decodes_region_birth_and_sex() -> None:
    rid = parse_resident_id("11010519491231002X")
    assert rid is not None
    assert (rid.region_code, rid.birth_date, rid.sex, rid.legacy) == (
        "110105",
        date(1949, 12, 31),
        "female",
        False,
    )


def test_full_width_digits_are_accepted() -> None:
    assert parse_resident_id("１１０１０５１９４９１２３１００２Ｘ") is not None


def test_county_code_newer_than_birth_year_is_accepted() -> None:
    # 330110 (a district code of 2001) on someone born in 1950: IDs keep the code at issue.
    first17 = "33011019500101123"
    from shuzhi.standards.identifiers import ric_check_char

    assert parse_resident_id(first17 + ric_check_char(first17)) is not None


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("11010519491231002Y", "bad character"),
        ("110105194912310021", "bad check digit"),
        ("990105194912310020", "no such province"),
        ("11010518800101002X", "implausible birth year"),
        ("110105199902301234", "no such date"),
        ("1101051949123100", "too short"),
    ],
)
def test_invalid_resident_ids(value: str, why: str) -> None:
    assert parse_resident_id(value) is None, why


def test_future_birth_date_is_rejected() -> None:
    from shuzhi.standards.identifiers import ric_check_char

    first17 = "11010520990101123"
    assert parse_resident_id(first17 + ric_check_char(first17), today=date(2025, 1, 1)) is None


def test_legacy_15_digit_ids_are_upgraded() -> None:
    rid = parse_resident_id("110105491231002")
    assert rid is not None and rid.legacy
    assert rid.number == upgrade_15("110105491231002") == "11010519491231002X"


@given(seeds)
def test_generated_ids_validate_and_a_changed_check_digit_does_not(seed: int) -> None:
    rng = random.Random(seed)
    value = synthetic.resident_id(rng)
    assert parse_resident_id(value) is not None
    assert parse_resident_id(synthetic.bad_check_id(rng)) is None


@pytest.mark.parametrize("authority", sorted(USCC_AUTHORITIES))
def test_uscc_of_every_registering_authority(authority: str) -> None:
    for category in USCC_AUTHORITIES[authority]:
        code = uscc_from_parts(authority, category, "110000", "MA000000")
        assert is_valid_uscc(code), code
    assert is_valid_uscc("91110000600037341L")
    assert not is_valid_uscc("91110000600037341M")


@pytest.mark.parametrize(
    "value",
    ["13812345678", "+86 138 1234 5678", "86-13812345678", "0086 13812345678", "192-1234-5678"],
)
def test_mobile_formats(value: str) -> None:
    assert parse_mobile(value) is not None


def test_mobile_prefix_table_is_versioned() -> None:
    assert set(MOBILE_PREFIX_TABLES) == {"2020-05"}
    assert parse_mobile("19212345678", MOBILE_PREFIXES_2020) == "19212345678"
    assert parse_mobile("12012345678") is None
    assert parse_mobile("1381234567") is None


@pytest.mark.parametrize(
    ("value", "area", "local", "ext"),
    [
        ("0571-88886666", "0571", "88886666", None),
        ("(0571)88886666", "0571", "88886666", None),
        ("057188886666", "0571", "88886666", None),
        ("010-62345678-801", "010", "62345678", "801"),
        ("021 6123 4567", "021", "61234567", None),
        ("+86-571-88886666", "0571", "88886666", None),
        ("88886666", None, "88886666", None),
        ("0571-8888666转123", "0571", "8888666", "123"),
    ],
)
def test_landline_formats(value: str, area: str | None, local: str, ext: str | None) -> None:
    parsed = parse_landline(value)
    assert parsed is not None
    assert (parsed.area_code, parsed.local, parsed.extension) == (area, local, ext)


@pytest.mark.parametrize("value", ["12345678", "0123-4567890", "13812345678", "abc"])
def test_not_landlines(value: str) -> None:
    assert parse_landline(value) is None


def test_bank_card_luhn_failure_is_kept_with_low_confidence() -> None:
    good = parse_bank_card("6222 0212 3456 7890 128")
    assert good is not None and len(good.number) == 19
    card = parse_bank_card("6222021234567890")
    assert card is not None
    assert parse_bank_card("1234567890123456") is None  # unknown issuer prefix
    assert parse_bank_card("62220212345") is None  # too short


@given(seeds)
def test_generated_cards_pass_luhn_unless_legacy(seed: int) -> None:
    card = parse_bank_card(synthetic.bank_card(random.Random(seed), legacy_rate=0.0))
    assert card is not None and card.luhn


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("EA1234567", True),
        ("E12345678", True),
        ("G12345678", True),
        ("SE1234567", True),
        ("D12345678", True),
        ("EI1234567", False),
        ("E1234567", False),
        ("X12345678", False),
    ],
)
def test_passports(value: str, ok: bool) -> None:
    assert is_passport(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("C12345678", True),
        ("W12345678", True),
        ("H1234567890", True),
        ("M12345678", True),
        ("H1234567", False),
        ("C1234567", False),
    ],
)
def test_travel_permits(value: str, ok: bool) -> None:
    assert is_travel_permit(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("浙A12345", True),
        ("浙A·12345", True),
        ("粤b 8888学", True),
        ("浙AD12345", True),  # new energy, small vehicle
        ("粤B12345D", True),  # new energy, large vehicle
        ("京I12345", False),  # I is never used
        ("浙A1234", False),
        ("A123456", False),
    ],
)
def test_licence_plates(value: str, ok: bool) -> None:
    assert is_license_plate(value) is ok


@given(seeds)
def test_generated_plates_permits_passports_validate(seed: int) -> None:
    rng = random.Random(seed)
    assert is_license_plate(synthetic.plate(rng))
    assert is_passport(synthetic.passport(rng))
    assert is_travel_permit(synthetic.travel_permit(rng))
    assert parse_mobile(synthetic.mobile(rng)) is not None


def _luhn_reference(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_luhn_matches_the_textbook_definition(digits: str) -> None:
    from shuzhi.standards.identifiers import luhn_ok

    assert luhn_ok(digits) is _luhn_reference(digits)
    assert not luhn_ok(digits + "a")
