"""Readers: delimited text (CSV, TSV, TXT) in UTF-8, GBK or GB18030, through DuckDB."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa

from shuzhi.lake.progress import ByteMeter
from shuzhi.lake.readers.common import (
    PREVIEW_BYTES,
    DuckScan,
    FileSource,
    Reader,
    ReadOptions,
    _existing,
    _hash_file,
    _hasher,
    _invalid,
    engine_error,
)
from shuzhi.lake.rejects import RejectSink
from shuzhi.lake.text import (
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
            con.execute("SET enable_progress_bar = false")  # see ``writer._quiet``
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
