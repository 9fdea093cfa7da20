"""The one interface through which dataset contents are read.

Sharing, open data and the sandbox ask for structured operations — scan, lookup, aggregate,
count, profile — never for SQL text, so another engine (Spark, Trino) can implement the same
``QueryEngine`` protocol: ``DuckDBEngine`` here, ``lake.spark.SparkEngine`` for Spark
(``SHUZHI_QUERY_ENGINE``). Both run the statements ``lake.sql.Statements`` builds: column
names checked against the version's schema and quoted, values type-checked against the
column and bound as parameters. What differs between engines is data: ``EngineCapabilities``
(for callers) and ``lake.sql.Dialect`` (the SQL spelling).

Semantics every engine must keep: ``ne`` and ``not_in`` do not match nulls (SQL
three-valued logic);
``like_prefix`` is a literal prefix (no wildcards); keyset pagination (``after_key``) skips
rows whose order columns are null; ``sum``/``avg`` over a text column read it as numbers,
non-numeric text counting as null; nulls sort last in both directions; ``scan_positions``
numbers rows by their 0-based place in the version's file. ``tests/lake/test_engines_agree.py``
holds the engines to identical answers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from shuzhi.lake.manifest import Version
from shuzhi.lake.profile import Profile, compute_profile
from shuzhi.lake.sql import (
    DUCKDB,
    MAX_IN_VALUES,
    POSITION,
    SPARK,
    AggFunc,
    Dialect,
    Filter,
    Op,
    Order,
    Statements,
    bad_request,
    measure_names,
    read_schema,
)

__all__ = [
    "DUCKDB",
    "DUCKDB_CAPABILITIES",
    "POSITION",
    "SPARK",
    "AggFunc",
    "Dialect",
    "DuckDBEngine",
    "EngineCapabilities",
    "Filter",
    "Op",
    "Order",
    "QueryEngine",
]


@dataclass(frozen=True)
class EngineCapabilities:
    """How engines differ, as data (consulted by callers, e.g. to page or to cap IN lists)."""

    name: str
    max_in_values: int
    max_scan_rows: int | None
    keyset_pagination: bool
    approximate_distinct: bool
    batch_rows: int


DUCKDB_CAPABILITIES = EngineCapabilities(
    name="duckdb",
    max_in_values=MAX_IN_VALUES,
    max_scan_rows=None,
    keyset_pagination=True,
    approximate_distinct=True,
    batch_rows=65_536,
)


class QueryEngine(Protocol):
    capabilities: EngineCapabilities

    def scan(
        self,
        version: Version,
        columns: Sequence[str] | None = None,
        filters: Sequence[Filter] = (),
        order_by: Sequence[Order] = (),
        limit: int | None = None,
        after_key: Sequence[Any] | None = None,
    ) -> Iterator[pa.RecordBatch]: ...

    def lookup(
        self,
        version: Version,
        key_column: str,
        value: Any,
        columns: Sequence[str] | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]: ...

    def aggregate(
        self,
        version: Version,
        measures: Sequence[tuple[AggFunc | str, str | None]],
        group_by: Sequence[str] = (),
        filters: Sequence[Filter] = (),
    ) -> pa.Table: ...

    def count(self, version: Version, filters: Sequence[Filter] = ()) -> int: ...

    def column_counts(self, version: Version, column: str) -> tuple[int, int]: ...

    def scan_positions(
        self,
        version: Version,
        columns: Sequence[str],
        filters: Sequence[Filter] = (),
        after: int = -1,
        limit: int = 100,
    ) -> list[tuple[int, dict[str, Any]]]: ...

    def key_positions(self, version: Version, key_column: str) -> Iterator[pa.RecordBatch]: ...

    def key_rows(
        self, version: Version, key_column: str, columns: Sequence[str]
    ) -> Iterator[pa.RecordBatch]: ...

    def profile(self, version: Version, top_k: int = 10) -> Profile: ...

    def relation(self, version: Version) -> tuple[str, list[Any]]: ...

    def run_statement(self, sql: str, params: list[Any]) -> pa.Table: ...

    def close(self) -> None: ...


# Column counts an engine remembers (``StatementEngine.column_counts``); a version never changes,
# so a remembered count is never stale, only dropped to bound memory.
COUNTS_KEPT = 4096
_COUNTS_LOCK = threading.Lock()

SPILL_DIR = ".spill"
# An engine's sorted answer written out under SPILL_DIR (``SparkEngine.key_rows``): one work
# directory per answer, locked while in use (``lake.writer.locked``), removed after.
SORTED_PREFIX = "sorted-"


class StatementEngine:
    """What every engine that runs ``lake.sql`` statements shares: lookups, aggregates and
    position pages are built the same way; an engine supplies ``scan``, ``_statements``
    (the version's statement builder) and ``_table`` (run a statement to an Arrow table)."""

    def scan(
        self,
        version: Version,
        columns: Sequence[str] | None = None,
        filters: Sequence[Filter] = (),
        order_by: Sequence[Order] = (),
        limit: int | None = None,
        after_key: Sequence[Any] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        raise NotImplementedError

    def _statements(self, version: Version) -> Statements:
        raise NotImplementedError

    def _table(self, sql: str, params: list[Any]) -> pa.Table:
        raise NotImplementedError

    def relation(self, version: Version) -> tuple[str, list[Any]]:
        """How a statement reads ``version`` (e.g. ``read_parquet(?)``) and its parameters:
        for statements built from a checked parse tree (the sandbox), never from user text."""
        statements = self._statements(version)
        return statements.relation, list(statements.relation_params)

    def run_statement(self, sql: str, params: list[Any]) -> pa.Table:
        """Run a statement built by a caller that checked it (the sandbox) to an Arrow table."""
        return self._table(sql, params)

    def lookup(
        self,
        version: Version,
        key_column: str,
        value: Any,
        columns: Sequence[str] | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for batch in self.scan(version, columns, [Filter(key_column, Op.EQ, value)], limit=limit):
            rows.extend(batch.to_pylist())
        return rows

    def aggregate(
        self,
        version: Version,
        measures: Sequence[tuple[AggFunc | str, str | None]],
        group_by: Sequence[str] = (),
        filters: Sequence[Filter] = (),
    ) -> pa.Table:
        sql, params = self._statements(version).aggregate(measures, group_by, filters)
        return self._table(sql, params).rename_columns(list(group_by) + measure_names(measures))

    def column_counts(self, version: Version, column: str) -> tuple[int, int]:
        """How many values ``column`` holds and how many distinct ones (nulls in neither):
        what a uniqueness rule, a dataset's grade (its individuals), the sandbox's one-row-per-
        person check and a key index's build each ask of a version. On a large version the
        distinct count is the costly part (it spills), and a load asks it twice at once (the
        quality rules beside the grade), so it is counted once per engine and remembered: by
        the version's data file and its digest, which never change. A caller asking while the
        count runs waits for it; a failed count is not remembered."""
        key = (str(version.data_path), version.data_file_sha256, column)
        with _COUNTS_LOCK:
            counts: dict[tuple[str, str, str], Future[tuple[int, int]]]
            counts = self.__dict__.setdefault("_column_counts", {})
            found = counts.get(key)
            owner = found is None
            if found is None:
                if len(counts) >= COUNTS_KEPT:
                    for done in [k for k, f in counts.items() if f.done()]:
                        del counts[done]
                found = counts[key] = Future()
        if not owner:
            return found.result()
        try:
            table = self.aggregate(
                version, [(AggFunc.COUNT, column), (AggFunc.COUNT_DISTINCT, column)]
            )
            values, distinct = (int(table.column(i)[0].as_py() or 0) for i in range(2))
        except BaseException as exc:
            with _COUNTS_LOCK:
                counts.pop(key, None)
            found.set_exception(exc)
            raise
        found.set_result((values, distinct))
        return values, distinct

    def scan_positions(
        self,
        version: Version,
        columns: Sequence[str],
        filters: Sequence[Filter] = (),
        after: int = -1,
        limit: int = 100,
    ) -> list[tuple[int, dict[str, Any]]]:
        """Rows in stored order after row position ``after`` (0-based), each with its position:
        pages whose order depends on no value (the gateway's, see security.disclosure)."""
        sql, params = self._statements(version).positions(columns, filters, after, limit)
        return positioned(self._table(sql, params), columns)


class DuckDBEngine(StatementEngine):
    """``QueryEngine`` over the versions' Parquet files, confined to the lake directory."""

    capabilities = DUCKDB_CAPABILITIES
    dialect = DUCKDB

    def __init__(self, root: Path, *, threads: int | None = None, memory_limit: str = "384MB"):
        import duckdb

        self.root = root.resolve()
        self._db = duckdb.connect()
        # Bounded memory: large aggregates (exact distinct counts of near-unique columns) spill
        # to a directory inside the lake instead of growing the process.
        self._db.execute("SET memory_limit = ?", [memory_limit])
        self._db.execute("SET temp_directory = ?", [str(self.root / SPILL_DIR)])
        if threads:
            self._db.execute(f"SET threads = {int(threads)}")
        # Defence in depth: the engine can read the lake and nothing else, and no query can
        # lift that restriction.
        self._db.execute("SET allowed_directories = ?", [[str(self.root) + "/"]])
        self._db.execute("SET enable_external_access = false")
        self._db.execute("SET lock_configuration = true")
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def _cursor(self) -> Any:
        # One cursor per operation: safe across threads and across interleaved scans.
        with self._lock:
            return self._db.cursor()

    def _statements(self, version: Version) -> Statements:
        path = version.data_path.resolve()
        if not path.is_relative_to(self.root):
            raise bad_request(
                "该版本不在数据湖目录中。", "The version lies outside the lake directory."
            )
        return Statements(
            DUCKDB,
            read_schema(str(path)),
            "read_parquet(?)",
            [str(path)],
            numbered="read_parquet(?, file_row_number = true)",
        )

    def scan(
        self,
        version: Version,
        columns: Sequence[str] | None = None,
        filters: Sequence[Filter] = (),
        order_by: Sequence[Order] = (),
        limit: int | None = None,
        after_key: Sequence[Any] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        sql, params = self._statements(version).scan(columns, filters, order_by, limit, after_key)
        cursor = self._cursor()
        return self._stream(cursor, sql, params)

    def key_positions(self, version: Version, key_column: str) -> Iterator[pa.RecordBatch]:
        """(key, row position) of every row with a key, sorted by key then position, streamed
        in batches: what a key index of one part is built from (``Statements.key_positions``)."""
        sql, params = self._statements(version).key_positions(key_column)
        return self._stream(self._cursor(), sql, params)

    def key_rows(
        self, version: Version, key_column: str, columns: Sequence[str]
    ) -> Iterator[pa.RecordBatch]:
        """``columns`` of every row with a key, sorted by key then position, streamed in
        batches (the sort spills within the memory limit): how a key index of many parts is
        built in one pass (``Statements.key_rows``)."""
        sql, params = self._statements(version).key_rows(key_column, columns)
        return self._stream(self._cursor(), sql, params)

    def _stream(self, cursor: Any, sql: str, params: list[Any]) -> Iterator[pa.RecordBatch]:
        try:
            reader = cursor.sql(sql, params=params).to_arrow_reader(self.capabilities.batch_rows)
            yield from reader
        finally:
            cursor.close()

    def _table(self, sql: str, params: list[Any]) -> pa.Table:
        cursor = self._cursor()
        try:
            table: pa.Table = cursor.sql(sql, params=params).to_arrow_table()
            return table
        finally:
            cursor.close()

    def count(self, version: Version, filters: Sequence[Filter] = ()) -> int:
        sql, params = self._statements(version).count(filters)
        cursor = self._cursor()
        try:
            return int(cursor.execute(sql, params).fetchone()[0])
        finally:
            cursor.close()

    def profile(self, version: Version, top_k: int = 10) -> Profile:
        statements = self._statements(version)
        cursor = self._cursor()
        try:
            return compute_profile(
                cursor,
                statements.relation,
                statements.relation_params,
                statements.schema,
                top_k,
                statements.numbered,
            )
        finally:
            cursor.close()


def positioned(table: pa.Table, columns: Sequence[str]) -> list[tuple[int, dict[str, Any]]]:
    """``scan_positions``' answer from a table of the position and the selected columns."""
    names = list(columns)
    return [(int(r[POSITION]), {n: r[n] for n in names}) for r in table.to_pylist()]
