"""The figure behind the storage-layout decision (docs/architecture.md): writing one version
as the lake does (zstd Parquet) against creating and appending an Iceberg table with
pyiceberg's ``SqlCatalog``. pyiceberg is not a dependency; install it beside the platform
(``pip install --target DIR 'pyiceberg[sql-sqlite,pyarrow]'``) and run
``PYTHONPATH=DIR python -m benchmarks.iceberg_probe``. Not part of ``make bench``."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROWS = 1_000_000


def people(n: int) -> pa.Table:
    return pa.table(
        {
            "姓名": [f"张{i % 9973}" for i in range(n)],
            "公民身份号码": [f"3301{i:014d}" for i in range(n)],
            "联系电话": [f"138{i:08d}" for i in range(n)],
            "年龄": [str(i % 97) for i in range(n)],
        }
    )


def main() -> None:
    from pyiceberg.catalog.sql import SqlCatalog  # type: ignore[import-not-found]

    table = people(ROWS)
    root = Path(tempfile.mkdtemp(prefix="iceberg-probe-"))
    start = time.perf_counter()
    writer = pq.ParquetWriter(
        root / "plain.parquet", table.schema, compression="zstd", compression_level=1
    )
    writer.write_table(table, row_group_size=128_000)
    writer.close()
    print(f"plain Parquet write: {time.perf_counter() - start:.2f} s")

    start = time.perf_counter()
    catalog = SqlCatalog("lake", uri=f"sqlite:///{root}/catalog.db", warehouse=root.as_uri())
    catalog.create_namespace("shuzhi")
    iceberg = catalog.create_table("shuzhi.people", schema=table.schema)
    print(f"Iceberg create table: {time.perf_counter() - start:.2f} s")
    for label in ("first", "second"):
        start = time.perf_counter()
        iceberg.append(table)
        print(f"Iceberg {label} append: {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    first = iceberg.history()[0].snapshot_id
    rows = iceberg.scan(snapshot_id=first).to_arrow().num_rows
    print(f"Iceberg time-travel scan: {time.perf_counter() - start:.2f} s ({rows} rows)")


if __name__ == "__main__":
    main()
