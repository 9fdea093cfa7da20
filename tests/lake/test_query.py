"""The query interface: structured operations only, names checked, values bound — on every
engine (DuckDB and Spark, see tests/engines.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shuzhi.errors import Invalid
from shuzhi.lake.manifest import Version
from shuzhi.lake.profile import InferredType
from shuzhi.lake.query import Filter, Op, Order, QueryEngine
from shuzhi.lake.readers import FileSource
from shuzhi.lake.writer import write_version
from tests.engines import DUCKDB_ONLY, ENGINES, SPARK_ONLY, make_engine
from tests.lake.conftest import write_csv

ROWS = [
    ["id", "name", "district", "amount", "born", "slash", "compact", "cn", "dot", "flag", "note"],
    *[
        [
            str(i),
            f"人{i:03d}",
            ["东城", "西城", "朝阳"][i % 3],
            f"{i * 1.25:.2f}",
            f"19{50 + i % 50}-0{1 + i % 9}-1{i % 10}",
            f"2024/01/{1 + i % 28:02d}",
            f"202401{1 + i % 28:02d}",
            f"2024年1月{1 + i % 28}日",
            f"2024.01.{1 + i % 28:02d}",
            ["是", "否"][i % 2],
            "" if i % 4 == 0 else "x",
        ]
        for i in range(1, 301)
    ],
]


@pytest.fixture(scope="module", params=ENGINES)
def lake(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[QueryEngine, Version]:
    root = tmp_path_factory.mktemp("lake")
    path = write_csv(root / "src.csv", ROWS)
    version = write_version(FileSource(path), root / "people").version
    return make_engine(request.param, root), version


@pytest.fixture(params=ENGINES)
def kind(request: pytest.FixtureRequest) -> str:
    """The engine of a test that writes its own lake."""
    return str(request.param)


def rows(engine: QueryEngine, version: Version, **kwargs: Any) -> list[dict[str, Any]]:
    return [row for batch in engine.scan(version, **kwargs) for row in batch.to_pylist()]


def test_scan_filters_order_limit(lake: tuple[QueryEngine, Version]) -> None:
    engine, v = lake
    found = rows(
        engine,
        v,
        columns=["id", "name"],
        filters=[Filter("district", Op.EQ, "朝阳"), Filter("name", Op.LIKE_PREFIX, "人00")],
        order_by=[Order("name", descending=True)],
        limit=2,
    )
    assert found == [{"id": "8", "name": "人008"}, {"id": "5", "name": "人005"}]


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (Filter("district", Op.NE, "朝阳"), 200),
        (Filter("name", Op.LT, "人010"), 9),
        (Filter("name", Op.LE, "人010"), 10),
        (Filter("name", Op.GT, "人290"), 10),
        (Filter("name", Op.GE, "人290"), 11),
        (Filter("district", Op.IN, ["东城", "西城"]), 200),
        (Filter("district", Op.NOT_IN, ["东城", "西城"]), 100),
        (Filter("note", Op.NOT_IN, ["nothing"]), 225),  # nulls never match
        (Filter("note", Op.IS_NULL), 75),
        (Filter("note", Op.NOT_NULL), 225),
        (Filter("name", Op.LIKE_PREFIX, "人1"), 100),
        (Filter("name", Op.LIKE_PREFIX, "%"), 0),
    ],
)
def test_count_each_operator(lake: tuple[QueryEngine, Version], flt: Filter, expected: int) -> None:
    engine, v = lake
    assert engine.count(v, [flt]) == expected


def test_keyset_pagination_walks_every_row_once(lake: tuple[QueryEngine, Version]) -> None:
    engine, v = lake
    order = [Order("district"), Order("name")]
    seen: list[str] = []
    after = None
    while True:
        page = rows(
            engine, v, columns=["district", "name"], order_by=order, limit=37, after_key=after
        )
        if not page:
            break
        seen += [r["name"] for r in page]
        after = [page[-1]["district"], page[-1]["name"]]
    assert len(seen) == 300 == len(set(seen))


def test_lookup_and_aggregate(lake: tuple[QueryEngine, Version]) -> None:
    engine, v = lake
    assert engine.lookup(v, "id", "7", columns=["name"]) == [{"name": "人007"}]
    assert engine.lookup(v, "id", "999") == []
    table = engine.aggregate(
        v,
        [("count", None), ("sum", "amount"), ("max", "name"), ("count_distinct", "flag")],
        group_by=["district"],
        filters=[Filter("id", Op.NE, "1")],
    )
    result = {r["district"]: r for r in table.to_pylist()}
    assert table.column_names == [
        "district",
        "count",
        "sum_amount",
        "max_name",
        "count_distinct_flag",
    ]
    assert result["东城"]["count"] == 100 and result["西城"]["count"] == 99
    assert result["朝阳"]["sum_amount"] == pytest.approx(sum(i * 1.25 for i in range(2, 301, 3)))


@pytest.mark.parametrize(
    "call",
    [
        lambda e, v: e.count(v, [Filter("missing", Op.EQ, "x")]),
        lambda e, v: e.count(v, [Filter("id", Op.EQ, 5)]),  # text column, int value
        lambda e, v: e.count(v, [Filter("id", cast(Op, "regex"), "x")]),
        lambda e, v: e.count(v, [Filter("id", Op.IN, [])]),
        lambda e, v: e.count(v, [Filter("id", Op.IS_NULL, "x")]),
        lambda e, v: e.count(v, [Filter("id", Op.IN, ["1"] * 1001)]),
        lambda e, v: list(e.scan(v, columns=["id; DROP TABLE x"])),
        lambda e, v: list(e.scan(v, order_by=[Order("id")], after_key=["1", "2"])),
        lambda e, v: list(e.scan(v, limit=-1)),
        lambda e, v: e.aggregate(v, [("median", "id")]),
        lambda e, v: e.aggregate(v, [("sum", None)]),
        lambda e, v: e.aggregate(v, []),
    ],
)
def test_bad_requests_are_invalid(lake: tuple[QueryEngine, Version], call: Any) -> None:
    engine, v = lake
    with pytest.raises(Invalid):
        call(engine, v)


INJECTIONS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "' OR '1'='1",
            "x'); DROP TABLE t; --",
            '" OR 1=1 --',
            "人0%' --",
            "\\'; SELECT 1",
            "id\" FROM read_csv('/etc/passwd') --",
            "*/ SELECT * /*",
        ]
    ),
)


OPS = st.sampled_from([Op.EQ, Op.NE, Op.LT, Op.GE, Op.LIKE_PREFIX, Op.IN])
CHECKS = [HealthCheck.function_scoped_fixture]


@pytest.mark.parametrize("lake", DUCKDB_ONLY, indirect=True)
@settings(max_examples=150, suppress_health_check=CHECKS)
@given(value=INJECTIONS, op=OPS)
def test_values_are_bound_never_spliced(
    lake: tuple[QueryEngine, Version], value: str, op: Op
) -> None:
    _check_bound(lake, value, op)


@pytest.mark.parametrize("lake", SPARK_ONLY, indirect=True)
@settings(max_examples=12, suppress_health_check=CHECKS, deadline=None)
@given(value=INJECTIONS, op=OPS)
def test_values_are_bound_never_spliced_on_spark(
    lake: tuple[QueryEngine, Version], value: str, op: Op
) -> None:
    _check_bound(lake, value, op)


def _check_bound(lake: tuple[QueryEngine, Version], value: str, op: Op) -> None:
    engine, v = lake
    names = [r[1] for r in ROWS[1:]]
    try:
        count = engine.count(v, [Filter("name", op, [value] if op is Op.IN else value)])
    except Invalid:
        # only values the column cannot hold at all (e.g. lone surrogates, NUL) are refused
        assert "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value)
        return
    expected = {
        Op.EQ: sum(n == value for n in names),
        Op.NE: sum(n != value for n in names),
        Op.LT: sum(n < value for n in names),
        Op.GE: sum(n >= value for n in names),
        Op.LIKE_PREFIX: sum(n.startswith(value) for n in names),
        Op.IN: sum(n == value for n in names),
    }[op]
    assert count == expected


@settings(max_examples=100, suppress_health_check=CHECKS, deadline=None)
@given(column=INJECTIONS)
def test_unknown_column_names_fail_safely(lake: tuple[QueryEngine, Version], column: str) -> None:
    engine, v = lake
    if column in ROWS[0]:
        return
    with pytest.raises(Invalid):
        engine.count(v, [Filter(column, Op.EQ, "x")])
    with pytest.raises(Invalid):
        list(engine.scan(v, columns=[column]))
    with pytest.raises(Invalid):
        engine.aggregate(v, [("count", column)])


@pytest.mark.parametrize("hostile", ['a" FROM x; --', "a` FROM x; --", "b\\'`\"c"])
def test_hostile_column_names_in_the_data_are_quoted(
    tmp_path: Path, kind: str, hostile: str
) -> None:
    path = write_csv(tmp_path / "f.csv", [[hostile, "b"], ["1", "2"], ["3", "4"]])
    v = write_version(FileSource(path), tmp_path / "lake").version
    engine = make_engine(kind, tmp_path)
    assert engine.count(v, [Filter(hostile, Op.EQ, "3")]) == 1
    assert rows(engine, v, columns=[hostile]) == [{hostile: "1"}, {hostile: "3"}]
    assert engine.aggregate(v, [("max", hostile)], group_by=[hostile]).num_rows == 2


def test_engine_reads_nothing_outside_the_lake(tmp_path: Path, lake: tuple[Any, Version]) -> None:
    engine, v = lake
    elsewhere = make_engine(engine.capabilities.name, tmp_path / "other")
    with pytest.raises(Invalid):
        elsewhere.count(v)


def test_typed_parquet_filters(tmp_path: Path, kind: str) -> None:
    src = tmp_path / "t.parquet"
    pq.write_table(
        pa.table(
            {
                "n": [1, 2, 3],
                "d": [dt.date(2024, 1, i) for i in (1, 2, 3)],
                "ok": [True, False, True],
            }
        ),
        src,
    )
    v = write_version(FileSource(src), tmp_path / "lake").version
    engine = make_engine(kind, tmp_path)
    assert engine.count(v, [Filter("n", Op.GE, 2)]) == 2
    assert engine.count(v, [Filter("d", Op.LT, dt.date(2024, 1, 3))]) == 2
    assert engine.count(v, [Filter("ok", Op.EQ, True)]) == 2
    for bad in ("2", True, 2.5):
        with pytest.raises(Invalid):
            engine.count(v, [Filter("n", Op.EQ, bad)])
    assert engine.aggregate(v, [("avg", "n")]).to_pylist() == [{"avg_n": 2.0}]
    profile = engine.profile(v)
    assert profile.column("d").inferred_type is InferredType.DATE
    assert profile.column("n").min == "1" and profile.column("n").max == "3"


def test_profile_infers_types_from_text(lake: tuple[QueryEngine, Version]) -> None:
    engine, v = lake
    p = engine.profile(v)
    assert p.row_count == 300
    kinds = {c.name: (c.inferred_type, c.format) for c in p.columns}
    assert kinds == {
        "id": (InferredType.INTEGER, None),
        "name": (InferredType.TEXT, None),
        "district": (InferredType.TEXT, None),
        "amount": (InferredType.DECIMAL, None),
        "born": (InferredType.DATE, "YYYY-MM-DD"),
        "slash": (InferredType.DATE, "YYYY/MM/DD"),
        "compact": (InferredType.DATE, "YYYYMMDD"),
        "cn": (InferredType.DATE, "YYYY年M月D日"),
        "dot": (InferredType.DATE, "YYYY.MM.DD"),
        "flag": (InferredType.BOOLEAN, None),
        "note": (InferredType.TEXT, None),
    }
    ids = p.column("id")
    assert (ids.min, ids.max) == ("1", "300")  # numeric, not "1" < "10" < "2"
    note = p.column("note")
    assert note.null_count == 75 and note.null_rate == 0.25
    district = p.column("district")
    assert district.distinct_estimate == 3
    assert [(t.value, t.count) for t in district.top_values] == [
        ("东城", 100),
        ("朝阳", 100),
        ("西城", 100),
    ]


def test_profile_mixed_column_stays_text_with_dominant_type(tmp_path: Path, kind: str) -> None:
    data = [["code"]] + [[str(i)] for i in range(50)] + [["N/A"]]
    v = write_version(FileSource(write_csv(tmp_path / "f.csv", data)), tmp_path / "l").version
    column = make_engine(kind, tmp_path).profile(v).column("code")
    assert column.inferred_type is InferredType.TEXT
    assert column.dominant_type is InferredType.INTEGER and column.nonconforming == 1


@pytest.mark.parametrize("lake", DUCKDB_ONLY, indirect=True)  # masking is engine-neutral
def test_profile_masking_hook(lake: tuple[QueryEngine, Version]) -> None:
    engine, v = lake
    p = engine.profile(v)
    masked = p.masked(lambda column, value: value[:1] + "*" * (len(value) - 1), columns={"name"})
    name = masked.column("name")
    assert name.min == "人***" and all(t.value.startswith("人*") for t in name.top_values)
    assert masked.column("district") == p.column("district")
    assert p.column("name").min == "人001"  # the original is untouched
    assert masked.to_json()["columns"][1]["name"] == "name"


def test_empty_version_profile(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "f.csv"
    path.write_text("a,b\n")
    v = write_version(FileSource(path), tmp_path / "l").version
    p = make_engine(kind, tmp_path).profile(v)
    assert p.row_count == 0
    assert {c.inferred_type for c in p.columns} == {InferredType.EMPTY}


def test_large_profile_routes_columns_by_their_sampled_share_of_distinct_values(
    tmp_path: Path, kind: str
) -> None:
    # Above GROUP_ALL_BELOW_ROWS the type sample decides per column: mostly repeated values are
    # grouped exactly (top values), mostly distinct values get a HyperLogLog estimate.
    n = 120_000
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("serial,code\n")
        fh.writelines(f"{i},{['甲', '乙', '丙'][i % 3]}\n" for i in range(n))
    v = write_version(FileSource(path), tmp_path / "l").version
    p = make_engine(kind, tmp_path).profile(v)
    assert p.row_count == n and p.type_sample_rows == 20_000
    code = p.column("code")
    assert code.distinct_estimate == 3
    assert sorted((t.value, t.count) for t in code.top_values) == [
        ("丙", n // 3),
        ("乙", n // 3),
        ("甲", n // 3),
    ]
    serial = p.column("serial")
    assert serial.inferred_type is InferredType.INTEGER
    assert (serial.min, serial.max) == ("0", str(n - 1))
    assert abs(serial.distinct_estimate - n) < n * 0.05  # an estimate, not a count
    assert serial.top_values == ()
