"""Demo base libraries: a population library fused from five departments' person extracts
(公安, 人社, 民政, 卫健, 教育) and a legal-entity library from three registers (市场监管,
税务, 统计), both owned by the data bureau (SJGL).

The extracts come from ``masterdata.synth`` with the defects real extracts carry (missing
and mistyped resident IDs and credit codes, names written by ear, in traditional characters
or cut short, birth dates in three formats, pinyin headers and GB18030 in 民政's file), and
everyone lives or is registered in the district's streets, so that a street's residents and
enterprises can be found in the golden records. Each extract is a published catalogue entry
of its department whose data items name the standard data elements, loaded through the lake
(profiled, classified, quality-checked); each library maps its members' columns onto the data
elements and is run once, as the bureau's staff would: golden records, conflicts raised as
quality issues of the source units, and pairs left for clerical review.

One function per library (``build_population_library``, ``build_legal_entity_library``), each
idempotent: a library already defined is left as it is.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shuzhi.catalog import service as catalog
from shuzhi.catalog.schemas import EntryCreate
from shuzhi.context import Actor, Ctx, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.demo.catalog import SOURCES
from shuzhi.demo.datasets import ROADS
from shuzhi.demo.sharing import _actor
from shuzhi.errors import NotFound
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.masterdata import service as masterdata
from shuzhi.masterdata.models import LibraryKind
from shuzhi.masterdata.pushback_schemas import PushbackIn
from shuzhi.masterdata.schemas import ELEMENTS, LibraryIn, MemberIn
from shuzhi.masterdata.synth import Locality, generate, generate_entities, headers
from shuzhi.org import service as org
from shuzhi.quality import service as quality
from shuzhi.quality.models import RuleKind
from shuzhi.quality.schemas import RuleIn

SEED = 20261120
BUREAU = "SJGL"
POPULATION = "population"
LEGAL_ENTITIES = "legal_entities"
# Rows over all extracts of a library: enough for conflicts and a review queue, few enough
# to keep the demo quick (under 2,000 the engine keeps its starting model, untrained).
PERSON_RECORDS = 1_800
ENTITY_RECORDS = 600

# The old town's streets (see names.STREETS) and their communities; 城西街道's are those of
# the sandbox demo.
STREETS: list[tuple[str, tuple[str, ...]]] = [
    (
        "城西街道",
        ("文昌社区", "青川社区", "望江社区", "锦绣社区", "滨河社区", "建设社区", "新桥社区"),
    ),
    ("城东街道", ("东湖社区", "朝阳社区", "春晖社区")),
    ("南门街道", ("南湖社区", "古井社区")),
    ("北门街道", ("北山社区", "凤凰社区")),
    ("河滨街道", ("双桥社区", "荷花社区")),
    ("青山街道", ("翠苑社区", "枫林社区")),
]
LOCALITY = Locality("浙江省", "杭州市", "", "330182", STREETS, ROADS)

# The household register writes whole addresses, county included (the other departments'
# systems leave it out): the golden address, whose source is 公安, then names the county.
FULL_ADDRESSES = ("公安", "杭州市", "杭州市建德市")

# The street office receiving its residents' golden records (反哺基层), and what it gets.
PUSHBACK_STREET = ("JD-CX", "城西街道")
PUSHBACK = PushbackIn(
    name="城西街道居民",
    target_unit_code=PUSHBACK_STREET[0],
    division_code=LOCALITY.code,
    street=PUSHBACK_STREET[1],
    columns=["姓名", "性别", "出生日期", "联系电话", "住址"],
)

# Data item (the engine's field) → the standard data element it stands for.
ELEMENT_CODES = {
    "person": {
        "name": "DE0003",
        "resident_id": "DE0001",
        "sex": "DE0004",
        "birth_date": "DE0005",
        "phone": "DE0007",
        "address": "DE0008",
    },
    "legal_entity": {"name": "DE0010", "uscc": "DE0002", "legal_representative": "DE0009"},
}
LENGTHS = {"resident_id": 18, "uscc": 18, "org_code": 10, "registration_number": 15}


@dataclass(frozen=True)
class Extract:
    """A department's extract for a library: its unit, the synthetic source it is generated
    as and its catalogue entry. Listed in the library's order of authority."""

    unit: str
    source: str
    name: str
    abstract: str


