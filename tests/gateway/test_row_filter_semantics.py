"""A keyed lookup checks the rows it reads against the grant's row filter in Python
(``filters.matches``); pages and exports have the engine apply it. Both get the filter made by
``filters.conform`` from the version's column types, and must agree on every row, for every
type family the lake stores and whatever the engine's session time zone. Where Python cannot
answer exactly, the row is not served, whatever the operator."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shuzhi.gateway.filters import Unfit, conform, matches
from shuzhi.lake.query import DuckDBEngine, Filter, Op
from tests.gateway.helpers import parquet_version

INT64 = 2**63
UTC8 = dt.timezone(dt.timedelta(hours=8))

Values = Callable[[list[Any]], st.SearchStrategy[Any]]  # the stored rows → filter values


@dataclass(frozen=True)
class Family:
    name: str
    arrow: pa.DataType
    rows: st.SearchStrategy[Any]
    values: Values  # values a decision can store for the column (sharing.filters)


def _near(derive: Callable[[Any], Any], general: st.SearchStrategy[Any]) -> Values:
    """Filter values taken from the stored rows (the boundaries that matter) or anywhere."""

    def values(rows: list[Any]) -> st.SearchStrategy[Any]:
        derived = [d for r in rows if r is not None for d in derive(r)]
        return st.one_of(st.sampled_from(derived), general) if derived else general

    return values


def _numbers_near(row: Any) -> list[Any]:
    if isinstance(row, float) and not (row == row and abs(row) < float("inf")):
        return []
    out: list[Any] = [float(row)]
    if -INT64 <= int(row) < INT64:
        out.append(int(row))
    return out


def _ints_near(row: int) -> list[int]:
    return [v for v in (row - 1, row, row + 1) if -INT64 <= v < INT64]


def _stamps_near(row: dt.datetime) -> list[dt.datetime]:
    wall = row.replace(tzinfo=None)
    in_utc = row.astimezone(dt.UTC).replace(tzinfo=None) if row.tzinfo else row
    return [wall, in_utc, in_utc.replace(tzinfo=dt.UTC), wall.replace(tzinfo=UTC8)]


INT64S = st.integers(-INT64, INT64 - 1)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)
NUMBERS = st.one_of(INT64S, FLOATS, st.integers(-(2**25), 2**25))
MOMENTS = st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1))
STAMPS = st.one_of(MOMENTS, MOMENTS.map(lambda m: m.replace(tzinfo=UTC8)))
TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=4)


def _decimals(digits: int, scale: int) -> st.SearchStrategy[decimal.Decimal]:
    """Every value of DECIMAL(digits, scale), built exactly (no context rounding)."""
    unscaled = st.integers(-(10**digits) + 1, 10**digits - 1)
    return unscaled.map(lambda n: decimal.Decimal(f"{n}E-{scale}"))


FAMILIES = [
    Family("int64", pa.int64(), INT64S, _near(_ints_near, INT64S)),
    Family("int8", pa.int8(), st.integers(-128, 127), _near(_ints_near, INT64S)),
    Family("uint64", pa.uint64(), st.integers(0, 2**64 - 1), _near(_ints_near, INT64S)),
    Family("double", pa.float64(), st.floats(), _near(_numbers_near, NUMBERS)),
    Family("float", pa.float32(), st.floats(width=32), _near(_numbers_near, NUMBERS)),
    Family("decimal(5,1)", pa.decimal128(5, 1), _decimals(5, 1), _near(_numbers_near, NUMBERS)),
    Family("decimal(18,4)", pa.decimal128(18, 4), _decimals(18, 4), _near(_numbers_near, NUMBERS)),
    Family(
        "decimal(38,30)", pa.decimal128(38, 30), _decimals(38, 30), _near(_numbers_near, NUMBERS)
    ),
    Family("text", pa.string(), TEXT, _near(lambda r: [r, r[:1], r + "a"], TEXT)),
    Family("bool", pa.bool_(), st.booleans(), lambda rows: st.booleans()),
    Family("date", pa.date32(), st.dates(), _near(lambda r: [r], st.dates())),
    Family("timestamp", pa.timestamp("us"), MOMENTS, _near(_stamps_near, STAMPS)),
    Family(
        "timestamp[s]",
        pa.timestamp("s"),
        MOMENTS.map(lambda m: m.replace(microsecond=0)),
        _near(_stamps_near, STAMPS),
    ),
    Family(
        "timestamp tz=UTC",
        pa.timestamp("us", tz="UTC"),
        MOMENTS.map(lambda m: m.replace(tzinfo=dt.UTC)),
        _near(_stamps_near, STAMPS),
    ),
    Family(
        "timestamp tz=Asia/Shanghai",
        pa.timestamp("us", tz="Asia/Shanghai"),
        MOMENTS.map(lambda m: m.replace(tzinfo=UTC8)),
        _near(_stamps_near, STAMPS),
    ),
]
ZONED = [f for f in FAMILIES if f.name.startswith("timestamp")]
ORDERED = [Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE]


@st.composite
def conditions(draw: st.DrawFn, family: Family, rows: list[Any]) -> Filter:
    ops = [*ORDERED, Op.IN, Op.NOT_IN, Op.IS_NULL, Op.NOT_NULL]
    if family.name == "text":
        ops.append(Op.LIKE_PREFIX)
    op = draw(st.sampled_from(ops))
    if op in (Op.IS_NULL, Op.NOT_NULL):
        return Filter("v", op)
    values = family.values(rows)
    if op in (Op.IN, Op.NOT_IN):
        return Filter("v", op, tuple(draw(st.lists(values, min_size=1, max_size=4))))
    return Filter("v", op, draw(values))


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


@pytest.fixture
def session_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The engine's session time zone (DuckDB takes the process's local zone at connect)."""
    zone: str = request.param
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    yield zone
    monkeypatch.undo()
    time.tzset()


