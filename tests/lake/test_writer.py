"""Versions are complete or absent: atomic writes, kill -9, rejects ratio, idempotent hashes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shuzhi.errors import Invalid
from shuzhi.lake.manifest import current_version, list_versions
from shuzhi.lake.readers import FileSource, Reader, ReadOptions
from shuzhi.lake.rejects import RejectSink
from shuzhi.lake.writer import LoadOptions, write_version
from tests.lake.conftest import PEOPLE, write_csv

ROOT = Path(__file__).resolve().parents[2]


def visible(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if not p.name.startswith("."))


def test_first_load_writes_parquet_then_manifest(tmp_path: Path, people_csv: Path) -> None:
    lake = tmp_path / "lake" / "people"
    result = write_version(FileSource(people_csv), lake)
    v = result.version
    assert not result.duplicate
    assert v.version_id.startswith("v000001-") and v.sequence == 1
    assert visible(lake) == [f"{v.version_id}.manifest.json", f"{v.version_id}.parquet"]
    manifest = json.loads(v.manifest_path.read_text(encoding="utf-8"))
    assert manifest["data_file"] == v.data_file
    assert manifest["data_file_sha256"] == v.data_file_sha256 and v.verify()
    assert manifest["row_count"] == 3
    assert [c["name"] for c in manifest["columns"]] == PEOPLE[0]
    assert {c["type"] for c in manifest["columns"]} == {"string"}
    assert manifest["source"]["encoding"] == "utf-8"
    assert manifest["rejects"]["count"] == 0
    assert set(manifest["timings"]) == {"read_write_seconds", "total_seconds"}
    assert pq.read_table(v.data_path).to_pylist()[0]["身份证号"] == "110101199003071234"
    assert pq.ParquetFile(v.data_path).metadata.row_group(0).column(0).compression == "ZSTD"


@pytest.mark.parametrize(
    ("version", "encoding"), [("V2", "DELTA_LENGTH_BYTE_ARRAY"), ("V1", "PLAIN")]
)
def test_text_columns_are_written_with_the_chosen_page_version(
    tmp_path: Path, version: Any, encoding: str
) -> None:
    rows = [["编号", "身份证号"]] + [[str(i), f"11010119900307{i:04d}"] for i in range(5000)]
    source = write_csv(tmp_path / "ids.csv", rows)
    result = write_version(
        FileSource(source), tmp_path / "lake", LoadOptions(parquet_version=version)
    )
    chunk = pq.ParquetFile(result.version.data_path).metadata.row_group(0).column(1)
    assert encoding in chunk.encodings  # unique values outgrow the dictionary limit
    assert pq.read_table(result.version.data_path).column(1)[4999].as_py() == "110101199003074999"


def test_same_content_is_a_duplicate_and_new_content_a_new_version(
    tmp_path: Path, people_csv: Path
) -> None:
    lake = tmp_path / "lake"
    first = write_version(FileSource(people_csv), lake).version
    copy = tmp_path / "renamed.csv"
    copy.write_bytes(people_csv.read_bytes())
    again = write_version(FileSource(copy), lake)
    assert again.duplicate and again.version == first
    assert len(list_versions(lake)) == 1
    write_csv(people_csv, [*PEOPLE, ["赵六", "110101199912319999", "1999-12-31", "1"]])
    second = write_version(FileSource(people_csv), lake).version
    assert second.sequence == 2 and second.content_hash != first.content_hash
    assert current_version(lake) == second
    forced = write_version(FileSource(people_csv), lake, LoadOptions(skip_duplicates=False))
    assert forced.version.sequence == 3 and forced.version.content_hash == second.content_hash


@pytest.mark.parametrize("kind", ["utf-8", "gbk", "overlong line"])
def test_a_duplicate_is_recognised_before_anything_is_kept(tmp_path: Path, kind: str) -> None:
    rows = [[f"名称{i}", f"{i:018d}", "2024-01-02", str(i)] for i in range(20_000)]
    path = write_csv(
        tmp_path / "f.csv", [PEOPLE[0], *rows], encoding="gbk" if kind == "gbk" else "utf-8"
    )
    if kind == "overlong line":
        with open(path, "ab") as fh:
            fh.write(b"x" * (80 * 1024) + b",y,z,w\n")
    options = LoadOptions(read=ReadOptions(max_line_bytes=64 * 1024))
    lake = tmp_path / "lake"
    first = write_version(FileSource(path), lake, options)
    assert first.version.row_count == 20_000 and not first.duplicate
    again = write_version(FileSource(path), lake, options)
    assert again.duplicate and again.version == first.version
    assert sorted(p.name for p in lake.iterdir()) == sorted(
        [".lock", first.version.data_file, first.version.manifest_path.name]
        + ([first.version.rejects.file] if first.version.rejects.file else [])
    )


def test_gbk_and_utf8_copies_load_the_same_rows(tmp_path: Path) -> None:
    utf8 = write_csv(tmp_path / "u.csv", PEOPLE)
    gbk = write_csv(tmp_path / "g.csv", PEOPLE, encoding="gbk")
    bom = tmp_path / "b.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + utf8.read_bytes())
    tables = []
    for i, path in enumerate((utf8, gbk, bom)):
        v = write_version(FileSource(path), tmp_path / f"lake{i}").version
        tables.append(pq.read_table(v.data_path).to_pylist())
        assert v.source["encoding"] == ("utf-8", "gbk", "utf-8-sig")[i]
    assert tables[0] == tables[1] == tables[2]


def _with_bad_rows(path: Path, good: int, bad_lines: dict[int, str]) -> Path:
    lines = ["a,b,c"] + [f"{i},x{i},y{i}" for i in range(good)]
    for number, text in sorted(bad_lines.items()):
        lines.insert(number - 1, text)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_rejects_over_the_ratio_fail_and_write_nothing(tmp_path: Path) -> None:
    path = _with_bad_rows(tmp_path / "f.csv", 98, {5: "1,2", 50: "1,2,3,4"})
    lake = tmp_path / "lake"
    with pytest.raises(Invalid) as err:
        write_version(FileSource(path), lake)
    assert "2 of 100" in err.value.message.en
    assert "too_few_fields" in err.value.errors[0].message.en
    assert visible(lake) == [] and [p.name for p in lake.iterdir()] == [".lock"]


def test_rejects_under_the_ratio_are_kept_next_to_the_version(tmp_path: Path) -> None:
    path = _with_bad_rows(tmp_path / "f.csv", 98, {5: "1,2", 50: "1,2,3,4"})
    v = write_version(
        FileSource(path), tmp_path / "lake", LoadOptions(max_reject_ratio=0.05)
    ).version
    assert v.row_count == 98
    assert v.rejects.count == 2 and v.rejects.ratio == 0.02
    assert v.rejects.by_reason == {"too_few_fields": 1, "too_many_fields": 1}
    assert v.rejects_path is not None
    lines = v.rejects_path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "line,reason,detail,raw"
    assert lines[1].startswith("5,too_few_fields,") and lines[1].endswith(',"1,2"')
    assert lines[2].startswith("50,too_many_fields,")


def test_header_only_is_a_valid_empty_version(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("姓名,身份证号\n", encoding="utf-8")
    v = write_version(FileSource(path), tmp_path / "lake").version
    assert v.row_count == 0
    assert [c.name for c in v.columns] == ["姓名", "身份证号"]
    assert pq.read_table(v.data_path).num_rows == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "empty"), (b"\x00\x01\x02" * 100, "not a text file")],
)
def test_empty_or_binary_file_writes_nothing(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    lake = tmp_path / "lake"
    with pytest.raises(Invalid) as err:
        write_version(FileSource(path), lake)
    assert message in err.value.errors[0].message.en
    assert visible(lake) == []


def test_overlong_line_is_rejected_without_reading_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    with open(path, "wb") as fh:
        fh.write(b"a,b\n")
        fh.writelines(b"%d,v\n" % i for i in range(200))
        fh.write(b"x" * (6 * 1024 * 1024) + b",y\n")  # stands in for a 2 GB line
        fh.write(b"last,row\n")
    options = LoadOptions(max_reject_ratio=0.01, read=ReadOptions(max_line_bytes=64 * 1024))
    v = write_version(FileSource(path), tmp_path / "lake", options).version
    assert v.row_count == 201
    assert v.rejects.by_reason == {"line_too_long": 1}
    assert v.rejects_path is not None
    row = v.rejects_path.read_text().splitlines()[1]
    assert row.startswith("202,line_too_long,") and len(row) < 400


def test_mixed_encodings_are_rejected_with_line_numbers(tmp_path: Path) -> None:
    gbk = tmp_path / "gbk.csv"
    rows = "".join(f"{i},名称{i}\n" for i in range(300))
    gbk.write_bytes(("编号,名称\n" + rows).encode("gbk") + "999,混入的UTF8行\n".encode())
    v = write_version(FileSource(gbk), tmp_path / "a", LoadOptions(max_reject_ratio=0.01)).version
    assert v.rejects.by_reason == {"mixed_encoding": 1} and v.row_count == 300
    utf8 = tmp_path / "utf8.csv"
    utf8.write_bytes(("编号,名称\n" + rows).encode() + "999,混入的GBK行\n".encode("gbk") + b"1,z\n")
    v = write_version(FileSource(utf8), tmp_path / "b", LoadOptions(max_reject_ratio=0.01)).version
    assert v.rejects.by_reason == {"invalid_encoding": 1} and v.row_count == 301
    assert v.rejects_path is not None
    assert v.rejects_path.read_text().splitlines()[1].startswith("302,invalid_encoding,")


def test_dates_in_five_formats_stay_text(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "f.csv",
        [
            ["iso", "slash", "compact", "cn", "dot"],
            ["2024-01-02", "2024/01/02", "20240102", "2024年1月2日", "2024.01.02"],
        ],
    )
    v = write_version(FileSource(path), tmp_path / "lake").version
    assert pq.read_table(v.data_path).to_pylist() == [
        {
            "iso": "2024-01-02",
            "slash": "2024/01/02",
            "compact": "20240102",
            "cn": "2024年1月2日",
            "dot": "2024.01.02",
        }
    ]


class FailingReader(Reader):
    format = "test"

    def __init__(self) -> None:
        self.columns = self.source_columns = ["n"]

    def batches(self, rejects: RejectSink) -> Iterator[pa.RecordBatch]:
        yield pa.record_batch({"n": pa.array(["1"] * 100)})
        raise Invalid.field("source", "读取中断。", "The source broke off.")

    def content_hash(self) -> str:
        return "0" * 64

    def describe(self) -> dict[str, Any]:
        return {"kind": "test"}


def test_a_failing_read_leaves_the_previous_version_current(
    tmp_path: Path, people_csv: Path
) -> None:
    lake = tmp_path / "lake"
    before = write_version(FileSource(people_csv), lake).version
    with pytest.raises(Invalid):
        write_version(FailingReader(), lake)
    assert current_version(lake) == before
    assert sorted(p.name for p in lake.iterdir()) == sorted(
        [".lock", before.data_file, before.manifest_path.name]
    )


def test_leftovers_of_killed_loads_are_cleaned_by_the_next_load(
    tmp_path: Path, people_csv: Path
) -> None:
    lake = tmp_path / "lake"
    (lake / ".tmp-dead").mkdir(parents=True)
    (lake / ".tmp-dead" / "data.parquet").write_bytes(b"partial")
    (lake / "v000007-deadbeef0000.parquet").write_bytes(b"no manifest")
    v = write_version(FileSource(people_csv), lake).version
    assert v.sequence == 1
    assert sorted(p.name for p in lake.iterdir()) == sorted(
        [".lock", v.data_file, v.manifest_path.name]
    )


SLOW_CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import pyarrow as pa
    from shuzhi.lake.readers import Reader
    from shuzhi.lake.writer import write_version

    class Slow(Reader):
        format = "slow"
        columns = source_columns = ["n"]
        def batches(self, rejects):
            for i in range(3):
                yield pa.record_batch({"n": pa.array([str(i)] * 1000)})
            Path(sys.argv[2]).write_text("mid-write")
            time.sleep(600)
        def content_hash(self):
            return "1" * 64
        def describe(self):
            return {"kind": "slow"}

    write_version(Slow(), Path(sys.argv[1]))
    """
)


