"""Masking rules and keyed pseudonyms, with property-based checks over synthetic values."""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuzhi.security.categories import CATEGORY_INFO, Category
from shuzhi.security.masking import (
    MASK,
    MASKERS,
    MaskLevel,
    compare_levels,
    is_more_masked,
    mask,
    may_override,
    pseudonymise,
    strictest,
)
from shuzhi.standards.addresses import ADMIN_CUE
from shuzhi.standards.text import compact, normalize
from tests.security import synthetic

C = Category
R = random.Random


def _landline(rng: R) -> str:
    return synthetic.with_landline_format(rng, *synthetic.landline(rng))


def _birth(rng: R) -> str:
    return synthetic.fmt_date(rng, synthetic._birth(rng), "mixed")


def _location(rng: R) -> str:
    return synthetic._coordinates(rng)


# A generator of realistic original values for every category that has a partial mask.
GENERATORS: dict[Category, Callable[[R], str]] = {
    C.RESIDENT_ID: synthetic.resident_id,
    C.USCC: synthetic.uscc,
    C.ORG_CODE: synthetic.org_code,
    C.MOBILE_PHONE: lambda r: synthetic.with_mobile_format(r, synthetic.mobile(r)),
    C.LANDLINE_PHONE: _landline,
    C.BANK_CARD: lambda r: synthetic.spaced_card(r, synthetic.bank_card(r)),
    C.PASSPORT: synthetic.passport,
    C.TRAVEL_PERMIT: synthetic.travel_permit,
    C.LICENSE_PLATE: synthetic.plate,
    C.EMAIL: synthetic.email,
    C.IP_ADDRESS: synthetic.ip_address,
    C.ADDRESS: synthetic.address,
    C.PERSON_NAME: synthetic.person_name,
    C.BIRTH_DATE: _birth,
    C.HEALTH: lambda r: r.choice(synthetic.DIAGNOSES),
    C.POSTAL_CODE: synthetic._postal,
    C.GENDER: lambda r: r.choice(["男", "女"]),
    C.ETHNICITY: lambda r: r.choice(synthetic.ETHNIC_WEIGHTED),
    C.RELIGION: lambda r: r.choice(synthetic.RELIGIONS),
    C.BIOMETRIC: lambda r: synthetic._b64(r, 64),
    C.PRECISE_LOCATION: _location,
    C.TAIWAN_PERMIT: synthetic.taiwan_permit,
    C.SAR_PASSPORT: synthetic.sar_passport,
    C.DIPLOMATIC_PLATE: synthetic.diplomatic_plate,
}
MASKED = sorted(GENERATORS)
seeds = st.integers(min_value=0, max_value=2**32)
KEY = b"k" * 32


def test_every_category_has_a_masker_and_a_generator() -> None:
    assert set(MASKERS) == {c.value for c in Category}
    assert set(GENERATORS) == set(Category) - {C.NONE}


@pytest.mark.parametrize(
    ("category", "value", "masked"),
    [
        (C.RESIDENT_ID, "44010519900307123X", "4401051990********"),
        (C.RESIDENT_ID, "440105900307123", "44010590*******"),
        (C.MOBILE_PHONE, "13812345678", "138****5678"),
        (C.MOBILE_PHONE, "+86 138 1234 5678", "138****5678"),
        (C.LANDLINE_PHONE, "(0571)88886666", "0571-******66"),
        (C.BANK_CARD, "6222 0212 3456 7890", "************7890"),
        (C.PASSPORT, "EA1234567", "E******67"),
        (C.TRAVEL_PERMIT, "C12345678", "C******78"),
        (C.LICENSE_PLATE, "浙A·D12345", "浙A******"),
        (C.EMAIL, "zhangsan@example.com", "z***@example.com"),
        (C.IP_ADDRESS, "192.168.10.20", "192.168.*.*"),
        (C.ADDRESS, "浙江省杭州市西湖区文新街道文一西路100号3幢", "浙江省杭州市西湖区文新街道****"),
        (C.ADDRESS, "北京市朝阳区建国路88号", "北京市朝阳区****"),
        (C.ADDRESS, "浙江省杭州市西湖区文新街道", "浙江省杭州市西湖区****"),
        (C.PERSON_NAME, "张三丰", "张**"),
        (C.PERSON_NAME, "欧阳娜娜", "欧阳**"),
        (C.BIRTH_DATE, "1990-03-07", "1990-**-**"),
        (C.BIRTH_DATE, "1990年3月7日", "1990年*月*日"),
        (C.USCC, "91110000600037341L", "91110000**********"),
        (C.PRECISE_LOCATION, "30.274085,120.155070", "30.27****,120.15****"),
        (C.HEALTH, "2型糖尿病", "***"),
        (C.NONE, "anything", "anything"),
    ],
)
def test_documented_rules(category: Category, value: str, masked: str) -> None:
    assert CATEGORY_INFO[category].mask(value) == masked


