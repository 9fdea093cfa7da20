"""Resident IDs (居民身份证号码) read as evidence, each part with its own ``Check``.

The number is accepted as exported: full-width digits, a lower-case x, spaces and hyphens.
A 15-digit (1st-generation) number is upgraded to 18 characters — century 19 inserted, check
character computed (``standards.resident_id.upgrade_15``) — and flagged, since the old form
had no check character to verify anything with. The embedded parts are then judged:

- ``check_digit``: valid / invalid (18 digits), unknown for an upgraded 15-digit number;
- ``region``: valid when the first six digits are, or were, a GB/T 2260 division code;
- ``birth_date``: valid only when the check character holds; a real date read from a number
  whose check fails, or from a 15-digit number, is ``unverified`` — still usable as a
  blocking key, never as a fact; no real date in 1890..today is ``invalid``;
- ``sex`` (17th digit odd = male): valid or unverified on the same terms.

``valid`` agrees with ``standards.resident_id.decode_resident_id``, the project's one
validator of resident IDs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from shuzhi.masterdata.normalize.evidence import Check, flagged
from shuzhi.masterdata.normalize.text import to_halfwidth
from shuzhi.standards.divisions import is_division_code
from shuzhi.standards.identifiers import ric_check_char
from shuzhi.standards.resident_id import EARLIEST_BIRTH_YEAR, upgrade_15
from shuzhi.standards.text import is_blank

_SHAPE_18 = re.compile(r"^\d{17}[\dX]$")
_SHAPE_15 = re.compile(r"^\d{15}$")
_SEPARATORS = re.compile(r"[\s\-_.]")


@dataclass(frozen=True)
class ResidentIdEvidence:
    raw: str | None
    number: str | None  # the 18-character form when the shape is right (even if checks fail)
    shape: Check
    check_digit: Check
    region: Check
    birth_date: date | None
    birth_check: Check
    sex: str | None  # "male" / "female"
    sex_check: Check
    flags: frozenset[str]

    @property
    def valid(self) -> bool:
        """Every part verified (an upgraded 15-digit number counts, as it does elsewhere)."""
        check_ok = self.check_digit is Check.VALID or "upgraded_from_15" in self.flags
        return check_ok and self.region is Check.VALID and self.birth_date is not None


def _unknown(raw: str | None, shape: Check, flags: frozenset[str]) -> ResidentIdEvidence:
    u = Check.UNKNOWN
    return ResidentIdEvidence(raw, None, shape, u, u, None, u, None, u, flags)


def _birth(code: str, today: date) -> date | None:
    try:
        born = date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
    except ValueError:
        return None
    return born if born.year >= EARLIEST_BIRTH_YEAR and born <= today else None


def compact_id(raw: str) -> tuple[str, frozenset[str]]:
    """The ID's characters without separators, upper-case, and what had to change."""
    half = to_halfwidth(raw).strip()
    code = _SEPARATORS.sub("", half)
    flags = flagged(
        (half != raw.strip(), "width_normalised"),
        (code != half, "separators_removed"),
        (code.endswith("x"), "lowercase_x"),
    )
    return code.upper(), flags


def read_resident_id(raw: str | None, today: date | None = None) -> ResidentIdEvidence:
    """Every part of a resident ID judged on its own; never raises."""
    if raw is None or is_blank(raw):
        return _unknown(raw, Check.UNKNOWN, frozenset())
    code, flags = compact_id(raw)
    if _SHAPE_15.match(code):
        code, flags = upgrade_15(code), flags | {"upgraded_from_15"}
        check_digit = Check.UNKNOWN
    elif _SHAPE_18.match(code):
        check_digit = Check.VALID if ric_check_char(code[:17]) == code[17] else Check.INVALID
    else:
        return _unknown(raw, Check.INVALID, flags)
    born = _birth(code, today or date.today())
    trusted = Check.VALID if check_digit is Check.VALID else Check.UNVERIFIED
    region = Check.VALID if is_division_code(code[:6]) else Check.INVALID
    sex = "male" if int(code[16]) % 2 else "female"
    birth_check = trusted if born is not None else Check.INVALID
    return ResidentIdEvidence(
        raw, code, Check.VALID, check_digit, region, born, birth_check, sex, trusted, flags
    )
