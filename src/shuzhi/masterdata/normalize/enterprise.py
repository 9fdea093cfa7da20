"""Enterprise names and the identifiers of legal entities (USCC, registration number).

``normalize_enterprise_name``: widths, spaces and traditional characters as for other text;
every bracket (（）【】〔〕［］[]) becomes ASCII ``()``; then the name is cut into

- ``branch``: a trailing branch part (上海分公司, 人民路分店, 第一营业部, (人民路店)), kept
  as its own field and out of the key, since a branch is a different registration;
- ``legal_form``: the legal-form ending, with 有限责任公司 and 有限公司 one form (the law
  lets the former be written as the latter), 股份有限公司 its own, 股份公司 read as it;
- ``regions``: division names in the name (a leading 北京, a bracketed (上海)), noted and
  kept in the name: 北京某某 and 上海某某 may be different companies.

``core`` is what remains between the leading region and the legal form, the blocking key.

USCC ↔ registration number. What can be related, and what cannot:

- a USCC's 9th–17th characters are the entity's 组织机构代码 (GB 11714, with its own check
  character): an old record's organisation code either equals them or does not;
- a USCC's 3rd–8th characters and a 15-digit registration number's first six are both the
  registering authority's division code: equal is consistent, different is only a hint
  (an entity may have moved and re-registered);
- the registration number's sequence (digits 7–14) is **not** contained in the USCC and
  cannot be derived from it, nor the reverse: the link between them exists only in the
  registry's records. A 13-digit or other older number has no check to apply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shuzhi.masterdata.normalize.divisions import division_index
from shuzhi.masterdata.normalize.evidence import Check, Field, flagged
from shuzhi.masterdata.normalize.text import (
    name_to_simplified,
    simplify,
    squeeze,
    to_halfwidth,
)
from shuzhi.standards.text import is_blank

_BRACKETS = str.maketrans("（【〔［[｛{）】〕］]｝}", "(" * 7 + ")" * 7)
_LEGAL_FORMS: tuple[tuple[str, str], ...] = (
    ("股份有限公司", "股份有限公司"),
    ("股份公司", "股份有限公司"),
    ("有限责任公司", "有限公司"),
    ("有限公司", "有限公司"),
    ("(普通合伙)", "(普通合伙)"),
    ("(有限合伙)", "(有限合伙)"),
    ("(特殊普通合伙)", "(特殊普通合伙)"),
    ("合伙企业", "合伙企业"),
    ("个人独资企业", "个人独资企业"),
    ("集团公司", "集团公司"),
    ("公司", "公司"),
)
_BRANCH_WORDS = "分公司|分店|营业部|分部|分厂|分行|支行|办事处|分理处|分中心|分所|经营部|门市部"
_BRANCH = re.compile(rf"\([^()]{{1,20}}?(?:{_BRANCH_WORDS}|店)\)|[^()]{{0,20}}?(?:{_BRANCH_WORDS})")
_REGION_IN_BRACKETS = re.compile(r"\(([\u4e00-\u9fff]{2,12})\)")


@dataclass(frozen=True)
class EnterpriseName:
    field: Field
    core: str | None  # without leading region and legal form: the blocking key
    legal_form: str | None
    branch: str | None
    regions: tuple[str, ...]  # division names found in the name (noted, not removed)

    @property
    def value(self) -> str | None:
        return self.field.value


def clean_enterprise_name(raw: str) -> str:
    text = name_to_simplified(squeeze(to_halfwidth(raw)), simplify).translate(_BRACKETS)
    return text.replace(" ", "") if not text.isascii() else text.upper()


def _legal_form(text: str) -> tuple[str, str | None]:
    for written, form in _LEGAL_FORMS:
        if text.endswith(written) and len(text) > len(written):
            return text[: -len(written)], form
    return text, None


def _legal_form_ends(text: str) -> list[int]:
    """Where each legal-form ending written in ``text`` ends, last first."""
    ends: set[int] = set()
    for written, _ in _LEGAL_FORMS:
        at = text.find(written)
        while at >= 0:
            ends.add(at + len(written))
            at = text.find(written, at + 1)
    return sorted(ends, reverse=True)


def _split_branch(text: str) -> tuple[str, str]:
    """(head, tail): the tail is a branch part as written (possibly bracketed), or empty.
    A branch follows the last legal form that only a branch follows; without one, the
    shortest trailing branch part behind every legal form is taken."""
    ends = [end for end in _legal_form_ends(text) if end < len(text)]
    for end in ends:
        if _BRANCH.fullmatch(text, end):
            return text[:end], text[end:]
    for start in range(len(text) - 2, max(ends, default=1), -1):
        if _BRANCH.fullmatch(text, start):
            return text[:start], text[start:]
    return text, ""


def _is_region(word: str) -> bool:
    """A division's full name, a province's short form or a city's without 市 (杭州); not the
    short forms of prefectures and counties, which are too often ordinary words (阿里, 南山)."""
    index = division_index()
    if any(word in table for table in index.full):
        return True
    shorts = (*index.short[0].get(word, ()), *index.short[1].get(word, ()))
    return any(d.level == 1 or d.name.endswith("市") for d in shorts)


def _regions(text: str) -> tuple[tuple[str, ...], int]:
    """Division names at the start or in brackets, and the length of the leading one."""
    names: list[str] = []
    lead = 0
    for end in range(min(len(text) - 2, division_index().longest), 1, -1):
        if _is_region(text[:end]):
            names.append(text[:end])
            lead = end
            break
    names.extend(m.group(1) for m in _REGION_IN_BRACKETS.finditer(text) if _is_region(m.group(1)))
    return tuple(names), lead


def normalize_enterprise_name(raw: str | None) -> EnterpriseName:
    """The normalised name cut into core, legal form and branch; never raises."""
    blank = EnterpriseName(Field(raw, None, Check.UNKNOWN), None, None, None, ())
    if raw is None:
        return blank
    text = clean_enterprise_name(raw)
    if is_blank(text):  # blank as given or once cleaned (無 → 无)
        return blank
    head, tail = _split_branch(text)
    body, form = _legal_form(head)
    regions, lead = _regions(body)
    core = _REGION_IN_BRACKETS.sub(
        lambda m: "" if m.group(1) in regions else m.group(0), body[lead:]
    )
    branch = tail.strip("()") or None
    value = body + (form or "") + tail
    flags = flagged(
        (name_to_simplified(raw, simplify) != raw, "traditional_converted"),
        (form == "有限公司" and "有限责任公司" in head, "legal_form_unified"),
        (branch is not None, "branch"),
        (bool(regions), "region_in_name"),
    )
    check = Check.VALID if form is not None else Check.UNVERIFIED
    field = Field(raw, value or None, check, flags)
    return EnterpriseName(field, core or None, form, branch, regions)
