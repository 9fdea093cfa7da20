"""Open a source and stream it as Arrow record batches of bounded size.

Value types: CSV/TSV/TXT, XLSX, JSON Lines and database sources yield string columns (values
as read; an empty string becomes null; XLSX dates become ISO text, numbers their shortest
text; JSON scalars their JSON text, nested values compact JSON; database values their
canonical text, e.g. ``2024-01-02 08:00:00`` or ``12.50``). Parquet sources keep their
native Arrow types. Dates are never parsed here: the profile and quality layers do that.

Database sources are given as SQLAlchemy URLs and read with server-side cursors:
``sqlite:///path.db``, ``postgresql://user:pass@host:5432/db`` (psycopg 3) and, with the
``pymysql`` package installed, ``mysql+pymysql://user:pass@host:3306/db?charset=utf8mb4``.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import hashlib
import io
import json
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from shuzhi.errors import Invalid
from shuzhi.lake.credentials import mask_url
from shuzhi.lake.limits import (
    JSONL_SCHEMA_BYTES,
    MAX_COLUMNS,
    MAX_JSON_DEPTH,
    MAX_LINE_BYTES,
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
from shuzhi.lake.rejects import DiscardRejects, Reject, RejectReason, RejectSink
from shuzhi.lake.text import (
    CleanCopy,
    Encoding,
    clean_copy,
    clean_names,
    detect_delimiter,
    detect_encoding,
    parse_header,
    read_header_sample,
    read_text_sample,
    scan_utf8,
)

HASH_DOMAIN = b"shuzhi.lake.content/1\n"
# Database rows are hashed as Arrow IPC batches of this fixed size, so the hash does not
# depend on any tunable batch size.
CANONICAL_BATCH_ROWS = 50_000
PREVIEW_BYTES = 4 * 1024 * 1024
JSONL_SCHEMA_LINES = 1000


class FileFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSONL = "jsonl"
    PARQUET = "parquet"


SUFFIXES: dict[str, FileFormat] = {
    ".csv": FileFormat.CSV,
    ".tsv": FileFormat.CSV,
    ".txt": FileFormat.CSV,
    ".xlsx": FileFormat.XLSX,
    ".xlsm": FileFormat.XLSX,
    ".jsonl": FileFormat.JSONL,
    ".ndjson": FileFormat.JSONL,
    ".parquet": FileFormat.PARQUET,
}


@dataclass(frozen=True)
class FileSource:
    """A file; format, encoding and delimiter are detected unless given."""

    path: Path
    format: FileFormat | None = None
    encoding: Encoding | None = None
    delimiter: str | None = None
    sheet: str | None = None
    # Told the bytes of the file read so far (never decreasing, ending at the file size).
    on_bytes: Callable[[int], None] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class DatabaseSource:
    """A table (optionally in a schema) or a query in a database given by SQLAlchemy URL."""

    url: str
    table: str | None = None
    query: str | None = None
    schema: str | None = None
    # Told the rows read so far after each batch (the total is not known in advance).
    on_rows: Callable[[int], None] | None = field(default=None, compare=False, repr=False)


Source = FileSource | DatabaseSource


@dataclass(frozen=True)
class ReadOptions:
    batch_rows: int = 65_536
    # Longer lines are rejected while streaming, never held in memory whole.
    max_line_bytes: int = MAX_LINE_BYTES
    # DuckDB's memory when a reader parses with it (``CsvReader.batches``).
    duckdb_memory_limit: str = "512MB"


@dataclass(frozen=True)
class DuckScan:
    """A text file DuckDB can scan itself (the fast path), plus how to report its rejects.

    ``prepass``, when set, is the pre-pass over the source (content hash, line lengths)
    still running beside the scan: its result says whether the file must be cleaned first
    (``CsvReader.clean_scan``), in which case whatever was read from ``file`` is discarded.
    """

    file: Path
    delimiter: str
    columns: list[str]
    max_line_bytes: int
    copy: CleanCopy | None = None
    prepass: Future[bool] | None = None

    def sql(self) -> str:
        cols = ", ".join(f"{sql_literal(c)}: 'VARCHAR'" for c in self.columns)
        return (
            f"read_csv({sql_literal(str(self.file))}, header = true, auto_detect = false,"
            f" delim = {sql_literal(self.delimiter)}, quote = '\"', escape = '\"',"
            f" columns = {{{cols}}}, store_rejects = true, strict_mode = true,"
            f" null_padding = false, max_line_size = {int(self.max_line_bytes)})"
        )

    def reject_count(self, con: Any) -> int:
        row = con.execute("SELECT count(DISTINCT line) FROM reject_errors").fetchone()
        return int(row[0]) if row else 0

    def collect_rejects(self, con: Any, rejects: RejectSink, limit: int | None = None) -> None:
        """Copy DuckDB's rejects to ``rejects`` with physical source line numbers."""
        query = (
            "SELECT line, min(line_byte_position), min(error_type), min(error_message)"
            " FROM reject_errors GROUP BY line ORDER BY line"
        )
        if limit is not None:
            query += f" LIMIT {int(limit)}"
        found = con.execute(query).fetchall()
        positions = [int(r[1]) - 1 for r in found]
        located = _locate_lines(self.file, positions)
        for (_, _, error_type, message), pos in zip(found, positions, strict=True):
            copied_line, raw = located[pos]
            line = self.copy.original_line(copied_line) if self.copy else copied_line
            rejects.add(
                Reject.of(
                    line,
                    _DUCKDB_REASONS.get(error_type, RejectReason.OTHER),
                    str(message).split("\n")[0][:200],
                    raw,
                )
            )