def _agree(root: Path, family: Family) -> None:
    engine = DuckDBEngine(root / "datasets")
    try:

        @settings(
            max_examples=60,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        )
        @given(data=st.data())
        def check(data: st.DataObject) -> None:
            rows = data.draw(st.lists(st.none() | family.rows, min_size=1, max_size=6), "rows")
            condition = data.draw(conditions(family, rows), "condition")
            table = pa.table({"n": list(range(len(rows))), "v": pa.array(rows, family.arrow)})
            version = parquet_version(root, table)
            row_filter = conform([condition], version.column_types())
            by_engine = {
                r["n"] for b in engine.scan(version, ["n"], row_filter) for r in b.to_pylist()
            }
            read = [r for b in engine.scan(version, ["n", "v"]) for r in b.to_pylist()]
            by_lookup = {r["n"] for r in read if matches(r, row_filter)}
            # A NaN compares as the row group's statistics make the engine take it (see
            # ``filters._numbers``): a lookup never serves one under a comparison.
            compared = condition.op not in (Op.IS_NULL, Op.NOT_NULL)
            unsure = {r["n"] for r in read if compared and _is_nan(r["v"])}
            assert by_lookup == by_engine - unsure, (read, row_filter)

        check()
    finally:
        engine.close()


@pytest.mark.parametrize("family", FAMILIES, ids=[f.name for f in FAMILIES])
def test_the_lookup_check_agrees_with_the_engine(tmp_path: Path, family: Family) -> None:
    _agree(tmp_path, family)


@pytest.mark.parametrize("session_zone", ["Asia/Shanghai"], indirect=True)
@pytest.mark.parametrize("family", ZONED, ids=[f.name for f in ZONED])
def test_timestamps_agree_whatever_the_engine_s_time_zone(
    tmp_path: Path, family: Family, session_zone: str
) -> None:
    assert os.environ["TZ"] == session_zone
    _agree(tmp_path, family)


# ---------------------------------------------------------------- the reviewer's cases


def test_a_decimal_equal_to_the_bound_is_not_below_it() -> None:
    row = {"v": decimal.Decimal("30.1")}
    assert not matches(row, [Filter("v", Op.LT, 30.1)])
    assert matches(row, [Filter("v", Op.LE, 30.1)])
    assert not matches(row, [Filter("v", Op.NE, 30.1)])
    assert not matches(row, [Filter("v", Op.NOT_IN, (30.1, 2.5))])
    assert matches({"v": decimal.Decimal("29.1")}, [Filter("v", Op.LT, 30.1)])


