"""Ingest benchmark: DuckDB's raw CSV→Parquet copy vs Shuzhi's ingest + profile, same file.

    python -m benchmarks.ingest_bench [--rows 10000000] [--gbk] [--workdir DIR]
        [--compression zstd|snappy] [--parquet-version V2|V1] [--repeat N]

Each side runs in its own subprocess so its peak resident memory (ru_maxrss) is its own.
In ``--gbk`` mode Shuzhi loads a GBK copy of the file (transcoding as it streams); DuckDB,
which cannot read GBK without a downloadable extension, copies the UTF-8 original.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.gen_csv import generate


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _cpu_seconds() -> float:
    """CPU time of this process, all threads (less sensitive than wall time to other jobs)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_duckdb(csv_path: Path, out: Path) -> dict[str, Any]:
    import duckdb

    started, cpu = time.perf_counter(), _cpu_seconds()
    con = duckdb.connect()
    path = str(csv_path).replace("'", "''")
    target = str(out).replace("'", "''")
    row = con.execute(
        f"COPY (SELECT * FROM read_csv('{path}')) TO '{target}' (FORMAT parquet)"
    ).fetchone()
    con.close()
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": _cpu_seconds() - cpu,
        "rows": int(row[0]) if row else 0,
        "peak_mb": _peak_mb(),
    }


def child_shuzhi(
    csv_path: Path, out: Path, compression: Any = "zstd", parquet_version: Any = "V2"
) -> dict[str, Any]:
    from shuzhi.lake.query import DuckDBEngine
    from shuzhi.lake.readers import FileSource
    from shuzhi.lake.writer import LoadOptions, write_version

    options = LoadOptions(compression=compression, parquet_version=parquet_version)
    started, cpu = time.perf_counter(), _cpu_seconds()
    result = write_version(FileSource(csv_path), out, options)
    ingested, cpu_ingested = time.perf_counter(), _cpu_seconds()
    engine = DuckDBEngine(out)
    profile = engine.profile(result.version)
    engine.close()
    done, cpu_done = time.perf_counter(), _cpu_seconds()
    return {
        "seconds": done - started,
        "ingest_seconds": ingested - started,
        "profile_seconds": done - ingested,
        "ingest_cpu_seconds": cpu_ingested - cpu,
        "profile_cpu_seconds": cpu_done - cpu_ingested,
        "data_mb": result.version.data_bytes / 1e6,
        "rows": result.version.row_count,
        "profiled_rows": profile.row_count,
        "encoding": result.version.source.get("encoding"),
        "rejects": result.version.rejects.count,
        "peak_mb": _peak_mb(),
    }


def _transcode_gbk(source: Path, target: Path) -> None:
    with open(source, encoding="utf-8") as src, open(target, "w", encoding="gbk") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)


def _run_child(
    kind: str, csv_path: Path, out: Path, compression: str, parquet_version: str
) -> dict[str, Any]:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.ingest_bench",
            "--compression",
            compression,
            "--parquet-version",
            parquet_version,
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
    parser.add_argument("--gbk", action="store_true", help="load a GBK copy of the file")
    parser.add_argument("--workdir", type=Path, default=None, help="keep files here")
    parser.add_argument(
        "--compression",
        default="zstd",
        choices=["zstd", "snappy"],
        help="Shuzhi's Parquet codec (zstd, snappy)",
    )
    parser.add_argument(
        "--parquet-version",
        default="V2",
        choices=["V2", "V1"],
        help="Shuzhi's Parquet data page version (V2, V1)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="alternate the two sides N times; report the best"
    )
    parser.add_argument("--child", nargs=3, metavar=("KIND", "CSV", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, csv_path, out = args.child
        if kind == "duckdb":
            print(json.dumps(child_duckdb(Path(csv_path), Path(out))))
        else:
            shuzhi = child_shuzhi(Path(csv_path), Path(out), args.compression, args.parquet_version)
            print(json.dumps(shuzhi))
        return

    with tempfile.TemporaryDirectory(prefix="shuzhi-bench-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        csv_path = work / f"population-{args.rows}.csv"
        if not csv_path.exists():
            started = time.perf_counter()
            generate(csv_path, args.rows)
            print(f"generated {csv_path.name} in {time.perf_counter() - started:.1f}s")
        load_path = csv_path
        if args.gbk:
            load_path = work / f"population-{args.rows}-gbk.csv"
            if not load_path.exists():
                _transcode_gbk(csv_path, load_path)
        size_mb = csv_path.stat().st_size / 1e6
        runs: list[tuple[dict[str, Any], dict[str, Any]]] = []
        codec = (args.compression, args.parquet_version)
        for _ in range(max(1, args.repeat)):
            lake = work / f"lake-{time.time_ns()}"
            runs.append(
                (
                    _run_child("duckdb", csv_path, work / "duckdb.parquet", *codec),
                    _run_child("shuzhi", load_path, lake, *codec),
                )
            )
            shutil.rmtree(lake, ignore_errors=True)
            print(
                f"run {len(runs)}: DuckDB {runs[-1][0]['seconds']:.2f}s,"
                f" Shuzhi {runs[-1][1]['seconds']:.2f}s",
                flush=True,
            )
        duck = min((r[0] for r in runs), key=lambda r: float(r["seconds"]))
        shuzhi = min((r[1] for r in runs), key=lambda r: float(r["seconds"]))
        ratio = duck["seconds"] / shuzhi["seconds"]
        print(
            f"\nfile: {args.rows:,} rows, {size_mb:,.0f} MB (UTF-8)"
            + (
                f"; Shuzhi loads the GBK copy ({load_path.stat().st_size / 1e6:,.0f} MB)"
                if args.gbk
                else ""
            )
        )
        print(f"{'':30}{'seconds':>10}{'rows/s':>14}{'peak MB':>10}")
        print(
            f"{'DuckDB COPY csv→parquet':30}{duck['seconds']:>10.2f}"
            f"{duck['rows'] / duck['seconds']:>14,.0f}{duck['peak_mb']:>10.0f}"
        )
        print(
            f"{'Shuzhi ingest + profile':30}{shuzhi['seconds']:>10.2f}"
            f"{shuzhi['rows'] / shuzhi['seconds']:>14,.0f}{shuzhi['peak_mb']:>10.0f}"
        )
        print(
            f"{'  of which ingest':30}{shuzhi['ingest_seconds']:>10.2f}"
            f"  ({shuzhi['ingest_cpu_seconds']:.2f} CPU s, {shuzhi['data_mb']:.1f} MB Parquet)"
        )
        print(
            f"{'  of which profile':30}{shuzhi['profile_seconds']:>10.2f}"
            f"  ({shuzhi['profile_cpu_seconds']:.2f} CPU s)"
        )
        print(
            f"throughput ratio Shuzhi/DuckDB: {ratio:.2f} (target ≥ 0.50);"
            f" rejects: {shuzhi['rejects']}; encoding: {shuzhi['encoding']}"
        )


if __name__ == "__main__":
    main()
