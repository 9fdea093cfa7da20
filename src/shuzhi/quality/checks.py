"""Evaluate a version's quality rules through the query engine.

Set-wise rules are pushed down as structured counts and aggregates (not null, unique,
freshness); per-row rules (pattern, range, resident ID, USCC, allowed values, reference)
share one ``scan`` of the columns they need and use Arrow's vectorised kernels (patterns run
on RE2, which has no catastrophic backtracking). Resident IDs of the plain 18-character
shape are checked on their bytes by the rules of the one resident-ID validator
(``shuzhi.standards.resident_id``: check character, a real birth date from 1890 up to today, a
GB/T 2260 division code); other shapes fall back to the validator itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
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
from shuzhi.standards.divisions import division_codes
from shuzhi.standards.identifiers import RIC_CHECK, RIC_WEIGHTS, is_valid_uscc
from shuzhi.standards.resident_id import EARLIEST_BIRTH_YEAR, is_valid_resident_id

SAMPLE_SIZE = 5
MAX_PATTERN = 200
MAX_ALLOWED_VALUES = 1000
MAX_DUPLICATE_GROUPS = 200_000  # above this, duplicates are counted but not sampled
_NUMBER = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$"
_ID18 = r"^[1-9][0-9]{16}[0-9X]$"
_CHECK_CHARS = pa.array(list(RIC_CHECK))
_TEXT_TYPES = ("string", "large_string")


def _group_table(start: int, width: int) -> pa.Array:
    """Weighted digit sum of every ``width``-digit group starting at ``start`` (index = value)."""
    weights = RIC_WEIGHTS[start : start + width]
    sums = []
    for value in range(10**width):
        digits = f"{value:0{width}d}"
        sums.append(sum(int(d) * w for d, w in zip(digits, weights, strict=True)))
    return pa.array(sums, pa.int32())


_GROUP_TABLES = [(start, _group_table(start, 4 if start < 16 else 1)) for start in range(0, 17, 4)]

# Byte-level tables for plain 18-character IDs (see ``_plain_resident_ids``).
_NOT_DIGIT = 1000  # larger than any weighted digit sum, so one non-digit spoils the sum
_DIGIT_OF_BYTE = pa.array([b - 48 if 48 <= b <= 57 else _NOT_DIGIT for b in range(256)], pa.int32())
# The 18th character: digits and X as themselves, x as X (IDs are upper-cased), others 0.
_CHECK_OF_BYTE = pa.array(
    [b if 48 <= b <= 57 or b == 88 else 88 if b == 120 else 0 for b in range(256)], pa.uint8()
)
_CHECK_OF_SUM = pa.array(
    [ord(RIC_CHECK[total % 11]) for total in range(9 * sum(RIC_WEIGHTS) + 1)], pa.uint8()
)
_IS_LEAP = pa.array([y % 4 == 0 and (y % 100 != 0 or y % 400 == 0) for y in range(10_000)])
_DIVISIONS = pa.array(sorted(int(c) for c in division_codes()), pa.int32())
_DIVISION_TEXTS = pa.array(sorted(division_codes()), pa.string())
_MONTH_DAYS = pa.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] + [0] * 87, pa.int32())


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
    if spec.kind is RuleKind.CROSS_SOURCE:
        errors.add(
            "kind",
            "基础库比对由基础库运行产生，不能手工定义。",
            "Base-library cross-checks come from base-library runs; they cannot be defined.",
        )
        errors.raise_if_any()
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


def _text(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return values
    return pc.cast(values, pa.string())


Predicate = Callable[[pa.Array | pa.ChunkedArray], pa.Array | pa.ChunkedArray]


@dataclass
class _RowRule:
    """A per-row rule while its column streams by: failing values counted, a few kept."""

    column: str
    bad: Predicate
    failing: int = 0
    sample: list[str] = field(default_factory=list)

    def feed(self, values: pa.Array | pa.ChunkedArray) -> None:
        flags = pc.and_(pc.fill_null(self.bad(values), False), pc.is_valid(values))
        count = pc.sum(flags).as_py() or 0
        if count:
            self.failing += count
            if len(self.sample) < SAMPLE_SIZE:
                found = pc.filter(values, flags).slice(0, SAMPLE_SIZE - len(self.sample))
                self.sample.extend(str(v) for v in found.to_pylist())


def _stream(engine: QueryEngine, version: Version, rules: list[_RowRule]) -> None:
    """One scan of the columns the per-row rules need; nulls never fail."""
    if not rules:
        return
    columns = list(dict.fromkeys(r.column for r in rules))
    for batch in engine.scan(version, columns):
        for rule in rules:
            rule.feed(batch.column(columns.index(rule.column)))


def _i32(value: int) -> pa.Scalar:
    # Typed scalars keep the kernels on int32; a Python int would widen every array to int64.
    return pa.scalar(value, pa.int32())


def _plain_resident_ids(text: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    """(plain, invalid): the verdict for values of exactly 18 bytes, 17 ASCII digits (the first
    not 0) and a digit, X or x, decided from their bytes; ``plain`` is false for the others.
    """
    n = len(text)
    fixed = pc.fill_null(pc.equal(pc.binary_length(text), pa.scalar(18, pa.int32())), False)
    data = text.buffers()[2]
    if data is None or data.size < 18 or not pc.any(fixed).as_py():
        return fixed, None
    raw = pa.Array.from_buffers(pa.uint8(), data.size, [None, data])
    offset_type = pa.int64() if pa.types.is_large_string(text.type) else pa.int32()
    offsets = pa.Array.from_buffers(offset_type, n, [None, text.buffers()[1]], offset=text.offset)
    starts = pc.if_else(fixed, offsets, pa.scalar(0, offset_type))
    digits = [pc.take(_DIGIT_OF_BYTE, pc.take(raw.slice(j), starts)) for j in range(17)]
    check = pc.take(_CHECK_OF_BYTE, pc.take(raw.slice(17), starts))
    total: Any = None
    for digit, weight in zip(digits, RIC_WEIGHTS, strict=True):
        term = pc.multiply(digit, _i32(weight))
        total = term if total is None else pc.add(total, term)
    plain = pc.and_(
        pc.and_(fixed, pc.less(total, _i32(_NOT_DIGIT))),
        pc.and_(pc.not_equal(digits[0], _i32(0)), pc.not_equal(check, pa.scalar(0, pa.uint8()))),
    )
    check_ok = pc.equal(check, pc.take(_CHECK_OF_SUM, pc.if_else(plain, total, _i32(0))))

    def number(part: list[Any]) -> Any:
        value = part[0]
        for digit in part[1:]:
            value = pc.add(pc.multiply(value, _i32(10)), digit)
        return pc.if_else(plain, value, _i32(0))

    year, month, day = number(digits[6:10]), number(digits[10:12]), number(digits[12:14])
    leap_day = pc.cast(pc.and_(pc.equal(month, _i32(2)), pc.take(_IS_LEAP, year)), pa.int32())
    days = pc.add(pc.take(_MONTH_DAYS, month), leap_day)
    born = pc.and_(
        pc.and_(pc.greater_equal(year, _i32(1)), pc.greater_equal(day, _i32(1))),
        pc.less_equal(day, days),
    )
    yyyymmdd = pc.add(pc.add(pc.multiply(year, _i32(10_000)), pc.multiply(month, _i32(100))), day)
    region = pc.is_in(number(digits[0:6]), value_set=_DIVISIONS)
    valid = pc.and_(pc.and_(check_ok, born), pc.and_(_plausible_birth(yyyymmdd), region))
    return plain, pc.invert(valid)


def _plausible_birth(yyyymmdd: Any) -> Any:
    """Born from 1890 up to today, as the validator requires (``yyyymmdd`` as int32)."""
    today = int(date.today().strftime("%Y%m%d"))
    return pc.and_(
        pc.greater_equal(yyyymmdd, _i32(EARLIEST_BIRTH_YEAR * 10_000 + 101)),
        pc.less_equal(yyyymmdd, _i32(today)),
    )


def _resident_id_invalid_general(text: pa.Array) -> pa.Array:
    """Any shape: trimmed and upper-cased first; legacy and stray shapes by the validator."""
    text = pc.utf8_upper(pc.utf8_trim_whitespace(text))
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
    region = pc.is_in(pc.utf8_slice_codeunits(safe, 0, 6), value_set=_DIVISION_TEXTS)
    in_range = _plausible_birth(pc.cast(pc.utf8_slice_codeunits(safe, 6, 14), pa.int32()))
    valid18 = pc.and_(
        pc.and_(pc.and_(shaped, check_ok), pc.is_valid(born)), pc.and_(region, in_range)
    )
    result = pc.invert(valid18)
    # Other shapes (legacy 15-digit IDs, stray text) are rare: the reference validator decides.
    odd = pc.and_(pc.invert(shaped), pc.is_valid(text))
    if pc.any(odd).as_py():
        verdicts = [not is_valid_resident_id(v) for v in pc.filter(text, odd).to_pylist()]
        result = pc.replace_with_mask(result, odd, pa.array(verdicts, pa.bool_()))
    return pc.if_else(pc.is_valid(text), result, pa.scalar(None, pa.bool_()))


def resident_id_invalid(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Vectorised ``not is_valid_resident_id`` (null stays null)."""
    if isinstance(values, pa.ChunkedArray):
        return pa.chunked_array([resident_id_invalid(c) for c in values.chunks], pa.bool_())
    text = _text(values)
    plain, invalid = _plain_resident_ids(text)
    if invalid is None:
        return _resident_id_invalid_general(text)
    result = pc.if_else(plain, invalid, pa.scalar(None, pa.bool_()))
    rest = pc.and_(pc.invert(plain), pc.is_valid(text))
    if pc.any(rest).as_py():
        general = _resident_id_invalid_general(pc.filter(text, rest))
        result = pc.replace_with_mask(result, rest, general)
    return result


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
            # Plain decimals (digits and at most one point) need no regular expression.
            plain = pc.ascii_is_decimal(pc.replace_substring(text, ".", "", max_replacements=1))
            if pc.all(plain).as_py():
                numeric = pc.is_valid(text)
                numbers = pc.cast(text, pa.float64())
            else:
                numeric = pc.match_substring_regex(text, _NUMBER)
                numbers = pc.cast(
                    pc.utf8_trim_whitespace(pc.if_else(numeric, text, pa.scalar("0"))),
                    pa.float64(),
                )
        out = pc.invert(numeric)
        if low is not None:
            out = pc.or_(out, pc.less(numbers, low))
        if high is not None:
            out = pc.or_(out, pc.greater(numbers, high))
        return pc.if_else(pc.is_valid(values), out, pa.scalar(None, pa.bool_()))

    return bad


