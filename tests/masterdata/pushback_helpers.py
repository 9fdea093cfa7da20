"""A population library of residents in two streets of 西湖区 (330106) and a dialysis
register, for the push-back tests.

Residents (``resident(i)``), department A's register (rank 1, with addresses):

- i in 0..9   北山街道保俶路社区 (i even: born 1935, over 80; odd: born 1985)
- i in 10..15 北山街道西湖村 (a village of the same street)
- i in 16..21 西溪街道 (another street of the same county)
- i = 22      北山街道 of 上城区 (another county)
- i = 23      杭州市北山街道 (no county: delivered to nobody)

Department B's dialysis register (rank 2) holds residents 0, 1, 2 and 10 (name and ID).
A's register leaves resident 2's name blank: that golden name comes from B.
"""

from __future__ import annotations

from dataclasses import dataclass

from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.masterdata import pushback, service
from shuzhi.masterdata.models import LibraryKind
from shuzhi.masterdata.pushback_schemas import PushbackIn, PushbackOut
from shuzhi.masterdata.schemas import LibraryIn, MemberIn
from shuzhi.standards.identifiers import ric_check_char
from tests.catalog.helpers import item
from tests.conftest import acting
from tests.factories import seed_org
from tests.lake.helpers import published_entry
from tests.masterdata.helpers import load

HEADER = ["姓名", "公民身份号码", "联系电话", "出生日期", "住址"]
ITEMS = [
    item("姓名"),
    item("公民身份号码", length=18),
    item("联系电话", length=20),
    item("出生日期", data_type="D", length=10),
    item("住址", length=200),
]
DIALYSIS_ITEMS = [item("姓名"), item("公民身份号码", length=18)]
DIALYSIS = (0, 1, 2, 10)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def birth(i: int) -> str:
    year = 1935 if i % 2 == 0 else 1985
    return f"{year}-{1 + i % 12:02d}-{1 + i % 28:02d}"


def rid(i: int) -> str:
    first17 = f"330106{birth(i).replace('-', '')}{i % 1000:03d}"
    return first17 + ric_check_char(first17)


def address(i: int) -> str:
    if i < 10:
        return f"浙江省杭州市西湖区北山街道保俶路社区保俶路{i + 1}号"
    if i < 16:
        return f"浙江省杭州市西湖区北山街道西湖村{i + 1}号"
    if i < 22:
        return f"浙江省杭州市西湖区西溪街道文三路{i + 1}号"
    if i == 22:
        return "浙江省杭州市上城区北山街道东坡路8号"
    return "杭州市北山街道保俶路99号"


def resident(i: int) -> list[str]:
    name = SURNAMES[i % len(SURNAMES)] + GIVEN[i % len(GIVEN)] + "华"
    return [name, rid(i), f"139{i:08d}", birth(i), address(i)]


RESIDENTS = 24


@dataclass
class Library:
    register: str  # department A's resident register
    dialysis: str  # department B's dialysis register


def population(database: Database, code: str = "population") -> Library:
    """Seeded organisation, both registers loaded and the library defined (not run)."""
    seed_org(database)
    register = published_entry(database, "A", items=ITEMS)
    dialysis = published_entry(database, "B", items=DIALYSIS_ITEMS)
    rows = [resident(i) for i in range(RESIDENTS)]
    rows[2][0] = ""
    load(database, register, rows, HEADER)
    load(database, dialysis, [resident(i)[:2] for i in DIALYSIS], HEADER[:2])
    with acting(database, SYSTEM) as ctx:
        service.define_masterdata_library(
            ctx, LibraryIn(code=code, name="人口基础库", kind=LibraryKind.PERSON, unit_code="R")
        )
        service.add_masterdata_member(ctx, code, MemberIn(resource_code=register, rank=1))
        service.add_masterdata_member(ctx, code, MemberIn(resource_code=dialysis, rank=2))
    return Library(register, dialysis)


def definition(**over: object) -> PushbackIn:
    data: dict[str, object] = {
        "name": "北山街道居民",
        "target_unit_code": "S",
        "division_code": "330106",
        "street": "北山街道",
        "columns": ["姓名", "公民身份号码", "出生日期", "联系电话", "住址"],
    }
    data.update(over)
    return PushbackIn.model_validate(data)


def define(database: Database, code: str = "population", **over: object) -> PushbackOut:
    with acting(database, SYSTEM) as ctx:
        return pushback.define_masterdata_pushback(ctx, code, definition(**over))


def run(database: Database, code: str = "population", incremental: bool = False) -> None:
    with acting(database, SYSTEM) as ctx:
        service.run_masterdata_library(ctx, code, incremental=incremental)
