"""The compile template (编目模板) as an Excel workbook: its columns, tolerant reading, writing.

Pure workbook handling, no database: ``excel_service`` supplies the code tables (as a
``Vocabulary``) and turns the parsed rows into entries through the catalogue service.

Reading is forgiving where real files are messy and strict where they are ambiguous:

* tolerated: a title row above the header, blank rows, full-width characters, stray spaces,
  notes in parentheses or a ``*`` in headers, vertically merged header cells (the value is in
  the top-left cell), unknown extra columns (a warning each), formulas (their cached value),
  dates written as Excel dates or as text, numbers that lost their leading zeros;
* rejected: two columns meaning the same field, values that match two codes, a data item
  whose entry is not in the file, a resource code listed twice.

Every problem names the sheet, the row as Excel numbers it, the column header and a reason
in Chinese and English. Problems are capped (``MAX_PROBLEMS``) and counted, so a file of
garbage yields a short report in bounded memory.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from openpyxl import Workbook, load_workbook
from pydantic import BaseModel, Field

from shuzhi.catalog.models import CodeTable
from shuzhi.security.cells import unguard, xlsx_row

ENTRY_SHEET = "信息资源目录"
ITEM_SHEET = "信息项"
ENTRY_SHEET_NAMES = ("信息资源目录", "资源目录", "目录", "数据资源目录", "政务数据资源目录")
ITEM_SHEET_NAMES = ("信息项", "信息项信息", "数据项", "字段")
HEADER_SCAN_ROWS = 20
MAX_PROBLEMS = 1000
MAX_WARNINGS = 200
MAX_ROWS = 200_000  # per sheet; beyond this the file is refused without reading further
MAX_COLUMNS = 200


@dataclass(frozen=True)
class Column:
    """One template column: ``key`` names the field, ``header`` is the national metadata name."""

    key: str
    header: str
    aliases: tuple[str, ...] = ()
    export: bool = True


ENTRY_COLUMNS: tuple[Column, ...] = (
    Column("resource_code", "信息资源代码", ("资源代码", "目录代码", "资源编码")),
    Column("name", "信息资源名称", ("资源名称", "目录名称", "数据资源名称")),
    Column("unit_name", "信息资源提供方", ("提供方", "资源提供方", "提供单位", "提供方名称")),
    Column("unit_code", "信息资源提供方代码", ("提供方代码", "提供单位代码")),
    Column("abstract", "信息资源摘要", ("资源摘要", "摘要")),
    Column("class_code", "类", ("一级分类", "分类类", "资源分类类")),
    Column("subclass_code", "项", ("二级分类", "分类项", "资源分类项")),
    Column("group_code", "目", ("三级分类", "分类目", "资源分类目")),
    Column("detail_code", "细目", ("四级分类", "分类细目", "资源分类细目")),
    Column("format_code", "信息资源格式", ("资源格式", "格式分类", "格式")),
    Column("format_subtype", "信息资源格式类型", ("格式类型", "资源格式类型")),
    Column("share_type", "共享类型", ("共享属性", "资源共享类型")),
    Column("share_conditions", "共享条件", ()),
    Column("share_method", "共享方式", ("共享方式分类",)),
    Column("share_method_type", "共享方式类型", ()),
    Column("not_shared_basis", "不予共享依据", ("不共享依据", "不予共享理由")),
    Column("open_type", "开放类型", ("开放属性",)),
    Column("open_conditions", "开放条件", ()),
    Column("not_open_reason", "不予开放理由", ("不予开放原因", "不开放理由")),
    Column("not_open_note", "不予开放说明", ("不开放说明",)),
    Column("update_cycle", "更新周期", ("更新频率", "更新频度")),
    Column("publish_date", "发布日期", ("发布时间",)),
    Column("related_codes", "关联资源代码", ("关联资源", "关联代码")),
    Column("is_classified", "涉密属性", ("是否涉密",)),
    Column("extension", "扩展元数据", ("扩展信息",)),
    Column("status", "状态", ("目录状态",)),
)
ITEM_COLUMNS: tuple[Column, ...] = (
    Column("resource_code", "信息资源代码", ("资源代码", "目录代码")),
    Column("resource_name", "信息资源名称", ("资源名称", "目录名称")),
    Column("name", "信息项名称", ("数据项名称", "字段名称", "字段中文名称")),
    Column("data_type", "数据类型", ("字段类型", "信息项数据类型")),
    Column("length", "数据长度", ("字段长度", "长度")),
    Column("share_type", "共享类型", ("信息项共享类型",)),
    Column("element_code", "数据元代码", ("数据元编码", "数据元标识符")),
    Column("element_name", "数据元名称", ("数据元", "关联数据元")),
    Column("is_source", "是否权威来源", ("权威来源", "是否权威数据源", "是否数源")),
    Column("description", "信息项描述", ("描述", "说明", "备注")),
)
# Columns written on export for people to read but never imported.
READ_ONLY_KEYS = frozenset({"status"})
REQUIRED_ENTRY_KEYS = ("name",)
REQUIRED_ITEM_KEYS = ("name",)


# ---------------------------------------------------------------- problems


class ImportProblem(BaseModel):
    """One problem in a file: where Excel shows it and why, in both languages."""

    sheet: str | None = None
    row: int | None = Field(default=None, description="row number as Excel shows it")
    column: str | None = Field(default=None, description="the column header")
    message_zh: str
    message_en: str


@dataclass
class ProblemLog:
    """Collects errors and warnings; keeps the first ``MAX_PROBLEMS`` and counts the rest."""

    errors: list[ImportProblem] = field(default_factory=list)
    warnings: list[ImportProblem] = field(default_factory=list)
    error_count: int = 0
    warning_count: int = 0

    def error(
        self, sheet: str | None, row: int | None, column: str | None, zh: str, en: str
    ) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_PROBLEMS:
            self.errors.append(
                ImportProblem(sheet=sheet, row=row, column=column, message_zh=zh, message_en=en)
            )

    def warn(
        self, sheet: str | None, row: int | None, column: str | None, zh: str, en: str
    ) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(
                ImportProblem(sheet=sheet, row=row, column=column, message_zh=zh, message_en=en)
            )

    @property
    def failed(self) -> bool:
        return self.error_count > 0

    @property
    def full(self) -> bool:
        """The report holds as many errors as it will show; later ones are only counted."""
        return self.error_count >= MAX_PROBLEMS


# ---------------------------------------------------------------- code tables as people write them


def _key(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


@dataclass(frozen=True)
class CodeValue:
    code: str
    label_zh: str
    label_en: str = ""
    national_code: str = ""
    parent_code: str | None = None


@dataclass
class Vocabulary:
    """Active code-table values, looked up by code, national code or label (zh or en).

    Built from the catalogue's code tables at import time, so a value the CDO executive
    adds to a table is accepted by the template at once.
    """

    tables: Mapping[str, Sequence[CodeValue]]
    # data element code → its name and synonyms
    elements: Mapping[str, Sequence[str]] = field(default_factory=dict)
    _index: dict[str, dict[str, set[str]]] = field(default_factory=dict, init=False)
    _elements: dict[str, set[str]] = field(default_factory=dict, init=False)
    # A file repeats the same few values (and the same wrong ones) in every row.
    _found: dict[tuple[str, str], tuple[str | None, list[str]]] = field(
        default_factory=dict, init=False
    )

    def __post_init__(self) -> None:
        for table, values in self.tables.items():
            index: dict[str, set[str]] = {}
            for v in values:
                keys = {v.code, v.label_zh, v.label_en, v.national_code}
                if table == CodeTable.FORMAT_SUBTYPE:
                    keys.add(v.code.split(".", 1)[-1])
                for k in keys:
                    if k:
                        index.setdefault(_key(k), set()).add(v.code)
            self._index[table] = index
        for code, terms in self.elements.items():
            for term in (code, *terms):
                self._elements.setdefault(_key(term), set()).add(code)

    def values(self, table: str) -> Sequence[CodeValue]:
        return self.tables.get(table, ())

    def lookup(self, table: str, text: str) -> tuple[str | None, list[str]]:
        """(code, []) on a match; (None, candidates) when ambiguous; (None, []) when unknown."""
        if (table, text) not in self._found:
            self._found[table, text] = self._lookup(table, text)
        code, candidates = self._found[table, text]
        return code, list(candidates)

    def _lookup(self, table: str, text: str) -> tuple[str | None, list[str]]:
        index = self._index.get(table, {})
        key = _key(text)
        for attempt in (key, key.removesuffix("类"), key.removesuffix("型")):
            found = index.get(attempt)
            if found:
                return (next(iter(found)), []) if len(found) == 1 else (None, sorted(found))
        if len(key) >= 2:  # a unique beginning of a Chinese label: 字符 → 字符型, 每季 → 每季度
            found = {
                v.code
                for v in self.values(table)
                if v.label_zh and _key(v.label_zh).startswith(key)
            }
            if len(found) == 1:
                return next(iter(found)), []
            if found:
                return None, sorted(found)
        return None, []

    def label(self, table: str, code: str) -> str:
        for v in self.values(table):
            if v.code == code:
                return v.label_zh
        return code

    def element(self, text: str) -> tuple[str | None, list[str]]:
        found = self._elements.get(_key(text), set())
        if len(found) == 1:
            return next(iter(found)), []
        return None, sorted(found)


# ---------------------------------------------------------------- header detection


def normalise_header(value: object) -> str:
    """NFKC, no spaces, no notes in parentheses, no required-field stars or colons."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    text = re.sub(r"\([^)]*\)|\[[^\]]*\]|【[^】]*】|〔[^〕]*〕", "", text)
    text = re.sub(r"[\s*:：]+", "", text)
    return text.casefold()