_DUCKDB_REASONS = {
    "MISSING COLUMNS": RejectReason.TOO_FEW_FIELDS,
    "TOO MANY COLUMNS": RejectReason.TOO_MANY_FIELDS,
    "INVALID ENCODING": RejectReason.INVALID_ENCODING,
    "INVALID UNICODE": RejectReason.INVALID_ENCODING,
    "UNQUOTED VALUE": RejectReason.BAD_QUOTING,
    "LINE SIZE OVER MAXIMUM": RejectReason.LINE_TOO_LONG,
}


def sql_literal(text: str) -> str:
    """A SQL string literal (for values that cannot be bound, e.g. table-function options)."""
    return "'" + text.replace("'", "''") + "'"


def _locate_lines(path: Path, positions: list[int]) -> dict[int, tuple[int, bytes]]:
    """1-based line number and raw prefix of the lines starting at the given byte offsets."""
    result: dict[int, tuple[int, bytes]] = {}
    if not positions:
        return result
    wanted = sorted(set(positions))
    newlines, offset, index = 0, 0, 0
    with open(path, "rb") as fh:
        while index < len(wanted):
            chunk = fh.read(1024 * 1024)
            if not chunk:
                break
            end = offset + len(chunk)
            while index < len(wanted) and wanted[index] < end:
                pos = wanted[index]
                result[pos] = (newlines + chunk.count(b"\n", 0, pos - offset) + 1, b"")
                index += 1
            newlines += chunk.count(b"\n")
            offset = end
        for pos in wanted:
            fh.seek(pos)
            raw = fh.read(800).split(b"\n", 1)[0]
            line = result.get(pos, (newlines + 1, b""))[0]
            result[pos] = (line, raw.rstrip(b"\r"))
    return result


def _invalid(zh: str, en: str) -> Invalid:
    return Invalid.field("source", zh, en)


def engine_error(exc: Exception, memory_limit: str) -> Invalid:
    """DuckDB's failure to parse or write a source, in the platform's words.

    Running out of the engine's memory cap is named as such (with the cap), never shown
    as the engine's own "Out of Memory Error" text.
    """
    import duckdb

    if isinstance(exc, duckdb.OutOfMemoryException) or "Out of Memory" in str(exc):
        return refuse(
            f"读取该数据源所需内存超过上限 {memory_limit}（列太多或单行太大）。"
            "请减少列数或拆分文件后再试。",
            f"Reading this source needs more than the memory limit of {memory_limit}"
            " (too many columns or very large rows). Reduce the columns or split the file.",
        )
    first = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
    return _invalid(f"无法解析该文件：{first}", f"The file cannot be parsed: {first}")


