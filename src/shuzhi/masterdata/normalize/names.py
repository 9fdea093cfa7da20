"""Person names: one written form per name, and the keys to block and compare them on.

What ``normalize_name`` does, in order: invisible characters dropped and full-width letters
made ASCII (``text.to_halfwidth``); every middle dot (·•‧・…) and a full stop between Han
characters become ``·``; spaces between Han characters dropped (张 三 → 张三), other runs one
space; a trailing bracketed note (张三(曾用名)) set aside; remaining punctuation dropped;
traditional → simplified; Latin letters upper-cased. It refuses to guess beyond that: a
value that does not look like a name keeps check ``unverified``, never ``invalid``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from shuzhi.masterdata.normalize.evidence import Check, Field, flagged
from shuzhi.masterdata.normalize.pinyin import (
    name_syllables,
    pinyin_variants,
    split_surname,
    surname_syllables,
)
from shuzhi.masterdata.normalize.text import (
    NAME_DOT,
    is_han,
    name_to_simplified,
    squeeze,
    to_halfwidth,
    unify_dots,
    upper_latin,
)
from shuzhi.standards.names import is_dotted_name, is_person_name
from shuzhi.standards.text import is_blank

_HAN = r"[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f]"
_STOP_BETWEEN_HAN = re.compile(rf"(?<={_HAN})\s*[.。．]\s*(?={_HAN})")
_SPACE_AROUND_HAN = re.compile(rf"(?<={_HAN}) +| +(?={_HAN})")
_NOTE = re.compile(r"\s*[(\[{（【〔［][^()\[\]{}（）【】〔〕［］]*[)\]}）】〕］]\s*$")
_DOTS_RUN = re.compile(rf"\s*{NAME_DOT}[\s{NAME_DOT}]*")
_KEPT_PUNCTUATION = frozenset({NAME_DOT, "-", "'"})


@dataclass(frozen=True)
class PersonName:
    field: Field
    surname: str | None  # Han names only; None for dotted and non-Han names
    given: str | None
    dotted: bool  # a transliterated name written with middle dots
    pinyin: str | None  # toneless key, surname read as a surname ("shan tian fang")
    surname_pinyin: str | None
    pinyin_variants: frozenset[str] = frozenset()  # with other readings of the given name

    @property
    def value(self) -> str | None:
        return self.field.value


def clean_name(raw: str) -> tuple[str, frozenset[str]]:
    """The written form of a name and the flags of what changed (no script conversion)."""
    text = squeeze(to_halfwidth(raw))
    dotted = _STOP_BETWEEN_HAN.sub(NAME_DOT, unify_dots(text))
    dots_changed, text = dotted != text, dotted
    note = _NOTE.search(text)
    if note is not None and note.start() > 0:
        text = text[: note.start()]
    text = "".join(c for c in text if c in _KEPT_PUNCTUATION or not _is_punct(c))
    text = _DOTS_RUN.sub(NAME_DOT, squeeze(text)).strip(NAME_DOT + "-' ")
    text = _SPACE_AROUND_HAN.sub("", text)
    flags = flagged(
        (note is not None and note.start() > 0, "note_removed"),
        (to_halfwidth(raw) != raw, "width_normalised"),
        (dots_changed, "dot_unified"),
    )
    return text, flags


def _is_punct(ch: str) -> bool:
    """Punctuation, symbols and controls; private-use (rare characters) and unassigned code
    points (ideographs newer than this Python's Unicode tables) are kept."""
    category = unicodedata.category(ch)
    return category[0] in "PS" or category in ("Cc", "Cf", "Cs")


@lru_cache(maxsize=262_144)
def normalize_name(raw: str | None) -> PersonName:
    """The normalised name with its pinyin keys; never raises. Results are frozen and cached:
    a population repeats its names, and each distinct one is worked out once."""
    if raw is None or is_blank(raw):
        return PersonName(Field(raw, None, Check.UNKNOWN), None, None, False, None, None)
    text, flags = clean_name(raw)
    simplified = upper_latin(name_to_simplified(text))
    flags |= flagged(
        (simplified != text and upper_latin(text) != simplified, "traditional_converted"),
        (upper_latin(text) != text, "case_folded"),
    )
    if not simplified:
        return PersonName(Field(raw, None, Check.INVALID, flags), None, None, False, None, None)
    if is_blank(simplified):  # a placeholder once cleaned (無 → 无)
        return PersonName(Field(raw, None, Check.UNKNOWN, flags), None, None, False, None, None)
    dotted = NAME_DOT in simplified
    shaped = is_dotted_name(simplified) if dotted else is_person_name(simplified)
    field = Field(raw, simplified, Check.VALID if shaped else Check.UNVERIFIED, flags)
    key = " ".join(name_syllables(simplified)) or None
    if dotted or not is_han(simplified[0]):
        return PersonName(field, None, None, dotted, key, None)
    surname, given = split_surname(simplified)
    surname_key = " ".join(surname_syllables(surname)) or None
    variants = pinyin_variants(simplified) if key else frozenset()
    return PersonName(field, surname, given or None, False, key, surname_key, variants)