def _header_index(columns: Iterable[Column]) -> dict[str, Column]:
    index: dict[str, Column] = {}
    for column in columns:
        for name in (column.header, *column.aliases):
            index[normalise_header(name)] = column
    return index


ENTRY_HEADERS = _header_index(ENTRY_COLUMNS)
ITEM_HEADERS = _header_index(ITEM_COLUMNS)


@dataclass
class Layout:
    """Where a sheet's header is and which column holds which field."""

    sheet: str
    header_row: int
    fields: dict[str, int]  # key → 0-based column index
    headers: dict[str, str]  # key → header as written in the file

    def column(self, key: str) -> str | None:
        return self.headers.get(key)


def merged_ranges(ws: Any) -> list[tuple[int, int, int, int]]:
    """Merged ranges (min_col, min_row, max_col, max_row) of a read-only worksheet.

    openpyxl's streaming reader does not load merges, so the ``mergeCell`` elements are
    found in the sheet's XML (they follow the cell data).
    """
    get_source = getattr(ws, "_get_source", None)
    if get_source is None:
        return []
    pattern = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=\"([A-Z]+)(\d+):([A-Z]+)(\d+)\"")
    found: list[tuple[int, int, int, int]] = []
    tail = b""
    with get_source() as source:
        while chunk := source.read(1 << 20):
            data = tail + chunk
            last = 0
            for m in pattern.finditer(data):
                found.append((_col_index(m[1]), int(m[2]), _col_index(m[3]), int(m[4])))
                last = m.end()
            tail = data[max(last, len(data) - 200) :]
    return sorted(set(found))


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters.decode():
        n = n * 26 + ord(ch) - 64
    return n


