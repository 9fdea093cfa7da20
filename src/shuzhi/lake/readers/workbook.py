"""Readers: XLSX workbooks, checked as archives before they are parsed."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from shuzhi.errors import Invalid
from shuzhi.lake.limits import (
    MAX_COLUMNS,
    XLSX_MAX_PART_BYTES,
    XLSX_MAX_PARTS,
    XLSX_MAX_RATIO,
    XLSX_MAX_SHARED_STRINGS_BYTES,
    XLSX_MAX_TOTAL_BYTES,
    XLSX_RATIO_FROM_BYTES,
    refuse,
    size_text,
    too_many_columns,
)
from shuzhi.lake.progress import ByteMeter, CountingFile
from shuzhi.lake.readers.common import (
    FileSource,
    Reader,
    ReadOptions,
    _existing,
    _hash_file,
    _invalid,
    _string_batch,
    text_value,
)
from shuzhi.lake.rejects import Reject, RejectReason, RejectSink
from shuzhi.lake.text import (
    clean_names,
)


def _not_a_workbook(exc: BaseException) -> Invalid:
    detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return _invalid(
        "不是有效的 XLSX 文件（旧版 .xls 请另存为 .xlsx）。",
        f"Not a valid XLSX workbook (save old .xls files as .xlsx): {detail}",
    )


def check_xlsx_archive(path: Path) -> None:
    """Refuse a workbook whose parts would inflate beyond the limits (a zip bomb), from the
    zip directory alone, before any part is parsed.

    The sizes checked are the ones the zip reader enforces: it never inflates a part beyond
    its declared size (a larger part fails its checksum).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise _not_a_workbook(exc) from None
    if len(parts) > XLSX_MAX_PARTS:
        raise refuse(
            f"XLSX 文件包含的部件过多（{len(parts):,} 个，上限 {XLSX_MAX_PARTS:,} 个）。",
            f"The XLSX file has too many parts ({len(parts):,}; the limit is {XLSX_MAX_PARTS:,}).",
        )
    total = 0
    for part in parts:
        size, name = part.file_size, part.filename
        total += size
        if name.lower().endswith("sharedstrings.xml"):
            limit = XLSX_MAX_SHARED_STRINGS_BYTES
        elif "/worksheets/" in name.lower():
            limit = XLSX_MAX_TOTAL_BYTES
        else:
            limit = XLSX_MAX_PART_BYTES
        ratio = size / max(1, part.compress_size)
        if size > limit or total > XLSX_MAX_TOTAL_BYTES:
            shown = size_text(min(limit, XLSX_MAX_TOTAL_BYTES))
            raise refuse(
                f"XLSX 文件解压后过大：部件 {name} 超过 {shown}。请拆分工作簿或另存为 CSV。",
                f"The XLSX file inflates too much: part {name} goes beyond {shown}."
                " Split the workbook or save it as CSV.",
            )
        if size > XLSX_RATIO_FROM_BYTES and ratio > XLSX_MAX_RATIO:
            raise refuse(
                f"XLSX 文件的部件 {name} 压缩比异常（{ratio:,.0f} 倍，上限"
                f" {XLSX_MAX_RATIO} 倍），疑似压缩炸弹。",
                f"Part {name} of the XLSX file inflates {ratio:,.0f} times (the limit is"
                f" {XLSX_MAX_RATIO}); it looks like a zip bomb.",
            )


class XlsxReader(Reader):
    """First (or named) sheet; formula cells give their cached values, never re-evaluated.

    The declared dimensions of the sheet are ignored (a workbook can claim a million rows
    and 16,384 columns): rows are as wide as their last cell, and empty rows are skipped.
    Anything openpyxl fails on is an invalid workbook.
    """

    format = "xlsx"

    def __init__(self, source: FileSource, options: ReadOptions) -> None:
        import openpyxl

        self.path = _existing(source.path)
        self.options = options
        check_xlsx_archive(self.path)
        self._meter = ByteMeter(source.on_bytes, self.path.stat().st_size)
        # Reads are counted only when someone watches (the workbook is read lazily).
        self._file = CountingFile(self.path, self._meter) if source.on_bytes else None
        try:
            # data_only: cached results of formulas; a workbook never calculated by a
            # spreadsheet program has none, and those cells read as empty.
            self._book = openpyxl.load_workbook(
                self._file or self.path, read_only=True, data_only=True
            )
        except Exception as exc:  # openpyxl raises many kinds on broken archives and XML
            self._close_file()
            raise _not_a_workbook(exc) from None
        try:
            self._open_sheet(source.sheet)
        except BaseException as exc:
            self.close()
            if isinstance(exc, Invalid) or not isinstance(exc, Exception):
                raise
            raise _not_a_workbook(exc) from None

    def _open_sheet(self, wanted: str | None) -> None:
        names: list[str] = list(self._book.sheetnames)
        if not names:
            raise _invalid("工作簿中没有工作表。", "The workbook has no sheets.")
        if wanted is not None and wanted not in names:
            raise _invalid(
                f"工作表“{wanted}”不存在；可选：{'、'.join(names)}。",
                f"No sheet named {wanted!r}; sheets: {', '.join(names)}.",
            )
        self.sheet = wanted or names[0]
        sheet = self._book[self.sheet]
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()
        self._rows = enumerate(sheet.iter_rows(values_only=True), start=1)
        self.source_columns = []
        for _, row in self._rows:
            if row.count(None) == len(row):
                continue
            if any(text_value(v) for v in row):
                header = [text_value(v) or "" for v in row]
                while header and not header[-1]:
                    header.pop()
                if len(header) > MAX_COLUMNS:
                    raise too_many_columns(len(header))
                self.source_columns = header
                break
        if not self.source_columns:
            raise _invalid("工作表为空。", f"Sheet {self.sheet!r} is empty.")
        self.columns = clean_names(self.source_columns)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "file",
            "format": self.format,
            "name": self.path.name,
            "bytes": self.path.stat().st_size,
            "sheet": self.sheet,
        }

    def batches(self, rejects: RejectSink) -> Iterator[pa.RecordBatch]:
        try:
            yield from self._batches(rejects)
        except Invalid:
            raise
        except Exception as exc:  # a broken part of the sheet, found while streaming it
            raise _not_a_workbook(exc) from None

    def _batches(self, rejects: RejectSink) -> Iterator[pa.RecordBatch]:
        width = len(self.columns)
        rows: list[list[str | None]] = []
        for number, row in self._rows:
            if row.count(None) == len(row):
                continue
            values = [text_value(v) for v in row[:width]]
            extra = row[width:]
            if extra.count(None) != len(extra) and any(text_value(v) for v in extra):
                shown = [v or "" for v in values] + [text_value(v) or "" for v in extra[:50]]
                rejects.add(
                    Reject.of(
                        number,
                        RejectReason.TOO_MANY_FIELDS,
                        f"expected {width} cells, found {len(row)}",
                        ",".join(shown),
                    )
                )
                continue
            if not any(values):
                continue
            rows.append(values + [None] * (width - len(values)))
            if len(rows) >= self.options.batch_rows:
                yield _string_batch(self.columns, rows)
                rows = []
        if rows:
            yield _string_batch(self.columns, rows)
        self._meter.finish()

    def content_hash(self) -> str:
        return _hash_file(self.path, {"format": self.format, "sheet": self.sheet})

    def _close_file(self) -> None:
        if self._file is not None:
            self._file.close()

    def close(self) -> None:
        book = getattr(self, "_book", None)
        if book is not None:
            book.close()
        self._close_file()
