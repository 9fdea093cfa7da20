"""Resident IDs as evidence: 15 → 18, check characters, birth date and sex never trusted blindly."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shuzhi.masterdata.normalize.evidence import Check
from shuzhi.masterdata.normalize.resident_ids import read_resident_id
from shuzhi.standards.identifiers import ric_check_char
from shuzhi.standards.resident_id import decode_resident_id, upgrade_15

TODAY = date(2026, 12, 1)
REGIONS = st.sampled_from(["110105", "360426", "440305", "330103", "650102", "429004"])
BIRTHS = st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31))
SEQUENCES = st.integers(min_value=0, max_value=999).map(lambda n: f"{n:03d}")
FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def _id18(region: str, born: date, seq: str) -> str:
    first17 = f"{region}{born:%Y%m%d}{seq}"
    return first17 + ric_check_char(first17)


def test_known_id_with_lowercase_x() -> None:
    evidence = read_resident_id("11010519491231002x", TODAY)
    assert evidence.valid and evidence.number == "11010519491231002X"
    assert evidence.birth_date == date(1949, 12, 31) and evidence.birth_check is Check.VALID
    assert evidence.sex == "female" and evidence.sex_check is Check.VALID
    assert "lowercase_x" in evidence.flags


def test_full_width_digits_and_separators() -> None:
    evidence = read_resident_id("１１０１０５ １９４９１２３１ ００２Ｘ", TODAY)
    assert evidence.valid and evidence.number == "11010519491231002X"
    assert {"width_normalised", "separators_removed"} <= evidence.flags


def test_failed_check_digit_still_yields_unverified_birth_date() -> None:
    evidence = read_resident_id("110105194912310021", TODAY)
    assert not evidence.valid
    assert evidence.check_digit is Check.INVALID
    assert evidence.birth_date == date(1949, 12, 31)
    assert evidence.birth_check is Check.UNVERIFIED
    assert evidence.sex == "female" and evidence.sex_check is Check.UNVERIFIED


def test_fifteen_digits_are_upgraded_but_their_parts_stay_unverified() -> None:
    evidence = read_resident_id("110105491231002", TODAY)
    assert evidence.number == "11010519491231002X"
    assert "upgraded_from_15" in evidence.flags
    assert evidence.check_digit is Check.UNKNOWN and evidence.birth_check is Check.UNVERIFIED
    assert evidence.valid


def test_impossible_dates_unknown_regions_and_bad_shapes() -> None:
    bad_date = _id18("110105", date(1990, 1, 1), "123").replace("19900101", "19901345")
    evidence = read_resident_id(bad_date[:17] + ric_check_char(bad_date[:17]), TODAY)
    assert evidence.birth_date is None and evidence.birth_check is Check.INVALID
    assert not evidence.valid
    unknown_region = _id18("999999", date(1990, 1, 1), "123")
    assert read_resident_id(unknown_region, TODAY).region is Check.INVALID
    for shape in ("12345", "1101051949123100ZX", "身份证"):
        assert read_resident_id(shape, TODAY).shape is Check.INVALID
    assert read_resident_id(None).shape is Check.UNKNOWN
    assert read_resident_id("无").shape is Check.UNKNOWN


@given(REGIONS, BIRTHS, SEQUENCES)
def test_check_digits_round_trip(region: str, born: date, seq: str) -> None:
    number = _id18(region, born, seq)
    evidence = read_resident_id(number.lower().translate(FULLWIDTH), TODAY)
    assert evidence.valid and evidence.number == number
    assert evidence.birth_date == born
    assert evidence.sex == ("male" if int(seq[2]) % 2 else "female")


@given(REGIONS, BIRTHS, SEQUENCES, st.integers(min_value=0, max_value=16), st.integers(1, 9))
def test_a_changed_digit_fails_the_check(
    region: str, born: date, seq: str, at: int, delta: int
) -> None:
    number = _id18(region, born, seq)
    digit = str((int(number[at]) + delta) % 10)
    typo = number[:at] + digit + number[at + 1 :]
    assert read_resident_id(typo, TODAY).check_digit is Check.INVALID


@given(REGIONS, st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)), SEQUENCES)
def test_fifteen_to_eighteen_then_validating(region: str, born: date, seq: str) -> None:
    legacy = f"{region}{born:%y%m%d}{seq}"
    upgraded = upgrade_15(legacy)
    assert read_resident_id(legacy, TODAY).number == upgraded
    again = read_resident_id(upgraded, TODAY)
    assert again.valid and again.check_digit is Check.VALID and again.birth_date == born


@given(st.text(max_size=24))
def test_never_raises_and_agrees_with_the_project_validator(raw: str) -> None:
    evidence = read_resident_id(raw, TODAY)
    if evidence.number is not None:
        assert evidence.valid == (decode_resident_id(evidence.number, TODAY) is not None)
        assert read_resident_id(evidence.number, TODAY).number == evidence.number


@given(st.text(alphabet="0123456789Xx -", min_size=15, max_size=20))
def test_digit_strings_agree_with_the_project_validator(raw: str) -> None:
    evidence = read_resident_id(raw, TODAY)
    if evidence.number is not None:
        assert evidence.valid == (decode_resident_id(evidence.number, TODAY) is not None)


def test_future_birth_dates_are_invalid() -> None:
    future = _id18("110105", TODAY + timedelta(days=1), "123")
    assert read_resident_id(future, TODAY).birth_check is Check.INVALID
