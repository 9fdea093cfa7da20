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

from shuzhi.lake.readers.common import (
    CANONICAL_BATCH_ROWS,
    HASH_DOMAIN,
    JSONL_SCHEMA_LINES,
    PREVIEW_BYTES,
    SUFFIXES,
    DatabaseSource,
    DuckScan,
    FileFormat,
    FileSource,
    Reader,
    ReadOptions,
    Source,
    engine_error,
    sql_literal,
    text_value,
)
from shuzhi.lake.readers.database import DatabaseReader
from shuzhi.lake.readers.delimited import CsvReader
from shuzhi.lake.readers.jsonlines import JsonLinesReader
from shuzhi.lake.readers.opening import (
    Preview,
    file_format,
    inspect_source,
    open_reader,
    sample_columns,
)
from shuzhi.lake.readers.parquet import ParquetReader
from shuzhi.lake.readers.workbook import XlsxReader, check_xlsx_archive

__all__ = [
    "CANONICAL_BATCH_ROWS",
    "HASH_DOMAIN",
    "JSONL_SCHEMA_LINES",
    "PREVIEW_BYTES",
    "SUFFIXES",
    "CsvReader",
    "DatabaseReader",
    "DatabaseSource",
    "DuckScan",
    "FileFormat",
    "FileSource",
    "JsonLinesReader",
    "ParquetReader",
    "Preview",
    "ReadOptions",
    "Reader",
    "Source",
    "XlsxReader",
    "check_xlsx_archive",
    "engine_error",
    "file_format",
    "inspect_source",
    "open_reader",
    "sample_columns",
    "sql_literal",
    "text_value",
]
