"""Limits on what one source may ask of the server, and the reported cases they answer.

Bounds on time here are generous: they prove "does not hang", not speed.
"""

from __future__ import annotations

import json
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuzhi.errors import Invalid
from shuzhi.lake import limits
from shuzhi.lake.readers import FileSource, JsonLinesReader, ReadOptions, open_reader
from shuzhi.lake.rejects import RejectLog, RejectReason
from shuzhi.lake.text import clean_names
from shuzhi.lake.writer import LoadOptions, write_version

BOUND_SECONDS = 30.0


def within(seconds: float, action: Callable[[], Any]) -> Any:
    """Run ``action``; fail if it has not finished after ``seconds`` (it must not hang)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = action()
        except BaseException as exc:  # handed to the test thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def messages(err: Invalid) -> str:
    return " ".join(f"{e.message.zh} {e.message.en}" for e in err.errors)


def _quadratic_clean_names(names: list[str]) -> list[str]:
    """The former renaming (restarting at _2 for every duplicate), as the reference."""
    import unicodedata

    cleaned: list[str] = []
    taken: set[str] = set()
    for position, raw in enumerate(names, start=1):
        name = unicodedata.normalize("NFKC", raw.replace("\ufeff", "")).strip()
        name = " ".join(name.split())
        if not name:
            name = f"col_{position}"
        candidate, n = name, 1
        while candidate.lower() in taken:
            n += 1
            candidate = f"{name}_{n}"
        taken.add(candidate.lower())
        cleaned.append(candidate)
    return cleaned


names = st.lists(
    st.one_of(
        st.sampled_from(["a", "A", "a_2", "A_3", "a_2_2", "", " ", "Ａ", "b", "col_3", "a_10"]),
        st.text(alphabet="aA_2 ", max_size=5),
    ),
    max_size=60,
)


@given(names)
def test_linear_renaming_gives_the_same_names_as_before(raw: list[str]) -> None:
    cleaned = clean_names(raw)
    assert cleaned == _quadratic_clean_names(raw)
    assert len({c.lower() for c in cleaned}) == len(cleaned)


def test_identical_headers_at_the_limit_are_renamed_quickly() -> None:
    cleaned = within(BOUND_SECONDS, lambda: clean_names(["abc"] * limits.MAX_COLUMNS))
    assert cleaned[:3] == ["abc", "abc_2", "abc_3"]
    assert cleaned[-1] == f"abc_{limits.MAX_COLUMNS}"


def test_reported_8000_identical_headers_are_refused_naming_the_limit(tmp_path: Path) -> None:
    # The report: 32 KB of 8,000 identical header cells froze the server for 17 s and
    # ended in DuckDB's raw "Out of Memory Error".
    path = tmp_path / "wide.csv"
    path.write_text(",".join(["abc"] * 8000) + "\n" + ",".join(["1"] * 8000) + "\n")
    assert path.stat().st_size < 64 * 1024
    with pytest.raises(Invalid) as caught:
        within(BOUND_SECONDS, lambda: write_version(FileSource(path), tmp_path / "ds"))
    text = messages(caught.value)
    assert "8,000" in text and f"{limits.MAX_COLUMNS:,}" in text and "列数过多" in text
    assert "Out of Memory" not in text
    assert not list((tmp_path / "ds").glob("*.manifest.json"))


def test_reported_30mb_line_without_newline_is_refused_in_bounded_time(tmp_path: Path) -> None:
    # The report: a 30 MB line without a newline hung the server beyond SIGTERM.
    path = tmp_path / "line.csv"
    path.write_bytes(b"a," * (15 * 1024 * 1024))
    with pytest.raises(Invalid) as caught:
        within(BOUND_SECONDS, lambda: write_version(FileSource(path), tmp_path / "ds"))
    text = messages(caught.value)
    assert "256 KiB" in text and "表头行" in text


@pytest.mark.parametrize("body", [b"x" * (3 * 1024 * 1024), b"\n\n  " + b"y;" * 400_000])
def test_header_line_over_the_limit_is_refused(tmp_path: Path, body: bytes) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(body)
    with pytest.raises(Invalid) as caught:
        open_reader(FileSource(path))
    assert "256 KiB" in messages(caught.value)


def test_small_file_without_newline_is_a_header(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b,c")
    reader = open_reader(FileSource(path))
    try:
        assert reader.columns == ["a", "b", "c"]
    finally:
        reader.close()


def test_long_column_name_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        clean_names(["id", "x" * (limits.MAX_COLUMN_NAME_CHARS + 1)])
    assert f"{limits.MAX_COLUMN_NAME_CHARS}" in messages(caught.value)


def test_duckdb_out_of_memory_gets_the_platforms_message(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    width = 900
    row = ",".join(["一二三四五六七八九十" * 3] * width)
    path.write_text(
        ",".join(f"c{i}" for i in range(width)) + "\n" + "\n".join([row] * 400) + "\n",
        encoding="utf-8",
    )
    options = LoadOptions(duckdb_memory_limit="16MB")
    with pytest.raises(Invalid) as caught:
        write_version(FileSource(path), tmp_path / "ds", options)
    text = messages(caught.value)
    assert "16MB" in text and "内存" in text
    assert "Out of Memory Error" not in text


def test_data_line_with_a_million_fields_is_a_reject(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n1,2\n" + b"," * 1_000_000 + b"\n3,4\n")
    with pytest.raises(Invalid) as caught:  # 1 of 3 rows rejected: above 1 %
        within(BOUND_SECONDS, lambda: write_version(FileSource(path), tmp_path / "ds"))
    assert "too_many_fields" in messages(caught.value)


# ---------------------------------------------------------------- JSON Lines


def _jsonl_rejects(tmp_path: Path, lines: list[bytes]) -> tuple[int, dict[str, int]]:
    path = tmp_path / "f.jsonl"
    path.write_bytes(b'{"a": 1}\n' + b"\n".join(lines) + b"\n")
    reader = JsonLinesReader(FileSource(path), ReadOptions())
    log = RejectLog(tmp_path / "rejects.csv")
    try:
        rows = sum(b.num_rows for b in reader.batches(log))
    finally:
        reader.close()
        log.close()
    return rows, dict(log.by_reason)


def test_deeply_nested_json_lines_are_rejects(tmp_path: Path) -> None:
    deep = b'{"a": ' + b"[" * (limits.MAX_JSON_DEPTH + 5) + b"]" * (limits.MAX_JSON_DEPTH + 5)
    very_deep = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    rows, rejects = within(
        BOUND_SECONDS, lambda: _jsonl_rejects(tmp_path, [deep + b"}", very_deep])
    )
    assert rows == 1
    assert rejects == {RejectReason.INVALID_JSON: 2}


def test_huge_json_integer_is_a_reject(tmp_path: Path) -> None:
    rows, rejects = _jsonl_rejects(tmp_path, [b'{"a": ' + b"9" * 10_000 + b"}"])
    assert rows == 1 and rejects == {RejectReason.INVALID_JSON: 1}


def test_json_lines_with_too_many_keys_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    keys = {f"k{i}": i for i in range(limits.MAX_COLUMNS + 1)}
    path.write_text(json.dumps(keys) + "\n")
    with pytest.raises(Invalid) as caught:
        JsonLinesReader(FileSource(path), ReadOptions())
    assert "列数过多" in messages(caught.value)


# ---------------------------------------------------------------- XLSX


def _workbook(path: Path, rows: list[list[Any]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _with_part(source: Path, target: Path, name: str, data: bytes) -> Path:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if info.filename != name:
                new.writestr(info, old.read(info.filename), zipfile.ZIP_DEFLATED)
        new.writestr(name, data, zipfile.ZIP_DEFLATED)
    return target


def test_xlsx_zip_bomb_is_refused_before_parsing(tmp_path: Path) -> None:
    plain = _workbook(tmp_path / "plain.xlsx", [["a", "b"], [1, 2]])
    bomb = _with_part(
        plain,
        tmp_path / "bomb.xlsx",
        "xl/worksheets/sheet1.xml",
        b"<worksheet>" + b" " * (limits.XLSX_RATIO_FROM_BYTES + 1) + b"</worksheet>",
    )
    with pytest.raises(Invalid) as caught:
        within(BOUND_SECONDS, lambda: open_reader(FileSource(bomb)))
    assert "zip bomb" in messages(caught.value)


def test_xlsx_oversized_shared_strings_are_refused(tmp_path: Path) -> None:
    plain = _workbook(tmp_path / "plain.xlsx", [["a", "b"], [1, 2]])
    size = limits.XLSX_MAX_SHARED_STRINGS_BYTES + 1
    with zipfile.ZipFile(plain) as old, zipfile.ZipFile(tmp_path / "big.xlsx", "w") as new:
        for info in old.infolist():
            new.writestr(info, old.read(info.filename), zipfile.ZIP_DEFLATED)
        with new.open("xl/sharedStrings.xml", "w") as part:
            chunk = b" " * (1 << 20)
            for _ in range(size // len(chunk) + 1):
                part.write(chunk)
    with pytest.raises(Invalid) as caught:
        open_reader(FileSource(tmp_path / "big.xlsx"))
    assert "256 MiB" in messages(caught.value)


def test_xlsx_broken_sheet_xml_is_invalid(tmp_path: Path) -> None:
    plain = _workbook(tmp_path / "plain.xlsx", [["a", "b"], [1, 2]])
    broken = _with_part(
        plain, tmp_path / "broken.xlsx", "xl/worksheets/sheet1.xml", b"<worksheet><sheetData"
    )
    with pytest.raises(Invalid):
        reader = open_reader(FileSource(broken))
        try:
            list(reader.batches(RejectLog(tmp_path / "r.csv")))
        finally:
            reader.close()


def test_xlsx_header_wider_than_the_limit_is_refused(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "wide.xlsx", [[f"c{i}" for i in range(limits.MAX_COLUMNS + 1)]])
    with pytest.raises(Invalid) as caught:
        open_reader(FileSource(path))
    assert "列数过多" in messages(caught.value)


def test_xlsx_cells_beyond_the_header_are_rejects(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "f.xlsx", [["a", "b"], [1, 2], [3, 4, None, 5], [6, 7, None]])
    reader = open_reader(FileSource(path))
    log = RejectLog(tmp_path / "r.csv")
    try:
        rows = [r for b in reader.batches(log) for r in b.to_pylist()]
    finally:
        reader.close()
        log.close()
    assert rows == [{"a": "1", "b": "2"}, {"a": "6", "b": "7"}]
    assert dict(log.by_reason) == {RejectReason.TOO_MANY_FIELDS: 1}
