"""The one interface through which dataset contents are read.

Sharing, open data and the sandbox ask for structured operations — scan, lookup, aggregate,
count, profile — never for SQL text, so another engine (Spark, Trino) can implement the same
``QueryEngine`` protocol. Column names are checked against the version's schema and quoted;
values are bound as parameters and type-checked against the column first. What differs
between engines is data in ``EngineCapabilities``.

Semantics every engine must keep: ``ne`` and ``not_in`` do not match nulls (SQL
three-valued logic);
``like_prefix`` is a literal prefix (no wildcards); keyset pagination (``after_key``) skips
rows whose order columns are null; ``sum``/``avg`` over a text column read it as numbers,
non-numeric text counting as null.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from shuzhi.errors import Invalid
from shuzhi.lake.manifest import Version
from shuzhi.lake.profile import Profile, compute_profile


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"
    IN = "in"
    NOT_IN = "not_in"
    LIKE_PREFIX = "like_prefix"
    IS_NULL = "is_null"
    NOT_NULL = "not_null"


class AggFunc(StrEnum):
    COUNT = "count"
    COUNT_DISTINCT = "count_distinct"
    SUM = "sum"
    AVG = "avg"
    MIN = "min"
    MAX = "max"


@dataclass(frozen=True)
class Filter:
    column: str
    op: Op
    value: Any = None


@dataclass(frozen=True)
class Order:
    column: str
    descending: bool = False


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
    max_in_values=1000,
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

    def scan_positions(
        self,
        version: Version,
        columns: Sequence[str],
        filters: Sequence[Filter] = (),
        after: int = -1,
        limit: int = 100,
    ) -> list[tuple[int, dict[str, Any]]]: ...

    def profile(self, version: Version, top_k: int = 10) -> Profile: ...


def _bad(zh: str, en: str) -> Invalid:
    return Invalid.field("query", zh, en)


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Family(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"
    OTHER = "other"


def _family(arrow_type: pa.DataType) -> _Family:
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return _Family.TEXT
    if pa.types.is_integer(arrow_type):
        return _Family.INTEGER
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return _Family.NUMBER
    if pa.types.is_boolean(arrow_type):
        return _Family.BOOLEAN
    if pa.types.is_date(arrow_type):
        return _Family.DATE
    if pa.types.is_timestamp(arrow_type):
        return _Family.TIMESTAMP
    return _Family.OTHER


def _accepts(family: _Family, value: Any) -> bool:
    if isinstance(value, bool):
        return family is _Family.BOOLEAN
    if family is _Family.TEXT:
        if not isinstance(value, str):
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return "\x00" not in value
    if family is _Family.INTEGER:
        return isinstance(value, int) and -(2**63) <= value < 2**63
    if family is _Family.NUMBER:
        if isinstance(value, int):
            return -(2**63) <= value < 2**63
        if isinstance(value, float):
            return math.isfinite(value)
        return isinstance(value, decimal.Decimal) and value.is_finite()
    if family is _Family.DATE:
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if family is _Family.TIMESTAMP:
        return isinstance(value, dt.datetime)
    return False


_COMPARE = {Op.EQ: "=", Op.NE: "<>", Op.LT: "<", Op.LE: "<=", Op.GT: ">", Op.GE: ">="}


@lru_cache(maxsize=512)
def _schema(path: str) -> pa.Schema:
    # Versions are immutable, so a schema read once stays true.
    return pq.read_schema(path)


class _Compiler:
    """Checks names and values against one version's schema; collects bound parameters."""

    def __init__(self, schema: pa.Schema) -> None:
        self.types = {name: schema.field(name).type for name in schema.names}
        self.params: list[Any] = []

    def column(self, name: Any) -> str:
        if not isinstance(name, str) or name not in self.types:
            raise _bad(f"没有名为 {name!r} 的列。", f"No column named {name!r}.")
        return quote_ident(name)

    def value(self, column: str, value: Any) -> str:
        if not _accepts(_family(self.types[column]), value):
            raise _bad(
                f"列 {column} 的条件值类型不符。",
                f"Value {value!r} does not suit column {column!r} ({self.types[column]}).",
            )
        self.params.append(value)
        return "?"

    def filter(self, f: Filter) -> str:
        if not isinstance(f, Filter):
            raise _bad("筛选条件格式错误。", "Malformed filter.")
        try:
            op = Op(f.op)
        except ValueError:
            raise _bad(f"不支持的运算 {f.op!r}。", f"Unsupported operator {f.op!r}.") from None
        col = self.column(f.column)
        if op in (Op.IS_NULL, Op.NOT_NULL):
            if f.value is not None:
                raise _bad("空值判断不需要条件值。", f"{op} takes no value.")
            return f"{col} IS {'NOT ' if op is Op.NOT_NULL else ''}NULL"
        if op in (Op.IN, Op.NOT_IN):
            values = f.value
            if not isinstance(values, list | tuple | set | frozenset) or not values:
                raise _bad("in 运算需要非空列表。", f"'{op}' needs a non-empty list.")
            if len(values) > DUCKDB_CAPABILITIES.max_in_values:
                raise _bad("in 列表过长。", f"The '{op}' list is too long.")
            marks = ", ".join(self.value(f.column, v) for v in values)
            return f"{col} {'NOT ' if op is Op.NOT_IN else ''}IN ({marks})"
        if op is Op.LIKE_PREFIX:
            if _family(self.types[f.column]) is not _Family.TEXT:
                raise _bad("前缀匹配只适用于文本列。", "like_prefix needs a text column.")
            return f"starts_with({col}, {self.value(f.column, f.value)})"
        return f"{col} {_COMPARE[op]} {self.value(f.column, f.value)}"

    def where(self, filters: Sequence[Filter], extra: str | None = None) -> str:
        parts = [self.filter(f) for f in filters]
        if extra:
            parts.append(extra)
        return " WHERE " + " AND ".join(f"({p})" for p in parts) if parts else ""

    def keyset(self, order_by: Sequence[Order], after_key: Sequence[Any]) -> str:
        """Rows strictly after ``after_key`` in ``order_by`` order (expanded, portable form)."""
        if not order_by or len(after_key) != len(order_by):
            raise _bad("after_key 必须与排序列一一对应。", "after_key must match order_by.")
        if len({o.descending for o in order_by}) != 1:
            raise _bad("分页排序方向必须一致。", "Keyset paging needs one sort direction.")
        cmp = "<" if order_by[0].descending else ">"
        terms = []
        for i, order in enumerate(order_by):
            equal = [
                f"{self.column(o.column)} = {self.value(o.column, after_key[j])}"
                for j, o in enumerate(order_by[:i])
            ]
            last = f"{self.column(order.column)} {cmp} {self.value(order.column, after_key[i])}"
            terms.append("(" + " AND ".join([*equal, last]) + ")")
        return " OR ".join(terms)


