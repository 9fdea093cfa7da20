"""A version's column counts are counted once per engine: a load asks for them twice at once
(a uniqueness rule beside the grade's count of individuals), and a version never changes."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from shuzhi.errors import Unavailable
from shuzhi.lake.manifest import Version
from shuzhi.lake.query import DuckDBEngine
from tests.lake.helpers import parquet_version


class CountingEngine(DuckDBEngine):
    """The real engine, counting the aggregates it runs; ``gate`` (when set) holds each one
    until it opens, ``fail`` makes the next one raise."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.aggregates = 0
        self.started = threading.Event()
        self.gate: threading.Event | None = None
        self.fail = False

    def aggregate(self, *args: Any, **kwargs: Any) -> pa.Table:
        self.aggregates += 1
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(10)
        if self.fail:
            self.fail = False
            raise Unavailable("引擎暂不可用。", "The engine is unavailable.")
        return super().aggregate(*args, **kwargs)


def _version(root: Path, name: str, ids: list[str | None], digest: str) -> Version:
    return parquet_version(root, name, pa.table({"id": pa.array(ids, pa.string())}), digest)


IDS = ["a", "b", "a", None, "", "c", None, "b"]


@pytest.fixture
def engine(tmp_path: Path) -> CountingEngine:
    return CountingEngine(tmp_path)


def test_counts_values_and_distinct_values_without_nulls(
    engine: CountingEngine, tmp_path: Path
) -> None:
    version = _version(tmp_path, "v1", IDS, "d1")
    assert engine.column_counts(version, "id") == (6, 4)


def test_a_version_is_counted_once(engine: CountingEngine, tmp_path: Path) -> None:
    version = _version(tmp_path, "v1", IDS, "d1")
    assert engine.column_counts(version, "id") == engine.column_counts(version, "id") == (6, 4)
    assert engine.aggregates == 1


def test_another_version_is_counted_on_its_own(engine: CountingEngine, tmp_path: Path) -> None:
    first = _version(tmp_path, "v1", IDS, "d1")
    second = _version(tmp_path, "v2", ["x", "x", "y"], "d2")
    assert engine.column_counts(first, "id") == (6, 4)
    assert engine.column_counts(second, "id") == (3, 2)
    assert engine.aggregates == 2


def test_callers_asking_at_once_wait_for_one_count(engine: CountingEngine, tmp_path: Path) -> None:
    version = _version(tmp_path, "v1", IDS, "d1")
    engine.gate = threading.Event()
    answers: list[tuple[int, int]] = []

    def ask() -> None:
        answers.append(engine.column_counts(version, "id"))

    first = threading.Thread(target=ask)
    first.start()
    assert engine.started.wait(10)  # the first count is running, held at the gate
    second = threading.Thread(target=ask)
    second.start()
    second.join(0.2)
    assert second.is_alive()  # waiting for the first count, not counting again
    engine.gate.set()
    first.join(10)
    second.join(10)
    assert answers == [(6, 4), (6, 4)]
    assert engine.aggregates == 1


def test_a_failed_count_is_not_remembered(engine: CountingEngine, tmp_path: Path) -> None:
    version = _version(tmp_path, "v1", IDS, "d1")
    engine.fail = True
    with pytest.raises(Unavailable):
        engine.column_counts(version, "id")
    assert engine.column_counts(version, "id") == (6, 4)
    assert engine.aggregates == 2