def _wait_for(predicate: Any, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else proc.returncode
        assert time.monotonic() < deadline, "child never reached the write"
        time.sleep(0.002)


def _assert_previous_still_current(lake: Path, before: Any, people_csv: Path) -> None:
    assert current_version(lake) == before
    assert visible(lake) == sorted([before.data_file, before.manifest_path.name])
    # the next load removes the killed load's work directory
    after = write_version(FileSource(people_csv), lake, LoadOptions(skip_duplicates=False))
    assert after.version.sequence == 2
    assert not [p for p in lake.iterdir() if p.name.startswith(".tmp-")]


@pytest.mark.slow
def test_kill_9_mid_write_leaves_no_version(tmp_path: Path, people_csv: Path) -> None:
    lake = tmp_path / "lake"
    before = write_version(FileSource(people_csv), lake).version
    flag = tmp_path / "flag"
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_CHILD, str(lake), str(flag)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(flag.exists, proc)
        partial = list(lake.glob(".tmp-*/data.parquet"))
        assert partial and partial[0].stat().st_size > 0  # really mid-write
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    _assert_previous_still_current(lake, before, people_csv)


@pytest.mark.slow
def test_kill_9_during_duckdb_copy_leaves_no_version(tmp_path: Path, people_csv: Path) -> None:
    lake = tmp_path / "lake"
    before = write_version(FileSource(people_csv), lake).version
    big = tmp_path / "big.csv"
    with open(big, "w", encoding="utf-8") as fh:
        fh.write("姓名,身份证号,出生日期,金额\n")
        line = "张三,110101199003071234,1990-03-07,12.50\n"
        for _ in range(60):
            fh.write(line * 50_000)
    child = (
        "import sys; from pathlib import Path; from shuzhi.lake.readers import FileSource;"
        " from shuzhi.lake.writer import write_version;"
        " write_version(FileSource(Path(sys.argv[1])), Path(sys.argv[2]))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", child, str(big), str(lake)], cwd=ROOT, stderr=subprocess.PIPE
    )
    try:
        _wait_for(lambda: any(lake.glob(".tmp-*/data.parquet")), proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    _assert_previous_still_current(lake, before, people_csv)