@pytest.mark.parametrize("category", MASKED)
@settings(max_examples=30)
@given(seed=seeds)
def test_masked_output_never_contains_the_original(category: Category, seed: int) -> None:
    original = GENERATORS[category](random.Random(seed))
    masked = MASKERS[category](original)
    assert original.strip() not in masked
    assert compact(original) not in compact(masked)


@pytest.mark.parametrize("category", MASKED)
@settings(max_examples=30)
@given(seed=seeds)
def test_masking_is_idempotent(category: Category, seed: int) -> None:
    once = MASKERS[category](GENERATORS[category](random.Random(seed)))
    assert MASKERS[category](once) == once


# Categories whose mask promises to keep the (canonical) length.
LENGTH_KEPT = [C.RESIDENT_ID, C.BANK_CARD, C.PASSPORT, C.TRAVEL_PERMIT, C.USCC, C.POSTAL_CODE]
LENGTH_KEPT += [C.TAIWAN_PERMIT, C.SAR_PASSPORT]


@pytest.mark.parametrize("category", LENGTH_KEPT)
@settings(max_examples=30)
@given(seed=seeds)
def test_length_is_kept(category: Category, seed: int) -> None:
    original = GENERATORS[category](random.Random(seed))
    assert len(MASKERS[category](original)) == len(compact(original))


@given(seed=seeds)
def test_formats_are_kept(seed: int) -> None:
    rng = random.Random(seed)
    phone = MASKERS[C.MOBILE_PHONE](synthetic.mobile(rng))
    assert len(phone) == 11 and phone[3:7] == "****"
    name = synthetic.person_name(rng)
    masked_name = MASKERS[C.PERSON_NAME](name)
    assert len(masked_name) == len(name) and masked_name[0] == name[0]
    plate = synthetic.plate(rng)
    assert MASKERS[C.LICENSE_PLATE](plate)[:2] == plate[:2]
    born = synthetic._birth(rng)
    assert MASKERS[C.BIRTH_DATE](born.isoformat()) == f"{born.year}-**-**"


def test_short_and_odd_values_are_still_masked() -> None:
    assert MASKERS["resident_id"]("12") == "**"
    assert MASKERS["mobile_phone"]("abc") == "a*c"
    assert MASKERS["person_name"]("张") == "*"
    assert MASKERS["birth_date"]("1990") == "****"
    assert MASKERS["email"]("no-at-sign") == "n********n"


@pytest.mark.parametrize("category", MASKED)
@settings(max_examples=30)
@given(seed=seeds)
def test_pseudonyms_are_stable_per_key_and_differ_across_keys(
    category: Category, seed: int
) -> None:
    value = GENERATORS[category](random.Random(seed))
    first = pseudonymise(value, KEY, category)
    assert first == pseudonymise(value, KEY, category)
    assert first != pseudonymise(value, b"j" * 32, category)
    assert len(first) == 26 and value not in first


