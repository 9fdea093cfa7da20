"""CPU cost of formula neutralisation on a portal CSV download (``security.cells``).

    python -m benchmarks.cells_bench [--rows 1000000]

Writes ``--rows`` rows of seven text columns (as the lake holds them) through
``portal.data.csv_chunks`` (which guards each batch) and, for comparison, through the same
Arrow CSV writer without the guard: once with clean values, once with a column of signed
numbers (which the pre-screen cannot rule out). Prints CPU milliseconds (process time),
best of three.
"""

from __future__ import annotations

import argparse
import io
import random
import time
from collections.abc import Callable, Iterable, Iterator

import pyarrow as pa
import pyarrow.csv as pacsv

from shuzhi.portal import data


def _table(rows: int, negatives: bool, rng: random.Random) -> pa.Table:
    low = -20 if negatives else 0
    return pa.table(
        {
            "序号": [str(i) for i in range(rows)],
            "统计日期": [f"2024-0{1 + i % 9}-1{i % 10}" for i in range(rows)],
            "街道": [rng.choice(["城南街道", "城北街道", "东湖街道"]) for _ in range(rows)],
            "站点名称": [rng.choice(["人民广场站", "火车东站", "文化广场"]) for _ in range(rows)],
            "线路": [rng.choice(["1号线", "2号线", "B1"]) for _ in range(rows)],
            "进站人次": [str(rng.randint(low, 5000)) for _ in range(rows)],
            "出站人次": [str(rng.randint(0, 5000)) for _ in range(rows)],
        }
    )


def _unguarded(batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """``csv_chunks`` as it was before the guard."""
    yield data.BOM
    header = True
    for batch in batches:
        sink = io.BytesIO()
        pacsv.write_csv(batch, sink, pacsv.WriteOptions(include_header=header))
        header = False
        yield sink.getvalue()


def _cpu_ms(
    write: Callable[[Iterable[pa.RecordBatch]], Iterator[bytes]], batches: list[pa.RecordBatch]
) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        for _chunk in write(batches):
            pass
        best = min(best, time.process_time() - start)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    rng = random.Random(1)
    print(f"{'table':28} {'guarded':>10} {'unguarded':>10}  (CPU ms)")
    for label, negatives in (("clean", False), ("with a signed-number column", True)):
        batches = _table(args.rows, negatives, rng).to_batches(max_chunksize=65_536)
        guarded = _cpu_ms(data.csv_chunks, batches)
        unguarded = _cpu_ms(_unguarded, batches)
        print(f"{label:28} {guarded:10.0f} {unguarded:10.0f}")


if __name__ == "__main__":
    main()
