"""Property tests: the fq parser, the CSV and JSON writers, and masking on the way out."""

from __future__ import annotations

import csv
import io
import json

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuzhi.portal import ckan, data
from shuzhi.security.cells import guard, unguard
from shuzhi.security.masking import MaskLevel
from tests.lake.helpers import resident_id

cells = st.one_of(st.none(), st.text(max_size=30))
values = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters='"'
    ),
    min_size=1,
    max_size=20,
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_fq_parser_raises_only_its_own_error(text: str) -> None:
    try:
        filters, formats = ckan.parse_fq(text)
    except ckan.CkanError as err:
        assert err.status == 409 and err.type == "Search Query Error"
    else:
        assert set(filters) <= set(ckan.FIELDS.values()) and isinstance(formats, set)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted(ckan.FIELDS)), values), max_size=5))
def test_fq_terms_round_trip(terms: list[tuple[str, str]]) -> None:
    fq = " ".join(f'+{field}:"{value}"' for field, value in terms)
    filters, _ = ckan.parse_fq(fq)
    expected: dict[str, list[str]] = {}
    for field, value in terms:
        expected.setdefault(ckan.FIELDS[field], []).append(
            value.upper() if field == "organization" else value
        )
    assert filters == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(cells, cells), max_size=40), st.integers(1, 7))
def test_csv_and_json_hold_exactly_the_rows(
    rows: list[tuple[str | None, str | None]], size: int
) -> None:
    table = pa.table(
        {"名称": [r[0] for r in rows], "说明": [r[1] for r in rows]},
        schema=pa.schema([("名称", pa.string()), ("说明", pa.string())]),
    )
    flat = table.to_batches(max_chunksize=size)
    raw = b"".join(data.csv_chunks(flat))
    assert raw.startswith(data.BOM)
    read = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    # Text that could start a formula carries a guard quote; unguard gives the row back.
    assert read[1:] == [[guard(a or ""), guard(b or "")] for a, b in rows]
    assert [[unguard(c) for c in r] for r in read[1:]] == [[a or "", b or ""] for a, b in rows]
    parsed = json.loads(b"".join(data.json_chunks(flat)))
    assert parsed == [{"名称": a, "说明": b} for a, b in rows]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 999), min_size=1, max_size=30))
def test_masked_identifiers_never_leave_in_clear(numbers: list[int]) -> None:
    ids = [resident_id(n) for n in numbers]
    batch = pa.RecordBatch.from_pydict({"证号": ids, "年份": list(range(len(ids)))})
    out = list(data.mask_batches([batch], {"证号": ("resident_id", MaskLevel.PARTIAL)}))
    shown = out[0].column("证号").to_pylist()
    assert all("*" in s and s != i for s, i in zip(shown, ids, strict=True))
    assert out[0].column("年份").to_pylist() == list(range(len(ids)))


def test_parquet_stream_is_one_readable_file() -> None:
    import pyarrow.parquet as pq

    table = pa.table({"n": list(range(1000))})
    raw = b"".join(data.parquet_chunks(table.to_batches(max_chunksize=100)))
    assert pq.read_table(io.BytesIO(raw)).column("n").to_pylist() == list(range(1000))


@pytest.mark.parametrize("title", ["公交/站点:统计*?", "[x]", ""])
def test_xlsx_sheet_titles_are_made_safe(title: str) -> None:
    from openpyxl import load_workbook

    raw = b"".join(data.xlsx_chunks(pa.table({"a": [1, 2]}).to_batches(), title))
    book = load_workbook(io.BytesIO(raw), read_only=True)
    assert [list(r) for r in book.active.iter_rows(values_only=True)] == [["a"], [1], [2]]
