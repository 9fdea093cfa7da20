"""Key index benchmark: size, build rate and lookups of one version's key index, without the
gateway around it.

    python -m benchmarks.keyindex_bench [--rows 1000000] [--workdir DIR] [--lookups 20000]

Generates the gateway benchmark's population rows (``--rows``), writes them as a lake version
(kept in ``--workdir`` and reused), builds the index on the resident ID column and prints a
table: index bytes per row (whole file, and beyond the key), build time and rows per second,
and the mean time of a lookup with the gateway benchmark's granted columns, for keys drawn in
turn from one list of 10,000 (``warm``, as the gateway benchmark) and for keys drawn at random
over the whole key space (``random``). Targets: ≤ 40 bytes per row beyond the key, ≥ 1 M rows/s
on two cores, random within 20 % of warm.

A refresh-under-load benchmark (a new version loaded while the gateway serves) belongs next to
``gateway_bench``; ``prepare_version`` here writes the versions it would need.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from benchmarks.gateway_bench import GRANTED, KEY, KEYS_IN_LIST
from benchmarks.gen_csv import generate


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


def _mean_us(index: Any, keys: list[str]) -> float:
    started = time.perf_counter()
    for key in keys:
        index.get(key, GRANTED, 10)
    return (time.perf_counter() - started) / len(keys) * 1e6


def run(workdir: Path, rows: int, lookups: int) -> dict[str, Any]:
    from shuzhi.gateway import keyindex

    version = prepare_version(workdir, rows)
    data_dir = workdir / f"rows-{rows}" / "data"
    target = keyindex.index_path(data_dir, version, KEY)
    target.unlink(missing_ok=True)
    started = time.perf_counter()
    indexed = keyindex.build(version, KEY, target)
    build_s = time.perf_counter() - started
    size = target.stat().st_size
    meta = pq.ParquetFile(target).metadata
    at = meta.schema.to_arrow_schema().names.index(KEY)
    key_bytes = sum(
        meta.row_group(g).column(at).total_compressed_size for g in range(meta.num_row_groups)
    )
    index = keyindex.KeyIndex(target, KEY)
    everything = pq.read_table(version.data_path, columns=[KEY]).column(0).to_pylist()
    keys = [k for k in everything if k is not None]
    chooser = random.Random(7)
    listed = chooser.sample(keys, min(KEYS_IN_LIST, len(keys)))
    warm_keys = [listed[i % len(listed)] for i in range(lookups)]
    random_keys = [chooser.choice(keys) for _ in range(lookups)]
    _mean_us(index, warm_keys)  # first pass: page cache and allocator settle
    warm = _mean_us(index, warm_keys)
    cold = _mean_us(index, random_keys)
    return {
        "rows": rows,
        "indexed": indexed,
        "data_bytes_per_row": round(version.data_path.stat().st_size / rows, 1),
        "index_bytes_per_row": round(size / max(indexed, 1), 1),
        "beyond_key_bytes_per_row": round((size - key_bytes) / max(indexed, 1), 1),
        "build_s": round(build_s, 2),
        "build_rows_per_s": round(indexed / build_s),
        "warm_us": round(warm, 1),
        "random_us": round(cold, 1),
        "random_vs_warm": round(cold / warm, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/shuzhi-keyindex-bench"))
    parser.add_argument("--lookups", type=int, default=20_000)
    args = parser.parse_args()
    result = run(args.workdir, args.rows, args.lookups)
    print(f"load average: {os.getloadavg()[0]:.2f}")
    width = max(len(k) for k in result)
    for name, value in result.items():
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
