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

# Ordinary e-passport (E + letter + 7 digits, or E + 8 digits; I and O are never used),
# older ordinary passport (G + 8), service / diplomatic / public-affairs passports
# (S/D/P + 8 or SE/DE/PE + 7).
_PASSPORT = re.compile(r"^(?:E[A-HJ-NP-Z0-9]\d{7}|G\d{8}|[SDP]\d{8}|[SDP]E\d{7})$")

# 往来港澳通行证 (C or W + 8 digits; the card-form series C + letter + 7 digits) and
# 港澳居民来往内地通行证 (H or M + 8 to 10 digits).
_TRAVEL_PERMIT = re.compile(r"^(?:[CW]\d{8}|C[A-HJ-NP-Z]\d{7}|[HM]\d{8,10})$")

_PLATE_LETTER = "A-HJ-NP-Z"
_PLATE_PROVINCE = "[" + "".join(sorted(PLATE_PROVINCES)) + "]"
_PLATE = re.compile(
    rf"^{_PLATE_PROVINCE}[{_PLATE_LETTER}]"
    rf"(?:[{_PLATE_LETTER}0-9]{{4}}[{_PLATE_LETTER}0-9挂学警港澳领试超]"  # standard, 7 characters
    rf"|[A-HJK][{_PLATE_LETTER}0-9]\d{{4}}"  # new energy, small vehicles (D/F and later letters)
    rf"|\d{{5}}[DF])$"  # new energy, large vehicles
)
_PLATE_SEPARATORS = str.maketrans("", "", " ·•.-_")


def normalize_document(value: str) -> str:
    return compact(value)


def is_passport(value: str) -> bool:
    """Chinese passport number shape (ordinary, service and diplomatic series)."""
    return _PASSPORT.match(compact(value)) is not None


def is_travel_permit(value: str) -> bool:
    """Mainland ↔ Hong Kong/Macau travel permit number shape (both directions)."""
    return _TRAVEL_PERMIT.match(compact(value)) is not None


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
# Mastercard 5, JCB 35.
_CARD = re.compile(r"^(?:62|60|4|5[1-5]|35|9)\d{14,18}$")


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
