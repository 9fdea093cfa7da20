"""Which golden records a push-back delivers, and as which table: pure functions, no database.

**Area.** A golden record is in a push-back's area when its address, parsed as
``normalize.addresses`` parses every address, lies in the push-back's division (the lowest
division found must be that county; a county-less prefecture such as 东莞 is named by its own
code) and names the same street (乡镇街道), and — when the push-back names one — the same
community (社区/村). Street and community are compared by their core and kind, so 北山街道
and 北山街道办事处 are one street, 保俶路社区 and 保俶路社区居民委员会 one community, while a
village (村) is never a community (社区) of the same name. An address without a county, or
whose county is ambiguous, is delivered to nobody: the platform does not guess where a
person lives.

**Special groups.** Conditions on the golden record, all of which must hold: an age range
from the golden birth date (whole years on the day of delivery; no birth date, no match), a
golden attribute equal to a value (both normalised as the linkage normalises them), and
having (or not having) a record in one of the library's member datasets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import pyarrow as pa

from shuzhi.masterdata.models import LibraryKind
from shuzhi.masterdata.normalize.addresses import Address, parse_address
from shuzhi.masterdata.normalize.divisions import MUNICIPALITIES, division_index
from shuzhi.masterdata.normalize.records import normalize_entity, normalize_person
from shuzhi.masterdata.schemas import ELEMENTS

ENTITY_COLUMN = "实体标识"  # the first column of every push-back dataset

_STREET_FORMS = (
    ("街道办事处", "街道"),
    ("街道", "街道"),
    ("民族乡", "民族乡"),
    ("镇", "镇"),
    ("乡", "乡"),
    ("苏木", "苏木"),
)
_COMMUNITY_FORMS = (
    ("社区居民委员会", "社区"),
    ("社区居委会", "社区"),
    ("居民委员会", "社区"),
    ("居委会", "社区"),
    ("社区", "社区"),
    ("村村民委员会", "村"),
    ("村村委会", "村"),
    ("村民委员会", "村"),
    ("村委会", "村"),
    ("村", "村"),
    ("嘎查", "嘎查"),
)
_SPACES = re.compile(r"\s+")


def _canonical(name: str | None, forms: Sequence[tuple[str, str]]) -> str | None:
    if not name:
        return None
    text = _SPACES.sub("", name)
    for suffix, kind in forms:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)] + kind
    return text


def canonical_street(name: str | None) -> str | None:
    """北山街道办事处 → 北山街道; None for nothing."""
    return _canonical(name, _STREET_FORMS)


def canonical_community(name: str | None) -> str | None:
    """保俶路社区居民委员会 → 保俶路社区; 西溪村村民委员会 → 西溪村."""
    return _canonical(name, _COMMUNITY_FORMS)


def division_text(code: str) -> str | None:
    """The names above and of a county-level division (浙江省杭州市西湖区), or None when the
    code is not a division an address can end at (a county, or a prefecture without
    counties)."""
    index = division_index()
    found = index.by_code.get(code)
    if found is None or found.level == 1:
        return None
    if found.level == 2 and (code[:2] in MUNICIPALITIES or _has_counties(code)):
        return None
    province = index.by_code.get(code[:2] + "0000")
    parts = [province.name] if province is not None else []
    if found.level == 3 and code[:2] not in MUNICIPALITIES:
        city = index.by_code.get(code[:4] + "00")
        if city is not None:
            parts.append(city.name)
    parts.append(found.name)
    return "".join(parts)


@lru_cache(maxsize=512)
def _has_counties(prefecture: str) -> bool:
    return any(
        c.startswith(prefecture[:4]) and c != prefecture and c[4:] != "00"
        for c in division_index().by_code
    )


@dataclass(frozen=True)
class Area:
    division_code: str
    street: str  # canonical
    community: str | None  # canonical

    @classmethod
    def of(cls, division_code: str, street: str, community: str | None) -> Area:
        return cls(division_code, canonical_street(street) or "", canonical_community(community))

    def holds(self, address: Address) -> bool:
        if address.county is None and address.city is None:
            return False
        if address.adcode != self.division_code or address.candidates:
            return False
        if canonical_street(address.street) != self.street:
            return False
        return self.community is None or canonical_community(address.community) == self.community


@lru_cache(maxsize=4_096)
def parsed(text: str, within: str) -> Address:
    """A golden address parsed (a small cache: the addresses of one building repeat)."""
    return parse_address(text, within)


def area_problem(
    division_code: str, street: str, community: str | None
) -> tuple[str, str, str] | None:
    """Why an area cannot be matched on (field, zh, en), or None: the division must be one an
    address can end at, and the street (and community) must read as one where an address
    names it."""
    above = division_text(division_code)
    if above is None:
        return (
            "division_code",
            f"{division_code} 不是县级行政区划代码（区、县、县级市，或不设区的地级市）。",
            f"{division_code} is not the code of a county-level division (district, county,"
            " county-level city, or a prefecture without counties).",
        )
    found = parse_address(f"{above}{street}{community or ''}", division_code)
    if found.adcode != division_code or canonical_street(found.street) != canonical_street(street):
        return (
            "street",
            f"「{street}」不是街道、镇或乡的名称（应以街道、镇、乡、民族乡或苏木结尾）。",
            f"'{street}' is not the name of a street, town or township (it should end in"
            " 街道, 镇, 乡, 民族乡 or 苏木).",
        )
    if community and canonical_community(found.community) != canonical_community(community):
        return (
            "community",
            f"「{community}」不是社区或村的名称（应以社区、村、居委会或嘎查结尾）。",
            f"'{community}' is not the name of a community or village (it should end in"
            " 社区, 村, 居委会 or 嘎查).",
        )
    return None


# ---------------------------------------------------------------- special groups


def normalised(kind: LibraryKind, attribute: str, value: str) -> str | None:
    """A condition's value written as golden values are (None: not a valid value)."""
    if kind is LibraryKind.LEGAL_ENTITY:
        e = normalize_entity({attribute: value})
        fields: dict[str, Any] = {
            "name": e.name.value,
            "uscc": e.uscc.value,
            "org_code": e.org_code.value,
            "registration_number": e.registration_number.value,
            "legal_representative": e.legal_representative.value,
        }
        return fields.get(attribute)
    p = normalize_person({attribute: value})
    person: dict[str, Any] = {
        "name": p.name.value,
        "resident_id": p.resident_id.number if p.resident_id.valid else None,
        "sex": p.sex.value,
        "birth_date": p.birth_date.value,
        "phone": p.phone.value,
    }
    return person.get(attribute)


