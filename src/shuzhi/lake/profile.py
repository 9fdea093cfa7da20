"""Per-column profile of a version: inferred type, nulls, distinct estimate, min/max, top values.

Raw versions hold text, so types are inferred: candidates (boolean, five date formats,
datetime, integer, decimal) are tried on a sample (every row up to 20,000 rows, a system
sample of about 20,000 rows above). A column is typed only if every sampled non-null value conforms;
otherwise it stays ``text`` and ``dominant_type`` tells what most values looked like. The
profile describes; the quality layer checks every row.

Top values are raw. Sensitive columns must be masked before anyone sees them:
``profile.masked(mask, columns)`` applies the caller's masking function.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any

import pyarrow as pa

from shuzhi.lake.readers import text_value

SAMPLE_TARGET_ROWS = 20_000
FULL_SCAN_BELOW_ROWS = SAMPLE_TARGET_ROWS
TOP_VALUES_MAX_DISTINCT = 100_000


class InferredType(StrEnum):
    EMPTY = "empty"
    BOOLEAN = "boolean"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"
    TEXT = "text"
    OTHER = "other"


@dataclass(frozen=True)
class Candidate:
    type: InferredType
    label: str  # e.g. the date format, shown to people
    regex: str | None = None
    values: tuple[str, ...] = ()
    cast: str | None = None  # SQL type for numeric min/max

    def match_sql(self, column: str) -> str:
        if self.regex is not None:
            return f"regexp_full_match({column}, '{self.regex}')"
        listed = ", ".join(f"'{v}'" for v in self.values)
        return f"{column} IN ({listed})"


_BOOLEAN_WORDS = tuple(
    v
    for word in ("true", "false", "yes", "no", "t", "f", "y", "n")
    for v in (word, word.upper(), word.capitalize())
)
_MONTH = "(0?[1-9]|1[0-2])"
_DAY = "(0?[1-9]|[12][0-9]|3[01])"
_TIME = "([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,6})?)?"
# Order matters: the first candidate every sampled value matches wins.
CANDIDATES: tuple[Candidate, ...] = (
    Candidate(
        InferredType.BOOLEAN,
        "boolean",
        values=(*_BOOLEAN_WORDS, "是", "否"),
    ),
    Candidate(InferredType.DATE, "YYYY-MM-DD", f"[0-9]{{4}}-{_MONTH}-{_DAY}"),
    Candidate(InferredType.DATE, "YYYY/MM/DD", f"[0-9]{{4}}/{_MONTH}/{_DAY}"),
    Candidate(InferredType.DATE, "YYYY.MM.DD", f"[0-9]{{4}}\\.{_MONTH}\\.{_DAY}"),
    Candidate(
        InferredType.DATE, "YYYYMMDD", "(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])"
    ),
    Candidate(InferredType.DATE, "YYYY年M月D日", f"[0-9]{{4}}年{_MONTH}月{_DAY}日"),
    Candidate(
        InferredType.DATETIME, "YYYY-MM-DD hh:mm:ss", f"[0-9]{{4}}[-/]{_MONTH}[-/]{_DAY}[ T]{_TIME}"
    ),
    Candidate(InferredType.INTEGER, "integer", "[+-]?(0|[1-9][0-9]{0,17})", cast="BIGINT"),
    Candidate(InferredType.DECIMAL, "decimal", "[+-]?(0|[1-9][0-9]*)(\\.[0-9]+)?", cast="DOUBLE"),
)


@dataclass(frozen=True)
class TopValue:
    value: str
    count: int


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    physical_type: str
    inferred_type: InferredType
    format: str | None  # date/datetime format when inferred
    dominant_type: InferredType | None  # for text columns most of whose values had a type
    nonconforming: int  # sampled values not matching ``dominant_type``
    null_count: int
    null_rate: float
    distinct_estimate: int
    min: str | None
    max: str | None
    top_values: tuple[TopValue, ...]


@dataclass(frozen=True)
class Profile:
    row_count: int
    columns: tuple[ColumnProfile, ...]
    type_sample_rows: int

    def column(self, name: str) -> ColumnProfile:
        return next(c for c in self.columns if c.name == name)

    def masked(
        self, mask: Callable[[str, str], str], columns: Collection[str] | None = None
    ) -> Profile:
        """Copy with ``mask(column, value)`` applied to top values and min/max of ``columns``."""

        def hide(c: ColumnProfile) -> ColumnProfile:
            if columns is not None and c.name not in columns:
                return c
            return replace(
                c,
                min=None if c.min is None else mask(c.name, c.min),
                max=None if c.max is None else mask(c.name, c.max),
                top_values=tuple(TopValue(mask(c.name, t.value), t.count) for t in c.top_values),
            )

        return replace(self, columns=tuple(hide(c) for c in self.columns))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _native_type(arrow_type: pa.DataType) -> InferredType:
    if pa.types.is_boolean(arrow_type):
        return InferredType.BOOLEAN
    if pa.types.is_integer(arrow_type):
        return InferredType.INTEGER
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return InferredType.DECIMAL
    if pa.types.is_date(arrow_type):
        return InferredType.DATE
    if pa.types.is_timestamp(arrow_type):
        return InferredType.DATETIME
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return InferredType.TEXT
    return InferredType.OTHER


def _sortable(arrow_type: pa.DataType) -> bool:
    return not (pa.types.is_nested(arrow_type) or pa.types.is_binary(arrow_type))


def _candidates_from_sample(
    cursor: Any, relation: str, params: list[Any], text_columns: list[str], rows: int
) -> tuple[dict[str, tuple[Candidate, int]], int]:
    """Per text column, the best candidate type and how many sampled values do not match it."""
    if not text_columns:
        return {}, 0
    source, source_params = relation, params
    if rows > FULL_SCAN_BELOW_ROWS:
        # Materialise the sample first: DuckDB evaluates expressions before sampling.
        percent = max(0.01, min(100.0, 100.0 * SAMPLE_TARGET_ROWS / rows))
        listed = ", ".join(_ident(n) for n in text_columns)
        cursor.execute(
            f"CREATE OR REPLACE TEMP TABLE profile_sample AS SELECT {listed} FROM {relation}"
            f" USING SAMPLE {percent:.4f}% (system, 42)",
            params,
        )
        source, source_params = "profile_sample", []
    exprs = ["count(*)"]
    for name in text_columns:
        col = _ident(name)
        exprs.append(f"count({col})")
        exprs += [f"count_if({c.match_sql(col)})" for c in CANDIDATES]
    row = cursor.execute(f"SELECT {', '.join(exprs)} FROM {source}", source_params).fetchone()
    if source != relation:
        cursor.execute("DROP TABLE profile_sample")
    sampled = int(row[0])
    chosen: dict[str, tuple[Candidate, int]] = {}
    width = len(CANDIDATES) + 1
    for i, name in enumerate(text_columns):
        nonnull, *matches = row[1 + i * width : 1 + (i + 1) * width]
        if not nonnull:
            continue
        exact = next((c for c, n in zip(CANDIDATES, matches, strict=True) if n == nonnull), None)
        if exact is not None:
            chosen[name] = (exact, 0)
            continue
        best, hits = max(zip(CANDIDATES, matches, strict=True), key=lambda cn: cn[1])
        if hits * 2 >= nonnull:
            chosen[name] = (best, nonnull - hits)
    return chosen, sampled


def compute_profile(
    cursor: Any, relation: str, params: list[Any], schema: pa.Schema, top_k: int = 10
) -> Profile:
    """Profile ``relation`` (SQL text with bound ``params``) using a DuckDB cursor.

    Cost is bounded: types come from a sample; null counts and min/max come from Parquet
    statistics where possible; top values are counted exactly, but only for columns with at
    most ``TOP_VALUES_MAX_DISTINCT`` distinct values (near-unique columns have no useful top).
    """
    names = list(schema.names)
    total = int(cursor.execute(f"SELECT count(*) FROM {relation}", params).fetchone()[0])
    text_columns = [n for n in names if _native_type(schema.field(n).type) is InferredType.TEXT]
    candidates, sampled = _candidates_from_sample(cursor, relation, params, text_columns, total)

    # Two passes: the first is answered from Parquet statistics; the second scans.
    stats_exprs: list[str] = []
    scan_exprs: list[str] = []
    slots: dict[str, dict[str, tuple[int, int]]] = {}

    def add(name: str, key: str, expr: str, scan: bool = False) -> None:
        target = scan_exprs if scan else stats_exprs
        slots.setdefault(name, {})[key] = (int(scan), len(target))
        target.append(expr)

    for name in names:
        col = _ident(name)
        add(name, "nonnull", f"count({col})")
        if not _sortable(schema.field(name).type):
            continue
        add(name, "min", f"min({col})")
        add(name, "max", f"max({col})")
        add(name, "distinct", f"approx_count_distinct({col})", scan=True)
        candidate = candidates.get(name)
        if candidate is not None and candidate[1] == 0 and candidate[0].cast is not None:
            typed = f"TRY_CAST({col} AS {candidate[0].cast})"
            add(name, "tmin", f"min({typed})", scan=True)
            add(name, "tmax", f"max({typed})", scan=True)
    rows = [
        cursor.execute(f"SELECT {', '.join(stats_exprs)} FROM {relation}", params).fetchone(),
        cursor.execute(f"SELECT {', '.join(scan_exprs)} FROM {relation}", params).fetchone()
        if scan_exprs
        else (),
    ]

    def get(name: str, key: str) -> Any:
        which, index = slots[name][key]
        return rows[which][index]

    profiles = []
    for name in names:
        s = slots[name]
        arrow_type = schema.field(name).type
        nonnull = int(get(name, "nonnull"))
        distinct = int(get(name, "distinct")) if "distinct" in s else 0
        inferred, dominant, fmt, bad = _native_type(arrow_type), None, None, 0
        best, misses = candidates.get(name, (None, 0))
        if nonnull == 0:
            inferred = InferredType.EMPTY
        elif best is not None and misses == 0:
            inferred = best.type
            if best.type in (InferredType.DATE, InferredType.DATETIME):
                fmt = best.label
        elif best is not None:
            dominant, bad = best.type, misses
        low = get(name, "tmin") if "tmin" in s else get(name, "min") if "min" in s else None
        high = get(name, "tmax") if "tmax" in s else get(name, "max") if "max" in s else None
        tops: tuple[TopValue, ...] = ()
        if "distinct" in s and nonnull and distinct <= TOP_VALUES_MAX_DISTINCT:
            tops = _top_values(cursor, relation, params, name, top_k)
        profiles.append(
            ColumnProfile(
                name=name,
                physical_type=str(arrow_type),
                inferred_type=inferred,
                format=fmt,
                dominant_type=dominant,
                nonconforming=bad,
                null_count=total - nonnull,
                null_rate=round((total - nonnull) / total, 6) if total else 0.0,
                distinct_estimate=distinct,
                min=text_value(low),
                max=text_value(high),
                top_values=tops,
            )
        )
    return Profile(row_count=total, columns=tuple(profiles), type_sample_rows=sampled)


def _top_values(
    cursor: Any, relation: str, params: list[Any], name: str, top_k: int
) -> tuple[TopValue, ...]:
    col = _ident(name)
    found = cursor.execute(
        f"SELECT {col}, count(*) AS n FROM {relation} WHERE {col} IS NOT NULL"
        f" GROUP BY {col} ORDER BY n DESC, {col} LIMIT {int(top_k)}",
        params,
    ).fetchall()
    return tuple(TopValue(str(text_value(v)), int(n)) for v, n in found)
