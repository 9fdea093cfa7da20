"""The compile template: finding sheets and header rows, whatever their order."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shuzhi.catalog.excel.common import ENTRY_COLUMNS, ITEM_COLUMNS, Column
from shuzhi.catalog.excel.problems import ProblemLog


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
    # merged ranges of the sheet (min_col, min_row, max_col, max_row), 1-based as in Excel
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)

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