SPILL_DIR = ".spill"
POSITION = "file_row_number"  # the row position DuckDB adds to a Parquet scan


class DuckDBEngine:
    """``QueryEngine`` over the versions' Parquet files, confined to the lake directory."""

    capabilities = DUCKDB_CAPABILITIES

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

    def _relation(self, version: Version) -> tuple[str, list[Any], pa.Schema]:
        path = version.data_path.resolve()
        if not path.is_relative_to(self.root):
            raise _bad("该版本不在数据湖目录中。", "The version lies outside the lake directory.")
        return "read_parquet(?)", [str(path)], _schema(str(path))

    def scan(
        self,
        version: Version,
        columns: Sequence[str] | None = None,
        filters: Sequence[Filter] = (),
        order_by: Sequence[Order] = (),
        limit: int | None = None,
        after_key: Sequence[Any] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        relation, rel_params, schema = self._relation(version)
        c = _Compiler(schema)
        selected = ", ".join(c.column(n) for n in (columns or schema.names))
        if not selected:
            raise _bad("至少选择一列。", "Select at least one column.")
        keyset = c.keyset(order_by, after_key) if after_key is not None else None
        where = c.where(filters, keyset)
        orders = ", ".join(
            f"{c.column(o.column)} {'DESC' if o.descending else 'ASC'}" for o in order_by
        )
        sql = f"SELECT {selected} FROM {relation}{where}"
        if orders:
            sql += f" ORDER BY {orders}"
        if limit is not None:
            if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
                raise _bad("limit 必须是非负整数。", "limit must be a non-negative integer.")
            sql += f" LIMIT {limit}"
        params = rel_params + c.params
        cursor = self._cursor()
        return self._stream(cursor, sql, params)

    def _stream(self, cursor: Any, sql: str, params: list[Any]) -> Iterator[pa.RecordBatch]:
        try:
            reader = cursor.sql(sql, params=params).to_arrow_reader(self.capabilities.batch_rows)
            yield from reader
        finally:
            cursor.close()

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
        relation, rel_params, schema = self._relation(version)
        c = _Compiler(schema)
        if not measures:
            raise _bad("至少需要一个统计量。", "Give at least one measure.")
        groups = [c.column(g) for g in group_by]
        selected = [f"{g} AS {g}" for g in groups]
        for i, measure in enumerate(measures):
            selected.append(f"{self._measure(c, measure)} AS {quote_ident(f'm{i}')}")
        where = c.where(filters)
        sql = f"SELECT {', '.join(selected)} FROM {relation}{where}"
        if groups:
            sql += f" GROUP BY {', '.join(groups)} ORDER BY {', '.join(groups)}"
        cursor = self._cursor()
        try:
            table: pa.Table = cursor.sql(sql, params=rel_params + c.params).to_arrow_table()
        finally:
            cursor.close()
        names = list(group_by) + [
            f"{AggFunc(func).value}_{column}" if column else AggFunc(func).value
            for func, column in measures
        ]
        return table.rename_columns(names)

    @staticmethod
    def _measure(c: _Compiler, measure: tuple[AggFunc | str, str | None]) -> str:
        if not isinstance(measure, tuple) or len(measure) != 2:
            raise _bad("统计量格式错误。", "A measure is (function, column).")
        func_name, column = measure
        try:
            func = AggFunc(func_name)
        except ValueError:
            raise _bad(f"不支持的统计函数 {func_name!r}。", f"Unsupported {func_name!r}.") from None
        if column is None:
            if func is not AggFunc.COUNT:
                raise _bad("该统计函数需要指定列。", f"{func} needs a column.")
            return "count(*)"
        col = c.column(column)
        family = _family(c.types[column])
        if func is AggFunc.COUNT:
            return f"count({col})"
        if func is AggFunc.COUNT_DISTINCT:
            return f"count(DISTINCT {col})"
        if func in (AggFunc.SUM, AggFunc.AVG):
            if family is _Family.TEXT:
                col = f"TRY_CAST({col} AS DOUBLE)"
            elif family not in (_Family.INTEGER, _Family.NUMBER):
                raise _bad("求和/平均只适用于数值列。", f"{func} needs a numeric column.")
            return f"{func.value}({col})"
        return f"{func.value}({col})"

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
        _, rel_params, schema = self._relation(version)
        if POSITION in schema.names:
            raise _bad(
                f"数据集含有保留列名 {POSITION}，无法按行位置分页。",
                f"The dataset has a column named {POSITION!r}; it cannot be paged by position.",
            )
        if isinstance(after, bool) or not isinstance(after, int) or after < -1:
            raise _bad("行位置必须是整数。", "A row position is an integer.")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise _bad("limit 必须是非负整数。", "limit must be a non-negative integer.")
        c = _Compiler(schema)
        selected = ", ".join(c.column(n) for n in columns)
        if not selected:
            raise _bad("至少选择一列。", "Select at least one column.")
        where = c.where(filters, f"{POSITION} > {int(after)}")
        numbered = "read_parquet(?, file_row_number = true)"
        sql = (
            f"SELECT {POSITION}, {selected} FROM {numbered}{where}"
            f" ORDER BY {POSITION} LIMIT {int(limit)}"
        )
        cursor = self._cursor()
        try:
            table = cursor.sql(sql, params=rel_params + c.params).to_arrow_table()
        finally:
            cursor.close()
        rows = table.to_pylist()
        names = list(columns)
        return [(int(r[POSITION]), {n: r[n] for n in names}) for r in rows]

    def count(self, version: Version, filters: Sequence[Filter] = ()) -> int:
        relation, rel_params, schema = self._relation(version)
        c = _Compiler(schema)
        sql = f"SELECT count(*) FROM {relation}{c.where(filters)}"
        cursor = self._cursor()
        try:
            return int(cursor.execute(sql, rel_params + c.params).fetchone()[0])
        finally:
            cursor.close()

    def profile(self, version: Version, top_k: int = 10) -> Profile:
        relation, rel_params, schema = self._relation(version)
        cursor = self._cursor()
        try:
            numbered = "read_parquet(?, file_row_number = true)"
            return compute_profile(cursor, relation, rel_params, schema, top_k, numbered)
        finally:
            cursor.close()
