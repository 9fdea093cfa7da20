"""Travel documents, vehicle plates and bank cards: formats with no public checksum.

Letter ranges follow the issuing practice known to date; they are kept in one place so a new
series can be admitted without touching the classifier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shuzhi.standards.identifiers import luhn_ok
from shuzhi.standards.regions import PLATE_PROVINCES
from shuzhi.standards.text import compact
from shuzhi.standards.text import normalize as normalize_text

# Ordinary e-passport (E + letter + 7 digits, or E + 8 digits; I and O are never used),
# older ordinary passport (G + 8), service / diplomatic / public-affairs passports
# (S/D/P + 8 or SE/DE/PE + 7).
_PASSPORT = re.compile(r"^(?:E[A-HJ-NP-Z0-9]\d{7}|G\d{8}|[SDP]\d{8}|[SDP]E\d{7})$")

# 往来港澳通行证 (C or W + 8 digits; the card-form series C + letter + 7 digits) and
# 港澳居民来往内地通行证 (H or M + 8 to 10 digits).
_TRAVEL_PERMIT = re.compile(r"^(?:[CW]\d{8}|C[A-HJ-NP-Z]\d{7}|[HM]\d{8,10})$")

# 台湾居民来往大陆通行证 (台胞证): 8 digits, lifelong since the card form of 2015; the older
# booklet adds the issue count as a bracketed letter, 12345678(B). 大陆居民往来台湾通行证:
# L + 8 digits (card form, 2016 on), T + 8 digits (the older booklet).
_TAIWAN_PERMIT = re.compile(r"^(?:\d{8}(?:\(?[A-Z]\)?)?|[LT]\d{8})$")
_TAIWAN_BOOKLET = re.compile(r"^\d{8}\([A-Z]\)$")

# Passports of the special administrative regions: Hong Kong K + 8 digits or K + letter + 7
# digits; Macao MA + 7 digits (I and O are never used as letters).
_SAR_PASSPORT = re.compile(r"^(?:K\d{8}|K[A-HJ-NP-Z]\d{7}|MA\d{7})$")

_PLATE_LETTER = "A-HJ-NP-Z"
_PLATE_PROVINCE = "[" + "".join(sorted(PLATE_PROVINCES)) + "]"
_PLATE = re.compile(
    rf"^{_PLATE_PROVINCE}[{_PLATE_LETTER}]"
    rf"(?:[{_PLATE_LETTER}0-9]{{4}}[{_PLATE_LETTER}0-9挂学警港澳试超]"  # standard, 7 characters
    rf"|[A-HJK][{_PLATE_LETTER}0-9]\d{{4}}"  # new energy, small vehicles (D/F and later letters)
    rf"|\d{{5}}[DF])$"  # new energy, large vehicles
)
_PLATE_SEPARATORS = str.maketrans("", "", " ·•.-_")
# Embassy plates (使馆汽车号牌): 使 and six digits, the first three naming the mission, written
# before or after the digits; consulate plates (领馆汽车号牌): a province, a letter, four
# digits and 领.
_DIPLOMATIC_PLATE = re.compile(
    rf"^(?:使\d{{6}}|\d{{6}}使|{_PLATE_PROVINCE}[{_PLATE_LETTER}]\d{{4}}领)$"
)


def normalize_document(value: str) -> str:
    return compact(value)


def is_passport(value: str) -> bool:
    """Chinese passport number shape (ordinary, service and diplomatic series)."""
    return _PASSPORT.match(compact(value)) is not None


def is_travel_permit(value: str) -> bool:
    """Mainland ↔ Hong Kong/Macau travel permit number shape (both directions)."""
    return _TRAVEL_PERMIT.match(compact(value)) is not None


def is_taiwan_permit(value: str) -> bool:
    """Number of a travel permit to or from Taiwan (both directions; see ``_TAIWAN_PERMIT``)."""
    text = normalize_document_text(value)
    return _TAIWAN_PERMIT.match(text) is not None and (
        "(" not in text or _TAIWAN_BOOKLET.match(text) is not None
    )


def is_taiwan_booklet(value: str) -> bool:
    """The booklet form of 台胞证 with its bracketed issue letter, 12345678(B)."""
    return _TAIWAN_BOOKLET.match(normalize_document_text(value)) is not None


def normalize_document_text(value: str) -> str:
    """Upper case without blanks and hyphens, brackets kept (they mark 台胞证 issue letters)."""
    return normalize_text(value).translate(_DOC_SEPARATORS).upper()


_DOC_SEPARATORS = str.maketrans("", "", " -_.·\t")


def is_sar_passport(value: str) -> bool:
    """Hong Kong or Macao SAR passport number."""
    return _SAR_PASSPORT.match(compact(value)) is not None


def is_diplomatic_plate(value: str) -> bool:
    """Embassy (使) or consulate (领) vehicle plate."""
    return _DIPLOMATIC_PLATE.match(normalize_plate(value)) is not None


def normalize_plate(value: str) -> str:
    from shuzhi.standards.text import normalize

    return normalize(value).translate(_PLATE_SEPARATORS).upper()


def is_license_plate(value: str) -> bool:
    """Mainland vehicle plate: 7-character standard plates and 8-character new-energy plates."""
    return _PLATE.match(normalize_plate(value)) is not None


@dataclass(frozen=True)
class BankCard:
    number: str
    luhn: bool  # some legacy domestic debit cards fail Luhn; a failure lowers confidence only


# Issuer prefixes seen on cards issued in China: UnionPay 62/60/9x legacy, Visa 4,
# Mastercard 51–55 and its 2-series 2221–2720 (16 digits only), JCB 35.
_CARD = re.compile(
    r"^(?:(?:62|60|4|5[1-5]|35|9)\d{14,18}|(?:222[1-9]|22[3-9]\d|2[3-6]\d\d|27[01]\d|2720)\d{12})$"
)


def parse_bank_card(value: str) -> BankCard | None:
    """A 16–19 digit payment card number with a known issuer prefix (Luhn noted, not required)."""
    return bank_card_from_digits(compact(value))


def bank_card_from_digits(digits: str) -> BankCard | None:
    """``parse_bank_card`` for an already compacted value."""
    if not (16 <= len(digits) <= 19) or _CARD.match(digits) is None:
        return None
    return BankCard(digits, luhn_ok(digits))


def is_bank_account(value: str) -> bool:
    """A bank account number in the wide sense (10–30 digits, e.g. corporate accounts)."""
    digits = compact(value)
    return digits.isdigit() and 10 <= len(digits) <= 30