def test_an_aware_timestamp_equals_its_naive_utc_wall_time() -> None:
    row = {"v": dt.datetime(2000, 1, 5, 8, tzinfo=UTC8)}
    naive = dt.datetime(2000, 1, 5)
    assert matches(row, [Filter("v", Op.EQ, naive)])
    assert not matches(row, [Filter("v", Op.NE, naive)])
    assert not matches(row, [Filter("v", Op.NOT_IN, (naive,))])
    assert not matches(row, [Filter("v", Op.LT, naive)])


# ---------------------------------------------------------------- failing closed


INCOMPARABLE = [
    ("text", 5),
    (5, "5"),
    (True, 1),
    (1, True),
    (dt.date(2000, 1, 5), dt.datetime(2000, 1, 5)),
    (dt.datetime(2000, 1, 5), dt.date(2000, 1, 5)),
    (dt.time(12), dt.time(12)),
    (decimal.Decimal("NaN"), 1),
    (float("nan"), 1.0),
    (float("nan"), float("nan")),
    (1.0, float("nan")),
    (b"x", b"y"),
]


@pytest.mark.parametrize(("stored", "asked"), INCOMPARABLE)
@pytest.mark.parametrize("op", ORDERED)
def test_values_the_engine_would_not_compare_fail_every_operator(
    stored: Any, asked: Any, op: Op
) -> None:
    row = {"v": stored}
    assert not matches(row, [Filter("v", op, asked)])
    assert not matches(row, [Filter("v", Op.IN, (asked,))])
    assert not matches(row, [Filter("v", Op.NOT_IN, (asked,))])
    assert not matches(row, [Filter("v", Op.NOT_IN, (stored, asked))])


@pytest.mark.parametrize(
    "condition",
    [
        Filter("v", "between", 1),  # type: ignore[arg-type]
        Filter("v", Op.NOT_IN, ()),
        Filter("v", Op.NOT_IN, 5),
        Filter("v", Op.LIKE_PREFIX, 5),
    ],
    ids=["unknown operator", "empty list", "not a list", "prefix not text"],
)
def test_malformed_conditions_fail_the_row(condition: Filter) -> None:
    assert not matches({"v": 5}, [condition])


@pytest.mark.parametrize(
    ("arrow", "condition"),
    [
        ("int64", Filter("v", Op.LT, 30.1)),
        ("int64", Filter("v", Op.NOT_IN, (1, "2"))),
        ("string", Filter("v", Op.NE, 5)),
        ("bool", Filter("v", Op.EQ, 1)),
        ("date32[day]", Filter("v", Op.NE, dt.datetime(2000, 1, 5))),
        ("timestamp[us]", Filter("v", Op.NE, dt.date(2000, 1, 5))),
        ("decimal128(5, 1)", Filter("v", Op.LIKE_PREFIX, "3")),
        ("double", Filter("v", Op.EQ, float("nan"))),
        ("time64[us]", Filter("v", Op.EQ, "12:00")),
        ("string", Filter("v", Op.IS_NULL, "x")),
        ("string", Filter("gone", Op.EQ, "x")),
    ],
)
def test_a_row_filter_that_does_not_suit_the_version_is_unfit(
    arrow: str, condition: Filter
) -> None:
    with pytest.raises(Unfit):
        conform([condition], {"v": arrow})


def test_conform_puts_values_in_the_column_s_terms() -> None:
    types = {
        "zoned": "timestamp[us, tz=Asia/Shanghai]",
        "naive": "timestamp[us]",
        "f32": "float",
        "small": "decimal128(5, 1)",
        "n": "int64",
    }
    conformed = conform(
        [
            Filter("zoned", Op.NE, dt.datetime(2000, 1, 5)),
            Filter("naive", Op.IN, (dt.datetime(2000, 1, 5, 8, tzinfo=UTC8),)),
            Filter("f32", Op.EQ, 16_777_217),
            Filter("small", Op.LT, 10**6),
            Filter("small", Op.LT, 30.1),
            Filter("n", Op.NOT_NULL),
        ],
        types,
    )
    assert [f.value for f in conformed] == [
        dt.datetime(2000, 1, 5, tzinfo=dt.UTC),
        (dt.datetime(2000, 1, 5),),
        16_777_217.0,
        1_000_000.0,
        30.1,
        None,
    ]
    assert type(conformed[2].value) is float and type(conformed[3].value) is float
