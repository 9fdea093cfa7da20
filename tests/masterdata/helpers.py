"""Member datasets of base-library tests: people in two departments' loaded versions."""

from __future__ import annotations

from itertools import count

from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.masterdata import service
from shuzhi.masterdata.models import LibraryKind
from shuzhi.masterdata.schemas import LibraryIn, MemberIn
from shuzhi.standards.identifiers import ric_check_char
from tests.conftest import acting
from tests.lake.helpers import published_entry, write_csv
from tests.scratch import Scratch

HEADER = ["姓名", "公民身份号码", "联系电话", "出生日期", "年龄"]
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_n = count()
_dir = Scratch("shuzhi-md-")


def rid(i: int) -> str:
    birth = birth_of(i).replace("-", "")
    first17 = f"330106{birth}{i % 1000:03d}"
    return first17 + ric_check_char(first17)


def birth_of(i: int) -> str:
    return f"19{50 + i % 49:02d}-{1 + i % 12:02d}-{1 + i % 28:02d}"


def person(i: int) -> list[str]:
    """Person ``i``: a distinct name, a valid resident ID, phone and birth date."""
    name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)] + "明"
    return [name, rid(i), f"139{i:08d}", birth_of(i), str(20 + i % 60)]


def load(database: Database, code: str, rows: list[list[str]], header: list[str] = HEADER) -> int:
    """Ingest ``rows`` as a new version of ``code``; returns the version number."""
    path = write_csv(_dir / f"v{next(_n)}.csv", rows, header)
    with acting(database, SYSTEM) as ctx:
        return lake.ingest(ctx, code, FileSource(path)).version.number


def two_departments(database: Database) -> tuple[str, str]:
    """Entries of units A (rank 1) and B (rank 2); nothing loaded yet."""
    return published_entry(database, "A"), published_entry(database, "B")


def library(database: Database, a: str, b: str, code: str = "population") -> None:
    with acting(database, SYSTEM) as ctx:
        service.define_masterdata_library(
            ctx, LibraryIn(code=code, name="人口基础库", kind=LibraryKind.PERSON, unit_code="R")
        )
        service.add_masterdata_member(ctx, code, MemberIn(resource_code=a, rank=1))
        service.add_masterdata_member(ctx, code, MemberIn(resource_code=b, rank=2))
