"""Character-level clean-up shared by every normaliser: width, spacing, dots, case, script.

Full NFKC is deliberately *not* applied: it also rewrites ① to 1, ㈱ to (株), ² to 2, ℡ to TEL
and ﬁ to fi, which changes house numbers and names. Only these compatibility mappings are
used, each taken from Unicode's own NFKC table:

- full-width ASCII (U+FF01–U+FF5E) and the ideographic space (U+3000);
- Kangxi and CJK radicals that stand for a unified ideograph (⼈ → 人);
- CJK compatibility ideographs (U+F900–U+FAFF, canonical equivalents of unified ones).

Traditional characters become simplified through OpenCC's ``t2s`` tables (phrase-aware, so
乾隆 stays 乾隆), repeated until nothing changes (a few entries map in two steps, 薴 → 苧 → 苎).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

import opencc

_WIDTH_RANGES = ((0xFF01, 0xFF5E), (0x3000, 0x3000), (0x2E80, 0x2FDF), (0xF900, 0xFAFF))


def _width_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for first, last in _WIDTH_RANGES:
        for cp in range(first, last + 1):
            mapped = unicodedata.normalize("NFKC", chr(cp))
            if mapped != chr(cp):
                table[cp] = mapped
    return table


_WIDTH = _width_table()

# Every middle dot seen between the parts of transliterated names (买买提·艾力): the Latin
# middle dot, bullet, hyphenation point, katakana dots (full and half width), Greek ano
# teleia, dot operators, the word-separator middle dot and the Hangul arae-a.
MIDDLE_DOTS = "\u00b7\u2022\u2027\u30fb\uff65\u0387\u2219\u22c5\u2e31\u318d\u16eb\u2981"
NAME_DOT = "\u00b7"
_DOTS = str.maketrans(dict.fromkeys(MIDDLE_DOTS, NAME_DOT))

# Control and invisible characters copied in from web pages, office files and broken
# decodings (lone surrogates). Private-use characters are kept: systems encode rare name
# characters (生僻字) there.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\ud800-\udfff]"
)

_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")

# Characters OpenCC would simplify wrongly in proper names: 乾 (qián: 乾县, 乾安县, given
# names) becomes 干, and the surname 於 (Yū, distinct from 于) becomes 于.
_KEEP_IN_NAMES = re.compile("([乾])")
_KEEP_AS_SURNAME = "於"

_t2s = opencc.OpenCC("t2s")


def to_halfwidth(text: str) -> str:
    """Full-width ASCII to ASCII, radicals and compatibility ideographs to unified ones."""
    return text.translate(_WIDTH)


def squeeze(text: str) -> str:
    """Invisible characters removed, every run of whitespace one space, trimmed."""
    return " ".join(_INVISIBLE.sub("", text).split())


def unify_dots(text: str) -> str:
    return text.translate(_DOTS)


def upper_latin(text: str) -> str:
    """ASCII letters upper-cased (other scripts untouched, so lengths never change)."""
    return text.translate(_ASCII_UPPER)


def encodable(text: str) -> bool:
    """False for text holding lone surrogates, which no converter can take."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def simplify(text: str) -> str:
    """Traditional → simplified until stable; text that cannot be encoded comes back as is."""
    if not encodable(text) or text.isascii():
        return text
    for _ in range(4):
        converted = _t2s.convert(text)
        if converted == text:
            break
        text = converted
    return text


@lru_cache(maxsize=262_144)
def to_simplified(text: str) -> str:
    """``simplify``, cached: for values a population repeats (names, name parts)."""
    return simplify(text)


def name_to_simplified(text: str, convert: Callable[[str], str] = to_simplified) -> str:
    """Simplification for proper names (persons, places, enterprises): the characters
    OpenCC gets wrong in them are kept; 於 only as the first character (a surname).
    ``convert`` is ``simplify`` for values that rarely repeat (addresses), so they do not
    crowd the cache."""
    if text.startswith(_KEEP_AS_SURNAME):
        return _KEEP_AS_SURNAME + name_to_simplified(text[1:], convert)
    parts = _KEEP_IN_NAMES.split(text)
    return "".join(p if _KEEP_IN_NAMES.fullmatch(p) else convert(p) for p in parts)


def is_han(ch: str) -> bool:
    """A unified CJK ideograph (basic block, extension A, or extensions B and later)."""
    return (
        "\u4e00" <= ch <= "\u9fff"
        or "\u3400" <= ch <= "\u4dbf"
        or "\U00020000" <= ch <= "\U0003134f"
    )