PERSON_EXTRACTS = (
    Extract(
        "GAJ",
        "公安",
        "户籍人口基本信息（人口库归集）",
        "辖区户籍人口的身份、性别、出生日期与户籍地址，按月向人口基础库归集。",
    ),
    Extract(
        "RSJ",
        "人社",
        "社会保险参保人员基本信息",
        "辖区社会保险参保人员的身份与联系信息，按月向人口基础库归集。",
    ),
    Extract(
        "MZJ",
        "民政",
        "社会救助对象基本信息",
        "低保、特困等社会救助对象的身份与居住信息，由原救助系统导出（拼音字段名）。",
    ),
    Extract(
        "WJW",
        "卫健",
        "居民电子健康档案基本信息",
        "居民电子健康档案的建档人身份与联系信息，性别按代码（1 男、2 女）登记。",
    ),
    Extract(
        "JYJ",
        "教育",
        "学生家庭成员基本信息",
        "辖区中小学学生家庭成员的身份与联系信息，按学期更新。",
    ),
)
ENTITY_EXTRACTS = (
    Extract(
        "SCJ",
        "市场监管",
        "市场主体登记基本信息",
        "辖区市场主体的名称、统一社会信用代码、注册号、法定代表人与住所。",
    ),
    Extract(
        "SWUJ",
        "税务",
        "纳税人登记基本信息",
        "辖区纳税人的名称、统一社会信用代码、法定代表人与注册地址。",
    ),
    Extract(
        "TJJ",
        "统计",
        "统计名录库单位基本信息",
        "统计调查单位名录库的单位名称、代码与地址，由名录库系统导出（拼音字段名）。",
    ),
)


def _items(unit: str, kind: str, columns: dict[str, str]) -> list[dict[str, Any]]:
    elements = ELEMENT_CODES[kind]
    items = []
    for field, column in columns.items():
        element = elements.get(field)
        if field == "address" and column == "户籍地址":
            element = "DE0012"
        items.append(
            {
                "name": column,
                "data_type": "C",
                "length": LENGTHS.get(field, 200),
                "share_type": "conditional",
                "element_code": element,
                "is_source": element is not None and SOURCES.get(element) == unit,
            }
        )
    return items


def _entry(ctx: Ctx, extract: Extract, kind: str, columns: dict[str, str]) -> str:
    data = EntryCreate.model_validate(
        {
            "name": extract.name,
            "abstract": extract.abstract,
            "unit_code": extract.unit,
            "class_code": "1",
            "subclass_code": "01" if kind == "person" else "02",
            "group_code": "001",
            "format_code": "3",
            "format_subtype": "MySQL",
            "share_type": "conditional",
            "share_conditions": "仅向基础库归集，并按履职需要经审核后共享",
            "not_shared_basis": "《中华人民共和国个人信息保护法》第三十四条",
            "share_method": "platform",
            "share_method_type": "interface",
            "open_type": "not_open",
            "not_open_reason": "sensitive",
            "update_cycle": "4",
            "items": _items(extract.unit, kind, columns),
        }
    )
    code = catalog.create_entry(ctx, data).resource_code
    catalog.submit_entry(ctx, code)
    catalog.approve_entry(ctx, code)
    for field, rule in (("resident_id", RuleKind.RESIDENT_ID), ("uscc", RuleKind.USCC)):
        if field in columns:
            quality.define_quality_rule(ctx, code, RuleIn(kind=rule, column=columns[field]))
    return code


def _load_extracts(
    database: Database,
    actor: Actor,
    kind: str,
    extracts: tuple[Extract, ...],
    files: dict[str, Path],
) -> dict[str, str]:
    """Each extract catalogued by its unit and loaded into the lake; unit → resource code."""
    codes: dict[str, str] = {}
    for extract in extracts:
        columns = headers(extract.source, kind)
        with unit_of_work(database, actor) as ctx:
            codes[extract.unit] = _entry(ctx, extract, kind, columns)
        with unit_of_work(database, actor) as ctx:
            lake.ingest(ctx, codes[extract.unit], FileSource(files[extract.source]))
    return codes


def _define_and_run(
    database: Database,
    actor: Actor,
    library: LibraryIn,
    extracts: tuple[Extract, ...],
    codes: dict[str, str],
) -> None:
    """The bureau's CDO defines the library; its data liaison maps the members' columns onto
    the data elements and runs it."""
    kind = library.kind.value
    with unit_of_work(database, actor) as ctx:
        cdo = _actor(ctx, BUREAU, "cdo", actor)
        liaison = _actor(ctx, BUREAU, "liaison", actor)
    with unit_of_work(database, cdo) as ctx:
        masterdata.define_masterdata_library(ctx, library)
    elements = ELEMENTS[library.kind]
    with unit_of_work(database, liaison) as ctx:
        for rank, extract in enumerate(extracts, start=1):
            columns = headers(extract.source, kind)
            mapping = {elements[f]: column for f, column in columns.items() if f in elements}
            member = MemberIn(resource_code=codes[extract.unit], rank=rank, mapping=mapping)
            masterdata.add_masterdata_member(ctx, library.code, member)
    with unit_of_work(database, liaison) as ctx:
        masterdata.run_masterdata_library(ctx, library.code)


