"""Open data as files: de-identified record batches written as CSV, XLSX, JSON or Parquet.

Every writer is a generator of byte chunks fed batch by batch, so a download of millions of
rows starts at once and holds one batch in memory, never the whole file (XLSX excepted:
the format is a zip whose parts are compressed in one pass, written to a temporary file).
CSV and XLSX cells never run as formulas (``security.cells``): text columns are guarded,
numeric columns stay numbers.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from shuzhi.security.cells import guard_batch, xlsx_row, xlsx_value
from shuzhi.security.masking import MASKERS, MaskLevel, mask, redact

_SHEET_UNSAFE = re.compile(r"[\[\]:*?/\\]")
BOM = "\ufeff".encode()
XLSX_MAX_ROWS = 1_048_575  # a worksheet's limit (one row is the header)
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _masker(category: str, level: MaskLevel):  # type: ignore[no-untyped-def]
    if level is MaskLevel.PARTIAL and category not in MASKERS:
        level = MaskLevel.REDACT

    def apply(value: object) -> str | None:
        if value is None:
            return None
        text = value if isinstance(value, str) else str(value)
        return redact(text) if level is MaskLevel.REDACT else mask(text, category, level)

    return apply


def mask_batches(
    batches: Iterable[pa.RecordBatch], masks: Mapping[str, tuple[str, MaskLevel]]
) -> Iterator[pa.RecordBatch]:
    """The batches with each named column replaced by its masked text."""
    fns = {column: _masker(category, level) for column, (category, level) in masks.items()}
    for batch in batches:
        if not fns or not set(fns) & set(batch.schema.names):
            yield batch
            continue
        arrays, fields = [], []
        for field, array in zip(batch.schema, batch.columns, strict=True):
            fn = fns.get(field.name)
            if fn is None:
                arrays.append(array)
                fields.append(field)
            else:
                arrays.append(pa.array([fn(v) for v in array.to_pylist()], pa.string()))
                fields.append(pa.field(field.name, pa.string()))
        yield pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def csv_chunks(batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """UTF-8 with a byte-order mark, so Excel shows Chinese text correctly."""
    yield BOM
    header = True
    for batch in batches:
        sink = io.BytesIO()
        pacsv.write_csv(guard_batch(batch), sink, pacsv.WriteOptions(include_header=header))
        header = False
        yield sink.getvalue()


def json_chunks(batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """One JSON array of objects, written a batch at a time."""
    yield b"["
    first = True
    for batch in batches:
        rows = batch.to_pylist()
        if not rows:
            continue
        text = ",".join(json.dumps(r, ensure_ascii=False, default=str) for r in rows)
        yield (text if first else "," + text).encode()
        first = False
    yield b"]"


class _Sink(io.RawIOBase):
    """A write-only file that hands its bytes to the generator after each write."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out, self.parts = b"".join(self.parts), []
        return out


def parquet_chunks(batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """A Parquet file, one row group per batch, streamed as the row groups are written."""
    sink = _Sink()
    writer: pq.ParquetWriter | None = None
    for batch in batches:
        if writer is None:
            writer = pq.ParquetWriter(sink, batch.schema, compression="zstd")
        writer.write_batch(batch)
        yield sink.take()
    if writer is not None:
        writer.close()
    yield sink.take()


def xlsx_chunks(batches: Iterable[pa.RecordBatch], title: str) -> Iterator[bytes]:
    """An Excel workbook (write-only mode), read back from a temporary file in chunks."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_SHEET_UNSAFE.sub("", title)[:31] or "data")
    written = 0
    for batch in batches:
        if written == 0:
            sheet.append(xlsx_row(sheet, batch.schema.names))
        for row in zip(*(c.to_pylist() for c in batch.columns), strict=True):
            if written >= XLSX_MAX_ROWS:
                break
            sheet.append([_xlsx(sheet, v) for v in row])
            written += 1
    with tempfile.TemporaryFile() as fh:
        book.save(fh)
        fh.seek(0)
        while chunk := fh.read(1 << 16):
            yield chunk


def _xlsx(sheet: object, value: object) -> object:
    """Numbers stay numbers, text is guarded text, anything else (dates …) is shown as text."""
    if value is None or isinstance(value, int | float | Decimal):
        return value
    return xlsx_value(sheet, value if isinstance(value, str) else str(value))


def chunks(fmt: str, batches: Iterable[pa.RecordBatch], title: str) -> Iterator[bytes]:
    if fmt == "csv":
        return csv_chunks(batches)
    if fmt == "json":
        return json_chunks(batches)
    if fmt == "parquet":
        return parquet_chunks(batches)
    return xlsx_chunks(batches, title)
