"""Identifiers of legal entities read as evidence: USCC, organisation code, registration number.

The USCC (统一社会信用代码, GB 32100) is checked by ``standards.identifiers``, the project's
validator. A 15-digit registration number (工商注册号, GS15001) ends in a check digit by ISO
7064 MOD 11,10 over the first fourteen; its first six digits are the registering authority's
division code. How they relate — what can and cannot be compared — is described in
``enterprise``'s module text; ``relate`` implements exactly that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shuzhi.masterdata.normalize.evidence import Check, Field, flagged
from shuzhi.masterdata.normalize.text import to_halfwidth
from shuzhi.standards.identifiers import is_valid_org_code, is_valid_uscc
from shuzhi.standards.text import is_blank

_REGNO = re.compile(r"^\d{15}$")
_SEPARATORS = re.compile(r"[\s\-_.]")


def _compact(raw: str) -> tuple[str, frozenset[str]]:
    half = to_halfwidth(raw).strip()
    code = _SEPARATORS.sub("", half).upper()
    flags = flagged(
        (half != raw.strip(), "width_normalised"),
        (code != _SEPARATORS.sub("", half), "upper_cased"),
    )
    return code, flags


def regno_check_digit(first14: str) -> str:
    """ISO 7064 MOD 11,10 check digit of a registration number's first fourteen digits."""
    product = 10
    for digit in first14:
        total = product % 11 + int(digit)
        product = ((total % 10) or 10) * 2 % 11
    return str((11 - product) % 10)


def is_valid_regno(code: str) -> bool:
    return bool(_REGNO.match(code)) and regno_check_digit(code[:14]) == code[14]


def read_uscc(raw: str | None) -> Field:
    """The USCC compacted and upper-cased; check valid / invalid, unknown when blank."""
    if raw is None or is_blank(raw):
        return Field(raw, None, Check.UNKNOWN)
    code, flags = _compact(raw)
    return Field(raw, code, Check.VALID if is_valid_uscc(code) else Check.INVALID, flags)


def read_org_code(raw: str | None) -> Field:
    """A 组织机构代码, written with or without its hyphen, as nine characters."""
    if raw is None or is_blank(raw):
        return Field(raw, None, Check.UNKNOWN)
    code, flags = _compact(raw)
    return Field(raw, code, Check.VALID if is_valid_org_code(code) else Check.INVALID, flags)


def read_regno(raw: str | None) -> Field:
    """A registration number: 15 digits checked; any other form kept ``unverified``."""
    if raw is None or is_blank(raw):
        return Field(raw, None, Check.UNKNOWN)
    code, flags = _compact(raw)
    if _REGNO.match(code):
        return Field(raw, code, Check.VALID if is_valid_regno(code) else Check.INVALID, flags)
    return Field(raw, code, Check.UNVERIFIED, flags | {"not_15_digits"})


@dataclass(frozen=True)
class IdRelation:
    org_code: Check  # the USCC's characters 9–17 against a separately recorded org code
    region: Check  # USCC region vs registration number's authority code: valid or unverified
    derived_org_code: str | None  # the organisation code carried inside a valid USCC
    address: Check = Check.UNKNOWN  # USCC region vs the parsed address's division code


def _significant(code: str) -> int:
    """Digits of a division code that name it: 2 (province), 4 (prefecture) or 6."""
    if code.endswith("0000"):
        return 2
    return 4 if code.endswith("00") else 6


def same_area(a: str, b: str) -> bool:
    """Two division codes that agree down to the coarser of the two levels."""
    digits = min(_significant(a), _significant(b))
    return a[:digits] == b[:digits]


def relate(
    uscc: Field,
    regno: Field | None = None,
    org_code: Field | None = None,
    address_code: str | None = None,
) -> IdRelation:
    """What a valid USCC says about the other identifiers of the same record.

    Only identifiers that passed their own check are compared. Equal organisation codes are
    ``valid``, different ones ``invalid`` (two entities, or a typo). Region codes that agree
    are ``valid``; that differ are ``unverified`` (a move explains it). Nothing else is
    derivable: a registration number's sequence is not in the USCC. The registered
    address's division (``address_code``) is compared the same way as the registration
    number's: agreeing ``valid``, differing ``unverified``."""
    unknown = IdRelation(Check.UNKNOWN, Check.UNKNOWN, None)
    if uscc.check is not Check.VALID or uscc.value is None:
        return unknown
    inner = uscc.value[8:17]
    org = Check.UNKNOWN
    if org_code is not None and org_code.check is Check.VALID and org_code.value is not None:
        org = Check.VALID if org_code.value == inner else Check.INVALID
    region = Check.UNKNOWN
    if regno is not None and regno.check is Check.VALID and regno.value is not None:
        region = Check.VALID if regno.value[:6] == uscc.value[2:8] else Check.UNVERIFIED
    address = Check.UNKNOWN
    if address_code is not None:
        address = Check.VALID if same_area(uscc.value[2:8], address_code) else Check.UNVERIFIED
    return IdRelation(org, region, inner, address)
