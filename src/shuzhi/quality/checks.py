"""Evaluate one quality rule on one version through the query engine.

Set-wise rules are pushed down as structured counts and aggregates (not null, unique,
range on numeric columns, freshness); per-row rules stream column batches through ``scan``
and use Arrow's vectorised kernels (patterns run on RE2, which has no catastrophic
backtracking). Resident IDs are checked vectorised with the same weights and check
characters as ``shuzhi.standards.identifiers``; odd shapes fall back to its validator.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from shuzhi.errors import ErrorCollector
from shuzhi.lake.manifest import Version
from shuzhi.lake.query import AggFunc, Filter, Op, QueryEngine
from shuzhi.quality.models import RuleKind
from shuzhi.standards.dates import parse_date
from shuzhi.standards.identifiers import (
    RIC_CHECK,
    RIC_WEIGHTS,
    is_valid_resident_id,
    is_valid_uscc,
)

SAMPLE_SIZE = 5
MAX_PATTERN = 200
MAX_ALLOWED_VALUES = 1000
MAX_DUPLICATE_GROUPS = 200_000  # above this, duplicates are counted but not sampled
_NUMBER = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$"
_ID18 = r"^[1-9][0-9]{16}[0-9X]$"
_CHECK_CHARS = pa.array(list(RIC_CHECK))


def _group_table(start: int, width: int) -> pa.Array:
    """Weighted digit sum of every ``width``-digit group starting at ``start`` (index = value)."""
    weights = RIC_WEIGHTS[start : start + width]
    sums = []
    for value in range(10**width):
        digits = f"{value:0{width}d}"
        sums.append(sum(int(d) * w for d, w in zip(digits, weights, strict=True)))
    return pa.array(sums, pa.int32())


_GROUP_TABLES = [(start, _group_table(start, 4 if start < 16 else 1)) for start in range(0, 17, 4)]


@dataclass(frozen=True)
class RuleSpec:
    kind: RuleKind
    column: str | None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    checked: int
    failing: int
    sample: list[str] = field(default_factory=list)
    message: str = ""


def validate_rule(spec: RuleSpec, columns_known: set[str] | None = None) -> None:
    """Raise ``Invalid`` listing every problem with a rule's column and parameters."""
    errors = ErrorCollector()
    p = spec.params
    if spec.kind is not RuleKind.FRESHNESS or spec.column is not None:
        if not spec.column:
            errors.add("column", "请指定列。", "Name the column to check.")
        elif columns_known is not None and spec.column not in columns_known:
            errors.add("column", f"没有名为 {spec.column} 的列。", f"No column {spec.column!r}.")
    if spec.kind is RuleKind.PATTERN:
        pattern = p.get("pattern")
        if not isinstance(pattern, str) or not pattern or len(pattern) > MAX_PATTERN:
            errors.add(
                "pattern",
                f"正则表达式必填，且不超过 {MAX_PATTERN} 个字符。",
                f"A pattern is required, at most {MAX_PATTERN} characters.",
            )
        else:
            try:
                re.compile(pattern)
                pc.match_substring_regex(pa.array([""]), _anchored(pattern))
            except (re.error, pa.ArrowInvalid):
                errors.add(
                    "pattern",
                    "正则表达式无效或使用了不支持的语法（如回溯引用、环视）。",
                    "The pattern is invalid or uses unsupported syntax (backreferences,"
                    " lookaround).",
                )
    if spec.kind is RuleKind.RANGE:
        low, high = p.get("min"), p.get("max")
        numbers = [v for v in (low, high) if v is not None]
        if not numbers or not all(isinstance(v, int | float) for v in numbers):
            errors.add("min", "请给出数值下限和/或上限。", "Give a numeric minimum and/or maximum.")
        elif low is not None and high is not None and low > high:
            errors.add("min", "下限不能大于上限。", "The minimum is above the maximum.")
    if spec.kind is RuleKind.ALLOWED_VALUES:
        values = p.get("values")
        if (
            not isinstance(values, list)
            or not values
            or len(values) > MAX_ALLOWED_VALUES
            or not all(isinstance(v, str) for v in values)
        ):
            errors.add(
                "values",
                f"请列出 1–{MAX_ALLOWED_VALUES} 个允许的代码值。",
                f"List 1–{MAX_ALLOWED_VALUES} allowed code values.",
            )
    if spec.kind is RuleKind.REFERENCE and not (
        isinstance(p.get("resource_code"), str) and isinstance(p.get("column"), str)
    ):
        errors.add(
            "reference", "请指定被参照的目录代码和列。", "Name the referenced entry and column."
        )
    if spec.kind is RuleKind.FRESHNESS:
        days = p.get("max_age_days")
        if days is not None and (not isinstance(days, int) or days <= 0):
            errors.add("max_age_days", "须为正整数天数。", "Must be a positive number of days.")
    errors.raise_if_any()


