"""Reading progress: bytes of a file rise monotonically to the file size, in every format;
rows of a database are counted; the ``shuzhi ingest`` bar follows the same callbacks."""

from __future__ import annotations

import io
import json
import sqlite3
from itertools import pairwise
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.progress import Progress

from shuzhi.lake.ingest_cli import STEPS, IngestProgress
from shuzhi.lake.progress import ByteMeter
from shuzhi.lake.readers import DatabaseSource, FileSource, ReadOptions
from shuzhi.lake.writer import LoadOptions, write_version

ROWS = 80_000  # about 3.3 MB of CSV: several 1 MiB chunks


def _rows(n: int) -> list[list[str]]:
    return [
        [f"张{i % 97}", f"33010619850312{i % 10000:04d}", f"2024-01-{1 + i % 28:02d}", str(i)]
        for i in range(n)
    ]


HEADER = ["姓名", "证件号码", "日期", "序号"]


def _csv(path: Path, encoding: str = "utf-8", n: int = ROWS) -> Path:
    lines = [",".join(HEADER)] + [",".join(r) for r in _rows(n)]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def _xlsx(path: Path) -> Path:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("人口")
    sheet.append(HEADER)
    for row in _rows(8_000):
        sheet.append(row)
    book.save(path)
    return path


def _jsonl(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for row in _rows(5_000):
            fh.write(json.dumps(dict(zip(HEADER, row, strict=True)), ensure_ascii=False) + "\n")
    return path


def _parquet(path: Path) -> Path:
    columns = list(zip(*_rows(20_000), strict=True))
    table = pa.table({h: list(c) for h, c in zip(HEADER, columns, strict=True)})
    pq.write_table(table, path, row_group_size=2_000)
    return path


MAKERS = {
    "utf8.csv": _csv,
    "gbk.csv": lambda p: _csv(p, "gbk"),
    "book.xlsx": _xlsx,
    "lines.jsonl": _jsonl,
    "table.parquet": _parquet,
}


def _assert_rises_to(calls: list[int], size: int) -> None:
    assert calls, "no progress reported"
    assert all(b > a for a, b in pairwise(calls)), "not increasing"
    assert calls[-1] == size and all(0 < c <= size for c in calls)


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_bytes_read_rise_monotonically_to_the_file_size(tmp_path: Path, name: str) -> None:
    path = MAKERS[name](tmp_path / name)
    calls: list[int] = []
    options = LoadOptions(read=ReadOptions(batch_rows=1_000))
    result = write_version(FileSource(path, on_bytes=calls.append), tmp_path / "ds", options)
    assert result.version.row_count > 0
    _assert_rises_to(calls, path.stat().st_size)
    assert len(calls) >= 3, f"a {path.stat().st_size}-byte file reported only {calls}"


def test_a_second_pass_over_the_file_does_not_count_twice(tmp_path: Path) -> None:
    # A UTF-8 file with an overlong line is scanned, then copied: two reads, one count.
    path = _csv(tmp_path / "long.csv", n=2_000)
    with path.open("ab") as fh:
        fh.write(b"x" * 5_000 + b",1,2,3\n")
    calls: list[int] = []
    options = LoadOptions(read=ReadOptions(max_line_bytes=4_096), max_reject_ratio=0.5)
    write_version(FileSource(path, on_bytes=calls.append), tmp_path / "ds", options)
    _assert_rises_to(calls, path.stat().st_size)


def test_database_rows_are_counted_after_each_batch(tmp_path: Path) -> None:
    db = tmp_path / "src.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE people (姓名 TEXT, 证件号码 TEXT, 日期 TEXT, 序号 TEXT)")
        conn.executemany("INSERT INTO people VALUES (?,?,?,?)", _rows(120_000))
    calls: list[int] = []
    source = DatabaseSource(f"sqlite:///{db}", table="people", on_rows=calls.append)
    write_version(source, tmp_path / "ds")
    assert calls == [50_000, 100_000, 120_000]


def test_sources_with_and_without_a_callback_are_the_same_source(tmp_path: Path) -> None:
    path = _csv(tmp_path / "a.csv", n=10)
    assert FileSource(path, on_bytes=print) == FileSource(path)
    assert "on_bytes" not in repr(FileSource(path, on_bytes=print))


@given(
    total=st.integers(1, 10_000),
    steps=st.lists(
        st.tuples(st.sampled_from(["add", "at", "share"]), st.integers(0, 12_000)), max_size=30
    ),
)
def test_meter_never_goes_back_or_past_the_total(total: int, steps: list[tuple[str, int]]) -> None:
    calls: list[int] = []
    meter = ByteMeter(calls.append, total)
    for kind, value in steps:
        if kind == "add":
            meter.add(value)
        elif kind == "at":
            meter.at(value)
        else:
            meter.share(value / 10_000)
    meter.finish()
    _assert_rises_to(calls, total)


def test_the_ingest_bar_follows_the_callbacks(tmp_path: Path) -> None:
    path = _csv(tmp_path / "p.csv", "gbk")
    with Progress(console=Console(file=io.StringIO())) as bar:
        shown = IngestProgress(bar, FileSource(path), "1/000001")
        source = shown.attach(FileSource(path))
        write_version(source, tmp_path / "ds")
        read = bar.tasks[shown.read]
        assert read.total == read.completed == path.stat().st_size
        for step in STEPS:
            shown.step(step)
        shown.finish()
        assert bar.tasks[shown.steps].completed == len(STEPS)
    with Progress(console=Console(file=io.StringIO())) as bar:
        db = tmp_path / "src.db"
        with sqlite3.connect(db) as conn:
            conn.execute("CREATE TABLE t (a TEXT)")
            conn.executemany("INSERT INTO t VALUES (?)", [(str(i),) for i in range(10)])
        shown = IngestProgress(bar, DatabaseSource(f"sqlite:///{db}", table="t"), "1/000001")
        write_version(shown.attach(DatabaseSource(f"sqlite:///{db}", table="t")), tmp_path / "d")
        assert bar.tasks[shown.read].total is None and bar.tasks[shown.read].completed == 10