def _hasher(description: dict[str, Any]) -> Any:
    h = hashlib.sha256(HASH_DOMAIN)
    h.update(json.dumps(description, sort_keys=True, ensure_ascii=False).encode() + b"\n")
    return h


def _hash_file(path: Path, description: dict[str, Any]) -> str:
    h = _hasher(description)
    with open(path, "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            h.update(chunk)
    return str(h.hexdigest())


def _string_batch(columns: list[str], rows: list[list[str | None]]) -> pa.RecordBatch:
    arrays = [pa.array([row[i] for row in rows], pa.string()) for i in range(len(columns))]
    return pa.RecordBatch.from_arrays(arrays, names=columns)


def text_value(value: object) -> str | None:
    """Canonical text of a value read from a spreadsheet or a database."""
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


class Reader(ABC):
    """One opened source, read once."""

    format: str
    columns: list[str]
    source_columns: list[str]

    @abstractmethod
    def batches(self, rejects: RejectSink) -> Iterator[pa.RecordBatch]:
        """Stream the rows; rows that cannot be read go to ``rejects``."""

    @abstractmethod
    def content_hash(self) -> str:
        """SHA-256 of the canonical content; valid once ``batches`` is exhausted."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """What was read and how it was interpreted (stored in the manifest, hashed)."""

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([(c, pa.string()) for c in self.columns])

    def duckdb_scan(
        self,
        workdir: Path,
        rejects: RejectSink,
        progress: Callable[[int], None] | None = None,
        *,
        concurrent: bool = False,
    ) -> DuckScan | None:
        """Offer a DuckDB-native scan instead of Arrow batches (text files only)."""
        return None

    def close(self) -> None:
        return None


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise _invalid(f"找不到文件：{path.name}。", f"File not found: {path.name}.")
    return path


class CsvReader(Reader):
    """Delimited text; DuckDB parses it (see ``duckdb_scan``) after a streaming pre-pass."""

    format = "csv"

    def __init__(self, source: FileSource, options: ReadOptions) -> None:
        self.path = _existing(source.path)
        self.options = options
        self.encoding = source.encoding or detect_encoding(self.path)
        sample = read_header_sample(self.path, self.encoding)
        self.delimiter = source.delimiter or detect_delimiter(sample, self.path.suffix)
        header = parse_header(sample, self.delimiter)
        if not header:
            raise _invalid("文件为空（没有表头）。", "The file is empty (no header line).")
        self.source_columns = header
        self.columns = clean_names(header)
        self._hash: str | None = None
        self._meter = ByteMeter(source.on_bytes, self.path.stat().st_size)
        self._prepass: Future[bool] | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "file",
            "format": self.format,
            "name": self.path.name,
            "bytes": self.path.stat().st_size,
            "encoding": self.encoding.value,
            "delimiter": self.delimiter,
        }

    def _hash_description(self) -> dict[str, Any]:
        return {k: v for k, v in self.describe().items() if k not in ("name", "bytes")}

    def duckdb_scan(
        self,
        workdir: Path,
        rejects: RejectSink,
        progress: Callable[[int], None] | None = None,
        *,
        concurrent: bool = False,
    ) -> DuckScan:
        """The scan of this file; GBK files are transcoded first, UTF-8 files only if some line
        is longer than ``max_line_bytes``. With ``concurrent`` the UTF-8 pre-pass (hash and
        line lengths) runs in a thread while the caller scans: see ``DuckScan.prepass``.
        """
        hasher = _hasher(self._hash_description())
        cap = self.options.max_line_bytes
        progress = self._meter.chain(progress)
        if not self.encoding.is_utf8:
            return self._clean(workdir, rejects, self.encoding, hasher, progress)
        if concurrent:
            pool = ThreadPoolExecutor(1, thread_name_prefix="shuzhi-prepass")
            self._prepass = pool.submit(self._prepass_utf8, hasher, progress)
            pool.shutdown(wait=False)
            return DuckScan(self.path, self.delimiter, self.columns, cap, prepass=self._prepass)
        if self._prepass_utf8(hasher, progress):
            return self._clean(workdir, rejects, Encoding.UTF8, None, progress)
        return DuckScan(self.path, self.delimiter, self.columns, cap)

    def clean_scan(
        self, workdir: Path, rejects: RejectSink, progress: Callable[[int], None] | None = None
    ) -> DuckScan:
        """The scan of a clean UTF-8 copy, once a concurrent pre-pass asked for one."""
        return self._clean(workdir, rejects, Encoding.UTF8, None, progress)

    def _prepass_utf8(self, hasher: Any, progress: Callable[[int], None] | None = None) -> bool:
        overlong = scan_utf8(
            self.path, self.options.max_line_bytes, hasher, progress, self.delimiter
        )
        self._hash = str(hasher.hexdigest())
        self._meter.finish()
        return overlong

    def _clean(
        self,
        workdir: Path,
        rejects: RejectSink,
        encoding: Encoding,
        hasher: Any,
        progress: Callable[[int], None] | None,
    ) -> DuckScan:
        target = workdir / "source.utf8.csv"
        cap = self.options.max_line_bytes
        with open(target, "wb") as out:
            copy = clean_copy(
                self.path, out, encoding, rejects, cap, hasher, progress, self.delimiter
            )
        if hasher is not None:
            self._hash = str(hasher.hexdigest())
        self._meter.finish()
        return DuckScan(target, self.delimiter, self.columns, cap, copy)

    def batches(self, rejects: RejectSink) -> Iterator[pa.RecordBatch]:
        import tempfile

        import duckdb

        with tempfile.TemporaryDirectory(prefix="shuzhi-csv-") as tmp:
            scan = self.duckdb_scan(Path(tmp), rejects)
            con = duckdb.connect(
                config={
                    "memory_limit": self.options.duckdb_memory_limit,
                    "temp_directory": str(Path(tmp) / "spill"),
                }
            )
            try:
                result = con.sql(f"SELECT * FROM {scan.sql()}")
                reader: Any = result.to_arrow_reader(self.options.batch_rows)
                for batch in reader:
                    yield batch.rename_columns(self.columns)
                scan.collect_rejects(con, rejects)
            except duckdb.Error as exc:
                raise engine_error(exc, self.options.duckdb_memory_limit) from None
            finally:
                con.close()

    def preview(self, n: int) -> list[list[str | None]]:
        """The first ``n`` well-formed data rows, read from a prefix only."""
        sample = read_text_sample(self.path, self.encoding, PREVIEW_BYTES)
        rows: list[list[str | None]] = []
        parsed = csv.reader(io.StringIO(sample), delimiter=self.delimiter)
        try:
            next(parsed, None)
            for row in parsed:
                if len(rows) >= n:
                    break
                if len(row) == len(self.columns):
                    rows.append([v or None for v in row])
        except csv.Error:  # a NUL or an overlong field: the preview ends there
            pass
        return rows

    def content_hash(self) -> str:
        if self._prepass is not None:
            self._prepass.result()
        if self._hash is None:
            self._hash = _hash_file(self.path, self._hash_description())
        return self._hash


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


def _json_depth_over(value: object, limit: int) -> bool:
    """Whether arrays and objects nest deeper than ``limit`` (iterative: no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        assert isinstance(children, Iterable)
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


class JsonLinesReader(Reader):
    """One JSON object per line (UTF-8); columns are the keys seen in the first lines
    (``JSONL_SCHEMA_LINES`` lines or ``JSONL_SCHEMA_BYTES`` bytes, whichever comes first)."""

    format = "jsonl"

    def __init__(self, source: FileSource, options: ReadOptions) -> None:
        self.path = _existing(source.path)
        self.options = options
        self._fh = open(self.path, "rb")  # noqa: SIM115 — closed by close()
        self._meter = ByteMeter(source.on_bytes, self.path.stat().st_size)
        self._hasher = _hasher({"format": self.format})
        self._line = 0
        self._head: list[tuple[int, dict[str, Any] | Reject]] = []
        keys: dict[str, None] = {}
        for number, item in self._parsed_lines():
            self._head.append((number, item))
            if isinstance(item, dict):
                keys.update(dict.fromkeys(item))
                if len(keys) > MAX_COLUMNS:
                    self._fh.close()
                    raise too_many_columns(len(keys))
            if len(self._head) >= JSONL_SCHEMA_LINES or self._fh.tell() > JSONL_SCHEMA_BYTES:
                break
        if not keys:
            self._fh.close()
            raise _invalid("文件中没有 JSON 对象。", "The file holds no JSON objects.")
        self.source_columns = list(keys)
        self.columns = clean_names(self.source_columns)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "file",
            "format": self.format,
            "name": self.path.name,
            "bytes": self.path.stat().st_size,
        }

    def _read_line(self) -> tuple[bytes, bool] | None:
        """Next line (bounded), and whether it was too long (then only its prefix)."""
        cap = self.options.max_line_bytes
        data = self._fh.readline(cap + 1)
        if not data:
            return None
        self._hasher.update(data)
        if len(data) <= cap or data.endswith(b"\n"):
            self._meter.at(self._fh.tell())
            return data, False
        prefix = data
        while data and not data.endswith(b"\n"):
            data = self._fh.readline(1024 * 1024)
            self._hasher.update(data)
        self._meter.at(self._fh.tell())
        return prefix, True

    def _parsed_lines(self) -> Iterator[tuple[int, dict[str, Any] | Reject]]:
        while (read := self._read_line()) is not None:
            data, overlong = read
            self._line += 1
            number = self._line
            if number == 1 and data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]
            if overlong:
                detail = f"line longer than {self.options.max_line_bytes} bytes"
                yield number, Reject.of(number, RejectReason.LINE_TOO_LONG, detail, data)
                continue
            if not data.strip():
                continue
            try:
                item = json.loads(data.decode("utf-8"))
            except UnicodeDecodeError as exc:
                detail = f"not UTF-8 at byte {exc.start + 1}"
                yield number, Reject.of(number, RejectReason.INVALID_ENCODING, detail, data)
                continue
            except json.JSONDecodeError as exc:
                yield number, Reject.of(number, RejectReason.INVALID_JSON, exc.msg, data)
                continue
            except RecursionError:
                detail = f"nested deeper than {MAX_JSON_DEPTH} levels"
                yield number, Reject.of(number, RejectReason.INVALID_JSON, detail, data)
                continue
            except ValueError as exc:  # e.g. an integer of more digits than Python converts
                detail = str(exc).splitlines()[0][:200]
                yield number, Reject.of(number, RejectReason.INVALID_JSON, detail, data)
                continue
            if not isinstance(item, dict):
                yield (
                    number,
                    Reject.of(number, RejectReason.NOT_AN_OBJECT, type(item).__name__, data),
                )
                continue
            if _json_depth_over(item, MAX_JSON_DEPTH):
                detail = f"nested deeper than {MAX_JSON_DEPTH} levels"
                yield number, Reject.of(number, RejectReason.INVALID_JSON, detail, data)
                continue
            yield number, item

    def batches(self, rejects: RejectSink) -> Iterator[pa.RecordBatch]:
        known = set(self.source_columns)
        rows: list[list[str | None]] = []

        def items() -> Iterator[tuple[int, dict[str, Any] | Reject]]:
            yield from self._head
            yield from self._parsed_lines()

        for number, item in items():
            if isinstance(item, Reject):
                rejects.add(item)
                continue
            extra = [k for k in item if k not in known]
            if extra:
                raw = json.dumps(item, ensure_ascii=False)
                shown = ", ".join(extra[:20])
                if len(extra) > 20:
                    shown += f" (+{len(extra) - 20})"
                rejects.add(Reject.of(number, RejectReason.UNKNOWN_FIELDS, shown, raw))
                continue
            rows.append([_json_text(item.get(key)) for key in self.source_columns])
            if len(rows) >= self.options.batch_rows:
                yield _string_batch(self.columns, rows)
                rows = []
        if rows:
            yield _string_batch(self.columns, rows)
        self._meter.finish()

    def content_hash(self) -> str:
        return str(self._hasher.hexdigest())

    def close(self) -> None:
        self._fh.close()


