"""Source extracts read for linking: files mapped to person or legal-entity fields by header.

A department's extract is read as the lake reads it (CSV/TSV/TXT with encoding and delimiter
detection, XLSX, JSON Lines, Parquet; ``shuzhi.lake.readers``), without ingesting it. Columns
(``PERSON_HEADERS``, ``ENTITY_HEADERS``) are mapped by their Chinese header (the standard
data element or a common variant), their pinyin spelling or an English key; a file with
neither a name nor an identifier column is refused, as is a file with rows the reader had
to reject (the 1-based data row numbers would no longer be the file's).
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
ENTITY_HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("名称", "企业名称", "单位名称", "机构名称", "mingcheng", "qiyemingcheng", "name"),
    "uscc": ("统一社会信用代码", "信用代码", "tongyishehuixinyongdaima", "tyshxydm", "uscc"),
    "registration_number": ("注册号", "工商注册号", "zhucehao", "registrationnumber"),
    "org_code": ("组织机构代码", "zuzhijigoudaima", "zzjgdm", "orgcode"),
    "legal_representative": (
        "法定代表人",
        "法人代表",
        "负责人",
        "fadingdaibiaoren",
        "fddbr",
        "legalrepresentative",
    ),
    "address": ("注册地址", "住所", "地址", "经营地址", "zhucedizhi", "zhusuo", "dizhi", "address"),
    "updated": PERSON_HEADERS["updated"],
}
HEADERS = {"person": PERSON_HEADERS, "legal_entity": ENTITY_HEADERS}
# The columns one of which a file must have to be linked at all.
_REQUIRED = {"person": ("name", "resident_id"), "legal_entity": ("name", "uscc")}
_FOLD = re.compile(r"[\s_\-]+")


def _fold(header: str) -> str:
    return _FOLD.sub("", header).lower()


_LOOKUP = {
    kind: {_fold(h): f for f, headers in table.items() for h in headers}
    for kind, table in HEADERS.items()
}


def map_columns(columns: list[str], kind: str = "person") -> dict[str, str]:
    """Field → the first column of ``columns`` that names it (unknown columns are ignored)."""
    mapping: dict[str, str] = {}
    for column in columns:
        field = _LOOKUP[kind].get(_fold(column))
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
    return read_file(path, "person", source)


def read_file(
    path: Path, kind: str = "person", source: str | None = None
) -> Iterator[SourceRecord]:
    """The rows of ``path`` as records of ``kind``; raises ``Invalid`` (zh/en) for an
    unreadable file, one without a name or identifier column, or one with rows the reader
    rejected."""
    name = source or source_name(path)
    reader = open_reader(FileSource(path))
    try:
        mapping = map_columns(reader.columns, kind)
        if not any(field in mapping for field in _REQUIRED[kind]):
            zh_id, en_id = (
                ("公民身份号码", "resident ID")
                if kind == "person"
                else (
                    "统一社会信用代码",
                    "USCC",
                )
            )
            raise Invalid(
                f"{path.name}：找不到名称/姓名或{zh_id}列（现有列：{'、'.join(reader.columns)}）。",
                f"{path.name}: no name or {en_id} column (columns: {', '.join(reader.columns)}).",
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