def detect_layout(
    title: str,
    head: list[list[object]],
    merges: list[tuple[int, int, int, int]],
    index: Mapping[str, Column],
    problems: ProblemLog,
) -> Layout | None:
    """Pick the header row (the one naming most template fields) within the first rows."""
    grid = [list(row) for row in head]
    for min_col, min_row, _max_col, max_row in merges:
        # A vertically merged header keeps its value in the top-left cell: copy it down.
        if min_row > len(grid):
            continue
        value = grid[min_row - 1][min_col - 1] if min_col - 1 < len(grid[min_row - 1]) else None
        for r in range(min_row, min(max_row, len(grid)) + 1):
            row = grid[r - 1]
            if min_col - 1 < len(row) and row[min_col - 1] is None:
                row[min_col - 1] = value
    best: tuple[int, int] | None = None  # (distinct fields, row number)
    for number, row in enumerate(grid, start=1):
        keys = {index[h].key for h in map(normalise_header, row) if h in index}
        if keys and (best is None or len(keys) > best[0]):
            best = (len(keys), number)
    if best is None:
        return None
    header_row = best[1]
    fields: dict[str, int] = {}
    headers: dict[str, str] = {}
    for i, raw in enumerate(grid[header_row - 1]):
        text = normalise_header(raw)
        if not text:
            continue
        written = str(raw).strip()
        column = index.get(text)
        if column is None:
            problems.warn(
                title,
                header_row,
                written,
                f"未识别的列「{written}」，已忽略。",
                f"Unknown column '{written}' was ignored.",
            )
            continue
        if column.key in fields:
            problems.error(
                title,
                header_row,
                written,
                f"列「{headers[column.key]}」和「{written}」都对应「{column.header}」，无法确定使用哪一列。",
                f"Columns '{headers[column.key]}' and '{written}' both mean '{column.header}';"
                " keep one of them.",
            )
            continue
        fields[column.key] = i
        headers[column.key] = written
    return Layout(title, header_row, fields, headers)


# ---------------------------------------------------------------- values


class BadValue(ValueError):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


def text(value: object) -> str:
    """A cell as trimmed, NFKC-normalised text (numbers without a spurious ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        return value.isoformat()
    return unguard(unicodedata.normalize("NFKC", str(value)).strip()).strip()


def digits(value: object, width: int) -> str:
    """A code segment; a number cell lost its leading zeros in Excel, so pad it back."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and value >= 0:
            return str(int(value)).zfill(width)
        raise BadValue("应为数字代码。", "Must be a numeric code.")
    out = text(value)
    if out and not out.isdigit():
        raise BadValue("应为数字代码。", "Must be a numeric code.")
    return out


