"""Toneless pinyin keys for blocking names that sound alike (单/善, 刘/柳 written by ear).

A surname is read with its surname reading, not the character's default: pypinyin reads 单
as dan, 仇 as chou, 解 as jie, while as surnames they are Shan, Qiu and Xie. Compound
surnames are matched first (尉迟 Yuchi, 万俟 Moqi, 长孙 Zhangsun), then the single ones.
The given name is read by pypinyin with its phrase context. Keys are lower-case syllables
without tones, ü written ``v`` (吕 → lv), separated by one space; letters and digits in a
name are kept, lower-cased, as their own syllables; every other character is dropped.

A given name with polyphonic characters (乐 le/yue, 行 xing/hang) has one key from
pypinyin's reading and up to ``MAX_VARIANTS`` keys from the other readings: a clerk who
wrote a name by ear wrote the reading they heard, which need not be pypinyin's.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import islice, product

from pypinyin import Style, lazy_pinyin, pinyin

from shuzhi.masterdata.normalize.text import is_han
from shuzhi.standards.names import COMPOUND_SURNAMES

# Surname readings that differ from pypinyin's default reading of the character(s).
COMPOUND_SURNAME_READINGS: dict[str, tuple[str, ...]] = {
    "尉迟": ("yu", "chi"),
    "万俟": ("mo", "qi"),
    "长孙": ("zhang", "sun"),
    "单于": ("chan", "yu"),
    "澹台": ("tan", "tai"),
    "令狐": ("ling", "hu"),
    "乐正": ("yue", "zheng"),
    "宰父": ("zai", "fu"),
    "亓官": ("qi", "guan"),
}

SURNAME_READINGS: dict[str, str] = {
    "单": "shan",
    "仇": "qiu",
    "解": "xie",
    "曾": "zeng",
    "查": "zha",
    "朴": "piao",
    "区": "ou",
    "盖": "ge",
    "乐": "yue",
    "缪": "miao",
    "覃": "qin",
    "那": "na",
    "种": "chong",
    "召": "shao",
    "繁": "po",
    "秘": "bi",
    "员": "yun",
    "贲": "ben",
    "宓": "mi",
    "句": "gou",
    "厍": "she",
    "翟": "zhai",
    "隗": "wei",
    "冼": "xian",
    "折": "she",
    "黑": "he",
    "能": "nai",
    "过": "guo",
    "重": "chong",
    "都": "du",
    "阚": "kan",
    "藏": "zang",
    "尉": "wei",
    "长": "chang",
    "燕": "yan",
    "纪": "ji",
    "任": "ren",
    "华": "hua",
    "沈": "shen",
    "薄": "bo",
    "谌": "chen",
    "洗": "xian",
    "蕃": "pi",
    "佴": "nai",
}


def split_surname(name: str) -> tuple[str, str]:
    """(surname, given name) of a Han name: a compound surname with an override or from the
    national list first, else the first character. A one-character name is all surname."""
    if len(name) >= 3 and (name[:2] in COMPOUND_SURNAME_READINGS or name[:2] in COMPOUND_SURNAMES):
        return name[:2], name[2:]
    return name[:1], name[1:]


def surname_syllables(surname: str) -> tuple[str, ...]:
    """The surname reading of ``surname`` (one or two characters)."""
    if surname in COMPOUND_SURNAME_READINGS:
        return COMPOUND_SURNAME_READINGS[surname]
    if len(surname) == 1 and surname in SURNAME_READINGS:
        return (SURNAME_READINGS[surname],)
    return syllables(surname)


@lru_cache(maxsize=262_144)
def syllables(text: str) -> tuple[str, ...]:
    """Toneless syllables of ``text`` read as ordinary words (no surname rule)."""
    found: list[str] = []
    for chunk in text.split():
        for part in lazy_pinyin(chunk, style=Style.NORMAL, errors=_keep_alnum, v_to_u=False):
            word = part.strip().lower()
            if word and word.isascii() and word.isalnum():
                found.append(word)
    return tuple(found)


def _keep_alnum(chars: str) -> str:
    """pypinyin's hook for characters without a reading: letters and digits kept."""
    return "".join(c for c in chars if c.isascii() and c.isalnum())


def name_syllables(name: str) -> tuple[str, ...]:
    """Syllables of a person's name with the surname read as a surname when it starts with a
    Han character; names in other scripts (and dotted transliterations) are read as words."""
    if not name or not is_han(name[0]) or "\u00b7" in name:
        return syllables(name)
    surname, given = split_surname(name)
    return surname_syllables(surname) + syllables(given)


def pinyin_key(name: str) -> str:
    """The toneless blocking key of a (normalised) name: syllables joined by one space."""
    return " ".join(name_syllables(name))


MAX_VARIANTS = 8


@lru_cache(maxsize=65_536)
def _given_readings(given: str) -> tuple[tuple[str, ...], ...]:
    """Every reading pypinyin knows for each character of an all-Han given name."""
    found = pinyin(given, style=Style.NORMAL, heteronym=True, v_to_u=False)
    return tuple(tuple(dict.fromkeys(r.lower() for r in readings)) for readings in found)


def pinyin_variants(name: str) -> frozenset[str]:
    """The name's key and the keys of other readings of its given name (at most
    ``MAX_VARIANTS`` in all); the surname keeps its surname reading."""
    key = pinyin_key(name)
    if not name or not all(is_han(c) for c in name):
        return frozenset({key})
    surname, given = split_surname(name)
    readings = _given_readings(given) if given else ()
    readable = all(r.isascii() and r.isalpha() for rs in readings for r in rs)
    if len(readings) != len(given) or not readable:
        return frozenset({key})
    head = surname_syllables(surname)
    combos = islice(product(*readings), MAX_VARIANTS - 1)
    return frozenset({key, *(" ".join(head + combo) for combo in combos)})