def age_on(birth: str | None, day: date) -> int | None:
    """Whole years from a golden birth date (YYYY-MM-DD) to ``day``; None when unreadable."""
    if not birth or len(birth) != 10:
        return None
    try:
        born = date.fromisoformat(birth)
    except ValueError:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@dataclass(frozen=True)
class Condition:
    """A stored condition (``ConditionIn`` after validation: attribute as field, value
    normalised)."""

    kind: str
    min_age: int | None = None
    max_age: int | None = None
    attribute: str | None = None
    value: str | None = None
    resource_code: str | None = None

    @classmethod
    def of(cls, stored: Mapping[str, Any]) -> Condition:
        return cls(
            str(stored["kind"]),
            stored.get("min_age"),
            stored.get("max_age"),
            stored.get("attribute"),
            stored.get("value"),
            stored.get("resource_code"),
        )

    def holds(
        self, entity_id: str, golden: Mapping[str, Any], day: date, sources: Mapping[str, set[str]]
    ) -> bool:
        if self.kind == "age":
            age = age_on(_value(golden, "birth_date"), day)
            if age is None:
                return False
            return (self.min_age is None or age >= self.min_age) and (
                self.max_age is None or age <= self.max_age
            )
        if self.kind == "equals":
            return _value(golden, self.attribute or "") == self.value
        inside = entity_id in sources.get(self.resource_code or "", set())
        return inside if self.kind == "in_dataset" else not inside


def golden_value(golden: Mapping[str, Any], attribute: str) -> str | None:
    """A golden record's value of one attribute, as text (None: no value)."""
    return _value(golden, attribute)


def _value(golden: Mapping[str, Any], attribute: str) -> str | None:
    v = golden.get(attribute)
    value = v.get("value") if isinstance(v, Mapping) else None
    return None if value is None else str(value)


@dataclass(frozen=True)
class Selection:
    """What one push-back delivers: the area, the conditions and the attributes."""

    area: Area
    conditions: tuple[Condition, ...]
    columns: tuple[str, ...]

    def wants(
        self,
        entity_id: str,
        golden: Mapping[str, Any],
        address: Address,
        day: date,
        sources: Mapping[str, set[str]],
    ) -> bool:
        """Whether the golden record (its address already parsed) is delivered."""
        return self.area.holds(address) and all(
            c.holds(entity_id, golden, day, sources) for c in self.conditions
        )

    def kept(self, golden: Mapping[str, Any]) -> dict[str, Any]:
        """What a delivered record keeps of its golden record: the delivered values."""
        return {a: {"value": _value(golden, a)} for a in self.columns}

    def select(
        self,
        entities: Iterable[tuple[str, Mapping[str, Any]]],
        day: date,
        sources: Mapping[str, set[str]],
    ) -> list[tuple[str, Mapping[str, Any]]]:
        """The (entity ID, delivered values) pairs, in order of entity ID."""
        out = []
        for entity_id, golden in entities:
            text = _value(golden, "address")
            if text is None:
                continue
            address = parsed(text, self.area.division_code)
            if self.wants(entity_id, golden, address, day, sources):
                out.append((entity_id, self.kept(golden)))
        return sorted(out, key=lambda e: e[0])


_SEX = {"male": "男", "female": "女"}


def column_names(kind: LibraryKind, columns: Sequence[str]) -> list[str]:
    """The dataset's column names: the entity ID, then each attribute's data element."""
    return [ENTITY_COLUMN, *(ELEMENTS[kind][c] for c in columns)]


def delivered_value(attribute: str, value: str | None) -> str | None:
    """A golden value as a street reads it (sex as 男/女)."""
    if value is None:
        return None
    return _SEX.get(value, value) if attribute == "sex" else value


def table(
    kind: LibraryKind, columns: Sequence[str], rows: Sequence[tuple[str, Mapping[str, Any]]]
) -> pa.Table:
    """The delivered rows as text columns named by their data elements."""
    names = column_names(kind, columns)
    data: list[list[str | None]] = [[entity_id for entity_id, _ in rows]]
    for attribute in columns:
        data.append([delivered_value(attribute, _value(g, attribute)) for _, g in rows])
    return pa.table({n: pa.array(d, pa.string()) for n, d in zip(names, data, strict=True)})
