"""Readers: database tables and queries, hashed as Arrow batches."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from shuzhi.errors import Invalid
from shuzhi.lake.credentials import mask_url
from shuzhi.lake.readers.common import (
    CANONICAL_BATCH_ROWS,
    DatabaseSource,
    Reader,
    ReadOptions,
    _hasher,
    _invalid,
    _string_batch,
    text_value,
)
from shuzhi.lake.rejects import RejectSink
from shuzhi.lake.text import (
    clean_names,
)


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
