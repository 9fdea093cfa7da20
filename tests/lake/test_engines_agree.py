"""Golden results: every operation the platform asks of a query engine gives the same answer
on DuckDB and on Spark, over data with nulls, Chinese text, decimals, dates, timestamps,
duplicates, empty groups and several row groups.

DuckDB's answers are the reference (the engine every other test also runs on); Spark's must
equal them exactly, value for value and in the same order where an order is asked for.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shuzhi.lake.manifest import Version
from shuzhi.lake.query import SORTED_PREFIX, SPILL_DIR, AggFunc, Filter, Op, Order, QueryEngine
from shuzhi.lake.writer import in_use
from shuzhi.quality.checks import RuleSpec, evaluate_all
from shuzhi.quality.models import RuleKind
from tests.engines import SPARK_MARKS, make_engine
from tests.lake.helpers import parquet_version

pytestmark = SPARK_MARKS

D = decimal.Decimal
N = 240
DISTRICTS = ["东城", "西城", "朝阳", "海淀", None]


def _row(i: int) -> dict[str, Any]:
    return {
        "serial": i,
        "id": str(i // 2),  # every key twice
        "name": None if i % 11 == 0 else ("" if i % 13 == 0 else f"张{i % 17}号"),
        "district": DISTRICTS[i % 5],
        "amount": None if i % 7 == 0 else D(i * 37 % 1000) / 100 - D(3),
        "qty": None if i % 9 == 0 else (i * 7919) % 101 - 50,
        "ratio": None if i % 10 == 0 else (i % 23) / 8,
        "born": None if i % 6 == 0 else dt.date(1950 + i % 60, 1 + i % 12, 1 + i % 28),
        "seen": None if i % 8 == 0 else dt.datetime(2024, 1, 1) + dt.timedelta(minutes=i * 97),
        "flag": None if i % 14 == 0 else i % 3 == 0,
        "numtext": [None, "12.5", "abc", "", "-3", " 7", "1e3", "0"][i % 8],
        "resident": ["11010519491231002X", "110105194912310021", None, "not an id"][i % 4],
        "empty": None,
    }


TYPES = {
    "serial": pa.int64(),
    "id": pa.string(),
    "name": pa.string(),
    "district": pa.string(),
    "amount": pa.decimal128(12, 2),
    "qty": pa.int64(),
    "ratio": pa.float64(),
    "born": pa.date32(),
    "seen": pa.timestamp("us"),
    "flag": pa.bool_(),
    "numtext": pa.string(),
    "resident": pa.string(),
    "empty": pa.string(),
}


def _version(root: Path, name: str, rows: list[dict[str, Any]]) -> Version:
    table = pa.table({c: pa.array([r[c] for r in rows], t) for c, t in TYPES.items()})
    # Small row groups: positions and statistics cross many of them.
    return parquet_version(root, name, table, row_group_size=37)


@pytest.fixture(scope="module")
def engines(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[QueryEngine, QueryEngine, Version, Version]:
    root = tmp_path_factory.mktemp("golden")
    version = _version(root, "golden", [_row(i) for i in range(N)])
    nothing = _version(root, "nothing", [])
    return make_engine("duckdb", root), make_engine("spark", root), version, nothing


Call = Callable[[QueryEngine, Version], Any]


def _rows(engine: QueryEngine, version: Version, **kwargs: Any) -> list[dict[str, Any]]:
    return [r for b in engine.scan(version, **kwargs) for r in b.to_pylist()]


def _sorted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: repr(sorted(r.items())))


def _agree(engines: tuple[QueryEngine, QueryEngine, Version, Version], call: Call) -> Any:
    duck, spark, version, _ = engines
    expected = call(duck, version)
    assert call(spark, version) == expected
    return expected


FILTERS = [
    Filter("name", Op.EQ, "张3号"),
    Filter("name", Op.NE, "张3号"),  # nulls never match
    Filter("name", Op.LT, "张2"),
    Filter("name", Op.GE, ""),
    Filter("name", Op.LIKE_PREFIX, "张1"),
    Filter("name", Op.LIKE_PREFIX, "%"),
    Filter("name", Op.LIKE_PREFIX, "_"),
    Filter("name", Op.IN, ["张1号", "", "无"]),
    Filter("name", Op.NOT_IN, ["张1号", ""]),
    Filter("name", Op.IS_NULL),
    Filter("district", Op.NOT_NULL),
    Filter("amount", Op.GT, D("1.5")),
    Filter("amount", Op.LE, 0),
    Filter("qty", Op.LT, -10),
    Filter("qty", Op.IN, [0, 1, 2, 50]),
    Filter("ratio", Op.GE, 1.25),
    Filter("born", Op.LT, dt.date(1980, 6, 1)),
    Filter("seen", Op.GE, dt.datetime(2024, 1, 5, 12, 30)),
    Filter("seen", Op.NE, dt.datetime(2024, 1, 1, 1, 37)),
    Filter("flag", Op.EQ, True),
    Filter("flag", Op.NE, True),
    Filter("empty", Op.IS_NULL),
]


@pytest.mark.parametrize("flt", FILTERS, ids=lambda f: f"{f.column}-{f.op}")
def test_filters_count_and_scan_alike(engines: Any, flt: Filter) -> None:
    found = _agree(engines, lambda e, v: (e.count(v, [flt]), _sorted(_rows(e, v, filters=[flt]))))
    assert found[0] == len(found[1])


def test_unfiltered_scan_has_the_same_rows_and_types(engines: Any) -> None:
    duck, spark, version, _ = engines
    a = pa.Table.from_batches(list(duck.scan(version)))
    b = pa.Table.from_batches(list(spark.scan(version)))
    assert b.schema == a.schema
    assert _sorted(b.to_pylist()) == _sorted(a.to_pylist()) and a.num_rows == N


@pytest.mark.parametrize(
    "order_by",
    [
        ["name"],
        ["-name"],
        ["district", "id"],
        ["-amount", "-id"],
        ["seen"],
        ["-born", "-seen"],
    ],
    ids=str,
)
def test_ordered_scans_and_keyset_pages_alike(engines: Any, order_by: list[str]) -> None:
    # The order is made total by the unique serial: where rows tie on every order column,
    # engines may return them in any order (the known gap of non-unique orders).
    descending = order_by[0].startswith("-")
    order = [Order(c.lstrip("-"), descending) for c in [*order_by, "-serial"]]
    columns = list(dict.fromkeys([o.column for o in order] + ["id", "seen"]))

    def top(e: QueryEngine, v: Version) -> list[dict[str, Any]]:
        # Nulls sort last in both directions.
        return _rows(e, v, columns=columns, order_by=order, limit=40)

    _agree(engines, top)

    def pages(e: QueryEngine, v: Version) -> list[list[dict[str, Any]]]:
        found: list[list[dict[str, Any]]] = []
        after: list[Any] | None = None
        while len(found) < 30:
            page = _rows(e, v, columns=columns, order_by=order, limit=50, after_key=after)
            if not page:
                break
            found.append(page)
            after = [page[-1][o.column] for o in order]
            if any(a is None for a in after):
                break  # keyset paging skips rows whose order columns are null
        return found

    _agree(engines, pages)


def test_lookups_alike(engines: Any) -> None:
    def lookups(e: QueryEngine, v: Version) -> list[Any]:
        return [
            e.lookup(v, "id", "17"),
            e.lookup(v, "id", "17", columns=["name", "amount"], limit=1),
            e.lookup(v, "id", "none"),
            e.lookup(v, "qty", 0, columns=["id"]),
        ]

    found = _agree(engines, lookups)
    assert len(found[0]) == 2 and found[2] == []


MEASURES: list[tuple[AggFunc | str, str | None]] = [
    (AggFunc.COUNT, None),
    (AggFunc.COUNT, "name"),
    (AggFunc.COUNT_DISTINCT, "name"),
    (AggFunc.COUNT_DISTINCT, "id"),
    (AggFunc.SUM, "amount"),
    (AggFunc.AVG, "amount"),
    (AggFunc.SUM, "qty"),
    (AggFunc.AVG, "qty"),
    (AggFunc.SUM, "ratio"),
    (AggFunc.SUM, "numtext"),  # text read as numbers, non-numeric as null
    (AggFunc.AVG, "numtext"),
    (AggFunc.MIN, "name"),
    (AggFunc.MAX, "name"),
    (AggFunc.MIN, "born"),
    (AggFunc.MAX, "seen"),
    (AggFunc.MIN, "amount"),
    (AggFunc.MAX, "flag"),
    (AggFunc.COUNT, "empty"),
    (AggFunc.MAX, "empty"),
]


@pytest.mark.parametrize(
    ("group_by", "filters"),
    [
        ([], []),
        (["district"], []),  # a null group, sorted last
        (["district", "flag"], [Filter("qty", Op.GT, 0)]),
        (["district"], [Filter("name", Op.EQ, "nobody")]),  # every group empty: no rows
        ([], [Filter("name", Op.EQ, "nobody")]),  # no groups: one row, count 0, sums null
    ],
    ids=["all", "by-district", "by-two-filtered", "empty-groups", "empty-total"],
)
def test_aggregates_alike(engines: Any, group_by: list[str], filters: list[Filter]) -> None:
    found = _agree(engines, lambda e, v: e.aggregate(v, MEASURES, group_by, filters).to_pylist())
    if filters and filters[0].value == "nobody":
        assert found == ([] if group_by else [found[0]])
        if not group_by:
            assert found[0]["count"] == 0 and found[0]["sum_amount"] is None


def test_aggregate_columns_are_named_alike(engines: Any) -> None:
    _agree(engines, lambda e, v: e.aggregate(v, MEASURES, ["district"]).column_names)


def test_positions_alike(engines: Any) -> None:
    def walk(e: QueryEngine, v: Version) -> list[Any]:
        pages = [e.scan_positions(v, ["id", "name"], [Filter("district", Op.EQ, "朝阳")])]
        pages.append(e.scan_positions(v, ["seen"], after=100, limit=45))
        pages.append(e.scan_positions(v, ["id"], [Filter("name", Op.IS_NULL)], after=-1, limit=5))
        pages.append(e.scan_positions(v, ["id"], after=N - 1))
        return pages

    pages = _agree(engines, walk)
    # Positions are the rows' places in the file (across its row groups), 0-based.
    assert [p for p, _ in pages[1]] == list(range(101, 146))
    assert [p for p, _ in pages[0]] == [i for i in range(N) if i % 5 == 2][:100]


def test_profiles_alike(engines: Any) -> None:
    _agree(engines, lambda e, v: e.profile(v))


def test_empty_version_alike(engines: Any) -> None:
    duck, spark, _, nothing = engines

    def everything(e: QueryEngine) -> list[Any]:
        return [
            e.count(nothing),
            _rows(e, nothing, order_by=[Order("id")]),
            e.aggregate(nothing, MEASURES[:6]).to_pylist(),
            e.aggregate(nothing, MEASURES[:3], ["district"]).to_pylist(),
            e.scan_positions(nothing, ["id"]),
            e.profile(nothing),
        ]

    assert everything(spark) == everything(duck)


def test_column_counts_alike(engines: Any) -> None:
    """Values and distinct values of a column, nulls in neither (what uniqueness rules and
    grades count), over repeated keys, empty strings, nulls and an all-null column."""
    counts = _agree(
        engines, lambda e, v: [e.column_counts(v, c) for c in ("id", "name", "resident", "empty")]
    )
    rows = [_row(i) for i in range(N)]
    for (values, distinct), column in zip(counts, ("id", "name", "resident", "empty"), strict=True):
        present = [r[column] for r in rows if r[column] is not None]
        assert (values, distinct) == (len(present), len(set(present)))


def test_quality_rules_alike(engines: Any) -> None:
    specs = [
        RuleSpec(RuleKind.NOT_NULL, "name"),
        RuleSpec(RuleKind.UNIQUE, "id"),
        RuleSpec(RuleKind.UNIQUE, "seen"),
        RuleSpec(RuleKind.PATTERN, "name", {"pattern": "张[0-9]+号"}),
        RuleSpec(RuleKind.RANGE, "amount", {"min": 0, "max": 5}),
        RuleSpec(RuleKind.RANGE, "numtext", {"min": 0}),
        RuleSpec(RuleKind.RESIDENT_ID, "resident"),
        RuleSpec(RuleKind.USCC, "name"),
        RuleSpec(RuleKind.ALLOWED_VALUES, "district", {"values": ["东城", "西城"]}),
        RuleSpec(RuleKind.REFERENCE, "district", {"resource_code": "x", "column": "district"}),
        RuleSpec(RuleKind.FRESHNESS, "seen", {"max_age_days": 30}),
    ]
    now = dt.datetime(2024, 2, 1, tzinfo=dt.UTC)

    def run(e: QueryEngine, v: Version) -> list[Any]:
        return evaluate_all(e, v, specs, references={9: v}, now=now)

    outcomes = _agree(engines, run)
    assert outcomes[0].failing > 0 and outcomes[1].failing == N // 2


def test_streamed_answers_alike(engines: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Answers larger than Spark collects at once come partition by partition: same rows,
    same types, same order."""
    from shuzhi.lake import spark as spark_module

    monkeypatch.setattr(spark_module, "COLLECT_ROWS", 0)
    duck, spark, version, _ = engines
    order = [Order("seen", descending=True), Order("serial", descending=True)]
    for kwargs in ({}, {"order_by": order}, {"filters": [Filter("flag", Op.EQ, False)]}):
        a = pa.Table.from_batches(list(duck.scan(version, **kwargs)))
        b = pa.Table.from_batches(list(spark.scan(version, **kwargs)))
        assert b.schema == a.schema
        if "order_by" in kwargs:
            assert b.to_pylist() == a.to_pylist()
        else:
            assert _sorted(b.to_pylist()) == _sorted(a.to_pylist())