def _json_text(value: object) -> str | None:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return text_value(value)


def _not_parquet(exc: BaseException) -> Invalid:
    detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return _invalid("不是有效的 Parquet 文件。", f"Not a valid Parquet file: {detail}")


class ParquetReader(Reader):
    """A Parquet file, streamed by row group; native types are kept."""

    format = "parquet"

    def __init__(self, source: FileSource, options: ReadOptions) -> None:
        self.path = _existing(source.path)
        self.options = options
        self._meter = ByteMeter(source.on_bytes, self.path.stat().st_size)
        try:
            self._file = pq.ParquetFile(self.path)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise _not_parquet(exc) from None
        self.source_columns = list(self._file.schema_arrow.names)
        if not self.source_columns:
            raise _invalid("Parquet 文件没有列。", "The Parquet file has no columns.")
        self.columns = clean_names(self.source_columns)

    @property
    def schema(self) -> pa.Schema:
        arrow = self._file.schema_arrow
        return pa.schema([pa.field(c, arrow.field(i).type) for i, c in enumerate(self.columns)])

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "file",
            "format": self.format,
            "name": self.path.name,
            "bytes": self.path.stat().st_size,
        }

    def batches(self, rejects: RejectSink) -> Iterator[pa.RecordBatch]:
        total, done = max(1, self._file.metadata.num_rows), 0
        try:
            for batch in self._file.iter_batches(batch_size=self.options.batch_rows):
                done += batch.num_rows
                self._meter.share(done / total)  # Arrow reads natively: progress by rows
                yield batch.rename_columns(self.columns)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise _not_parquet(exc) from None
        self._meter.finish()

    def content_hash(self) -> str:
        return _hash_file(self.path, {"format": self.format})

    def close(self) -> None:
        self._file.close()