def _unique(engine: QueryEngine, version: Version, column: str) -> Outcome:
    present, distinct = engine.column_counts(version, column)
    failing = present - distinct
    sample: list[str] = []
    if failing and distinct <= MAX_DUPLICATE_GROUPS:
        groups = engine.aggregate(version, [(AggFunc.COUNT, None)], group_by=[column])
        repeated = groups.filter(pc.greater(groups.column(1), 1))
        sample = [str(v) for v in repeated.column(0).slice(0, SAMPLE_SIZE).to_pylist()]
    return Outcome(version.row_count, failing, sample)


def _not_allowed(
    engine: QueryEngine, version: Version, column: str, values: Sequence[Any]
) -> Outcome:
    """Allowed codes of a text column, counted by the engine (nulls never fail)."""
    outside = [Filter(column, Op.NOT_IN, sorted({str(v) for v in values}))]
    failing = engine.count(version, outside)
    sample: list[str] = []
    if failing:
        for batch in engine.scan(version, [column], outside, limit=SAMPLE_SIZE):
            sample.extend(str(v) for v in batch.column(0).to_pylist())
    return Outcome(version.row_count, failing, sample)


def _in_reference(engine: QueryEngine, target: Version, ref_column: str) -> Predicate:
    known = engine.aggregate(target, [(AggFunc.COUNT, None)], group_by=[ref_column]).column(0)
    allowed = pc.cast(pc.drop_null(known), pa.string()).combine_chunks()
    return lambda v: pc.invert(pc.is_in(_text(v), value_set=allowed))


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


