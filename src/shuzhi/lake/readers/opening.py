"""Readers: choosing the reader for a source, sampling columns, previews."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shuzhi.lake.readers.common import (
    SUFFIXES,
    DatabaseSource,
    FileFormat,
    FileSource,
    Reader,
    ReadOptions,
    Source,
    _invalid,
    text_value,
)
from shuzhi.lake.readers.database import DatabaseReader
from shuzhi.lake.readers.delimited import CsvReader
from shuzhi.lake.readers.jsonlines import JsonLinesReader
from shuzhi.lake.readers.parquet import ParquetReader
from shuzhi.lake.readers.workbook import XlsxReader
from shuzhi.lake.rejects import DiscardRejects

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