def _anchored(pattern: str) -> str:
    return f"^(?:{pattern})$"


def _column_batches(
    engine: QueryEngine, version: Version, column: str
) -> Iterator[pa.Array | pa.ChunkedArray]:
    for batch in engine.scan(version, [column]):
        yield batch.column(0)


def _text(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return values
    return pc.cast(values, pa.string())


def _stream(
    engine: QueryEngine,
    version: Version,
    column: str,
    bad: Callable[[pa.Array | pa.ChunkedArray], pa.Array | pa.ChunkedArray],
) -> Outcome:
    """Count values for which ``bad`` is true (nulls never fail), keeping a few samples."""
    failing, sample = 0, list[str]()
    for values in _column_batches(engine, version, column):
        flags = pc.and_(pc.fill_null(bad(values), False), pc.is_valid(values))
        count = pc.sum(flags).as_py() or 0
        if count:
            failing += count
            if len(sample) < SAMPLE_SIZE:
                found = pc.filter(values, flags).slice(0, SAMPLE_SIZE - len(sample))
                sample.extend(str(v) for v in found.to_pylist())
    return Outcome(version.row_count, failing, sample)


def resident_id_invalid(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Vectorised ``not is_valid_resident_id`` (null stays null)."""
    text = pc.utf8_upper(pc.utf8_trim_whitespace(_text(values)))
    shaped = pc.match_substring_regex(text, _ID18)
    safe = pc.if_else(shaped, text, pa.scalar("100000190001010000"))
    # Weighted digit sum in four-digit groups: one slice, cast and table lookup per group.
    total: Any = None
    for start, table in _GROUP_TABLES:
        width = 4 if start < 16 else 1
        group = pc.cast(pc.utf8_slice_codeunits(safe, start, start + width), pa.int16())
        term = pc.take(table, group)
        total = term if total is None else pc.add(total, term)
    remainder = pc.subtract(total, pc.multiply(pc.divide(total, 11), 11))
    expected = pc.take(_CHECK_CHARS, remainder)
    check_ok = pc.equal(pc.utf8_slice_codeunits(safe, 17, 18), expected)
    born = pc.strptime(
        pc.utf8_slice_codeunits(safe, 6, 14), format="%Y%m%d", unit="s", error_is_null=True
    )
    valid18 = pc.and_(pc.and_(shaped, check_ok), pc.is_valid(born))
    result = pc.invert(valid18)
    # Other shapes (legacy 15-digit IDs, stray text) are rare: the reference validator decides.
    odd = pc.and_(pc.invert(shaped), pc.is_valid(text))
    if pc.any(odd).as_py():
        verdicts = [not is_valid_resident_id(v) for v in pc.filter(text, odd).to_pylist()]
        result = pc.replace_with_mask(result, odd, pa.array(verdicts, pa.bool_()))
    return pc.if_else(pc.is_valid(text), result, pa.scalar(None, pa.bool_()))


def _uscc_invalid(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    cache: dict[str, bool] = {}
    out: list[bool | None] = []
    for v in _text(values).to_pylist():
        if v is None:
            out.append(None)
            continue
        if v not in cache:
            cache[v] = not is_valid_uscc(v)
        out.append(cache[v])
    return pa.array(out, pa.bool_())


def _numeric_bad(low: float | None, high: float | None) -> Callable[[Any], Any]:
    def bad(values: pa.Array | pa.ChunkedArray) -> Any:
        if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
            numbers = pc.cast(values, pa.float64())
            numeric = pc.is_valid(values)
        else:
            text = _text(values)
            numeric = pc.match_substring_regex(text, _NUMBER)
            numbers = pc.cast(
                pc.utf8_trim_whitespace(pc.if_else(numeric, text, pa.scalar("0"))), pa.float64()
            )
        out = pc.invert(numeric)
        if low is not None:
            out = pc.or_(out, pc.less(numbers, low))
        if high is not None:
            out = pc.or_(out, pc.greater(numbers, high))
        return pc.if_else(pc.is_valid(values), out, pa.scalar(None, pa.bool_()))

    return bad


def _unique(engine: QueryEngine, version: Version, column: str) -> Outcome:
    table = engine.aggregate(version, [(AggFunc.COUNT, column), (AggFunc.COUNT_DISTINCT, column)])
    present, distinct = (int(table.column(i)[0].as_py() or 0) for i in range(2))
    failing = present - distinct
    sample: list[str] = []
    if failing and distinct <= MAX_DUPLICATE_GROUPS:
        groups = engine.aggregate(version, [(AggFunc.COUNT, None)], group_by=[column])
        repeated = groups.filter(pc.greater(groups.column(1), 1))
        sample = [str(v) for v in repeated.column(0).slice(0, SAMPLE_SIZE).to_pylist()]
    return Outcome(version.row_count, failing, sample)


def _reference(
    engine: QueryEngine, version: Version, column: str, target: Version | None, ref_column: str
) -> Outcome:
    if target is None:
        return Outcome(1, 1, [], "referenced dataset has no current version")
    known = engine.aggregate(target, [(AggFunc.COUNT, None)], group_by=[ref_column]).column(0)
    allowed = pc.cast(pc.drop_null(known), pa.string()).combine_chunks()
    return _stream(
        engine, version, column, lambda v: pc.invert(pc.is_in(_text(v), value_set=allowed))
    )


def _freshness(
    engine: QueryEngine, version: Version, column: str, max_age: timedelta | None, now: datetime
) -> Outcome:
    if max_age is None:
        return Outcome(1, 0, [], "no update cycle promise")
    table = engine.aggregate(version, [(AggFunc.MAX, column)])
    newest_raw = table.column(0)[0].as_py()
    newest: date | None = None
    if isinstance(newest_raw, datetime):
        newest = newest_raw.date()
    elif isinstance(newest_raw, date):
        newest = newest_raw
    elif newest_raw is not None:
        newest = parse_date(str(newest_raw))
    if newest is None:
        return Outcome(1, 1, [], "no readable date in the column")
    stale = datetime(newest.year, newest.month, newest.day, tzinfo=UTC) + max_age < now
    return Outcome(1, int(stale), [newest.isoformat()] if stale else [], f"newest {newest}")


def evaluate(
    engine: QueryEngine,
    version: Version,
    spec: RuleSpec,
    *,
    reference: Version | None = None,
    max_age: timedelta | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Run one rule; columns missing from this version make the rule fail as a whole."""
    # Rules may name a column as the source had it (headers are cleaned on load).
    by_source = {c.source_name: c.name for c in version.columns}
    names = {c.name for c in version.columns}
    column = spec.column if spec.column in names else by_source.get(spec.column or "", spec.column)
    if column is not None and column not in names:
        return Outcome(1, 1, [], f"column {column!r} is missing")
    p = spec.params
    kind = spec.kind
    if kind is RuleKind.FRESHNESS:
        days = p.get("max_age_days")
        age = timedelta(days=int(days)) if days else max_age
        return _freshness(engine, version, str(column), age, now or datetime.now(UTC))
    assert column is not None
    if kind is RuleKind.NOT_NULL:
        failing = engine.count(version, [Filter(column, Op.IS_NULL)])
        return Outcome(version.row_count, failing)
    if kind is RuleKind.UNIQUE:
        return _unique(engine, version, column)
    if kind is RuleKind.PATTERN:
        pattern = _anchored(str(p["pattern"]))
        return _stream(
            engine,
            version,
            column,
            lambda v: pc.invert(pc.match_substring_regex(_text(v), pattern)),
        )
    if kind is RuleKind.RANGE:
        return _stream(engine, version, column, _numeric_bad(p.get("min"), p.get("max")))
    if kind is RuleKind.RESIDENT_ID:
        return _stream(engine, version, column, resident_id_invalid)
    if kind is RuleKind.USCC:
        return _stream(engine, version, column, _uscc_invalid)
    if kind is RuleKind.ALLOWED_VALUES:
        allowed = pa.array([str(v) for v in p["values"]], pa.string())
        return _stream(
            engine, version, column, lambda v: pc.invert(pc.is_in(_text(v), value_set=allowed))
        )
    if kind is RuleKind.REFERENCE:
        return _reference(engine, version, column, reference, str(p["column"]))
    raise ValueError(f"unknown rule kind {kind}")  # pragma: no cover