def test_pseudonyms_join_across_spellings_but_not_categories() -> None:
    assert pseudonymise("+86 138 1234 5678", KEY, C.MOBILE_PHONE) == pseudonymise(
        "13812345678", KEY, C.MOBILE_PHONE
    )
    assert pseudonymise("110105491231002", KEY, C.RESIDENT_ID) == pseudonymise(
        "11010519491231002x", KEY, C.RESIDENT_ID
    )
    assert pseudonymise("13812345678", KEY, C.MOBILE_PHONE) != pseudonymise(
        "13812345678", KEY, C.BANK_CARD
    )


def test_pseudonym_is_not_a_bare_hash() -> None:
    import hashlib

    value = "11010519491231002X"
    digest = hashlib.sha256(value.encode()).hexdigest()
    assert pseudonymise(value, KEY, C.RESIDENT_ID) not in digest


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        pseudonymise("13812345678", b"short", C.MOBILE_PHONE)


def test_mask_levels_are_ordered() -> None:
    order = [MaskLevel.NONE, MaskLevel.PARTIAL, MaskLevel.PSEUDONYM, MaskLevel.REDACT]
    assert sorted(order, key=lambda lv: lv.rank) == order
    assert is_more_masked(MaskLevel.REDACT, MaskLevel.PSEUDONYM)
    assert not is_more_masked(MaskLevel.PARTIAL, MaskLevel.PARTIAL)
    assert compare_levels(MaskLevel.NONE, MaskLevel.PARTIAL) == -1
    assert compare_levels(MaskLevel.PARTIAL, MaskLevel.PARTIAL) == 0
    assert may_override(MaskLevel.PARTIAL, MaskLevel.REDACT)
    assert not may_override(MaskLevel.PARTIAL, MaskLevel.NONE)
    assert strictest(MaskLevel.PARTIAL, MaskLevel.PSEUDONYM) is MaskLevel.PSEUDONYM


def test_mask_applies_a_level() -> None:
    assert mask("13812345678", C.MOBILE_PHONE, MaskLevel.NONE) == "13812345678"
    assert mask("13812345678", C.MOBILE_PHONE, MaskLevel.PARTIAL) == "138****5678"
    assert mask("13812345678", C.MOBILE_PHONE, MaskLevel.REDACT) == "***"
    assert len(mask("13812345678", C.MOBILE_PHONE, MaskLevel.PSEUDONYM, KEY)) == 26
    with pytest.raises(ValueError, match="secret key"):
        mask("13812345678", C.MOBILE_PHONE, MaskLevel.PSEUDONYM)