def _normalise_url(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _safe_url(url: str) -> str:
    return mask_url(url)  # password and password-like query parameters hidden


class DatabaseReader(Reader):
    """A table or a query, streamed with a server-side cursor (``stream_results``)."""

    format = "database"

    def __init__(self, source: DatabaseSource, options: ReadOptions) -> None:
        from sqlalchemy import MetaData, Table, create_engine, inspect, select, text
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

        if (source.table is None) == (source.query is None):
            raise _invalid("请指定表名或查询语句（二选一）。", "Give either a table or a query.")
        self.source = source
        self.options = options
        shown = _safe_url(source.url)
        try:
            self._engine = create_engine(_normalise_url(source.url))
            self._conn = self._engine.connect()
        except (ArgumentError, NoSuchModuleError, SQLAlchemyError, ImportError) as exc:
            raise _invalid(
                f"无法连接数据库 {shown}，请检查地址、账号和网络。",
                f"Cannot connect to the database {shown}: {type(exc).__name__}: "
                f"{str(exc).splitlines()[0][:200]}",
            ) from None
        try:
            if source.table is not None:
                if not inspect(self._conn).has_table(source.table, schema=source.schema):
                    raise _invalid(
                        f"数据库中没有表 {source.table}。",
                        f"The database has no table {source.table!r}.",
                    )
                table = Table(
                    source.table, MetaData(), autoload_with=self._conn, schema=source.schema
                )
                statement: Any = select(table)
            else:
                statement = text(source.query or "")
            self._result = self._conn.execution_options(
                stream_results=True, yield_per=CANONICAL_BATCH_ROWS
            ).execute(statement)
        except SQLAlchemyError as exc:
            self.close()
            raise _invalid(
                "读取数据库失败，请检查表名或查询语句。",
                f"Reading the database failed: {str(exc).splitlines()[0][:200]}",
            ) from None
        except Invalid:
            self.close()
            raise
        self.source_columns = [str(k) for k in self._result.keys()]  # noqa: SIM118
        self.columns = clean_names(self.source_columns)
        self._hasher = _hasher(self._hash_description())

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "database",
            "format": self.format,
            "url": _safe_url(self.source.url),
            "table": self.source.table,
            "schema": self.source.schema,
            "query": self.source.query,
        }

    def _hash_description(self) -> dict[str, Any]:
        return {k: v for k, v in self.describe().items() if k != "url"}

    def batches(self, rejects: RejectSink) -> Iterator[pa.RecordBatch]:
        from sqlalchemy.exc import SQLAlchemyError

        sink = _HashSink(self._hasher)
        writer = pa.ipc.new_stream(pa.PythonFile(sink, mode="w"), self.schema)
        rows = 0
        try:
            for partition in self._result.partitions(CANONICAL_BATCH_ROWS):
                batch = _string_batch(
                    self.columns, [[text_value(v) for v in row] for row in partition]
                )
                writer.write_batch(batch)
                rows += batch.num_rows
                if self.source.on_rows is not None:
                    self.source.on_rows(rows)
                yield batch
        except SQLAlchemyError as exc:
            raise _invalid(
                "读取数据库时出错。",
                f"Reading the database failed: {str(exc).splitlines()[0][:200]}",
            ) from None
        writer.close()

    def content_hash(self) -> str:
        return str(self._hasher.hexdigest())

    def close(self) -> None:
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()
        self._engine.dispose()