def _existing(database: Database, actor: Actor, code: str) -> dict[str, Any] | None:
    with unit_of_work(database, actor) as ctx:
        try:
            library = masterdata.get_masterdata_library(ctx, code)
        except NotFound:
            return None
        return {
            "library": code,
            "datasets": {m.unit_code: m.resource_code for m in library.members},
        }


def build_population_library(database: Database, actor: Actor, work: Path) -> dict[str, Any]:
    """The population library from five departments' person extracts (once)."""
    found = _existing(database, actor, POPULATION)
    if found is not None:
        return found
    files = generate(
        PERSON_RECORDS,
        work / POPULATION,
        SEED,
        departments=[e.source for e in PERSON_EXTRACTS],
        locality=LOCALITY,
    )
    source, city, with_county = FULL_ADDRESSES
    register = files[source]
    register.write_text(
        register.read_text(encoding="utf-8").replace(city, with_county), encoding="utf-8"
    )
    codes = _load_extracts(database, actor, "person", PERSON_EXTRACTS, files)
    library = LibraryIn(
        code=POPULATION, name="人口基础库", kind=LibraryKind.PERSON, unit_code=BUREAU
    )
    _define_and_run(database, actor, library, PERSON_EXTRACTS, codes)
    return {"library": POPULATION, "datasets": codes}


def build_legal_entity_library(database: Database, actor: Actor, work: Path) -> dict[str, Any]:
    """The legal-entity library from three departments' registers of enterprises (once)."""
    found = _existing(database, actor, LEGAL_ENTITIES)
    if found is not None:
        return found
    files = generate_entities(
        ENTITY_RECORDS,
        work / LEGAL_ENTITIES,
        SEED,
        departments=[e.source for e in ENTITY_EXTRACTS],
        locality=LOCALITY,
    )
    codes = _load_extracts(database, actor, "legal_entity", ENTITY_EXTRACTS, files)
    library = LibraryIn(
        code=LEGAL_ENTITIES, name="法人基础库", kind=LibraryKind.LEGAL_ENTITY, unit_code=BUREAU
    )
    _define_and_run(database, actor, library, ENTITY_EXTRACTS, codes)
    return {"library": LEGAL_ENTITIES, "datasets": codes}


def build_street_pushback(database: Database, actor: Actor) -> dict[str, Any]:
    """城西街道's residents from the population library, delivered to the street office as a
    dataset shared with it (once): defined by the bureau's CDO, delivered at once."""
    with unit_of_work(database, actor) as ctx:
        cdo = _actor(ctx, BUREAU, "cdo", actor)
    with unit_of_work(database, cdo) as ctx:
        found = [
            p
            for p in masterdata.list_masterdata_pushbacks(ctx, POPULATION)
            if p.target_unit_code == PUSHBACK_STREET[0]
        ]
        if not found:
            found = [masterdata.define_masterdata_pushback(ctx, POPULATION, PUSHBACK)]
    pushback = found[0]
    if pushback.version is None:
        with unit_of_work(database, cdo) as ctx:
            pushback = masterdata.refresh_masterdata_pushbacks(ctx, POPULATION, pushback.id)[0]
    code = pushback.resource_code
    return {"id": pushback.id, "street": PUSHBACK_STREET[0], "resource_code": code}


def build_masterdata(database: Database, actor: Actor) -> dict[str, Any] | None:
    """Both demo libraries; what ``demo-credentials.json`` records of them (None without the
    district's units)."""
    units = {BUREAU, *(e.unit for e in PERSON_EXTRACTS + ENTITY_EXTRACTS)}
    with unit_of_work(database, actor) as ctx:
        if not all(org.unit_id_for_code(ctx, u) is not None for u in units):
            return None
    with tempfile.TemporaryDirectory(prefix="shuzhi-demo-masterdata-") as tmp:
        built = {
            POPULATION: build_population_library(database, actor, Path(tmp)),
            LEGAL_ENTITIES: build_legal_entity_library(database, actor, Path(tmp)),
        }
    built["pushback"] = build_street_pushback(database, actor)
    lake.close_engine(database)
    return built
