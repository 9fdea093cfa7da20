"""Key indexes of versions with typed columns (Parquet sources keep their types): a lookup
returns exactly what the engine's lookup returns, and what the index cannot hold is left to
the engine, a few lookups at a time."""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI

from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.errors import Unavailable
from shuzhi.gateway import keybuild, keyindex
from shuzhi.gateway.runtime import GatewayOptions, GatewayRuntime
from shuzhi.lake import service as lake
from shuzhi.lake.manifest import Version
from shuzhi.lake.query import DuckDBEngine
from shuzhi.lake.readers import FileSource
from tests.conftest import acting
from tests.engines import ENGINES, make_engine
from tests.gateway.helpers import TEST_OPTIONS, gateway, ids, parquet_version, share
from tests.lake.helpers import people_rows

UTC8 = dt.timezone(dt.timedelta(hours=8))


def _typed_table() -> pa.Table:
    moment = dt.datetime(2024, 1, 2, 3, 4, 5, 6)
    return pa.table(
        {
            "k": ["b", "a", "c", "b", "d"],
            "i8": pa.array([-5, None, 127, 0, -128], pa.int8()),
            "u64": pa.array([2**64 - 1, 0, None, 1, 2], pa.uint64()),
            "f32": pa.array([0.1, None, float("nan"), -0.0, 3.4e38], pa.float32()),
            "f64": pa.array([0.1, 1e20, float("-inf"), -0.0, None]),
            "flag": pa.array([True, False, None, True, False]),
            "amount": pa.array(
                [decimal.Decimal(v) for v in ("53697.32", "-0.05", "0.00", "1.50", "9.99")],
                pa.decimal128(10, 2),
            ),
            "day": pa.array(
                [
                    dt.date(2024, 1, 2),
                    dt.date(1, 1, 1),
                    None,
                    dt.date(9999, 12, 31),
                    dt.date(2000, 2, 29),
                ]
            ),
            "clock": pa.array(
                [dt.time(3, 4, 5, 6), dt.time(0, 0), None, dt.time(23, 59, 59), dt.time(12)],
                pa.time64("us"),
            ),
            "clock_ms": pa.array(
                [dt.time(3, 4, 5, 6000), None, None, None, dt.time(1)], pa.time32("ms")
            ),
            "at": pa.array(
                [moment, None, dt.datetime(1900, 1, 1), moment, moment], pa.timestamp("us")
            ),
            "at_s": pa.array(
                [moment.replace(microsecond=0), None, None, None, None], pa.timestamp("s")
            ),
            "at_zone": pa.array(
                [moment.replace(tzinfo=dt.UTC), None, None, None, None],
                pa.timestamp("us", tz="Asia/Shanghai"),
            ),
            "at_offset": pa.array(
                [moment.replace(tzinfo=UTC8), None, None, None, None],
                pa.timestamp("ms", tz="+08:00"),
            ),
            "note": ["x\x1ey", None, "", "\x1bN", "号"],
        }
    )


@pytest.mark.parametrize("path", ["native", "one pass", "sorted scan", "stable parts"])
def test_typed_values_read_back_as_the_engine_returns_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    # The four ways a build reads the rows (keybuild.build), in blocks of two rows: "one pass"
    # is the native path for a version of several parts (the engine's ``key_rows``).
    monkeypatch.setattr(keybuild, "BLOCK_ROWS", 2)
    if path not in ("native", "one pass"):
        monkeypatch.setattr(keybuild, "_numbered", lambda *args: False)
    if path == "sorted scan":  # the engine's sorted scan, read again stably (keys repeat)
        monkeypatch.setattr(keybuild, "_repeats", lambda *args: False)
    if path in ("one pass", "stable parts"):
        monkeypatch.setattr(keybuild, "PART_ROWS", 2)
    table = _typed_table()
    version = parquet_version(tmp_path, table)
    assert keyindex.indexable(version, "k")
    engine = DuckDBEngine(tmp_path / "datasets")
    try:
        built = keybuild.ensure(engine, tmp_path, version, "k")
        assert built is not None
        index = keyindex.KeyIndex(built, "k")
        columns = list(reversed(table.column_names))
        for key in ("a", "b", "c", "d", "e"):
            expected = engine.lookup(version, "k", key, columns, 10)
            # repr: 1 == 1.0 == True and -0.0 == 0.0 in Python, the answers' JSON differ.
            assert repr(index.get(key, columns, 10)) == repr(expected), key
        assert len(index.get("b", columns, 10)) == 2
        several = path in ("one pass", "stable parts")
        assert several == (len(list(built.glob("part-*.blk"))) > 1)
    finally:
        engine.close()


# Column types Spark's Parquet reader refuses (unsigned 64-bit integers, times of day).
SPARK_UNREADABLE = ("u64", "clock", "clock_ms")


