"""The same dataset work on DuckDB and on Spark (local mode), through the query interface.

    python -m benchmarks.engines_bench [--rows 1000000] [--master local[2]]
                                       [--driver-memory 1g] [--workdir DIR]

One population-register version of ``--rows`` rows (the generated CSV of the ingest
benchmark, loaded as a raw text version) and a 10-row version of the same shape. On each
engine, in this order: profile, quality (six rules: not null, unique, pattern, resident ID,
range, allowed values), a filtered scan read to the end, a GROUP BY with three measures, a
keyed lookup (mean of 20). Each step also runs on the 10-row version: that time is the
engine's fixed cost per step, and (big − small) / rows its cost per row, from which a sizing
table can be computed. Spark's session start (its JVM) is timed on its own.

Prints one table; the machine's load (``uptime``) before and after is printed with it, since
the numbers mean little without it.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.gen_csv import generate
from shuzhi.lake.manifest import Version
from shuzhi.lake.query import AggFunc, DuckDBEngine, Filter, Op, QueryEngine
from shuzhi.lake.readers import FileSource
from shuzhi.lake.writer import write_version
from shuzhi.quality.checks import RuleSpec, evaluate_all
from shuzhi.quality.models import RuleKind

RULES = [
    RuleSpec(RuleKind.NOT_NULL, "姓名"),
    RuleSpec(RuleKind.UNIQUE, "身份证号"),
    RuleSpec(RuleKind.PATTERN, "联系电话", {"pattern": "1[3-9][0-9]{9}"}),
    RuleSpec(RuleKind.RESIDENT_ID, "身份证号"),
    RuleSpec(RuleKind.RANGE, "补贴金额", {"min": 0, "max": 50000}),
    RuleSpec(RuleKind.ALLOWED_VALUES, "状态", {"values": ["正常", "注销", "迁出"]}),
]


def _version(workdir: Path, rows: int) -> Version:
    lake = workdir / "datasets"
    name = f"people-{rows}"
    done = sorted((lake / name).glob("*.manifest.json")) if (lake / name).exists() else []
    if done:
        from shuzhi.lake.manifest import load_version

        return load_version(done[-1])
    csv_path = workdir / f"people-{rows}.csv"
    if not csv_path.exists():
        generate(csv_path, rows)
    return write_version(FileSource(csv_path), lake / name).version


def _steps(version: Version, key: str) -> list[tuple[str, Callable[[QueryEngine], Any]]]:
    def scan(engine: QueryEngine) -> int:
        flt = [Filter("状态", Op.EQ, "正常")]
        return sum(b.num_rows for b in engine.scan(version, ["姓名", "身份证号", "状态"], flt))

    def lookups(engine: QueryEngine) -> Any:
        return [engine.lookup(version, "身份证号", key, limit=10) for _ in range(20)]

    measures: list[tuple[AggFunc | str, str | None]] = [
        (AggFunc.COUNT, None),
        (AggFunc.SUM, "补贴金额"),
        (AggFunc.COUNT_DISTINCT, "姓名"),
    ]
    return [
        ("profile", lambda e: e.profile(version)),
        ("quality (6 rules)", lambda e: evaluate_all(e, version, RULES)),
        ("filtered scan", scan),
        ("group-by", lambda e: e.aggregate(version, measures, ["来源部门", "状态"])),
        ("keyed lookup ×20", lookups),
    ]


def _timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def _run(engine: QueryEngine, big: Version, small: Version, keys: tuple[str, str]) -> list[Any]:
    rows = []
    for (name, on_big), (_, on_small) in zip(
        _steps(big, keys[0]), _steps(small, keys[1]), strict=True
    ):
        on_small(engine)  # warm: the file's view / metadata, the engine's code paths
        fixed = _timed(lambda f=on_small: f(engine))  # type: ignore[misc]
        total = _timed(lambda f=on_big: f(engine))  # type: ignore[misc]
        rows.append((name, total, fixed))
    return rows


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="1g")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.gettempdir()) / "shuzhi-engines-bench"
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"load before: {_uptime()}", flush=True)
    started = time.perf_counter()
    big, small = _version(workdir, args.rows), _version(workdir, 10)
    print(f"versions ready in {time.perf_counter() - started:.1f} s", flush=True)
    keys = []
    for version in (big, small):
        duck = DuckDBEngine(workdir / "datasets")
        first = next(duck.scan(version, ["身份证号"], limit=1)).to_pylist()[0]["身份证号"]
        keys.append(str(first))
        duck.close()
    root = workdir / "datasets"

    duck = DuckDBEngine(root)
    duck_rows = _run(duck, big, small, (keys[0], keys[1]))
    duck.close()

    from shuzhi.lake.spark import SparkEngine

    session_start = time.perf_counter()
    spark = SparkEngine(root, master=args.master, driver_memory=args.driver_memory)
    session_seconds = time.perf_counter() - session_start
    spark_rows = _run(spark, big, small, (keys[0], keys[1]))

    n = args.rows
    print(
        f"\n{n:,} rows ({big.data_bytes / 1e6:.0f} MB Parquet), Spark {args.master},"
        f" driver {args.driver_memory}; Spark session start {session_seconds:.1f} s"
    )
    print(
        "| step | DuckDB s | Spark s | Spark ÷ DuckDB | DuckDB fixed s | Spark fixed s"
        " | DuckDB s per M rows | Spark s per M rows |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for (name, d_total, d_fixed), (_, s_total, s_fixed) in zip(duck_rows, spark_rows, strict=True):
        ratio = s_total / d_total if d_total else float("inf")
        d_per = max(0.0, d_total - d_fixed) / n * 1e6
        s_per = max(0.0, s_total - s_fixed) / n * 1e6
        print(
            f"| {name} | {d_total:.2f} | {s_total:.2f} | {ratio:.1f}× | {d_fixed:.3f}"
            f" | {s_fixed:.3f} | {d_per:.2f} | {s_per:.2f} |"
        )
    print(f"\nload after: {_uptime()}")


if __name__ == "__main__":
    main()
