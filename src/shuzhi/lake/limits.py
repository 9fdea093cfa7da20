"""What one source may ask of the server, and how a refusal reads.

Every limit is a named constant here (the load worker's time and memory also a setting,
see ``shuzhi.settings``) and is listed in docs/lake.md. A source over a limit is refused
with ``Invalid`` naming the limit, in Chinese and English, before the work it would cause.
"""

from __future__ import annotations

from shuzhi.errors import Invalid

# Columns of a source (header cells of CSV/XLSX, keys of JSON Lines, Parquet or database
# columns). DuckDB's Parquet writer keeps a buffer per column: at its 512 MB cap a load of
# 2,000 text columns peaked at 550 MB resident and 4,000 ran out of memory.
MAX_COLUMNS = 1_000
# Characters of one column name (after trimming).
MAX_COLUMN_NAME_CHARS = 512
# Bytes of the header line of a delimited text file; no line break in that many bytes
# (e.g. a file without any newline) is refused before any parsing.
MAX_HEADER_BYTES = 256 * 1024
# Bytes of one data line (and so of one field): longer lines are rejects, skipped while
# streaming (``ReadOptions.max_line_bytes``).
MAX_LINE_BYTES = 2 * 1024 * 1024
# Fields of one data line of delimited text (delimiters counted, quotes not): lines with
# more are rejects, found before DuckDB parses them (see ``text._Crowding``).
MAX_FIELDS_PER_LINE = 4_096
# Nesting of arrays and objects in one JSON line; deeper lines are rejects.
MAX_JSON_DEPTH = 64
# JSON Lines: the schema (the keys) comes from the first 1,000 lines or this many bytes.
JSONL_SCHEMA_BYTES = 16 * 1024 * 1024
# XLSX (a zip of XML parts), checked from the zip directory before anything is parsed:
# the shared strings are held in memory whole, other parts except worksheets too;
# worksheets are streamed. A part that inflates more than XLSX_MAX_RATIO times (real
# workbooks: 5–20) is a zip bomb.
XLSX_MAX_SHARED_STRINGS_BYTES = 256 * 1024 * 1024
XLSX_MAX_PART_BYTES = 64 * 1024 * 1024
XLSX_MAX_TOTAL_BYTES = 4 * 1024 * 1024 * 1024
XLSX_MAX_RATIO = 250
XLSX_RATIO_FROM_BYTES = 16 * 1024 * 1024
XLSX_MAX_PARTS = 10_000
# The load worker (``shuzhi.lake.worker``): killed after this long, or when its resident
# memory grows past this; both are settings (SHUZHI_LOAD_SECONDS, SHUZHI_LOAD_MEMORY_MB).
LOAD_SECONDS = 1800
LOAD_MEMORY_MB = 2048
# Loads running at once in one server or command; others wait for a free slot.
MAX_CONCURRENT_LOADS = 2


def size_text(n: int) -> str:
    """``n`` bytes as people write it (``256 KiB``, ``2 MiB``, ``4 GiB``)."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} bytes"


def refuse(zh: str, en: str) -> Invalid:
    """The refusal of a source over a limit (field ``source``)."""
    return Invalid.field("source", zh, en)


def too_many_columns(count: int) -> Invalid:
    return refuse(
        f"列数过多：{count:,} 列，超过上限 {MAX_COLUMNS:,} 列。请拆分后再上传。",
        f"Too many columns: {count:,}, above the limit of {MAX_COLUMNS:,}."
        " Split the source and load the parts.",
    )