@pytest.mark.parametrize("kind", ENGINES)
@pytest.mark.parametrize("part_rows", [1_000_000, 7], ids=["one part", "several parts"])
def test_each_engine_builds_an_index_that_answers_as_it_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, part_rows: int
) -> None:
    # The build reads the version through the engine that serves it; a version of several
    # parts in one pass (``key_rows``), which Spark sorts and hands back through Parquet
    # files when the answer is larger than it collects at once (as here).
    monkeypatch.setattr(keybuild, "BLOCK_ROWS", 2)
    monkeypatch.setattr(keybuild, "PART_ROWS", part_rows)
    if kind == "spark" and part_rows == 7:
        from shuzhi.lake import spark

        monkeypatch.setattr(spark, "COLLECT_ROWS", 0)
    # Eight copies of the typed rows, their keys numbered so that key order and stored order
    # differ throughout (each copy's "b" twice).
    typed = _typed_table().drop_columns(list(SPARK_UNREADABLE))
    copies = [
        typed.set_column(0, "k", pa.array([f"{k}{3 * n % 8}" for k in typed["k"].to_pylist()]))
        for n in range(8)
    ]
    table = pa.concat_tables(copies)
    version = parquet_version(tmp_path, table)
    engine = make_engine(kind, tmp_path / "datasets")
    try:
        built = keybuild.ensure(engine, tmp_path, version, "k")
        assert built is not None
        assert (len(list(built.glob("part-*.blk"))) > 1) == (part_rows < table.num_rows)
        index = keyindex.KeyIndex(built, "k")
        columns = list(reversed(table.column_names))
        for key in [*sorted(set(table["k"].to_pylist())), "x"]:
            expected = engine.lookup(version, "k", key, columns, 10)
            assert repr(index.get(key, columns, 10)) == repr(expected), key
        assert len(index.get("b3", columns, 10)) == 2
    finally:
        engine.close()


@pytest.mark.parametrize(
    "column",
    [
        pa.array([b"\x00\x01"], pa.binary()),
        pa.array([[1, 2]], pa.list_(pa.int64())),
        pa.array([dt.datetime(2024, 1, 2)], pa.timestamp("ns")),
        pa.array([dt.timedelta(seconds=3)], pa.duration("s")),
    ],
    ids=["binary", "list", "nanoseconds", "duration"],
)
def test_what_the_index_cannot_hold_is_left_to_the_engine(tmp_path: Path, column: pa.Array) -> None:
    version = parquet_version(tmp_path, pa.table({"k": ["a"], "v": column}))
    assert not keyindex.indexable(version, "k")
    engine = DuckDBEngine(tmp_path / "datasets")
    try:
        assert keybuild.ensure(engine, tmp_path, version, "k") is None
    finally:
        engine.close()


def test_a_key_column_that_is_not_text_is_left_to_the_engine(tmp_path: Path) -> None:
    version = parquet_version(
        tmp_path, pa.table({"k": pa.array([1, 2], pa.int64()), "v": ["a", "b"]})
    )
    assert not keyindex.indexable(version, "k") and keyindex.indexable(version, "v")


def _engine_lookup(runtime: GatewayRuntime, version: Version, key: str) -> list[Any]:
    """One lookup through the engine, on an event loop of its own thread (the test's thread
    may be running one already)."""
    with ThreadPoolExecutor(1) as pool:
        coroutine = runtime.engine_lookup(version, "k", key, ["v"], 10)
        return pool.submit(asyncio.run, coroutine).result()


def test_engine_lookups_take_turns_and_are_refused_when_none_comes(
    tmp_path: Path, database: Database
) -> None:
    version = parquet_version(tmp_path, pa.table({"k": ["a", "b"], "v": pa.array([[1], [2]])}))
    engine = DuckDBEngine(tmp_path / "datasets")
    options = GatewayOptions(engine_lookups=1, key_index_wait_seconds=0.2)
    runtime = GatewayRuntime(database, engine, options)
    try:
        assert _engine_lookup(runtime, version, "b") == [{"v": [2]}]
        assert runtime._engine_turns.acquire(blocking=False)  # a scan in progress
        with pytest.raises(Unavailable) as refused:
            _engine_lookup(runtime, version, "a")
        assert refused.value.retry_after is not None
        runtime._engine_turns.release()
        assert _engine_lookup(runtime, version, "a") == [{"v": [1]}]
    finally:
        runtime.meter.close()
        engine.close()


def test_a_typed_version_is_served_from_its_index_as_the_engine_serves_it(
    app: FastAPI, database: Database, tmp_path: Path
) -> None:
    shared = share(database, rows=20)
    people = people_rows(20)
    typed = pa.table(
        {
            "姓名": [r[0] for r in people],
            "公民身份号码": [r[1] for r in people],
            "联系电话": [r[2] for r in people],
            "出生日期": pa.array([dt.date.fromisoformat(r[3]) for r in people]),
            "年龄": pa.array([int(r[4]) if i % 3 else None for i, r in enumerate(people)]),
        }
    )
    pq.write_table(typed, tmp_path / "typed.parquet")
    with acting(database, SYSTEM) as ctx:
        lake.ingest(ctx, shared.code, FileSource(tmp_path / "typed.parquet"))
    answers = {}
    for indexed in (True, False):
        options = replace(TEST_OPTIONS, key_index=indexed)
        with gateway(app, options) as client:
            answers[indexed] = [
                client.get(f"/api/v1/share/{shared.code}/records/{k}", headers=shared.auth)
                for k in ids(20)[:4]
            ]
    assert [r.status_code for r in answers[True]] == [200] * 4
    assert [r.content for r in answers[True]] == [r.content for r in answers[False]]
    ages = [r.json()["年龄"] for r in answers[True]]
    assert ages[0] is ages[3] is None and all(type(a) is int for a in ages[1:3])
    built = list((database.settings.data_dir / keyindex.INDEX_DIR).glob("*.keys"))
    assert built and all(
        json.loads((p / keyindex.META).read_text())["types"]["年龄"] == "int64" for p in built
    )
