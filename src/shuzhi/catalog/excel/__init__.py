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

from shuzhi.catalog.excel.common import (
    ENTRY_COLUMNS,
    ENTRY_SHEET,
    ENTRY_SHEET_NAMES,
    HEADER_SCAN_ROWS,
    ITEM_COLUMNS,
    ITEM_SHEET,
    ITEM_SHEET_NAMES,
    MAX_COLUMNS,
    MAX_PROBLEMS,
    MAX_ROWS,
    MAX_WARNINGS,
    READ_ONLY_KEYS,
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
from shuzhi.catalog.excel.problems import ImportProblem, ProblemLog
from shuzhi.catalog.excel.rows import SPLIT, EntryRow, ItemRow
from shuzhi.catalog.excel.values import (
    DATE_FORMATS,
    EXCEL_EPOCH,
    NO,
    YES,
    BadValue,
    a_date,
    code_list,
    digits,
    integer,
    json_object,
    text,
    yes_no,
)
from shuzhi.catalog.excel.vocabulary import CodeValue, Vocabulary
from shuzhi.catalog.excel.workbook import ParsedWorkbook, open_workbook, read_workbook
from shuzhi.catalog.excel.writing import write_workbook

__all__ = [
    "DATE_FORMATS",
    "ENTRY_COLUMNS",
    "ENTRY_HEADERS",
    "ENTRY_SHEET",
    "ENTRY_SHEET_NAMES",
    "EXCEL_EPOCH",
    "HEADER_SCAN_ROWS",
    "ITEM_COLUMNS",
    "ITEM_HEADERS",
    "ITEM_SHEET",
    "ITEM_SHEET_NAMES",
    "MAX_COLUMNS",
    "MAX_PROBLEMS",
    "MAX_ROWS",
    "MAX_WARNINGS",
    "NO",
    "READ_ONLY_KEYS",
    "REQUIRED_ENTRY_KEYS",
    "REQUIRED_ITEM_KEYS",
    "SPLIT",
    "YES",
    "BadValue",
    "CodeValue",
    "Column",
    "EntryRow",
    "ImportProblem",
    "ItemRow",
    "Layout",
    "ParsedWorkbook",
    "ProblemLog",
    "Vocabulary",
    "a_date",
    "code_list",
    "detect_layout",
    "digits",
    "integer",
    "json_object",
    "merged_ranges",
    "normalise_header",
    "open_workbook",
    "read_workbook",
    "text",
    "write_workbook",
    "yes_no",
]
