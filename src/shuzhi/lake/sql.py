"""SQL text for the query engines: checked names, bound values, one statement shape.

``Compiler`` turns structured requests (``Filter``, ``Order``, measures) into SQL for one
version's schema: every name is checked against the schema and quoted, every value
type-checked against its column and bound as a parameter. ``Dialect`` holds, as data, the few
places where engines spell the same statement differently; ``Statements`` builds each
operation's statement. Nothing here runs a query.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from shuzhi.errors import Invalid

MAX_IN_VALUES = 1000
POSITION = "file_row_number"  # the 0-based row position within the version's file


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


def bad_request(zh: str, en: str) -> Invalid:
    return Invalid.field("query", zh, en)


@dataclass(frozen=True)
class Dialect:
    """What differs in the SQL text between engines, as data: the compiler and the profile
    build one statement shape for every engine and take these pieces from here."""

    name: str
    quote: str  # identifier quote character (doubled inside a name)
    starts_with: str  # literal prefix test: ``{column}``, ``{value}``
    full_match: str  # whole-value regular expression test: ``{column}``, ``{pattern}``
    backslash_escapes: bool  # string literals treat ``\\`` as an escape character
    materialized: str  # how a common table expression is computed once ("": it cannot be)
    nulls_last: str  # appended to each ORDER BY term so nulls sort last in both directions
    timestamp_param: str  # placeholder of a timestamp value; ``?`` binds a datetime as is

    def ident(self, name: str) -> str:
        return self.quote + name.replace(self.quote, self.quote * 2) + self.quote

    def literal(self, text: str) -> str:
        """A constant the platform wrote itself (never user input: user values are bound)."""
        if self.backslash_escapes:
            text = text.replace("\\", "\\\\")
        return "'" + text.replace("'", "''") + "'"

    def matches(self, column: str, pattern: str) -> str:
        return self.full_match.format(column=column, pattern=self.literal(pattern)[1:-1])


DUCKDB = Dialect(
    name="duckdb",
    quote='"',
    starts_with="starts_with({column}, {value})",
    full_match="regexp_full_match({column}, '{pattern}')",
    backslash_escapes=False,
    materialized="AS MATERIALIZED",
    nulls_last="",  # DuckDB's default order
    timestamp_param="?",
)
# Spark SQL: backquoted names; ``rlike`` finds a match anywhere, so the pattern is anchored
# (``\z``: the very end, where ``$`` would also match before a final newline).
SPARK = Dialect(
    name="spark",
    quote="`",
    starts_with="startswith({column}, {value})",
    full_match="{column} RLIKE '^(?:{pattern})\\\\z'",
    backslash_escapes=True,
    materialized="",
    nulls_last=" NULLS LAST",
    # Bound as ISO text and cast in the statement: a bound datetime would be read in the
    # driver's local time zone.
    timestamp_param="CAST(? AS {type})",
)


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
def read_schema(path: str) -> pa.Schema:
    # Versions are immutable, so a schema read once stays true.
    return pq.read_schema(path)


class Compiler:
    """Checks names and values against one version's schema; collects bound parameters."""

    def __init__(self, schema: pa.Schema, dialect: Dialect = DUCKDB) -> None:
        self.types = {name: schema.field(name).type for name in schema.names}
        self.params: list[Any] = []
        self.dialect = dialect

    def column(self, name: Any) -> str:
        if not isinstance(name, str) or name not in self.types:
            raise bad_request(f"没有名为 {name!r} 的列。", f"No column named {name!r}.")
        return self.dialect.ident(name)

    def value(self, column: str, value: Any) -> str:
        if not _accepts(_family(self.types[column]), value):
            raise bad_request(
                f"列 {column} 的条件值类型不符。",
                f"Value {value!r} does not suit column {column!r} ({self.types[column]}).",
            )
        if isinstance(value, dt.datetime) and self.dialect.timestamp_param != "?":
            arrow_type = self.types[column]
            kind = "TIMESTAMP" if getattr(arrow_type, "tz", None) else "TIMESTAMP_NTZ"
            self.params.append(value.isoformat(sep=" "))
            return self.dialect.timestamp_param.format(type=kind)
        self.params.append(value)
        return "?"

    def filter(self, f: Filter) -> str:
        if not isinstance(f, Filter):
            raise bad_request("筛选条件格式错误。", "Malformed filter.")
        try:
            op = Op(f.op)
        except ValueError:
            raise bad_request(
                f"不支持的运算 {f.op!r}。", f"Unsupported operator {f.op!r}."
            ) from None
        col = self.column(f.column)
        if op in (Op.IS_NULL, Op.NOT_NULL):
            if f.value is not None:
                raise bad_request("空值判断不需要条件值。", f"{op} takes no value.")
            return f"{col} IS {'NOT ' if op is Op.NOT_NULL else ''}NULL"
        if op in (Op.IN, Op.NOT_IN):
            values = f.value
            if not isinstance(values, list | tuple | set | frozenset) or not values:
                raise bad_request("in 运算需要非空列表。", f"'{op}' needs a non-empty list.")
            if len(values) > MAX_IN_VALUES:
                raise bad_request("in 列表过长。", f"The '{op}' list is too long.")
            marks = ", ".join(self.value(f.column, v) for v in values)
            return f"{col} {'NOT ' if op is Op.NOT_IN else ''}IN ({marks})"
        if op is Op.LIKE_PREFIX:
            if _family(self.types[f.column]) is not _Family.TEXT:
                raise bad_request("前缀匹配只适用于文本列。", "like_prefix needs a text column.")
            value = self.value(f.column, f.value)
            return self.dialect.starts_with.format(column=col, value=value)
        return f"{col} {_COMPARE[op]} {self.value(f.column, f.value)}"

    def where(self, filters: Sequence[Filter], extra: str | None = None) -> str:
        parts = [self.filter(f) for f in filters]
        if extra:
            parts.append(extra)
        return " WHERE " + " AND ".join(f"({p})" for p in parts) if parts else ""

    def keyset(self, order_by: Sequence[Order], after_key: Sequence[Any]) -> str:
        """Rows strictly after ``after_key`` in ``order_by`` order (expanded, portable form)."""
        if not order_by or len(after_key) != len(order_by):
            raise bad_request("after_key 必须与排序列一一对应。", "after_key must match order_by.")
        if len({o.descending for o in order_by}) != 1:
            raise bad_request("分页排序方向必须一致。", "Keyset paging needs one sort direction.")
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

    def order(self, order_by: Sequence[Order]) -> str:
        nulls = self.dialect.nulls_last
        return ", ".join(
            f"{self.column(o.column)} {'DESC' if o.descending else 'ASC'}{nulls}" for o in order_by
        )


