"""Key index benchmark: size, build rate and lookups of one version's key index, without the
gateway around it.

    python -m benchmarks.keyindex_bench [--rows 1000000] [--workdir DIR] [--lookups 20000]
                                        [--former FILE.sqlite] [--engine duckdb|spark]

Generates the gateway benchmark's population rows (``--rows``), writes them as a lake version
(kept in ``--workdir`` and reused), builds the index on the resident ID column through the
DuckDB engine (``--engine spark``: Spark in local mode on two cores, started before the build)
and prints: index bytes per row (whole index; the sorted keys alone in the same
blocks; the difference, "beyond the key"), build time, rows per second and CPU time (all
threads: the figure a shared machine distorts least), the time of the engine's sorted scan
alone (the share of the build the engine takes), and the mean time of a
lookup with the gateway benchmark's granted columns, for keys drawn in turn from one list of
10,000 (``warm``, as the gateway benchmark) and for keys drawn at random over the whole key
space (``random``): three alternating rounds of each, medians. Targets: ≤ 40 bytes per row
beyond the key, ≥ 1 M rows/s on two cores, random within 20 % of warm. The machine's load
average before the build and after the run is printed with the figures. ``--former`` times
the same lookups in an index file of the former format (the SQLite row store main's gateway
benchmark built, ``gateway/keys/*.sqlite`` of its work directory, same generated rows).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.gateway_bench import GRANTED, KEY
from benchmarks.gen_csv import generate

KEYS_IN_LIST = 10_000  # the "warm" keys: one list walked in turn, as the gateway benchmark once did
ROUNDS = 3


def prepare_version(workdir: Path, rows: int) -> Any:
    """A lake version of ``rows`` generated rows (written once, reused)."""
    from shuzhi.lake.manifest import current_version
    from shuzhi.lake.readers import FileSource
    from shuzhi.lake.writer import write_version

    directory = workdir / f"rows-{rows}" / "data" / "datasets" / "bench" / "1"
    found = current_version(directory)
    if found is not None:
        return found
    csv_path = workdir / f"rows-{rows}" / "people.csv"
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    if not csv_path.exists():
        generate(csv_path, rows)
    return write_version(FileSource(csv_path), directory).version


class FormerRowStore:
    """Lookups in an index file of the former format (a SQLite row store of every column,
    ``rows(k, n, c0, c1, …)``, as main's gateway benchmark work directory holds one), the
    way the former gateway read it: for the "before" figures on the same machine state."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        self.position = {name: i for i, name in enumerate(columns)}

    def get(self, key: str, columns: list[str], limit: int) -> list[dict[str, Any]]:
        names = ", ".join(f"c{self.position[c]}" for c in columns)
        rows = self.conn.execute(
            f"SELECT {names} FROM rows WHERE k = ? ORDER BY n LIMIT ?", (key, limit)
        )
        return [dict(zip(columns, r, strict=True)) for r in rows]


def _rounds(index: Any, warm_keys: list[str], random_keys: list[str]) -> tuple[float, float]:
    """Median warm and random lookup times (µs) of alternating rounds, after a first pass."""
    _mean_us(index, warm_keys)  # first pass: page cache and allocator settle
    warms, colds = [], []
    for _ in range(ROUNDS):
        warms.append(_mean_us(index, warm_keys))
        colds.append(_mean_us(index, random_keys))
    return statistics.median(warms), statistics.median(colds)


def _mean_us(index: Any, keys: list[str]) -> float:
    started = time.perf_counter()
    for key in keys:
        index.get(key, GRANTED, 10)
    return (time.perf_counter() - started) / len(keys) * 1e6


def _key_bytes(keys: list[str]) -> int:
    """What the sorted keys alone take in the index's blocks (row text, zstd with a trained
    dictionary, as the index compresses): the index's size minus this is its size beyond the
    key."""
    from shuzhi.gateway import keybuild, keyindex

    text = pa.array([k + keyindex.RS for k in sorted(keys)], pa.large_string())
    compressor = keybuild._Compressor()
    keybuild._train(compressor, len(text), lambda begin, count: text.slice(begin, count))
    frames, _ = compressor.compress(keybuild._blocks_of(text)[0])
    extra = len(compressor.dictionary.as_bytes()) if compressor.dictionary else 0
    return len(frames) + extra


def _engine(kind: str, root: Path, version: Any) -> Any:
    """The engine the build reads through; Spark (local, two cores) started and warmed on
    the version first, so that the build's time is the build's."""
    from shuzhi.lake.query import DuckDBEngine

    if kind == "duckdb":
        return DuckDBEngine(root)
    from shuzhi.lake.spark import SparkEngine

    engine = SparkEngine(root, master="local[2]", driver_memory="2g")
    engine.count(version)
    return engine


def run(
    workdir: Path, rows: int, lookups: int, former: Path | None = None, kind: str = "duckdb"
) -> dict[str, Any]:
    from shuzhi.gateway import keybuild, keyindex
    from shuzhi.lake.query import DuckDBEngine, Order

    version = prepare_version(workdir, rows)
    data_dir = workdir / f"rows-{rows}" / "data"
    target = keyindex.index_path(data_dir, version, KEY)
    shutil.rmtree(target, ignore_errors=True)
    engine = _engine(kind, data_dir / "datasets", version)
    load_before = os.getloadavg()[0]
    started, cpu_started = time.perf_counter(), time.process_time()
    indexed = keybuild.build(engine, data_dir, version, KEY, target)
    build_s = time.perf_counter() - started
    build_cpu_s = time.process_time() - cpu_started
    engine.close()
    size = sum(p.stat().st_size for p in target.iterdir())
    index = keyindex.KeyIndex(target, KEY)
    everything = pq.read_table(version.data_path, columns=[KEY]).column(0).to_pylist()
    keys = [k for k in everything if k is not None]
    key_bytes = _key_bytes(keys)
    chooser = random.Random(7)
    listed = chooser.sample(keys, min(KEYS_IN_LIST, len(keys)))
    warm_keys = [listed[i % len(listed)] for i in range(lookups)]
    random_keys = [chooser.choice(keys) for _ in range(lookups)]
    warm, cold = _rounds(index, warm_keys, random_keys)
    before: dict[str, Any] = {}
    if former is not None:
        store = FormerRowStore(former, [c.name for c in version.columns])
        before_warm, before_cold = _rounds(store, warm_keys, random_keys)
        before = {
            "former_bytes_per_row": round(former.stat().st_size / rows, 1),
            "former_warm_us": round(before_warm, 1),
            "former_random_us": round(before_cold, 1),
            "former_random_vs_warm": round(before_cold / before_warm, 2),
        }
    sort_s = None
    if kind == "duckdb":  # Spark hands a sorted scan over row by row: not what a build reads
        engine = DuckDBEngine(data_dir / "datasets")
        started = time.perf_counter()
        ordered = [Order(KEY)]
        sorted_rows = sum(b.num_rows for b in engine.scan(version, None, (), ordered))
        sort_s = round(time.perf_counter() - started, 2)
        engine.close()
        assert sorted_rows == rows
    return {
        "rows": rows,
        "indexed": indexed,
        "parts": len(index._files),
        "block_rows": keybuild.BLOCK_ROWS,
        "load_before_build": round(load_before, 2),
        "data_bytes_per_row": round(version.data_path.stat().st_size / rows, 1),
        "index_bytes_per_row": round(size / max(indexed, 1), 1),
        "raw_key_bytes_per_row": round(sum(len(k.encode()) for k in keys) / len(keys), 1),
        "key_bytes_per_row": round(key_bytes / max(indexed, 1), 1),
        "beyond_key_bytes_per_row": round((size - key_bytes) / max(indexed, 1), 1),
        "build_s": round(build_s, 2),
        "build_rows_per_s": round(indexed / build_s),
        # every thread's CPU time: the build's cost (this process's: not Spark's JVM)
        "build_cpu_s": round(build_cpu_s, 2),
        "rows_per_cpu_s": round(indexed / build_cpu_s),  # half the two-core rate at best
        "engine_sorted_scan_s": sort_s,
        "warm_us": round(warm, 1),
        "random_us": round(cold, 1),
        "random_vs_warm": round(cold / warm, 2),
        **before,
        "load_after": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/shuzhi-keyindex-bench"))
    parser.add_argument("--lookups", type=int, default=20_000)
    parser.add_argument(
        "--former",
        type=Path,
        default=None,
        help="an index file of the former format (SQLite row store) over the same rows",
    )
    parser.add_argument(
        "--engine",
        choices=["duckdb", "spark"],
        default="duckdb",
        help="the engine the build reads through (spark: local mode on two cores)",
    )
    parser.add_argument("--block-rows", type=int, default=None, help="override BLOCK_ROWS")
    parser.add_argument("--part-rows", type=int, default=None, help="override PART_ROWS")
    args = parser.parse_args()
    from shuzhi.gateway import keybuild

    keybuild.BLOCK_ROWS = args.block_rows or keybuild.BLOCK_ROWS
    keybuild.PART_ROWS = args.part_rows or keybuild.PART_ROWS
    result = run(args.workdir, args.rows, args.lookups, args.former, args.engine)
    print(f"load average: {os.getloadavg()[0]:.2f}")
    width = max(len(k) for k in result)
    for name, value in result.items():
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
