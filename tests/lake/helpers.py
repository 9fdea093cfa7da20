"""Catalogue entries and source files for dataset tests."""

from __future__ import annotations

import csv
from itertools import count
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from shuzhi.catalog import service as catalog
from shuzhi.catalog.schemas import EntryCreate
from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.lake.manifest import ColumnSchema, RejectSummary, Version
from shuzhi.standards.identifiers import ric_check_char
from tests.catalog.helpers import entry_data, item
from tests.conftest import acting

_n = count()
ITEMS = [
    item("姓名"),
    item("公民身份号码", length=18),
    item("联系电话", length=20),
    item("出生日期", data_type="D", length=10),
    item("年龄", data_type="N", length=3),
]


def published_entry(
    database: Database, unit: str = "A", items: list[dict[str, Any]] | None = None, **over: Any
) -> str:
    """A published entry of ``unit`` (created by the system); returns its resource code."""
    with acting(database, SYSTEM) as ctx:
        data = entry_data(
            name=f"人口数据{next(_n)}",
            unit_code=unit,
            items=ITEMS if items is None else items,
            **over,
        )
        code = catalog.create_entry(ctx, EntryCreate.model_validate(data)).resource_code
        catalog.submit_entry(ctx, code)
        catalog.approve_entry(ctx, code)
    return code


def resident_id(n: int, birth: str = "19850312") -> str:
    first17 = f"330106{birth}{n % 1000:03d}"
    return first17 + ric_check_char(first17)


SURNAMES = "王李张刘陈杨黄赵吴周"


def people_rows(n: int, start: int = 0) -> list[list[str]]:
    rows = []
    for i in range(start, start + n):
        birth = f"19{50 + i % 49:02d}0{1 + i % 9}1{i % 9}"
        rows.append(
            [
                SURNAMES[i % 10] + "小明伟芳"[i % 4],
                resident_id(i, birth),
                f"138{i:08d}",
                f"{birth[:4]}-{birth[4:6]}-{birth[6:]}",
                str(20 + i % 60),
            ]
        )
    return rows


HEADER = ["姓名", "公民身份号码", "联系电话", "出生日期", "年龄"]


def write_csv(
    path: Path,
    rows: list[list[str]],
    header: list[str] | None = None,
    encoding: str = "utf-8",
) -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER if header is None else header)
        writer.writerows(rows)
    return path


def parquet_version(
    root: Path, name: str, table: pa.Table, digest: str = "", **write: Any
) -> Version:
    """``table`` written as the Parquet file of a version named ``name`` under ``root``
    (``write``: options of ``pyarrow.parquet.write_table``), without the lake's load."""
    directory = root / name
    directory.mkdir(parents=True)
    pq.write_table(table, directory / "data.parquet", **write)
    return Version(
        directory=directory,
        version_id=name,
        sequence=1,
        created_at="",
        data_file="data.parquet",
        data_file_sha256=digest,
        data_bytes=0,
        row_count=table.num_rows,
        columns=tuple(ColumnSchema(f.name, str(f.type), f.name) for f in table.schema),
        content_hash=digest,
        source={},
        rejects=RejectSummary(),
        timings={},
    )


# Diagnoses in a free-text note column the classifier reads as nothing personal (``none``).
DIAGNOSES = ("二型糖尿病", "HIV阳性", "抑郁症重度", "乙肝大三阳", "精神分裂症")
NOTE_HEADER = ["公民身份号码", "备注"]
NOTE_ITEMS = [item("公民身份号码"), item("备注")]


def note_rows(n: int) -> list[list[str]]:
    """People with a note: 无, except every seventh, which names a diagnosis."""
    return [[resident_id(i), DIAGNOSES[i // 7 % 5] if i % 7 == 0 else "无"] for i in range(n)]


def shows_a_diagnosis(values: Any) -> bool:
    """Whether any diagnosis appears in the clear anywhere in ``values`` (text or JSON)."""
    text = values if isinstance(values, str) else repr(values)
    return any(d in text for d in DIAGNOSES)