class _HashSink(io.RawIOBase):
    def __init__(self, hasher: Any) -> None:
        self._hasher = hasher

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self._hasher.update(view)
        return view.nbytes


_FILE_READERS: dict[FileFormat, Callable[[FileSource, ReadOptions], Reader]] = {
    FileFormat.CSV: CsvReader,
    FileFormat.XLSX: XlsxReader,
    FileFormat.JSONL: JsonLinesReader,
    FileFormat.PARQUET: ParquetReader,
}


def file_format(source: FileSource) -> FileFormat:
    if source.format is not None:
        return source.format
    suffix = source.path.suffix.lower()
    if suffix == ".xls":
        raise _invalid(
            "不支持旧版 .xls，请另存为 .xlsx。", "Old .xls is not supported; save as .xlsx."
        )
    found = SUFFIXES.get(suffix)
    if found is None:
        supported = ", ".join(sorted(SUFFIXES))
        raise _invalid(
            f"不支持的文件类型 {suffix or '（无扩展名）'}；支持：{supported}。",
            f"Unsupported file type {suffix or '(none)'}; supported: {supported}.",
        )
    return found


def open_reader(source: Source, options: ReadOptions | None = None) -> Reader:
    """Open ``source``; raises ``Invalid`` (zh/en) for anything that cannot be read at all."""
    options = options or ReadOptions()
    if isinstance(source, DatabaseSource):
        return DatabaseReader(source, options)
    return _FILE_READERS[file_format(source)](source, options)


