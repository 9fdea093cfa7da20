"""Normalisation of exported cell values before any format check.

Government exports mix full-width digits, ideographic spaces, Excel text markers and
placeholder words for "no value"; every validator sees the same cleaned text.
"""

from __future__ import annotations

import re
import unicodedata

# Placeholders that mean "no value" in Chinese office exports (compared case-insensitively).
NULL_TOKENS = frozenset(
    {
        "",
        "-",
        "--",
        "—",
        "/",
        "\\",
        "无",
        "暂无",
        "空",
        "(空)",
        "null",
        "none",
        "nan",
        "n/a",
        "na",
        "#n/a",
        "未知",
        "不详",
    }
)

_SEPARATORS = str.maketrans("", "", " -_.·()\t")


def normalize(value: str) -> str:
    """NFKC (full-width to ASCII), trimmed, without an Excel text apostrophe or wrapping quotes."""
    text = unicodedata.normalize("NFKC", value).strip()
    if text[:1] == "'":
        text = text[1:].strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


def is_blank(value: str | None) -> bool:
    """True for None, empty text and the placeholders exports use for a missing value."""
    return value is None or normalize(value).lower() in NULL_TOKENS


def compact(value: str) -> str:
    """Normalised text without spaces, hyphens, dots, underscores and brackets (for numbers)."""
    return compact_normalized(normalize(value))


def compact_normalized(text: str) -> str:
    """``compact`` for text that has already been through ``normalize``."""
    return text.translate(_SEPARATORS).upper()


def is_hanzi(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


_HANZI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def has_hanzi(text: str) -> bool:
    return _HANZI.search(text) is not None


def words(text: str) -> tuple[str, ...]:
    """Whitespace-separated words of a literal word list (keeps long tables readable)."""
    return tuple(text.split())
