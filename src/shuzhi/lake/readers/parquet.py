"""Readers: Parquet files."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from shuzhi.errors import Invalid
from shuzhi.lake.progress import ByteMeter
from shuzhi.lake.readers.common import (
    FileSource,
    Reader,
    ReadOptions,
    _existing,
    _hash_file,
    _invalid,
)
from shuzhi.lake.rejects import RejectSink
from shuzhi.lake.text import (
    clean_names,
)


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
