"""Postal addresses: administrative names and the suffix cues of Chinese addresses.

There is no format to validate, so an address is scored by its cues: administrative levels
(省/市/区/县/镇/乡/街道), street-level cues (路/街/巷/弄/村) and a house-number cue
(号/栋/幢/单元/室/楼). Sentences (free text) and organisation names are excluded.
"""

from __future__ import annotations

import re

from shuzhi.standards.regions import CITY_NAMES, PROVINCE_NAMES
from shuzhi.standards.text import normalize

ADMIN_CUE = re.compile(
    r"(?:自治区|自治州|自治县|特别行政区|省|市|(?<![小社园景校厂营])区|县|旗|盟|镇|乡|街道|开发区)"
)
_STREET = re.compile(r"(?:大道|路|街(?!道)|巷|弄|胡同|村|组|社区|小区|花园|公寓|大厦|广场|新村)")
_HOUSE = re.compile(r"\d+(?:-\d+)*\s*(?:号|栋|幢|单元|室|楼|弄|层|座)|(?:号楼|单元|室)$")
_SENTENCE = re.compile(r"[，。！？；!?;]|反映|要求|希望|投诉|举报|因为|但是")
_ORG_ENDINGS = (
    "局",
    "院",
    "所",
    "公司",
    "中心",
    "委员会",
    "政府",
    "办公室",
    "大队",
    "支队",
    "学校",
    "医院",
    "银行",
    "分行",
    "支行",
)
_PLACE_NAMES = re.compile("|".join(sorted(set(PROVINCE_NAMES) | set(CITY_NAMES), key=len)[::-1]))


def address_cues(value: str) -> int:
    """Number of distinct address cue kinds in ``value`` (0 for sentences and organisations)."""
    text = normalize(value)
    if not 4 <= len(text) <= 120 or _SENTENCE.search(text) or text.endswith(_ORG_ENDINGS):
        return 0
    admin = len(ADMIN_CUE.findall(text))
    cues = min(admin, 2)
    cues += 1 if _STREET.search(text) else 0
    cues += 1 if _HOUSE.search(text) else 0
    cues += 1 if _PLACE_NAMES.search(text) else 0
    return cues


def address_strength(value: str) -> int:
    """2: below street level (a house number, or a road/community with an admin cue);
    1: at least two cues (e.g. province + city); 0: not an address."""
    text = normalize(value)
    cues = address_cues(text)
    if cues < 2:
        return 0
    if _HOUSE.search(text) or (_STREET.search(text) and ADMIN_CUE.search(text)):
        return 2
    return 1