def sample_columns(
    source: Source, n: int = 1000, options: ReadOptions | None = None
) -> dict[str, list[str | None]]:
    """Up to ``n`` values per column as text, read from the start only (for the classifier)."""
    reader = open_reader(source, options)
    try:
        if isinstance(reader, CsvReader):
            rows = reader.preview(n)
            return {c: [row[i] for row in rows] for i, c in enumerate(reader.columns)}
        values: dict[str, list[str | None]] = {c: [] for c in reader.columns}
        taken = 0
        batches = reader.batches(DiscardRejects())
        try:
            for batch in batches:
                for name, column in zip(reader.columns, batch.columns, strict=True):
                    values[name].extend(text_value(v) for v in column.to_pylist()[: n - taken])
                taken += min(batch.num_rows, n - taken)
                if taken >= n:
                    break
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()
        return values
    finally:
        reader.close()


@dataclass
class Preview:
    """What an operator sees before loading: detection results and a few rows."""

    format: str
    columns: list[str]
    source_columns: list[str]
    details: dict[str, Any] = field(default_factory=dict)
    rows: list[list[str | None]] = field(default_factory=list)


def inspect_source(source: Source, n: int = 10) -> Preview:
    """Detected format, encoding, delimiter, cleaned columns and the first rows."""
    values = sample_columns(source, n)
    reader = open_reader(source)
    try:
        details = reader.describe()
        preview = Preview(reader.format, reader.columns, reader.source_columns, details)
    finally:
        reader.close()
    length = max((len(v) for v in values.values()), default=0)
    preview.rows = [[values[c][i] for c in preview.columns] for i in range(length)]
    return preview
