"""Addresses parsed into province / city / county / street / community / detail.

The administrative part is read left to right, one level at a time, each level matched only
where the previous one ended and only among the divisions inside it — so a road named after
a province (陕西南路) or a shop named after one (启东市台湾风情街) is not taken for it. Short
forms are accepted with care: a province's (浙江) or a prefecture's (深圳) only when a lower
level of it follows, a county's (南山) only inside a known prefecture and not before a road
word (路, 街, 道…).

A county name shared by several divisions (朝阳区 in 北京 and 长春, 鼓楼区 in four cities)
with nothing above it to choose is **ambiguous**: the result lists every candidate and
fills no level, unless the caller names its jurisdiction (``within="22"`` or ``"2201"``),
in which case the one candidate inside it is taken and flagged. Missing upper levels are
inferred from a unique lower one and flagged ``inferred``.

Street (乡镇街道) and community (村社区) are cut by their suffixes; what remains is the detail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from shuzhi.masterdata.normalize.divisions import (
    MUNICIPALITIES,
    Division,
    DivisionIndex,
    division_index,
)
from shuzhi.masterdata.normalize.evidence import flagged
from shuzhi.masterdata.normalize.text import (
    name_to_simplified,
    simplify,
    squeeze,
    to_halfwidth,
)
from shuzhi.standards.text import is_blank


class AddressStatus(StrEnum):
    PARSED = "parsed"  # down to a unique county
    PARTIAL = "partial"  # a province or prefecture, no county
    AMBIGUOUS = "ambiguous"  # a county (or prefecture) with several candidates
    UNPARSED = "unparsed"  # no administrative division recognised
    EMPTY = "empty"


@dataclass(frozen=True)
class Address:
    raw: str | None
    text: str  # the cleaned address the parts were cut from
    status: AddressStatus
    province: Division | None
    city: Division | None
    county: Division | None
    street: str | None
    community: str | None
    detail: str | None
    candidates: tuple[Division, ...]
    flags: frozenset[str]

    @property
    def adcode(self) -> str | None:
        """The code of the lowest division known."""
        lowest = self.county or self.city or self.province
        return lowest.code if lowest is not None else None


# Characters after a county's short form that make it part of a road or place name.
_ROAD_AFTER = tuple("路街道巷弄大桥村镇乡湖山江河")
_STREET = re.compile(r"^([\u4e00-\u9fff]{1,10}?(?:街道办事处|街道|民族乡|镇|乡|苏木))")
_COMMUNITY = re.compile(
    r"^([\u4e00-\u9fff\d]{1,12}?(?:社区居民委员会|村民委员会|居民委员会|社区居委会|社区|居委会|村委会|嘎查|村))"
)
_NOT_IN_STREET = re.compile(r"[号栋幢楼室弄]|街(?!道)|[路巷](?!街道)")
_NOT_IN_COMMUNITY = re.compile(r"[号栋幢楼室弄]")


# Field labels written before the address proper (住址：, 户籍地址).
_LABEL = re.compile(r"^(?:(?:户籍|居住|现|常住|注册|通讯)?(?:住址|地址)[:：]?)+")
_COUNTRY = re.compile(r"^(?:中华人民共和国|中国)")


def clean_address(raw: str) -> str:
    """Width, spacing and script made uniform, spaces dropped, leading labels cut, and the
    country cut when a province follows it (中国浙江省…, but 中国人民大学 stays)."""
    text = _LABEL.sub("", name_to_simplified(squeeze(to_halfwidth(raw)), simplify).replace(" ", ""))
    country = _COUNTRY.match(text)
    if country is not None:
        rest = text[country.end() :]
        index = division_index()
        heads = (rest[:n] for n in range(2, 9))
        if any(h in index.full[0] or h in index.short[0] for h in heads):
            return rest
    return text


def _match(
    table: dict[str, tuple[Division, ...]], text: str, pos: int, prefix: str, longest: int
) -> tuple[int, tuple[Division, ...]]:
    """The longest name in ``table`` starting at ``pos`` with a candidate inside ``prefix``."""
    for end in range(min(len(text), pos + longest), pos + 1, -1):
        found = table.get(text[pos:end])
        if found:
            inside = tuple(d for d in found if d.within(prefix))
            if inside:
                return end, inside
    return pos, ()


@dataclass
class _Cursor:
    index: DivisionIndex
    text: str
    pos: int = 0
    prefix: str = ""

    def take(self, level: int, short: bool = False) -> tuple[int, tuple[Division, ...]]:
        table = (self.index.short if short else self.index.full)[level - 1]
        return _match(table, self.text, self.pos, self.prefix, self.index.longest)

    def lower_follows(self, division: Division, end: int) -> bool:
        probe = _Cursor(self.index, self.text, end, _prefix(division))
        levels = (3,) if division.level == 2 or division.code[:2] in MUNICIPALITIES else (2, 3)
        return end == len(self.text) or any(
            probe.take(level, short)[1] for level in levels for short in (False, True)
        )


def _prefix(division: Division) -> str:
    return division.code[: 2 * division.level]


def _county_short_ok(text: str, end: int) -> bool:
    return not text.startswith(_ROAD_AFTER, end)


def _admin(cursor: _Cursor) -> tuple[list[Division], tuple[Division, ...], set[str]]:
    """The divisions read in order, the candidates of an ambiguous level, and flags."""
    found: list[Division] = []
    flags: set[str] = set()
    for level in (1, 2, 3):
        if level == 2 and found and found[-1].code[:2] in MUNICIPALITIES:
            continue
        end, candidates = cursor.take(level)
        if not candidates:
            end, candidates = cursor.take(level, short=True)
            if candidates and level == 3 and (not found or not _county_short_ok(cursor.text, end)):
                candidates = ()
            candidates = tuple(d for d in candidates if cursor.lower_follows(d, end) or level == 3)
            if candidates:
                flags.add("short_name")
        if not candidates:
            continue
        if len(candidates) > 1:
            return found, candidates, flags
        found.append(candidates[0])
        cursor.pos, cursor.prefix = end, _prefix(candidates[0])
    return found, (), flags


def _resolve(
    index: DivisionIndex, found: list[Division], candidates: tuple[Division, ...], within: str
) -> tuple[list[Division], tuple[Division, ...], set[str]]:
    """Upper levels filled from the lowest division; one candidate inside ``within`` taken."""
    flags: set[str] = set()
    if candidates and within:
        inside = tuple(d for d in candidates if d.within(within))
        if len(inside) == 1:
            found, candidates = [*found, inside[0]], ()
            flags.add("resolved_by_jurisdiction")
    if candidates or not found:
        return found, candidates, flags
    lowest = found[-1]
    chain = [index.by_code.get(lowest.code[:2] + "0000")]
    if lowest.level == 3 and lowest.code[:2] not in MUNICIPALITIES:
        chain.append(index.by_code.get(lowest.code[:4] + "00"))
    chain.append(lowest)
    full = [d for d in chain if d is not None]
    if any(d not in found for d in full):
        flags.add("inferred")
    return full, candidates, flags


def _below_county(rest: str) -> tuple[str | None, str | None, str | None]:
    street = community = None
    m = _STREET.match(rest)
    if m is not None and not _NOT_IN_STREET.search(m.group(1)):
        street, rest = m.group(1), rest[m.end() :]
    m = _COMMUNITY.match(rest)
    if m is not None and not _NOT_IN_COMMUNITY.search(m.group(1)):
        community, rest = m.group(1), rest[m.end() :]
    return street, community, rest or None


def parse_address(raw: str | None, within: str = "") -> Address:
    """Parse ``raw``; ``within`` is the caller's jurisdiction code prefix used only to choose
    among ambiguous candidates. Never raises."""
    text = "" if raw is None or is_blank(raw) else clean_address(raw)
    if not text or is_blank(text):
        empty = AddressStatus.EMPTY
        return Address(raw, "", empty, None, None, None, None, None, None, (), frozenset())
    index = division_index()
    cursor = _Cursor(index, text)
    found, candidates, flags = _admin(cursor)
    found, candidates, more = _resolve(index, found, candidates, within)
    flags |= more | flagged((text != raw, "cleaned"))
    levels = {d.level: d for d in found}
    street, community, detail = _below_county(text[cursor.pos :] if not candidates else text)
    if candidates:
        status, street, community, detail = AddressStatus.AMBIGUOUS, None, None, text
    elif 3 in levels:
        status = AddressStatus.PARSED
    else:
        status = AddressStatus.PARTIAL if levels else AddressStatus.UNPARSED
    return Address(
        raw,
        text,
        status,
        levels.get(1),
        levels.get(2),
        levels.get(3),
        street,
        community,
        detail,
        candidates,
        frozenset(flags),
    )
