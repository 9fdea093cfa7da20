"""The compile template: opening a workbook and reading its sheets."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import load_workbook

from shuzhi.catalog.excel.common import (
    ENTRY_COLUMNS,
    ENTRY_SHEET,
    ENTRY_SHEET_NAMES,
    HEADER_SCAN_ROWS,
    ITEM_COLUMNS,
    ITEM_SHEET,
    ITEM_SHEET_NAMES,
    MAX_COLUMNS,
    REQUIRED_ENTRY_KEYS,
    REQUIRED_ITEM_KEYS,
    Column,
)
from shuzhi.catalog.excel.headers import (
    ENTRY_HEADERS,
    ITEM_HEADERS,
    Layout,
    detect_layout,
    merged_ranges,
    normalise_header,
)
from shuzhi.catalog.excel.problems import ProblemLog
from shuzhi.catalog.excel.rows import EntryRow, ItemRow, _read_entries, _read_items
from shuzhi.catalog.excel.vocabulary import Vocabulary


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
            layouts[title][1].merges = merges
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
            layouts[title][1].merges = merges
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
        # Which sheet is which must be clear; a header problem (two columns for one field)
        # still lets the rows be read, so their problems come in the same report.
        if entries_sheet is None or any(e.sheet is None for e in problems.errors):
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
