"""Mainland mobile numbers (versioned prefix table) and landline numbers with area codes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shuzhi.standards.text import compact, normalize


@dataclass(frozen=True)
class MobilePrefixTable:
    """Number segments allocated to 11-digit mobile numbers, as of ``version``.

    Segments are data because the regulator keeps allocating new ones; a number whose
    segment is missing only loses confidence, it is never silently accepted as something else.
    """

    version: str
    prefixes: frozenset[str]

    def allows(self, number: str) -> bool:
        return number[:3] in self.prefixes or number[:4] in self.prefixes


def _expand(spec: str) -> frozenset[str]:
    out: set[str] = set()
    for part in spec.split():
        if "-" in part:
            lo, hi = part.split("-")
            out.update(str(n) for n in range(int(lo), int(hi) + 1))
        else:
            out.add(part)
    return frozenset(out)


# Basic operators, MVNO (170/171/162/165/167), data cards (145/147/149), the satellite
# segments (1740x maritime satellite, 1749 Tiantong) and the 19x segments issued up to 2020.
# Not allocated to public mobile service, so never accepted: 1741x (the rest of 174 outside
# 1740x and 1749 serves emergency communications, not subscribers) and 194. 13-digit IoT
# numbers such as 1410/1440 stay excluded because they are not 11 digits.
MOBILE_PREFIXES_2020 = MobilePrefixTable(
    "2020-05",
    _expand(
        "130-139 145 147 149 150-153 155-159 162 165-167 170-173 175-178 180-189 "
        "190-193 195-199 1740 1749"
    ),
)
MOBILE_PREFIX_TABLES = {t.version: t for t in (MOBILE_PREFIXES_2020,)}
CURRENT_MOBILE_PREFIXES = MOBILE_PREFIXES_2020

_DIGITS_11 = re.compile(r"^1\d{10}$")


def mobile_digits(value: str) -> str | None:
    """The 11 digits of a mobile-shaped value (+86 / 0086 / 86 prefix dropped), else None."""
    code = compact(value).lstrip("+")
    if code.startswith("0086"):
        code = code[4:]
    elif code.startswith("86") and len(code) == 13:
        code = code[2:]
    return code if _DIGITS_11.match(code) else None


def parse_mobile(value: str, table: MobilePrefixTable = CURRENT_MOBILE_PREFIXES) -> str | None:
    """The canonical 11-digit mobile number if the value is one with an allocated segment."""
    digits = mobile_digits(value)
    if digits is None or not table.allows(digits):
        return None
    return digits


@dataclass(frozen=True)
class Landline:
    area_code: str | None  # with the leading 0; None when the export omitted it
    local: str
    extension: str | None

    def canonical(self) -> str:
        text = f"{self.area_code}-{self.local}" if self.area_code else self.local
        return f"{text}-{self.extension}" if self.extension else text


_AREA = re.compile(r"^0(?:10|2\d|[3-9]\d{2})$")
_LOCAL = re.compile(r"^[2-9]\d{6,7}$")
_EXTENSION = re.compile(r"(?:转|ext\.?|x|#)\s*(\d{1,6})$", re.IGNORECASE)
_GROUPS = re.compile(r"[-()]+")


def _split_area(digits: str) -> tuple[str | None, str]:
    if not digits.startswith("0"):
        return None, digits
    cut = 3 if digits[1:2] in ("1", "2") else 4
    return digits[:cut], digits[cut:]


def parse_landline(value: str) -> Landline | None:
    """Area code (010, 02x, 0xxx), a 7–8 digit local number and an optional extension."""
    text = normalize(value).replace(" ", "")
    extension = None
    m = _EXTENSION.search(text)
    if m is not None:
        extension, text = m.group(1), text[: m.start()]
    international = text.startswith(("+86", "0086"))
    if international:
        text = text[3:] if text.startswith("+") else text[4:]
    groups = [g for g in _GROUPS.split(text) if g]
    if not groups or not all(g.isdigit() for g in groups):
        return None
    if international and not groups[0].startswith("0"):
        groups[0] = "0" + groups[0]
    if len(groups) == 3:
        if groups[0].startswith("0") and len(groups[1] + groups[2]) in (7, 8):
            groups = [groups[0], groups[1] + groups[2]]
        elif extension is None and len(groups[2]) <= 6:
            extension = groups.pop()
    if len(groups) == 1:
        area, local = _split_area(groups[0])
    elif len(groups) == 2 and groups[0].startswith("0"):
        area, local = groups
    else:
        return None
    if area is not None and not _AREA.match(area):
        return None
    if not _LOCAL.match(local):
        return None
    return Landline(area, local, extension)
