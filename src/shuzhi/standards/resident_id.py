"""Decoding of 居民身份证号码 (GB 11643-1999), including the legacy 15-digit form.

Checks the MOD 11-2 check character, a real birth date from 1890 up to today and a real
6-digit administrative division code (GB/T 2260). An ID keeps the code current when it was
issued, so codes are checked against every code that has ever existed, abolished ones
included (``shuzhi.standards.divisions``).

This is the one validator of resident IDs: classification evidence, masking, the quality
rule (whose vectorised form is tested to agree with it) and password checks all use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from shuzhi.standards.divisions import is_division_code
from shuzhi.standards.identifiers import ric_check_char
from shuzhi.standards.text import compact

EARLIEST_BIRTH_YEAR = 1890

_SHAPE_18 = re.compile(r"^[1-9]\d{16}[\dX]$")
_SHAPE_15 = re.compile(r"^[1-9]\d{14}$")


@dataclass(frozen=True)
class ResidentId:
    number: str  # canonical 18-character form (15-digit IDs are upgraded)
    region_code: str
    birth_date: date
    sex: str  # "male" / "female": odd / even sequence code
    legacy: bool  # written as a 15-digit number


def id_shape(value: str) -> str | None:
    """The compacted value if it has the shape of an 18- or 15-digit ID (checks not applied)."""
    code = compact(value)
    if _SHAPE_18.match(code) or _SHAPE_15.match(code):
        return code
    return None


def _birth(yyyymmdd: str, today: date) -> date | None:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None
    if born.year < EARLIEST_BIRTH_YEAR or born > today:
        return None
    return born


def upgrade_15(code: str) -> str:
    """The 18-character form of a legacy 15-digit ID: century 19 inserted, check added."""
    first17 = code[:6] + "19" + code[6:]
    return first17 + ric_check_char(first17)


def parse_resident_id(value: str, today: date | None = None) -> ResidentId | None:
    """Decoded ID if ``value`` is a valid 18- or 15-digit resident ID, else None."""
    return decode_resident_id(compact(value), today)


def decode_resident_id(code: str, today: date | None = None) -> ResidentId | None:
    """As ``parse_resident_id`` for an already compacted, upper-case value (the fast path)."""
    if not (_SHAPE_18.match(code) or _SHAPE_15.match(code)) or not is_division_code(code[:6]):
        return None
    today = today or date.today()
    legacy = len(code) == 15
    if legacy:
        code = upgrade_15(code)
    elif ric_check_char(code[:17]) != code[17]:
        return None
    born = _birth(code[6:14], today)
    if born is None:
        return None
    sex = "male" if int(code[16]) % 2 else "female"
    return ResidentId(code, code[:6], born, sex, legacy)


def is_resident_id(value: str) -> bool:
    """A resident ID as it may appear in an export (separators and full-width digits allowed)."""
    return parse_resident_id(value) is not None


def is_valid_resident_id(value: str) -> bool:
    """A resident ID written as one: surrounding blanks allowed, lower-case x accepted, nothing
    else. The rules are those of ``decode_resident_id``; only the tolerance differs."""
    return decode_resident_id(value.strip().upper()) is not None