def _wide(text: str) -> str:
    """``text`` with its ASCII letters and digits in their full-width forms."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


_ids = st.from_regex(r"\A(?:[0-9]{17}[0-9X]|[0-9]{15})\Z")
_mobiles = st.from_regex(r"\A1[0-9]{10}\Z")
_odd_digits = st.text(st.sampled_from("0123456789Xx"), max_size=20)


@settings(max_examples=200)
@given(value=st.one_of(_ids, _mobiles, _odd_digits))
def test_values_already_compact_mask_as_their_other_spellings_do(value: str) -> None:
    """The rules skip normalising identifiers already in the form they read (plain digits);
    the same value spelt otherwise (full-width, padded with spaces) goes through the
    normalisation and must come out masked the same."""
    spelt_otherwise = f"\u3000{_wide(value)} "
    for category in ("resident_id", "mobile_phone"):
        assert MASKERS[category](value) == MASKERS[category](spelt_otherwise), category


# ------------------------------------------------- what no partial mask may ever give away


def _admin_prefix(value: str) -> int:
    """The longest administrative prefix an address mask may keep (never the whole value)."""
    text = normalize(value).replace(" ", "")
    ends = [m.end() for m in ADMIN_CUE.finditer(text)]
    ends += [m.end() for m in re.finditer("街道|镇|乡", text)]
    return max((e for e in ends if e < len(text)), default=0)


_DOMAIN = re.compile(r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)+")


def _email_domain(value: str) -> int:
    """'@' and the domain, when the value is an address at a domain name."""
    local, at, domain = normalize(value).rpartition("@")
    return len(at + domain) if local and _DOMAIN.fullmatch(domain) else 1


# The longest run of a value's characters its mask may keep, per the module's documented
# rules (a separator next to a kept part counts with it).
KEPT: dict[str, Callable[[str], int]] = {
    "resident_id": lambda v: 10,  # region code and birth year
    "uscc": lambda v: 8,
    "org_code": lambda v: 2,
    "postal_code": lambda v: 2,
    "mobile_phone": lambda v: 4,  # first 3, last 4
    "landline_phone": lambda v: 5,  # area code with its separator; last 2
    "bank_card": lambda v: 4,
    "passport": lambda v: 2,
    "travel_permit": lambda v: 2,
    "taiwan_permit": lambda v: 2,
    "sar_passport": lambda v: 2,
    "license_plate": lambda v: 2,
    "diplomatic_plate": lambda v: 4,  # 使 and the mission's three digits
    "email": _email_domain,
    "ip_address": lambda v: 15,  # two IPv4 octets, three exploded IPv6 groups
    "address": _admin_prefix,
    "person_name": lambda v: 2,  # compound surnames
    "birth_date": lambda v: 5,  # the year with a separator
    "precise_location": lambda v: 8,  # ",-120.15": a number to two decimals
    "gender": lambda v: 0,
    "health": lambda v: 0,
    "ethnicity": lambda v: 0,
    "religion": lambda v: 0,
    "biometric": lambda v: 0,
}


def _longest_shared_run(a: str, b: str) -> int:
    best = 0
    for i in range(len(a)):
        for j in range(i + best + 1, len(a) + 1):
            if a[i:j] not in b:
                break
            best = j - i
    return best


# Free text of the kinds found in mis-classified columns: Chinese words, digits, Latin
# letters, separators, full-width forms and spaces; never '*', which masks leave (a value
# already masked is left as it is: masks are idempotent).
_TEXT = st.text(
    st.sampled_from(
        list("高血压二级张三住文三路号省市区街道镇浙江杭州使领沪A北京@.:-_/,，()年月日 \u3000")
        + list("0123456789xXabcdefABCDEF１２３ａ")
    ),
    max_size=40,
)
_ODD = [
    "",
    " ",
    "\u3000",
    "高血压二级 张三 住文三路100号",
    "糖尿病 李四",
    "30.274512,120.155134 张三家",
    "张三 30.274512,120.155134",
    "30.27",
    "120",
    "诊断:高血压二级:张三:住址",
    "高血压.张三住文三路100号.x.y",
    "张三@住文三路100号",
    "1990-03-07 张三住文三路",
    "张三住文三路号",
    "浙江省杭州市西湖区文新街道文三路100号3幢201室",
    "-",
]
_REALISTIC = st.builds(
    lambda category, seed: GENERATORS[category](random.Random(seed)),
    st.sampled_from(MASKED),
    seeds,
)


def _fits(category: str, value: str) -> None:
    if MASK in normalize(value):
        return
    masked = MASKERS[category](value)
    if value:
        assert masked != value, (category, value)
    shared = max(_longest_shared_run(masked, value), _longest_shared_run(masked, normalize(value)))
    assert shared <= KEPT[category](value), (category, value, masked)


def test_every_partial_mask_documents_what_it_keeps() -> None:
    assert set(KEPT) == set(MASKERS) - {"none"}


@pytest.mark.parametrize("value", _ODD)
@pytest.mark.parametrize("category", sorted(KEPT))
def test_odd_values_never_leave_more_than_the_kept_part(category: str, value: str) -> None:
    _fits(category, value)


@pytest.mark.parametrize("category", sorted(KEPT))
@settings(max_examples=150)
@given(value=st.one_of(_TEXT, _REALISTIC))
def test_no_value_leaves_more_than_the_kept_part(category: str, value: str) -> None:
    _fits(category, value)
