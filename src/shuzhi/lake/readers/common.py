"""Readers: sources, options, hashing and the reader interface every format implements."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import pyarrow as pa

from shuzhi.errors import Invalid
from shuzhi.lake.limits import (
    MAX_LINE_BYTES,
    refuse,
)
from shuzhi.lake.rejects import Reject, RejectReason, RejectSink
from shuzhi.lake.text import (
    CleanCopy,
    Encoding,
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
