"""Fuzzing the readers: whatever the bytes, a reader returns a table or raises ``Invalid``.

Never another exception type, never a hang: each input runs in a thread that must finish
within ``BOUND_SECONDS`` (generous: it proves "does not hang", not speed). Inputs are random
bytes under every supported suffix, and structured but hostile CSV/TSV (quotes,
delimiters, blank and ragged lines, control bytes, long fields, UTF-8/GBK/GB18030 and
mixtures), JSON Lines (deep nesting, odd scalars, broken lines) and XLSX (random cells,
then random damage to the zip).
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shuzhi.errors import Invalid
from shuzhi.lake.readers import FileSource, open_reader
from shuzhi.lake.rejects import DiscardRejects
from shuzhi.lake.writer import write_version
from tests.lake.test_limits import BOUND_SECONDS, within

pytestmark = pytest.mark.slow

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
SUFFIXES = [".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".xlsx", ".parquet"]


def read_table(path: Path) -> pa.Table:
    reader = open_reader(FileSource(path))
    try:
        return pa.Table.from_batches(list(reader.batches(DiscardRejects())), reader.schema)
    finally:
        reader.close()


def table_or_invalid(path: Path) -> pa.Table | Invalid:
    """The reader's outcome; anything but a table or ``Invalid`` fails the test."""
    try:
        table: pa.Table = within(BOUND_SECONDS, lambda: read_table(path))
        return table
    except Invalid as err:
        assert err.errors and all(e.message.zh and e.message.en for e in err.errors)
        return err


def loaded_or_invalid(path: Path, target: Path) -> object:
    """The same through a whole load (DuckDB's copy, rejects, the reject ratio)."""
    try:
        return within(BOUND_SECONDS, lambda: write_version(FileSource(path), target))
    except Invalid as err:
        return err


# ---------------------------------------------------------------- random bytes


@FUZZ
@given(data=st.binary(max_size=4096), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"f{suffix}"
    path.write_bytes(data)
    table_or_invalid(path)


# ---------------------------------------------------------------- delimited text

CELL_TEXT = st.text(
    alphabet=st.sampled_from(
        [*"ab1 ,;|\t\"'\r\n", "张", "三", "𠀀", "\x00", "\x1b", "\ufeff", "Ａ", "é"]
    ),
    max_size=12,
)
CELLS = st.one_of(
    CELL_TEXT,
    st.builds(lambda c, n: c * n, st.sampled_from(["x", ",", '"', "张"]), st.integers(0, 5000)),
)


@st.composite
def delimited(draw: st.DrawFn) -> bytes:
    delimiter = draw(st.sampled_from([",", "\t", ";", "|"]))
    width = draw(st.integers(1, 6))
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        cells = draw(st.lists(CELLS, min_size=0, max_size=width + 2))
        if draw(st.booleans()):
            cells = [f'"{c}"' if draw(st.booleans()) else c for c in cells]
        lines.append(delimiter.join(cells))
    text = draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)
    if draw(st.booleans()):
        text += "\n"
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gbk", "gb18030", "mixed"]))
    if encoding == "mixed":  # GBK lines with some UTF-8 lines among them
        return b"\n".join(
            line.encode("utf-8" if i % 3 == 2 else "gb18030", errors="replace")
            for i, line in enumerate(text.split("\n"))
        )
    return text.encode(encoding, errors="replace")


@FUZZ
@given(data=delimited(), suffix=st.sampled_from([".csv", ".tsv", ".txt"]))
def test_hostile_delimited_text(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"f{suffix}"
    path.write_bytes(data)
    table_or_invalid(path)


@FUZZ
@given(data=delimited())
def test_hostile_delimited_text_loads_or_is_refused(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    target = tmp_path / f"ds-{uuid.uuid4().hex}"  # one per example: tmp_path is shared
    outcome = loaded_or_invalid(path, target)
    if isinstance(outcome, Invalid):
        assert not list(target.glob("*.manifest.json"))


# ---------------------------------------------------------------- JSON Lines

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=20,
)


@st.composite
def json_lines(draw: st.DrawFn) -> bytes:
    lines: list[bytes] = []
    for _ in range(draw(st.integers(0, 10))):
        kind = draw(st.sampled_from(["object", "value", "deep", "broken", "digits", "raw"]))
        if kind == "object":
            item = draw(st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=6))
            lines.append(json.dumps(item, ensure_ascii=draw(st.booleans())).encode())
        elif kind == "value":
            lines.append(json.dumps(draw(JSON_VALUES)).encode())
        elif kind == "deep":
            depth = draw(st.integers(1, 50_000))
            opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]))
            lines.append(b'{"k":' + opener * depth + b"1" + closer * depth + b"}")
        elif kind == "broken":
            text = json.dumps(draw(st.dictionaries(st.text(max_size=4), JSON_SCALARS))).encode()
            cut = draw(st.integers(0, len(text)))
            lines.append(text[:cut])
        elif kind == "digits":
            lines.append(b'{"n": ' + b"7" * draw(st.integers(1, 20_000)) + b"}")
        else:
            lines.append(draw(st.binary(max_size=40)).replace(b"\n", b" "))
    return b"\n".join(lines)


@FUZZ
@given(data=json_lines(), suffix=st.sampled_from([".jsonl", ".ndjson"]))
def test_hostile_json_lines(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"f{suffix}"
    path.write_bytes(data)
    table_or_invalid(path)


# ---------------------------------------------------------------- XLSX

XLSX_CELLS = st.one_of(
    st.none(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=15),
    st.dates(),
)


@st.composite
def workbooks(draw: st.DrawFn) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for _ in range(draw(st.integers(0, 8))):
        sheet.append(draw(st.lists(XLSX_CELLS, max_size=6)))
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    damage = draw(st.sampled_from(["none", "flip", "cut", "part"]))
    # Positions are drawn independently of the length: the saved file holds the time of
    # saving, so its length may differ between runs of the same example.
    position = draw(st.integers(0, 1 << 20))
    if damage == "flip" and data:
        at = position % len(data)
        data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    elif damage == "cut":
        data = data[: position % (len(data) + 1)]
    elif damage == "part":  # one XML part replaced by random or hostile bytes
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        victim = draw(st.sampled_from(names))
        content = draw(
            st.one_of(
                st.binary(max_size=200),
                st.just(b"<x>" + b"<y>" * 20_000),
                st.just(
                    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
                    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
                    b'<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]><x>&d;&d;&d;&d;</x>'
                ),
            )
        )
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(data)) as old, zipfile.ZipFile(out, "w") as new:
            for name in names:
                new.writestr(name, content if name == victim else old.read(name))
        data = out.getvalue()
    return data


@FUZZ
@given(data=workbooks())
def test_hostile_workbooks(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "f.xlsx"
    path.write_bytes(data)
    table_or_invalid(path)


def test_fuzz_helpers_see_a_good_table(tmp_path: Path) -> None:
    # The harness itself: a good file gives a table, so the assertions above can fail.
    path = tmp_path / "f.csv"
    path.write_text("姓名,金额\n张三,1\n", encoding="gbk")
    table: Any = table_or_invalid(path)
    assert isinstance(table, pa.Table) and table.to_pylist() == [{"姓名": "张三", "金额": "1"}]