@pytest.mark.parametrize("collected", [True, False], ids=["collected", "through files"])
def test_rows_by_key_and_position_alike(
    engines: Any, monkeypatch: pytest.MonkeyPatch, collected: bool
) -> None:
    """What key indexes are built from: (key, position) and whole rows sorted by key then
    position. Larger than Spark collects at once, the cluster's sort comes back through
    Parquet files in the spill directory, read in order and removed."""
    from shuzhi.lake import spark as spark_module

    duck, spark, version, _ = engines
    files: list[Path] = []
    if not collected:
        monkeypatch.setattr(spark_module, "COLLECT_ROWS", 0)
        opened = pq.ParquetFile

        def counted(path: Path, **kwargs: Any) -> Any:
            if Path(path).parent.parent.name.startswith(SORTED_PREFIX):
                files.append(path)
            return opened(path, **kwargs)

        monkeypatch.setattr(pq, "ParquetFile", counted)
    # Each range of the sort in a file of its own (small answers are otherwise merged into
    # one): the files' order is the order of the answer.
    session = spark._session
    session.conf.set("spark.sql.adaptive.coalescePartitions.enabled", "false")
    columns = ["id", "serial", "name", "amount", "born", "seen", "flag"]

    def positions(e: Any) -> Any:
        return e.key_positions(version, "id")

    def whole_rows(e: Any) -> Any:
        return e.key_rows(version, "id", columns)

    try:
        for read in (positions, whole_rows):
            a = pa.Table.from_batches(list(read(duck)))
            b = pa.Table.from_batches(list(read(spark)))
            assert b.schema == a.schema
            assert b.num_rows == N
            assert b.to_pylist() == a.to_pylist()
        if not collected:
            # While the answer is read its work directory is locked (``lake gc`` leaves it);
            # a reader that stops early removes it all the same.
            reading = spark.key_rows(version, "id", columns)
            next(reading)
            (holder,) = (spark.root / SPILL_DIR).glob(f"{SORTED_PREFIX}*")
            assert in_use(holder)
            reading.close()
            assert not holder.exists()
    finally:
        session.conf.unset("spark.sql.adaptive.coalescePartitions.enabled")
    assert collected == (not files)
    assert collected or len(files) > 2
    spill = spark.root / SPILL_DIR
    assert not spill.exists() or not any(spill.glob("sorted-*"))
