"""The query engines every engine-level test runs on: DuckDB and Spark (local mode).

Spark runs in one JVM per test process, started by the first Spark test and shared by the
rest; its tests carry the ``xdist_group("spark")`` mark so that ``--dist loadgroup`` sends
them all to one worker (one JVM per run). With pytest 9.2 and pytest-xdist 3.8 the mark has
no effect (the plugin renames node ids in a way pytest 9.2 no longer reads: pytest-xdist
issue 1386), so each worker that meets a Spark test starts its own JVM; the tests pass
either way, each JVM costs its start-up (seconds) and up to ``SPARK_MEMORY`` of heap.

Spark tests are never skipped silently: without PySpark or Java they fail, unless
``SHUZHI_TEST_SKIP_SPARK=1`` opts out on purpose (CI never sets it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shuzhi.errors import Unavailable
from shuzhi.lake.query import DuckDBEngine, QueryEngine

SKIP_SPARK = "SHUZHI_TEST_SKIP_SPARK"
SPARK_MASTER = "local[2]"
SPARK_MEMORY = "1g"

SPARK_MARKS = [pytest.mark.spark, pytest.mark.xdist_group("spark")]
DUCKDB_ONLY = ["duckdb"]
SPARK_ONLY = [pytest.param("spark", marks=SPARK_MARKS)]
ENGINES = DUCKDB_ONLY + SPARK_ONLY


def make_engine(kind: str, root: Path) -> QueryEngine:
    """An engine of ``kind`` over the lake at ``root``."""
    if kind == "duckdb":
        return DuckDBEngine(root)
    if os.environ.get(SKIP_SPARK) == "1":
        pytest.skip(f"{SKIP_SPARK}=1: Spark tests opted out")
    from shuzhi.lake.spark import SparkEngine

    try:
        return SparkEngine(root, master=SPARK_MASTER, driver_memory=SPARK_MEMORY)
    except Unavailable as exc:
        pytest.fail(f"Spark did not start (install the dev extra and Java 17): {exc.message.en}")
