"""Per-value detectors: how strongly one cell looks like each category.

Each detector returns 2 (validated: checksum, allocated segment, known vocabulary), 1 (the
shape only) or 0. Cheap length and character checks come first so a column of 1,000 values
costs only the validators that can possibly apply.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from shuzhi.security.categories import Category
from shuzhi.standards.addresses import address_strength
from shuzhi.standards.attributes import (
    coordinate_strength,
    gender_strength,
    is_ethnic_group,
    is_postal_code,
    religion_strength,
)
from shuzhi.standards.dates import parse_date, parse_year_month
from shuzhi.standards.documents import (
    bank_card_from_digits,
    is_bank_account,
    is_diplomatic_plate,
    is_license_plate,
    is_passport,
    is_sar_passport,
    is_taiwan_booklet,
    is_taiwan_permit,
    is_travel_permit,
)
from shuzhi.standards.health import health_strength
from shuzhi.standards.identifiers import (
    ORG_CODE_PATTERN,
    USCC_PATTERN,
    is_valid_org_code,
    is_valid_uscc,
)
from shuzhi.standards.names import is_dotted_name, is_person_name
from shuzhi.standards.network import is_email, parse_ip
from shuzhi.standards.phones import mobile_digits, parse_landline, parse_mobile
from shuzhi.standards.resident_id import decode_resident_id, id_shape
from shuzhi.standards.text import compact_normalized, has_hanzi


@dataclass(frozen=True)
class Cell:
    """A non-blank value with the derived forms every detector needs."""

    text: str  # normalised
    code: str  # compact: no separators, upper case
    hanzi: bool
    digits: bool  # code (without a leading +) is all digits


def make_cell(text: str) -> Cell:
    """Cell of an already normalised value."""
    code = compact_normalized(text)
    return Cell(text, code, has_hanzi(text), code.lstrip("+").isdigit())


# Values already masked upstream still show what the column holds (shape only).
_MASKED_ID = re.compile(r"^[1-9]\d{1,9}\*+[\dX*]*$")
_MASKED_MOBILE = re.compile(r"^1\d{2}\*{4}\d{4}$")
_MASKED_CARD = re.compile(r"^\d{0,6}\*{4,}\d{0,4}$")
_MASKED_NAME = re.compile(r"^[\u4e00-\u9fff]{1,2}\*{1,3}$")


def _resident_id(c: Cell) -> int:
    if "*" in c.code:
        return 1 if len(c.code) in (15, 18) and _MASKED_ID.match(c.code) else 0
    if len(c.code) not in (15, 18) or not c.code[:17].isdigit():
        return 0
    if decode_resident_id(c.code) is not None:
        return 2
    return 1 if id_shape(c.code) else 0


def _uscc(c: Cell) -> int:
    if len(c.code) != 18 or not USCC_PATTERN.match(c.code):
        return 0
    return 2 if is_valid_uscc(c.code) else 1


def _org_code(c: Cell) -> int:
    if len(c.code) != 9 or not ORG_CODE_PATTERN.match(c.code):
        return 0
    return 2 if is_valid_org_code(c.code) else 1


def _mobile(c: Cell) -> int:
    if "*" in c.code:
        return 1 if _MASKED_MOBILE.match(c.code) else 0
    if not c.digits or len(c.code) < 11 or len(c.code) > 15:
        return 0
    if parse_mobile(c.code) is not None:
        return 2
    return 1 if mobile_digits(c.code) else 0


def _landline(c: Cell) -> int:
    if c.hanzi and "转" not in c.text:
        return 0
    if sum(ch.isdigit() for ch in c.code) < 7:
        return 0
    parsed = parse_landline(c.text)
    if parsed is None:
        return 0
    return 2 if parsed.area_code else 1


def _bank_card(c: Cell) -> int:
    if "*" in c.code:
        return 1 if 16 <= len(c.code) <= 19 and _MASKED_CARD.match(c.code) else 0
    if not c.digits:
        return 0
    card = bank_card_from_digits(c.code) if 16 <= len(c.code) <= 19 else None
    if card is not None:
        return 2 if card.luhn else 1
    return 1 if is_bank_account(c.code) else 0


def _passport(c: Cell) -> int:
    return 2 if 8 <= len(c.code) <= 9 and c.code[0] in "EGSDP" and is_passport(c.code) else 0


def _travel_permit(c: Cell) -> int:
    ok = 9 <= len(c.code) <= 11 and c.code[0] in "CWHM" and is_travel_permit(c.code)
    return 2 if ok else 0


def _taiwan_permit(c: Cell) -> int:
    if not 8 <= len(c.code) <= 9 or c.hanzi:
        return 0
    if c.code[0] in "LT":
        return 2 if is_taiwan_permit(c.code) else 0
    if c.digits:
        # Eight digits alone are dates, amounts and case numbers as often: the shape only.
        return 1 if len(c.code) == 8 else 0
    return 2 if is_taiwan_booklet(c.text) else 0


def _sar_passport(c: Cell) -> int:
    ok = len(c.code) == 9 and c.code[0] in "KM" and is_sar_passport(c.code)
    return 2 if ok else 0


def _diplomatic_plate(c: Cell) -> int:
    ok = c.hanzi and 7 <= len(c.code) <= 10 and ("使" in c.text or "领" in c.text)
    return 2 if ok and is_diplomatic_plate(c.text) else 0


def _plate(c: Cell) -> int:
    return 2 if c.hanzi and 7 <= len(c.code) <= 10 and is_license_plate(c.text) else 0


def _email(c: Cell) -> int:
    return 2 if "@" in c.text and is_email(c.text) else 0


def _ip(c: Cell) -> int:
    if c.hanzi or ("." not in c.text and ":" not in c.text):
        return 0
    return 2 if parse_ip(c.text) is not None else 0


def _address(c: Cell) -> int:
    return address_strength(c.text) if c.hanzi else 0


# A name in Latin script (passport style ZHANG XIAOMING, Zhang, Xiaoming): the shape only,
# so it counts under a name header but never decides alone (two words are too common).
_LATIN_NAME = re.compile(r"^[A-Za-z][A-Za-z'\-]{0,19}(?:,? [A-Za-z][A-Za-z'\-]{0,19}){1,3}$")


def _person_name(c: Cell) -> int:
    if "*" in c.text:
        return 1 if _MASKED_NAME.match(c.text) else 0
    if not c.hanzi:
        return 1 if len(c.text) <= 40 and _LATIN_NAME.match(c.text) else 0
    if len(c.text) > 20:
        return 0
    if is_person_name(c.text):
        return 2
    return 1 if is_dotted_name(c.text) else 0


def _birth_date(c: Cell) -> int:
    if len(c.text) > 30:
        return 0
    month = parse_year_month(c.text) if len(c.code) <= 9 else None
    if month is not None:
        # A year and a month (出生年月) fit a birth date but prove nothing without a header:
        # reporting periods (账期 202403) look the same.
        return 1 if 1890 <= month[0] <= date.today().year else 0
    if c.digits and len(c.code) != 8:
        return 0
    born = parse_date(c.text)
    if born is None:
        return 0
    return 2 if born.year >= 1890 else 1


def _health(c: Cell) -> int:
    if not c.hanzi and not (3 <= len(c.code) <= 16 and c.code[0].isalpha()):
        return 0
    return health_strength(c.text)


def _postal(c: Cell) -> int:
    if not c.digits or len(c.code) != 6:
        return 0
    return 2 if is_postal_code(c.code) else 1


def _gender(c: Cell) -> int:
    return gender_strength(c.text) if len(c.text) <= 6 else 0


def _ethnicity(c: Cell) -> int:
    if c.hanzi and len(c.text) <= 10:
        if is_ethnic_group(c.text):
            return 2
        return 1 if is_ethnic_group(c.text, strict=False) else 0
    return 1 if c.digits and len(c.code) == 2 and 1 <= int(c.code) <= 58 else 0


def _religion(c: Cell) -> int:
    return religion_strength(c.text) if c.hanzi and len(c.text) <= 8 else 0


_BLOB = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


def _biometric(c: Cell) -> int:
    lower = c.text.lower()
    if lower.endswith((".jpg", ".jpeg", ".png", ".bmp", ".wsq")):
        return 1
    return 1 if len(c.text) >= 64 and all(ch in _BLOB for ch in c.text) else 0


def _location(c: Cell) -> int:
    return 0 if c.hanzi else coordinate_strength(c.text)


DETECTORS: dict[Category, Callable[[Cell], int]] = {
    Category.RESIDENT_ID: _resident_id,
    Category.USCC: _uscc,
    Category.ORG_CODE: _org_code,
    Category.MOBILE_PHONE: _mobile,
    Category.LANDLINE_PHONE: _landline,
    Category.BANK_CARD: _bank_card,
    Category.PASSPORT: _passport,
    Category.TRAVEL_PERMIT: _travel_permit,
    Category.LICENSE_PLATE: _plate,
    Category.TAIWAN_PERMIT: _taiwan_permit,
    Category.SAR_PASSPORT: _sar_passport,
    Category.DIPLOMATIC_PLATE: _diplomatic_plate,
    Category.EMAIL: _email,
    Category.IP_ADDRESS: _ip,
    Category.ADDRESS: _address,
    Category.PERSON_NAME: _person_name,
    Category.BIRTH_DATE: _birth_date,
    Category.HEALTH: _health,
    Category.POSTAL_CODE: _postal,
    Category.GENDER: _gender,
    Category.ETHNICITY: _ethnicity,
    Category.RELIGION: _religion,
    Category.BIOMETRIC: _biometric,
    Category.PRECISE_LOCATION: _location,
}

# What a "2" means, for evidence strings.
VALIDATED_BY: dict[Category, str] = {
    Category.RESIDENT_ID: "pass the GB 11643 check digit",
    Category.USCC: "pass the GB 32100 check character",
    Category.ORG_CODE: "pass the GB 11714 check character",
    Category.MOBILE_PHONE: "are mobile numbers in allocated segments",
    Category.LANDLINE_PHONE: "are landline numbers with an area code",
    Category.BANK_CARD: "are card numbers passing Luhn",
    Category.PASSPORT: "match Chinese passport number series",
    Category.TRAVEL_PERMIT: "match HK/Macau travel permit series",
    Category.LICENSE_PLATE: "are vehicle plates",
    Category.TAIWAN_PERMIT: "match Taiwan travel permit series (L/T + 8 digits, 8 + (letter))",
    Category.SAR_PASSPORT: "match HK/Macao SAR passport series (K…, MA…)",
    Category.DIPLOMATIC_PLATE: "are embassy (使) or consulate (领) plates",
    Category.EMAIL: "are e-mail addresses",
    Category.IP_ADDRESS: "are IP addresses",
    Category.ADDRESS: "are street-level addresses",
    Category.PERSON_NAME: "are 2–4 character names with a known surname",
    Category.BIRTH_DATE: "are dates",
    Category.HEALTH: "contain diagnoses or ICD-10 codes",
    Category.POSTAL_CODE: "are 6-digit postal codes",
    Category.GENDER: "are gender words",
    Category.ETHNICITY: "are ethnic group names",
    Category.RELIGION: "are religions",
    Category.BIOMETRIC: "look like biometric templates or images",
    Category.PRECISE_LOCATION: "are precise coordinates",
}
