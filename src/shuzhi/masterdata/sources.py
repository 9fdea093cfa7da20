"""Source extracts read for linking: files mapped to person fields by their headers.

A department's extract is read as the lake reads it (CSV/TSV/TXT with encoding and delimiter
detection, XLSX, JSON Lines, Parquet; ``shuzhi.lake.readers``), without ingesting it. Columns
are mapped by their Chinese header (the standard data element or a common variant), their
pinyin spelling or an English key; a file none of whose columns maps is refused, as is a file
with rows the reader had to reject (the 1-based data row numbers would no longer be the
file's).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from shuzhi.errors import Invalid
from shuzhi.lake.readers import FileSource, open_reader, text_value
from shuzhi.lake.rejects import Reject

# Field → accepted headers, compared after dropping spaces, underscores and case.
PERSON_HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "xingming", "xm", "name"),
    "resident_id": (
        "公民身份号码",
        "身份证号码",
        "身份证号",
        "证件号码",
        "gongminshenfenhaoma",
        "shenfenzhenghaoma",
        "shenfenzhenghao",
        "sfzh",
        "residentid",
        "idnumber",
    ),
    "sex": ("性别", "xingbie", "xb", "sex", "gender"),
    "birth_date": ("出生日期", "出生年月", "chushengriqi", "csrq", "birthdate", "dob"),
    "phone": ("联系电话", "手机号码", "手机号", "电话", "lianxidianhua", "shoujihaoma", "phone"),
    "address": (
        "住址",
        "户籍地址",
        "居住地址",
        "家庭住址",
        "zhuzhi",
        "hujidizhi",
        "juzhudizhi",
        "address",
    ),
    "updated": ("更新时间", "更新日期", "登记日期", "gengxinshijian", "gengxinriqi", "updated"),
}
PERSON_FIELDS = tuple(PERSON_HEADERS)
_FOLD = re.compile(r"[\s_\-]+")


def _fold(header: str) -> str:
    return _FOLD.sub("", header).lower()


_LOOKUP = {_fold(h): f for f, headers in PERSON_HEADERS.items() for h in headers}


def map_columns(columns: list[str]) -> dict[str, str]:
    """Field → the first column of ``columns`` that names it (unknown columns are ignored)."""
    mapping: dict[str, str] = {}
    for column in columns:
        field = _LOOKUP.get(_fold(column))
        if field is not None and field not in mapping:
            mapping[field] = column
    return mapping


@dataclass(frozen=True)
class SourceRecord:
    """One data row of an extract: its source name, 1-based data row and mapped fields."""

    source: str
    row: int
    fields: dict[str, str | None]


class _Collect:
    def __init__(self) -> None:
        self.rejects: list[Reject] = []

    def add(self, reject: Reject) -> None:
        self.rejects.append(reject)


def source_name(path: Path) -> str:
    """A source is named by its file name without the extension (公安.csv → 公安)."""
    return path.stem


def read_person_file(path: Path, source: str | None = None) -> Iterator[SourceRecord]:
    """The rows of ``path`` as person records; raises ``Invalid`` (zh/en) for an unreadable
    file, one without any person column, or one with rows the reader rejected."""
    name = source or source_name(path)
    reader = open_reader(FileSource(path))
    try:
        mapping = map_columns(reader.columns)
        if "name" not in mapping and "resident_id" not in mapping:
            raise Invalid(
                f"{path.name}：找不到姓名或公民身份号码列（现有列：{'、'.join(reader.columns)}）。",
                f"{path.name}: no name or resident ID column"
                f" (columns: {', '.join(reader.columns)}).",
            )
        sink = _Collect()
        index = {c: i for i, c in enumerate(reader.columns)}
        row = 0
        for batch in reader.batches(sink):
            if sink.rejects:
                break
            columns = {f: batch.column(index[c]).to_pylist() for f, c in mapping.items()}
            for i in range(batch.num_rows):
                row += 1
                yield SourceRecord(name, row, {f: text_value(v[i]) for f, v in columns.items()})
        if sink.rejects:
            first = sink.rejects[0]
            raise Invalid(
                f"{path.name}：有无法读取的行（第一处：{first.reason}），行号将不再对应，未链接。",
                f"{path.name}: some lines cannot be read (first: {first.reason}); row numbers"
                " would no longer match the file, nothing linked.",
            )
    finally:
        reader.close()
