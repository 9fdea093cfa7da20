"""Check digits and formats of Chinese identifiers (GB 32100, GB 11714, GB 11643).

Written here rather than taken from python-stdnum because stdnum rejects valid unified
social credit codes of the A, N and Y registering authorities and resident IDs whose county
code is newer than the birth year.
"""

from __future__ import annotations

import re
from operator import mul

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
USCC_PATTERN = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")

# GB 32100 registering authority → allowed entity-category characters.
USCC_AUTHORITIES: dict[str, str] = {
    "1": "1239",
    "2": "19",
    "3": "123459",
    "4": "19",
    "5": "1239",
    "6": "129",
    "7": "129",
    "8": "19",
    "9": "123",
    "A": "19",
    "N": "1239",
    "Y": "1",
}

ORG_CODE_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ORG_CODE_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
ORG_CODE_PATTERN = re.compile(r"^[0-9A-Z]{8}[0-9X]$")

RIC_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
RIC_CHECK = "10X98765432"


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(value: str) -> bool:
    """Format, registering authority/category and check character of a 统一社会信用代码."""
    code = value.strip().upper()
    if not USCC_PATTERN.match(code):
        return False
    categories = USCC_AUTHORITIES.get(code[0])
    if categories is None or code[1] not in categories:
        return False
    return uscc_check_char(code[:17]) == code[17]


def org_code_check_char(first8: str) -> str:
    total = sum(
        ORG_CODE_ALPHABET.index(c) * w for c, w in zip(first8, ORG_CODE_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def is_valid_org_code(value: str) -> bool:
    """组织机构代码 (GB 11714): eight characters and a check character, hyphen optional."""
    code = value.strip().upper().replace("-", "")
    if not ORG_CODE_PATTERN.match(code):
        return False
    return org_code_check_char(code[:8]) == code[8]


def uscc_from_parts(authority: str, category: str, region: str, org_code_body: str) -> str:
    """Build a valid USCC; the body is the 8-character organisation code stem."""
    org = org_code_body + org_code_check_char(org_code_body)
    first17 = authority + category + region + org
    return first17 + uscc_check_char(first17)


def ric_check_char(first17: str) -> str:
    total = sum(map(mul, map(int, first17), RIC_WEIGHTS))
    return RIC_CHECK[total % 11]


_LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def luhn_ok(digits: str) -> bool:
    if not digits.isdigit():
        return False
    reverse = digits[::-1]
    total = sum(map(int, reverse[0::2])) + sum(_LUHN_DOUBLED[int(c)] for c in reverse[1::2])
    return total % 10 == 0
