"""How should engine-neutral queries be built? Per-call cost of three ways, measured once for
the decision in docs/architecture.md (not part of ``make bench``: it needs packages Shuzhi
does not depend on).

    pip install --target /tmp/builders 'ibis-framework[duckdb]' sqlglot
    BUILDERS_PATH=/tmp/builders python -m benchmarks.query_builders [--rows 1000]

(a) ``lake.sql.Statements``: the structured request compiled straight to SQL text in the
    engine's dialect (dialect differences as data), values bound as parameters;
(b) sqlglot: the same request compiled to DuckDB SQL, then transpiled to Spark SQL;
(c) Ibis: an Ibis expression per request, compiled to SQL for the engine (and executed by
    Ibis' DuckDB backend, to see its whole per-call cost on the default engine).

Two request shapes: the gateway's keyed lookup (one equality filter, a few columns, a limit)
and a GROUP BY with two measures. Reported: microseconds per call (best of 7 rounds), the
build alone and, on DuckDB, build + execution over a small version (where the build matters
most; on large versions execution dominates every way).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from shuzhi.lake.query import DuckDBEngine
from shuzhi.lake.sql import DUCKDB, SPARK, AggFunc, Filter, Op, Statements, read_schema

KEY = "00000123"


def best_us(call: Callable[[], Any], rounds: int = 7, calls: int = 300) -> float:
    for _ in range(50):
        call()
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            call()
        best = min(best, (time.perf_counter() - started) / calls * 1e6)
    return round(best, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1000)
    args = parser.parse_args()
    extra = os.environ.get("BUILDERS_PATH")
    if extra:
        sys.path.append(extra)  # after Shuzhi's own packages: their versions win
    import ibis  # type: ignore[import-not-found]
    import sqlglot

    # Loading the backend registers the options its compiler reads (no session is started).
    _ = ibis.pyspark

    work = Path(tempfile.mkdtemp(prefix="shuzhi-builders-"))
    try:
        path = work / "v.parquet"
        n = args.rows
        pq.write_table(
            pa.table(
                {
                    "id": [f"{i:08d}" for i in range(n)],
                    "district": [["东城", "西城", "朝阳"][i % 3] for i in range(n)],
                    "amount": [i * 1.25 for i in range(n)],
                }
            ),
            path,
        )
        schema = read_schema(str(path))
        lookup_filters = [Filter("id", Op.EQ, KEY)]
        measures: list[tuple[AggFunc | str, str | None]] = [
            (AggFunc.COUNT, None),
            (AggFunc.SUM, "amount"),
        ]

        def a_lookup(dialect: Any) -> Callable[[], Any]:
            return lambda: Statements(dialect, schema, "v", ()).scan(
                ["id", "district"], lookup_filters, (), 100, None
            )

        def a_group(dialect: Any) -> Callable[[], Any]:
            return lambda: Statements(dialect, schema, "v", ()).aggregate(
                measures, ["district"], ()
            )

        def b_transpile(build: Callable[[], Any]) -> Callable[[], Any]:
            return lambda: sqlglot.transpile(build()[0], read="duckdb", write="spark")[0]

        con = ibis.duckdb.connect()
        table = con.read_parquet(str(path), table_name="v")

        def c_lookup() -> Any:
            return table.filter(table.id == KEY).select("id", "district").limit(100)

        def c_group() -> Any:
            return (
                table.group_by("district")
                .aggregate(count=table.count(), sum_amount=table.amount.sum())
                .order_by("district")
            )

        engine = DuckDBEngine(work)
        from shuzhi.lake.manifest import RejectSummary, Version

        version = Version(work, "v", 1, "", "v.parquet", "", 0, n, (), "", {}, RejectSummary(), {})

        rows = [
            (
                "lookup",
                best_us(a_lookup(DUCKDB)),
                best_us(a_lookup(SPARK)),
                best_us(b_transpile(a_lookup(DUCKDB))),
                best_us(lambda: ibis.to_sql(c_lookup(), dialect="pyspark")),
                best_us(lambda: engine.lookup(version, "id", KEY, ["id", "district"])),
                best_us(lambda: c_lookup().to_pyarrow()),
            ),
            (
                "group-by",
                best_us(a_group(DUCKDB)),
                best_us(a_group(SPARK)),
                best_us(b_transpile(a_group(DUCKDB))),
                best_us(lambda: ibis.to_sql(c_group(), dialect="pyspark")),
                best_us(lambda: engine.aggregate(version, measures, ["district"])),
                best_us(lambda: c_group().to_pyarrow()),
            ),
        ]
        head = (
            "request",
            "(a) build DuckDB",
            "(a) build Spark",
            "(b) + sqlglot to Spark",
            "(c) Ibis build+compile",
            "(a) DuckDB run",
            "(c) Ibis DuckDB run",
        )
        print(f"µs per call, best of 7 rounds; {n} rows; DuckDB runs include execution")
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for row in rows:
            print("| " + " | ".join(str(x) for x in row) + " |")
        print("\nsqlglot output (lookup):", b_transpile(a_lookup(DUCKDB))())
        print(
            "Ibis output (lookup):", ibis.to_sql(c_lookup(), dialect="pyspark").replace("\n", " ")
        )
        engine.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
