"""The contribution-bounding statement, run on real DuckDB data."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from shuzhi.sandbox.bounding import COUNT, bounded_statement, group_name, sum_name
from shuzhi.sandbox.privacy import Contribution, Measure, MeasureKind

COUNTS = Measure(MeasureKind.COUNT)
DAYS = Measure(MeasureKind.SUM, 0, 10)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE visits (pid VARCHAR, community VARCHAR, days INTEGER)")
    # 12 people with one visit each
    rows: list[tuple[str | None, str, int]] = [(f"p{i}", "东城", 2) for i in range(12)]
    rows += [("heavy", "东城", 10)] * 50  # one person, 50 visits
    rows += [(f"q{i}", "西城", 4) for i in range(5)]  # a group of five people
    rows += [("wide", c, 1) for c in ("东城", "西城", "南城")]  # one person in three groups
    rows += [(None, "东城", 7)] * 30  # nobody to bound
    rows += [("p0", "东城", 99)]  # a value beyond the bounds
    con.executemany("INSERT INTO visits VALUES (?, ?, ?)", rows)
    return con


def _run(
    con: duckdb.DuckDBPyConnection,
    *,
    contribution: Contribution = Contribution(),
    min_group: int = 1,
    seed: int = 7,
    where: str = "",
) -> dict[str, tuple[int, float]]:
    source = sqlglot.parse_one(f"SELECT * FROM visits AS v {where}", read="duckdb")
    assert isinstance(source, exp.Select)
    statement = bounded_statement(
        source,
        entity=exp.column("pid", table="v"),
        groups=[exp.column("community", table="v")],
        values=[exp.column("days", table="v")],
        measures=[COUNTS, DAYS],
        contribution=contribution,
        min_group=min_group,
        seed=seed,
    )
    cursor = con.execute(statement.sql("duckdb"))
    names = [d[0] for d in cursor.description]
    assert names == [group_name(0), COUNT, sum_name(0)]
    return {g: (n, s) for g, n, s in cursor.fetchall()}


def test_one_person_counts_once_however_many_rows(con: duckdb.DuckDBPyConnection) -> None:
    result = _run(con, contribution=Contribution(max_groups=3))
    count, total = result["东城"]
    # 12 ordinary people, "heavy" once, "wide" once; the 30 rows without a person are left out
    assert count == 14
    # p0 averages (2 + 10 clamped) / 2 = 6; heavy's ten-day visits count once; wide adds 1
    assert total == pytest.approx(11 * 2 + 6 + 10 + 1)


def test_a_person_keeps_only_as_many_groups_as_allowed(con: duckdb.DuckDBPyConnection) -> None:
    for seed in range(20):
        result = _run(con, contribution=Contribution(max_groups=1), seed=seed)
        wide_groups = (
            (result["东城"][0] - 13) + (result["西城"][0] - 5) + result.get("南城", (0,))[0]
        )
        assert wide_groups == 1


def test_the_seed_decides_which_group_a_person_keeps(con: duckdb.DuckDBPyConnection) -> None:
    kept = {
        next(g for g, (n, _) in _run(con, seed=seed).items() if g == "南城" or n in (14, 6))
        for seed in range(40)
    }
    assert len(kept) > 1


def test_groups_of_fewer_people_than_the_minimum_are_dropped(
    con: duckdb.DuckDBPyConnection,
) -> None:
    result = _run(con, contribution=Contribution(max_groups=3), min_group=6)
    assert set(result) == {"东城", "西城"}  # 西城 has five people plus "wide"
    result = _run(con, contribution=Contribution(max_groups=3), min_group=7)
    assert set(result) == {"东城"}


def test_rows_of_one_person_beyond_the_limit_scale_down(con: duckdb.DuckDBPyConnection) -> None:
    result = _run(
        con, contribution=Contribution(max_groups=3, max_rows=2), where="WHERE pid = 'heavy'"
    )
    assert list(result) == ["东城"]
    assert result["东城"][0] == 2 and result["东城"][1] == pytest.approx(20.0)


def test_the_query_filter_is_kept(con: duckdb.DuckDBPyConnection) -> None:
    result = _run(con, contribution=Contribution(max_groups=3), where="WHERE days < 5")
    assert result["西城"][0] == 6 and result["西城"][1] == pytest.approx(5 * 4 + 1)
    assert result["东城"][0] == 13  # "heavy" only visited with ten days


def test_the_statement_means_the_same_on_spark() -> None:
    source = sqlglot.parse_one("SELECT * FROM visits AS v WHERE v.days > 1", read="duckdb")
    assert isinstance(source, exp.Select)
    statement = bounded_statement(
        source,
        entity=exp.column("pid", table="v"),
        groups=[exp.column("community", table="v")],
        values=[exp.column("days", table="v")],
        measures=[COUNTS, DAYS],
        contribution=Contribution(max_groups=2, max_rows=3),
        min_group=10,
        seed=11,
    )
    spark = statement.sql("spark")
    back = sqlglot.parse_one(spark, read="spark")
    assert back.find(exp.Window) is not None
    assert "HAVING COUNT(*) >= 10" in spark
    assert "__rank <= 2" in spark
    assert "LEAST(COUNT(*), 3)" in spark


def test_a_sum_measure_needs_its_value() -> None:
    source = sqlglot.parse_one("SELECT * FROM visits", read="duckdb")
    assert isinstance(source, exp.Select)
    with pytest.raises(ValueError, match="one value expression"):
        bounded_statement(
            source,
            entity=exp.column("pid"),
            groups=[],
            values=[],
            measures=[DAYS],
            contribution=Contribution(),
            min_group=1,
            seed=1,
        )


def test_engine_figures_feed_a_private_release(con: duckdb.DuckDBPyConnection) -> None:
    from shuzhi.sandbox.privacy import GroupFigures, plan, release

    measures = [COUNTS, Measure(MeasureKind.MEAN, 0, 10)]
    con.executemany(
        "INSERT INTO visits VALUES (?, ?, ?)", [(f"r{i}", "北城", 3) for i in range(3000)]
    )
    source = sqlglot.parse_one("SELECT * FROM visits AS v", read="duckdb")
    assert isinstance(source, exp.Select)
    p = plan(measures, Contribution(), epsilon=2.0, delta=1e-6, min_group=10)
    statement = bounded_statement(
        source,
        entity=exp.column("pid", table="v"),
        groups=[exp.column("community", table="v")],
        values=[exp.column("days", table="v")],
        measures=measures,
        contribution=p.contribution,
        min_group=10,
        seed=3,
    )
    figures = [
        GroupFigures((g,), n, (s,)) for g, n, s in con.execute(statement.sql("duckdb")).fetchall()
    ]
    released = {r.key: r.figures for r in release(p, figures).rows}
    assert ("北城",) in released
    assert released[("北城",)][1].value == pytest.approx(3.0, abs=0.5)
    assert ("西城",) not in released  # six people: kept by the engine, too few for the threshold