def integer(value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BadValue("应为整数。", "Must be a whole number.")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise BadValue("应为整数。", "Must be a whole number.")
    out = text(value)
    if not out:
        return None
    if re.fullmatch(r"\d+(\.0+)?", out):
        return int(float(out))
    raise BadValue("应为整数。", "Must be a whole number.")


YES = {"是", "y", "yes", "true", "1", "涉密", "√", "有"}
NO = {"否", "n", "no", "false", "0", "非涉密", "不涉密", "×", "无"}


def yes_no(value: object) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    out = text(value).casefold()
    if not out:
        return None
    if out in YES:
        return True
    if out in NO:
        return False
    raise BadValue("应为「是」或「否」。", "Must be yes (是) or no (否).")


EXCEL_EPOCH = date(1899, 12, 30)
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


def a_date(value: object) -> date | None:
    """An Excel date, an Excel serial number, or text such as 2024-03-01 or 2024年3月1日."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 2_958_466:
            return EXCEL_EPOCH + timedelta(days=int(value))
        raise BadValue("日期无效。", "Not a valid date.")
    out = text(value)
    if not out:
        return None
    cleaned = re.sub(r"\s.*$", "", out)  # drop a time part
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    raise BadValue(
        f"日期「{out}」无法识别（应如 2024-03-01）。",
        f"Cannot read the date '{out}' (use e.g. 2024-03-01).",
    )


def code_list(value: object) -> list[str]:
    return [part for part in re.split(r"[;,、\s]+", text(value)) if part]


def json_object(value: object) -> dict[str, Any]:
    # Not NFKC-normalised: extension values are stored exactly as given.
    out = unguard(value.strip()) if isinstance(value, str) else text(value)
    if not out:
        return {}
    try:
        data = json.loads(out)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise BadValue(
            '扩展元数据应为 JSON 对象，如 {"联系人": "张三"}。',
            'Extension metadata must be a JSON object, e.g. {"contact": "Zhang"}.',
        )
    return data


# ---------------------------------------------------------------- reading


@dataclass
class EntryRow:
    """One entry row as read: ``values`` holds only the fields whose column is in the file."""

    row: int
    resource_code: str
    unit_code: str
    unit_name: str
    publish_date: date | None
    values: dict[str, Any]
    ok: bool = True  # False: the row has problems of its own (already reported)


@dataclass
class ItemRow:
    row: int
    resource_code: str
    resource_name: str
    values: dict[str, Any]
    ok: bool = True


@dataclass
class ParsedWorkbook:
    entries: list[EntryRow]
    items: list[ItemRow]
    entry_layout: Layout
    item_layout: Layout | None


def open_workbook(content: bytes, problems: ProblemLog) -> Any | None:
    """The workbook in streaming mode with cached formula values, or None (reported)."""
    if not zipfile.is_zipfile(io.BytesIO(content)):
        problems.error(
            None,
            None,
            None,
            "文件不是 Excel 工作簿（.xlsx）。请用 Excel 或 WPS 另存为 .xlsx 后再导入。",
            "The file is not an Excel workbook (.xlsx). Save it as .xlsx and import again.",
        )
        return None
    try:
        return load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on broken archives
        problems.error(
            None,
            None,
            None,
            "无法读取该工作簿（文件已损坏或不是 .xlsx 格式）。",
            "The workbook cannot be read (it is damaged or not in .xlsx format).",
        )
        return None


def _head(ws: Any) -> list[list[object]]:
    return [
        list(row)
        for row in ws.iter_rows(
            min_row=1, max_row=HEADER_SCAN_ROWS, max_col=MAX_COLUMNS, values_only=True
        )
    ]


def _find_sheets(
    wb: Any, problems: ProblemLog
) -> tuple[tuple[Any, Layout] | None, tuple[Any, Layout] | None]:
    """The entries sheet and the items sheet: by name first, else by their headers."""
    layouts: dict[str, tuple[Any, Layout]] = {}
    roles: dict[str, list[str]] = {"entries": [], "items": []}
    named: dict[str, str] = {}
    entry_names = {normalise_header(n) for n in ENTRY_SHEET_NAMES}
    item_names = {normalise_header(n) for n in ITEM_SHEET_NAMES}
    scratch = ProblemLog()
    for ws in wb.worksheets:
        title = ws.title
        head = _head(ws)
        merges = merged_ranges(ws)
        key = normalise_header(title)
        item_layout = detect_layout(title, head, merges, ITEM_HEADERS, scratch)
        if key in item_names or (
            key not in entry_names
            and item_layout is not None
            and "name" in item_layout.fields
            and ("resource_code" in item_layout.fields or "resource_name" in item_layout.fields)
            and ("data_type" in item_layout.fields or "length" in item_layout.fields)
        ):
            roles["items"].append(title)
            if key in item_names:
                named["items"] = title
            layouts[title] = (
                ws,
                detect_layout(title, head, merges, ITEM_HEADERS, problems) or _empty(title),
            )
            continue
        entry_layout = detect_layout(title, head, merges, ENTRY_HEADERS, scratch)
        if key in entry_names or (
            entry_layout is not None
            and "name" in entry_layout.fields
            and len(entry_layout.fields) >= 3
        ):
            roles["entries"].append(title)
            if key in entry_names:
                named["entries"] = title
            layouts[title] = (
                ws,
                detect_layout(title, head, merges, ENTRY_HEADERS, problems) or _empty(title),
            )
    chosen: dict[str, tuple[Any, Layout] | None] = {}
    for role, zh, en in (("entries", ENTRY_SHEET, "entries"), ("items", ITEM_SHEET, "data items")):
        titles = [named[role]] if role in named else roles[role]
        if len(titles) > 1:
            problems.error(
                None,
                None,
                None,
                f"有多个工作表像是「{zh}」表：{'、'.join(titles)}。请只保留一个。",
                f"Several sheets look like the {en} sheet: {', '.join(titles)}. Keep one.",
            )
            chosen[role] = None
        else:
            chosen[role] = layouts[titles[0]] if titles else None
    if chosen["entries"] is None and len(roles["entries"]) <= 1:
        sheets = "、".join(ws.title for ws in wb.worksheets)
        problems.error(
            None,
            None,
            None,
            f"找不到「{ENTRY_SHEET}」工作表（应有表头「信息资源名称」等）。本工作簿的工作表：{sheets}。"
            "请使用编目模板（可从系统导出）。",
            f"No '{ENTRY_SHEET}' (entries) sheet with headers such as 信息资源名称 was found;"
            f" this workbook has: {sheets}. Use the compile template (export one to start).",
        )
    return chosen["entries"], chosen["items"]


def _empty(title: str) -> Layout:
    return Layout(title, 0, {}, {})


def _rows(
    ws: Any, layout: Layout, problems: ProblemLog
) -> Iterator[tuple[int, tuple[object, ...]]]:
    """Non-blank data rows below the header with their Excel row numbers."""
    width = max(layout.fields.values()) + 1
    count = 0
    for number, row in enumerate(
        ws.iter_rows(min_row=layout.header_row + 1, max_col=width, values_only=True),
        start=layout.header_row + 1,
    ):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue
        count += 1
        if count > MAX_ROWS:
            problems.error(
                layout.sheet,
                number,
                None,
                f"数据行超过 {MAX_ROWS} 行，请拆分文件后导入。",
                f"More than {MAX_ROWS} data rows; split the file.",
            )
            return
        yield number, row


def _cell(layout: Layout, row: tuple[object, ...], key: str) -> object:
    i = layout.fields.get(key)
    if i is None or i >= len(row):
        return None
    return row[i]


def _required(
    layout: Layout, keys: Sequence[str], columns: Sequence[Column], problems: ProblemLog
) -> bool:
    missing = [c.header for c in columns if c.key in keys and c.key not in layout.fields]
    for header in missing:
        problems.error(
            layout.sheet,
            layout.header_row or None,
            header,
            f"缺少必需的列「{header}」。",
            f"The required column '{header}' is missing.",
        )
    return not missing


def read_workbook(
    content: bytes, vocab: Vocabulary, segment_widths: Mapping[str, int], problems: ProblemLog
) -> ParsedWorkbook | None:
    """Read and check every row; returns None when the file's structure is unusable.

    When problems are found the rows are still all checked (so the report is complete), but
    once there are errors no parsed rows are kept: nothing will be imported anyway.
    """
    wb = open_workbook(content, problems)
    if wb is None:
        return None
    try:
        entries_sheet, items_sheet = _find_sheets(wb, problems)
        if entries_sheet is None or problems.failed:
            return None
        ws, entry_layout = entries_sheet
        ok = _required(entry_layout, REQUIRED_ENTRY_KEYS, ENTRY_COLUMNS, problems)
        if items_sheet is not None:
            item_layout = items_sheet[1]
            ok = _required(item_layout, REQUIRED_ITEM_KEYS, ITEM_COLUMNS, problems) and ok
            if not ({"resource_code", "resource_name"} & set(item_layout.fields)):
                problems.error(
                    item_layout.sheet,
                    item_layout.header_row or None,
                    "信息资源代码",
                    "信息项表须有「信息资源代码」或「信息资源名称」列，以关联所属目录。",
                    "The items sheet needs a 信息资源代码 or 信息资源名称 column to link each item"
                    " to its entry.",
                )
                ok = False
        else:
            item_layout = None
        if not ok:
            return None
        entries, codes, names = _read_entries(ws, entry_layout, vocab, segment_widths, problems)
        items: list[ItemRow] = []
        if items_sheet is not None and item_layout is not None:
            items = _read_items(items_sheet[0], item_layout, vocab, codes, names, problems)
        return ParsedWorkbook(entries, items, entry_layout, item_layout)
    finally:
        wb.close()


class _RowReader:
    """Reads one row's cells, reporting each bad value against its column."""

    def __init__(self, layout: Layout, row: tuple[object, ...], number: int, problems: ProblemLog):
        self.layout, self.row, self.number, self.problems = layout, row, number, problems
        self.ok = True

    def has(self, key: str) -> bool:
        return key in self.layout.fields

    def raw(self, key: str) -> object:
        return _cell(self.layout, self.row, key)

    def fail(self, key: str | None, zh: str, en: str) -> None:
        self.ok = False
        column = self.layout.column(key) if key else None
        self.problems.error(self.layout.sheet, self.number, column, zh, en)

    def convert(self, key: str, parse: Any) -> Any:
        try:
            return parse(self.raw(key))
        except BadValue as bad:
            self.fail(key, bad.zh, bad.en)
            return None

    def code(self, key: str, table: str, what_zh: str, what_en: str, vocab: Vocabulary) -> str:
        value = text(self.raw(key))
        if not value:
            return ""
        found, candidates = vocab.lookup(table, value)
        if found is not None:
            return found
        if candidates:
            labels = "、".join(vocab.label(table, c) for c in candidates)
            self.fail(
                key,
                f"「{value}」可对应多个{what_zh}（{labels}），请写完整。",
                f"'{value}' matches several {what_en} values ({labels}); write it in full.",
            )
        else:
            allowed = "、".join(v.label_zh for v in vocab.values(table))
            self.fail(
                key,
                f"「{value}」不是有效的{what_zh}，可选：{allowed}。",
                f"'{value}' is not a known {what_en}; allowed: {allowed}.",
            )
        return ""


SPLIT = re.compile(r"\s*[/／\-—－|｜:：]\s*")


def _share_method(r: _RowReader, vocab: Vocabulary) -> tuple[str, str | None]:
    """共享方式 as written: 共享平台方式, 接口 (implies the platform), or 共享平台方式/接口."""
    value = text(r.raw("share_method"))
    if not value:
        return "", None
    found, _ = vocab.lookup(CodeTable.SHARE_METHOD, value)
    if found is not None:
        return found, None
    kind, _ = vocab.lookup(CodeTable.SHARE_METHOD_TYPE, value)
    if kind is not None:
        parent = next(
            (v.parent_code for v in vocab.values(CodeTable.SHARE_METHOD_TYPE) if v.code == kind),
            None,
        )
        return parent or "", kind
    parts = SPLIT.split(value, maxsplit=1)
    if len(parts) == 2:
        method, _ = vocab.lookup(CodeTable.SHARE_METHOD, parts[0])
        kind, _ = vocab.lookup(CodeTable.SHARE_METHOD_TYPE, parts[1])
        if method is not None and kind is not None:
            return method, kind
    return r.code("share_method", CodeTable.SHARE_METHOD, "共享方式", "share method", vocab), None


def _read_entries(
    ws: Any,
    layout: Layout,
    vocab: Vocabulary,
    widths: Mapping[str, int],
    problems: ProblemLog,
) -> tuple[list[EntryRow], dict[str, int], dict[str, int]]:
    """Entry rows (kept only while the file is clean) and the codes and names seen."""
    out: list[EntryRow] = []
    codes: dict[str, int] = {}
    names: dict[str, int] = {}  # name → row; -1 when several units use the name
    seen: dict[tuple[str, str], int] = {}
    for number, row in _rows(ws, layout, problems):
        r = _RowReader(layout, row, number, problems)
        entry = _read_entry(r, vocab, widths)
        code = entry.resource_code
        if code in codes:
            r.fail(
                "resource_code",
                f"信息资源代码 {code} 与第 {codes[code]} 行重复。",
                f"Resource code {code} repeats row {codes[code]}.",
            )
        elif code:
            codes[code] = number
        name = str(entry.values.get("name", ""))
        if (entry.unit_code, name) in seen:
            first = seen[(entry.unit_code, name)]
            r.fail(
                "name",
                f"信息资源名称「{name}」与第 {first} 行重复。",
                f"Resource name '{name}' repeats row {first}.",
            )
        elif name:
            seen[(entry.unit_code, name)] = number
            names[name] = -1 if name in names else number
        entry.ok = r.ok
        _keep(out, entry, problems)
    return out, codes, names


def _keep(out: list[Any], row: EntryRow | ItemRow, problems: ProblemLog) -> None:
    """Keep rows for the service's checks until the report is full; then keep memory flat."""
    if problems.full:
        out.clear()
    else:
        out.append(row)


def _read_entry(r: _RowReader, vocab: Vocabulary, widths: Mapping[str, int]) -> EntryRow:
    values: dict[str, Any] = {}
    for key in (
        "name",
        "abstract",
        "share_conditions",
        "not_shared_basis",
        "open_conditions",
        "not_open_note",
        "format_subtype",
    ):
        if r.has(key):
            values[key] = text(r.raw(key))
    _read_classification(r, vocab, widths, values)
    _read_coded(r, vocab, values)
    publish_date = r.convert("publish_date", a_date) if r.has("publish_date") else None
    code = text(r.raw("resource_code")).replace(" ", "")
    if code:
        _split_code(r, code, values, widths)
    name = values.get("name", "")
    if not name:
        r.fail("name", "信息资源名称不能为空。", "The resource name is required.")
    return EntryRow(
        row=r.number,
        resource_code=code,
        unit_code=text(r.raw("unit_code")),
        unit_name=text(r.raw("unit_name")),
        publish_date=publish_date,
        values=values,
    )


def _read_classification(
    r: _RowReader, vocab: Vocabulary, widths: Mapping[str, int], values: dict[str, Any]
) -> None:
    """类/项/目/细目 as digits or labels, and the resource format (with its subtype)."""
    segment_keys = (
        ("class_code", "class"),
        ("subclass_code", "subclass"),
        ("group_code", "group"),
        ("detail_code", "detail_max"),
    )
    for key, width in segment_keys:
        if r.has(key):
            value = r.convert(key, lambda v, w=widths[width]: digits(v, w))
            if value is not None:
                values[key] = value
    if r.has("class_code") and values.get("class_code") is not None:
        # 类 may be written as its label (基础信息资源类) as well as its digit.
        raw = text(r.raw("class_code"))
        if raw and not raw.isdigit():
            values["class_code"] = r.code(
                "class_code", CodeTable.RESOURCE_CLASS, "分类「类」", "class", vocab
            )
    if r.has("subclass_code"):
        raw = text(r.raw("subclass_code"))
        if raw and not raw.isdigit():
            found, _ = vocab.lookup(CodeTable.RESOURCE_SUBCLASS, raw)
            if found is None:
                r.fail(
                    "subclass_code",
                    f"分类「项」「{raw}」不在代码表中。",
                    f"Unknown subclass '{raw}'.",
                )
            else:
                values["subclass_code"] = found[len(found) - widths["subclass"] :]
    if r.has("format_code"):
        raw = text(r.raw("format_code"))
        found, _ = vocab.lookup(CodeTable.FORMAT, raw) if raw else ("", [])
        parts = SPLIT.split(raw, maxsplit=1)
        if found is None and len(parts) == 2:
            found, _ = vocab.lookup(CodeTable.FORMAT, parts[0])
            if found is not None and not values.get("format_subtype"):
                values["format_subtype"] = parts[1]
        values["format_code"] = (
            found
            if found is not None
            else r.code("format_code", CodeTable.FORMAT, "信息资源格式", "resource format", vocab)
        )


def _read_coded(r: _RowReader, vocab: Vocabulary, values: dict[str, Any]) -> None:
    """Values taken from code tables (share and open types, cycle, share method), the related
    codes, the classified flag and the extension object."""
    for key, table, zh, en in (
        ("share_type", CodeTable.SHARE_TYPE, "共享类型", "share type"),
        ("open_type", CodeTable.OPEN_TYPE, "开放类型", "open type"),
        ("not_open_reason", CodeTable.NOT_OPEN_REASON, "不予开放理由", "reason for not opening"),
        ("update_cycle", CodeTable.UPDATE_CYCLE, "更新周期", "update cycle"),
    ):
        if r.has(key):
            values[key] = r.code(key, table, zh, en, vocab)
    if r.has("share_method"):
        method, kind = _share_method(r, vocab)
        values["share_method"] = method
        if kind is not None:
            values["share_method_type"] = kind
    if r.has("share_method_type"):
        written = r.code(
            "share_method_type",
            CodeTable.SHARE_METHOD_TYPE,
            "共享方式类型",
            "share method type",
            vocab,
        )
        if written or "share_method_type" not in values:
            values["share_method_type"] = written
    if r.has("related_codes"):
        values["related_codes"] = code_list(r.raw("related_codes"))
    if r.has("is_classified"):
        flag = r.convert("is_classified", yes_no)
        values["is_classified"] = bool(flag)
    if r.has("extension"):
        extension = r.convert("extension", json_object)
        if extension is not None:
            values["extension"] = extension


def _split_code(
    r: _RowReader, code: str, values: dict[str, Any], widths: Mapping[str, int]
) -> None:
    """信息资源代码 = 分类码/顺序码: fills the segments, or checks them against 类/项/目."""
    classification, slash, sequence = code.partition("/")
    if not slash or not classification.isdigit() or not sequence.isdigit():
        r.fail(
            "resource_code",
            f"信息资源代码「{code}」格式不正确，应为「分类码/顺序码」，如 101001/000001。",
            f"Resource code '{code}' should look like classification/sequence, e.g. 101001/000001.",
        )
        return
    c, s, g = widths["class"], widths["subclass"], widths["group"]
    parts = {
        "class_code": classification[:c],
        "subclass_code": classification[c : c + s],
        "group_code": classification[c + s : c + s + g],
        "detail_code": classification[c + s + g :],
    }
    written = "".join(values.get(k, "") for k in parts)
    if any(k in values for k in parts) and written and written != classification:
        r.fail(
            "resource_code",
            f"信息资源代码 {code} 与「类/项/目/细目」列（{written}）不一致。",
            f"Resource code {code} disagrees with the class columns ({written}).",
        )
        return
    values.update(parts)
    values["sequence_code"] = sequence


def _read_items(
    ws: Any,
    layout: Layout,
    vocab: Vocabulary,
    codes: Mapping[str, int],
    names: Mapping[str, int],
    problems: ProblemLog,
) -> list[ItemRow]:
    out: list[ItemRow] = []
    for number, row in _rows(ws, layout, problems):
        r = _RowReader(layout, row, number, problems)
        values: dict[str, Any] = {"name": text(r.raw("name"))}
        if not values["name"]:
            r.fail("name", "信息项名称不能为空。", "The data item name is required.")
        if r.has("data_type"):
            if text(r.raw("data_type")):
                values["data_type"] = r.code(
                    "data_type", CodeTable.DATA_TYPE, "数据类型", "data type", vocab
                )
            else:
                r.fail("data_type", "数据类型不能为空。", "The data type is required.")
        if r.has("length"):
            values["length"] = r.convert("length", integer)
        if r.has("share_type") and text(r.raw("share_type")):
            values["share_type"] = r.code(
                "share_type", CodeTable.SHARE_TYPE, "共享类型", "share type", vocab
            )
        if r.has("is_source"):
            values["is_source"] = bool(r.convert("is_source", yes_no))
        if r.has("description"):
            values["description"] = text(r.raw("description"))
        element = _element(r, vocab)
        if element:
            values["element_code"] = element
        link_code = text(r.raw("resource_code")).replace(" ", "")
        link_name = text(r.raw("resource_name"))
        _check_link(r, link_code, link_name, codes, names)
        _keep(out, ItemRow(number, link_code, link_name, values, r.ok), problems)
    return out


def _check_link(
    r: _RowReader,
    code: str,
    name: str,
    codes: Mapping[str, int],
    names: Mapping[str, int],
) -> None:
    """An item belongs to an entry row of this file, named by code (or by name)."""
    if code:
        if code not in codes:
            r.fail(
                "resource_code",
                f"信息资源代码 {code} 在「{ENTRY_SHEET}」表中没有对应的行。",
                f"Resource code {code} matches no row of the '{ENTRY_SHEET}' sheet.",
            )
        elif name and names.get(name, -1) not in (-1, codes[code]):
            r.fail(
                "resource_name",
                f"信息资源名称「{name}」与信息资源代码 {code} 不是同一行目录。",
                f"Resource name '{name}' and code {code} belong to different entries.",
            )
    elif name:
        if names.get(name) == -1:
            r.fail(
                "resource_name",
                f"有多个目录名为「{name}」，请填写信息资源代码。",
                f"Several entries are named '{name}'; give the resource code.",
            )
        elif name not in names:
            r.fail(
                "resource_name",
                f"信息资源名称「{name}」在「{ENTRY_SHEET}」表中没有对应的行。",
                f"Resource name '{name}' matches no row of the '{ENTRY_SHEET}' sheet.",
            )
    else:
        r.fail(
            "resource_code" if r.has("resource_code") else "resource_name",
            "请填写所属目录的信息资源代码或名称。",
            "Give the resource code or name of the item's entry.",
        )


def _element(r: _RowReader, vocab: Vocabulary) -> str:
    code_text = text(r.raw("element_code"))
    name_text = text(r.raw("element_name"))
    chosen = ""
    for key, value in (("element_code", code_text), ("element_name", name_text)):
        if not value:
            continue
        found, candidates = vocab.element(value)
        if found is None:
            r.fail(
                key,
                f"数据元「{value}」不存在" + ("（有多个同义词匹配）。" if candidates else "。"),
                f"Data element '{value}' does not exist"
                + (" (several synonyms match)." if candidates else "."),
            )
            return ""
        if chosen and found != chosen:
            r.fail(
                "element_name",
                f"数据元代码与数据元名称「{value}」不一致。",
                f"The data element code and name '{value}' disagree.",
            )
            return ""
        chosen = found
    return chosen


# ---------------------------------------------------------------- writing


def write_workbook(
    entries: Sequence[Mapping[str, object]],
    items: Sequence[Mapping[str, object]],
) -> bytes:
    """The compile template filled with rows (keys are column keys; missing keys stay blank)."""
    wb = Workbook(write_only=True)
    for title, columns, rows in (
        (ENTRY_SHEET, ENTRY_COLUMNS, entries),
        (ITEM_SHEET, ITEM_COLUMNS, items),
    ):
        ws = wb.create_sheet(title)
        shown = [c for c in columns if c.export]
        ws.append(xlsx_row(ws, [c.header for c in shown], bold=True))
        for row in rows:
            ws.append(xlsx_row(ws, [row.get(c.key) for c in shown]))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