def _row_predicate(spec: RuleSpec) -> Predicate | None:
    p = spec.params
    if spec.kind is RuleKind.PATTERN:
        pattern = _anchored(str(p["pattern"]))
        return lambda v: pc.invert(pc.match_substring_regex(_text(v), pattern))
    if spec.kind is RuleKind.RANGE:
        return _numeric_bad(p.get("min"), p.get("max"))
    if spec.kind is RuleKind.RESIDENT_ID:
        return resident_id_invalid
    if spec.kind is RuleKind.USCC:
        return _uscc_invalid
    if spec.kind is RuleKind.ALLOWED_VALUES:
        allowed = pa.array([str(v) for v in p["values"]], pa.string())
        return lambda v: pc.invert(pc.is_in(_text(v), value_set=allowed))
    return None


def evaluate_all(
    engine: QueryEngine,
    version: Version,
    specs: Sequence[RuleSpec],
    *,
    references: Mapping[int, Version | None] | None = None,
    max_age: timedelta | None = None,
    now: datetime | None = None,
) -> list[Outcome]:
    """Run rules (``references``: the referenced version per index of a reference rule); the
    per-row rules share one scan. A column missing from this version fails its rule as a whole.
    """
    # Rules may name a column as the source had it (headers are cleaned on load).
    by_source = {c.source_name: c.name for c in version.columns}
    types = version.column_types()
    names = set(types)
    outcomes: dict[int, Outcome] = {}
    streamed: list[tuple[int, _RowRule]] = []
    pushed_down: list[tuple[int, RuleKind, str]] = []
    for index, spec in enumerate(specs):
        column = (
            spec.column if spec.column in names else by_source.get(spec.column or "", spec.column)
        )
        if column is not None and column not in names:
            outcomes[index] = Outcome(1, 1, [], f"column {column!r} is missing")
            continue
        kind = spec.kind
        if kind is RuleKind.FRESHNESS:
            days = spec.params.get("max_age_days")
            age = timedelta(days=int(days)) if days else max_age
            outcomes[index] = _freshness(
                engine, version, str(column), age, now or datetime.now(UTC)
            )
            continue
        assert column is not None
        if kind in (RuleKind.NOT_NULL, RuleKind.UNIQUE) or (
            kind is RuleKind.ALLOWED_VALUES and types[column] in _TEXT_TYPES
        ):
            pushed_down.append((index, kind, column))
            continue
        bad: Predicate | None
        if kind is RuleKind.REFERENCE:
            target = (references or {}).get(index)
            if target is None:
                outcomes[index] = Outcome(1, 1, [], "referenced dataset has no current version")
                continue
            bad = _in_reference(engine, target, str(spec.params["column"]))
        else:
            bad = _row_predicate(spec)
        if bad is None:  # pragma: no cover
            raise ValueError(f"unknown rule kind {kind}")
        streamed.append((index, _RowRule(column, bad)))
    # The scan first: its Arrow work is single-threaded, the aggregates after it are not, so
    # this order leaves less single-threaded work at the end when run beside the profile.
    _stream(engine, version, [rule for _, rule in streamed])
    for index, rule in streamed:
        outcomes[index] = Outcome(version.row_count, rule.failing, rule.sample)
    for index, kind, column in pushed_down:
        if kind is RuleKind.NOT_NULL:
            failing = engine.count(version, [Filter(column, Op.IS_NULL)])
            outcomes[index] = Outcome(version.row_count, failing)
        elif kind is RuleKind.ALLOWED_VALUES:
            outcomes[index] = _not_allowed(engine, version, column, specs[index].params["values"])
        else:
            outcomes[index] = _unique(engine, version, column)
    return [outcomes[i] for i in range(len(specs))]


def evaluate(
    engine: QueryEngine,
    version: Version,
    spec: RuleSpec,
    *,
    reference: Version | None = None,
    max_age: timedelta | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Run one rule (see ``evaluate_all``)."""
    return evaluate_all(
        engine, version, [spec], references={0: reference}, max_age=max_age, now=now
    )[0]
