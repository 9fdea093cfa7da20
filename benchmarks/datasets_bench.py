"""Datasets benchmark: Shuzhi's full load (ingest + profile + classify + quality, through the
lake service) against DuckDB's own CSV→Parquet copy of the same file.

    python -m benchmarks.datasets_bench [--rows 10000000] [--workdir DIR] [--repeat N]

Each side runs in its own subprocess so its peak resident memory (ru_maxrss) is its own.
The Shuzhi side loads into a fresh data directory with a catalogue entry whose data items
match the file and five quality rules (valid resident ID, unique ID, phone not null,
allowed gender codes, subsidy range); only the ``ingest`` service call is timed. Its CPU time
and peak memory include the load's worker process (``worker.children_usage``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.gen_csv import generate
from benchmarks.ingest_bench import _cpu_seconds, _peak_mb, child_duckdb
from benchmarks.population import population_entry

COLUMNS = [
    "序号",
    "姓名",
    "身份证号",
    "性别",
    "出生日期",
    "联系电话",
    "居住地址",
    "登记日期",
    "补贴金额",
    "来源部门",
    "状态",
]


def _prepare(data_dir: Path) -> tuple[Any, str]:
    from shuzhi.context import SYSTEM, unit_of_work
    from shuzhi.db.engine import Database
    from shuzhi.db.migrate import upgrade
    from shuzhi.quality import service as quality
    from shuzhi.quality.models import RuleKind
    from shuzhi.quality.schemas import RuleIn
    from shuzhi.settings import Settings

    settings = Settings(data_dir, f"sqlite:///{data_dir / 'shuzhi.db'}", "b" * 48)
    database = Database(settings)
    upgrade(database)
    with unit_of_work(database, SYSTEM) as ctx:
        code = population_entry(ctx, COLUMNS, dates=("出生日期",))
        for kind, column, params in (
            (RuleKind.RESIDENT_ID, "身份证号", {}),
            (RuleKind.UNIQUE, "身份证号", {}),
            (RuleKind.NOT_NULL, "联系电话", {}),
            (RuleKind.ALLOWED_VALUES, "性别", {"values": ["男", "女"]}),
            (RuleKind.RANGE, "补贴金额", {"min": 0, "max": 100000}),
        ):
            quality.define_quality_rule(ctx, code, RuleIn(kind=kind, column=column, params=params))
    return database, code


def _workers() -> tuple[float, float]:
    """(CPU seconds, peak MB) of the finished load workers (none in code that loads in
    process, which the benchmark also runs to compare)."""
    try:
        from shuzhi.lake.worker import children_usage
    except ImportError:
        return 0.0, 0.0
    return children_usage()


def _with_workers() -> float:
    """CPU seconds of this process and of its finished load workers."""
    return _cpu_seconds() + _workers()[0]


def child_shuzhi(csv_path: Path, out: Path) -> dict[str, Any]:
    from shuzhi.context import SYSTEM, unit_of_work
    from shuzhi.lake import service as lake
    from shuzhi.lake.readers import FileSource

    out.mkdir(parents=True, exist_ok=True)
    database, code = _prepare(out)
    steps: dict[str, tuple[float, float]] = {}
    started, cpu = time.perf_counter(), _with_workers()

    def progress(step: str) -> None:
        steps[step] = (time.perf_counter(), _with_workers())

    with unit_of_work(database, SYSTEM) as ctx:
        result = lake.ingest(ctx, code, FileSource(csv_path), progress=progress)
    done, cpu_done = time.perf_counter(), _with_workers()
    lake.close_engine(database)
    marks = (
        [("load", (started, cpu))]
        + [(k, v) for k, v in steps.items() if k != "load"]
        + [("end", (done, cpu_done))]
    )
    phases = {
        a: (round(marks[i + 1][1][0] - t[0], 2), round(marks[i + 1][1][1] - t[1], 2))
        for i, (a, t) in enumerate(marks[:-1])
    }
    v = result.version
    return {
        "seconds": done - started,
        "cpu_seconds": cpu_done - cpu,
        "phases": phases,
        "rows": v.row_count,
        "quality_score": v.quality_score,
        "status": v.status,
        "rejects": v.rejects.count,
        "peak_mb": _peak_mb(),
        "worker_peak_mb": _workers()[1],
    }


def _run_child(kind: str, csv_path: Path, out: Path) -> dict[str, Any]:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.datasets_bench",
            "--child",
            kind,
            str(csv_path),
            str(out),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--workdir", type=Path, default=None, help="keep the CSV here")
    parser.add_argument("--repeat", type=int, default=1, help="alternate N times; report best")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "CSV", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, csv_path, out = args.child
        run = child_duckdb if kind == "duckdb" else child_shuzhi
        print(json.dumps(run(Path(csv_path), Path(out))))
        return
    with tempfile.TemporaryDirectory(prefix="shuzhi-dsbench-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        csv_path = work / f"population-{args.rows}.csv"
        if not csv_path.exists():
            generate(csv_path, args.rows)
        runs = []
        for _ in range(max(1, args.repeat)):
            target = work / f"shuzhi-{time.time_ns()}"
            runs.append(
                (
                    _run_child("duckdb", csv_path, work / "duckdb.parquet"),
                    _run_child("shuzhi", csv_path, target),
                )
            )
            shutil.rmtree(target, ignore_errors=True)
            d, z = runs[-1]
            print(
                f"run {len(runs)}: DuckDB {d['seconds']:.2f} s ({d['cpu_seconds']:.2f} CPU s,"
                f" {d['peak_mb']:.0f} MB), Shuzhi {z['seconds']:.2f} s ({z['cpu_seconds']:.2f}"
                f" CPU s, {z['peak_mb']:.0f} MB, load worker {z['worker_peak_mb']:.0f} MB),"
                f" ratio {d['seconds'] / z['seconds']:.2f},"
                f" phases {z['phases']}",
                flush=True,
            )
        duck = min((r[0] for r in runs), key=lambda r: float(r["seconds"]))
        shuzhi = min((r[1] for r in runs), key=lambda r: float(r["seconds"]))
        ratio = duck["seconds"] / shuzhi["seconds"]
        size = csv_path.stat().st_size / 1e6
        print(f"file: {args.rows:,} rows, {size:,.0f} MB (UTF-8 CSV)")
        print(f"{'':42}{'seconds':>10}{'CPU s':>8}{'rows/s':>14}{'peak MB':>10}")
        print(
            f"{'DuckDB COPY csv→parquet':42}{duck['seconds']:>10.2f}{duck['cpu_seconds']:>8.2f}"
            f"{duck['rows'] / duck['seconds']:>14,.0f}{duck['peak_mb']:>10.0f}"
        )
        print(
            f"{'Shuzhi ingest+profile+classify+quality':42}{shuzhi['seconds']:>10.2f}"
            f"{shuzhi['cpu_seconds']:>8.2f}"
            f"{shuzhi['rows'] / shuzhi['seconds']:>14,.0f}{shuzhi['peak_mb']:>10.0f}"
            f" (load worker {shuzhi['worker_peak_mb']:.0f})"
        )
        for phase, (seconds, cpu_seconds) in shuzhi["phases"].items():
            print(f"{'  ' + phase:42}{seconds:>10.2f}{cpu_seconds:>8.2f}")
        print(
            f"throughput ratio Shuzhi/DuckDB: {ratio:.2f} (target ≥ 0.50); CPU-time ratio"
            f" {duck['cpu_seconds'] / shuzhi['cpu_seconds']:.2f}; quality score"
            f" {shuzhi['quality_score']}; status {shuzhi['status']}; rejects {shuzhi['rejects']}"
        )


if __name__ == "__main__":
    main()