def _limit(limit: Any) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise bad_request("limit 必须是非负整数。", "limit must be a non-negative integer.")
    return limit


def measure_names(measures: Sequence[tuple[AggFunc | str, str | None]]) -> list[str]:
    """The result column of each measure: ``count``, ``sum_amount`` …"""
    return [
        f"{AggFunc(func).value}_{column}" if column else AggFunc(func).value
        for func, column in measures
    ]


class Statements:
    """The statement of each operation over one version, in one dialect.

    ``relation`` names the version's rows (with ``relation_params`` bound first); ``numbered``
    is the same rows with a ``file_row_number`` column.
    """

    def __init__(
        self,
        dialect: Dialect,
        schema: pa.Schema,
        relation: str,
        relation_params: Sequence[Any] = (),
        numbered: str | None = None,
    ) -> None:
        self.dialect = dialect
        self.schema = schema
        self.relation = relation
        self.relation_params = list(relation_params)
        self.numbered = numbered

    def _compiler(self) -> Compiler:
        return Compiler(self.schema, self.dialect)

    def scan(
        self,
        columns: Sequence[str] | None,
        filters: Sequence[Filter],
        order_by: Sequence[Order],
        limit: int | None,
        after_key: Sequence[Any] | None,
    ) -> tuple[str, list[Any]]:
        c = self._compiler()
        selected = ", ".join(c.column(n) for n in (columns or self.schema.names))
        if not selected:
            raise bad_request("至少选择一列。", "Select at least one column.")
        keyset = c.keyset(order_by, after_key) if after_key is not None else None
        where = c.where(filters, keyset)
        orders = c.order(order_by)
        sql = f"SELECT {selected} FROM {self.relation}{where}"
        if orders:
            sql += f" ORDER BY {orders}"
        if limit is not None:
            sql += f" LIMIT {_limit(limit)}"
        return sql, self.relation_params + c.params

    def aggregate(
        self,
        measures: Sequence[tuple[AggFunc | str, str | None]],
        group_by: Sequence[str],
        filters: Sequence[Filter],
    ) -> tuple[str, list[Any]]:
        c = self._compiler()
        if not measures:
            raise bad_request("至少需要一个统计量。", "Give at least one measure.")
        groups = [c.column(g) for g in group_by]
        selected = [f"{g} AS {g}" for g in groups]
        for i, measure in enumerate(measures):
            selected.append(f"{self._measure(c, measure)} AS {self.dialect.ident(f'm{i}')}")
        where = c.where(filters)
        sql = f"SELECT {', '.join(selected)} FROM {self.relation}{where}"
        if groups:
            sql += f" GROUP BY {', '.join(groups)} ORDER BY {c.order([Order(g) for g in group_by])}"
        return sql, self.relation_params + c.params

    @staticmethod
    def _measure(c: Compiler, measure: tuple[AggFunc | str, str | None]) -> str:
        if not isinstance(measure, tuple) or len(measure) != 2:
            raise bad_request("统计量格式错误。", "A measure is (function, column).")
        func_name, column = measure
        try:
            func = AggFunc(func_name)
        except ValueError:
            raise bad_request(
                f"不支持的统计函数 {func_name!r}。", f"Unsupported {func_name!r}."
            ) from None
        if column is None:
            if func is not AggFunc.COUNT:
                raise bad_request("该统计函数需要指定列。", f"{func} needs a column.")
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
                raise bad_request("求和/平均只适用于数值列。", f"{func} needs a numeric column.")
            elif func is AggFunc.AVG and pa.types.is_decimal(c.types[column]):
                # The mean of decimals as the double of the exact sum over the count on every
                # engine (Spark's own would be a decimal rounded to six places).
                return f"CAST(sum({col}) AS DOUBLE) / nullif(count({col}), 0)"
            return f"{func.value}({col})"
        return f"{func.value}({col})"

    def count(self, filters: Sequence[Filter]) -> tuple[str, list[Any]]:
        c = self._compiler()
        return f"SELECT count(*) FROM {self.relation}{c.where(filters)}", (
            self.relation_params + c.params
        )

    def key_positions(self, key_column: str) -> tuple[str, list[Any]]:
        """The position of every row whose ``key_column`` is not null, with its key, ordered
        by key and then position: a stable sort of the rows by key, done by the engine on the
        key column alone (key indexes are built from it)."""
        return self._by_key_and_position(key_column, [key_column, POSITION])

    def key_rows(self, key_column: str, columns: Sequence[str]) -> tuple[str, list[Any]]:
        """``columns`` of every row whose ``key_column`` is not null, ordered by key and then
        position: the same stable sort as ``key_positions``, carrying the rows."""
        return self._by_key_and_position(key_column, columns)

    def _by_key_and_position(
        self, key_column: str, columns: Sequence[str]
    ) -> tuple[str, list[Any]]:
        if self.numbered is None:
            raise bad_request(
                "该引擎不能按行位置读取。", "This engine cannot read by row position."
            )
        if POSITION in self.schema.names:
            raise bad_request(
                f"数据集含有保留列名 {POSITION}，无法按行位置排序。",
                f"The dataset has a column named {POSITION!r}; it cannot be sorted by position.",
            )
        c = self._compiler()
        key = c.column(key_column)
        selected = ", ".join(POSITION if n == POSITION else c.column(n) for n in columns)
        sql = (
            f"SELECT {selected} FROM {self.numbered} WHERE {key} IS NOT NULL"
            f" ORDER BY {key}, {POSITION}"
        )
        return sql, list(self.relation_params)

    def positions(
        self, columns: Sequence[str], filters: Sequence[Filter], after: int, limit: int
    ) -> tuple[str, list[Any]]:
        if self.numbered is None:
            raise bad_request(
                "该引擎不能按行位置读取。", "This engine cannot read by row position."
            )
        if POSITION in self.schema.names:
            raise bad_request(
                f"数据集含有保留列名 {POSITION}，无法按行位置分页。",
                f"The dataset has a column named {POSITION!r}; it cannot be paged by position.",
            )
        if isinstance(after, bool) or not isinstance(after, int) or after < -1:
            raise bad_request("行位置必须是整数。", "A row position is an integer.")
        c = self._compiler()
        selected = ", ".join(c.column(n) for n in columns)
        if not selected:
            raise bad_request("至少选择一列。", "Select at least one column.")
        where = c.where(filters, f"{POSITION} > {int(after)}")
        sql = (
            f"SELECT {POSITION}, {selected} FROM {self.numbered}{where}"
            f" ORDER BY {POSITION} LIMIT {_limit(limit)}"
        )
        return sql, self.relation_params + c.params
