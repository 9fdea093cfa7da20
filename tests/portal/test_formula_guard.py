"""Open data downloads never carry a live formula: text is guarded, numbers stay numbers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow as pa
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.portal import data
from tests.conftest import acting
from tests.factories import seed_org
from tests.lake.helpers import write_csv
from tests.portal.helpers import STATS_HEADER, STATS_ITEMS, _published, opened

MALICIOUS = [
    '=HYPERLINK("http://evil.example/x","点此")',
    "+1+1",
    "-2+3",
    "@SUM(1)",
    "\t=1",
    "=cmd|' /C calc'!A0",
]


def _slug(code: str) -> str:
    return code.replace("/", "-")


def _csv_rows(raw: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_csv_chunks_guard_text_and_keep_numbers() -> None:
    table = pa.table(
        {
            "=街道": MALICIOUS,
            "站点数": pa.array([-5, 1, 2, 3, 4, 5], pa.int64()),
            "比例": pa.array([-0.5] * 6, pa.float64()),
        }
    )
    rows = _csv_rows(b"".join(data.csv_chunks(table.to_batches(max_chunksize=4))))
    assert rows[0] == ["'=街道", "站点数", "比例"]
    assert [r[0] for r in rows[1:]] == ["'" + v for v in MALICIOUS]
    assert [r[1] for r in rows[1:]] == ["-5", "1", "2", "3", "4", "5"]
    assert {r[2] for r in rows[1:]} == {"-0.5"}


def test_xlsx_chunks_write_text_cells_and_number_cells() -> None:
    table = pa.table({"街道": MALICIOUS, "站点数": pa.array([-5, 1, 2, 3, 4, 5], pa.int64())})
    raw = b"".join(data.xlsx_chunks(table.to_batches(), "t"))
    sheet = load_workbook(io.BytesIO(raw)).active
    for row, value in zip(sheet.iter_rows(min_row=2), MALICIOUS, strict=True):
        text, number = row
        assert (text.value, text.data_type, text.quotePrefix) == (value, "s", True)
        assert number.data_type == "n"
    assert sheet["B2"].value == -5


def test_downloads_over_http_are_inert(
    database: Database, client: TestClient, tmp_path: Path
) -> None:
    seeded = seed_org(database)
    code = _published(database, "公交站点统计（注入）", STATS_ITEMS, {"open_type": "unconditional"})
    rows = [[v, "2024", str(-i)] for i, v in enumerate(MALICIOUS, start=1)]
    path = write_csv(tmp_path / "hostile.csv", rows, header=STATS_HEADER)
    with acting(database, SYSTEM) as ctx:
        lake.ingest(ctx, code, FileSource(path))
    opened(database, seeded, code)
    base = f"/open/datasets/{_slug(code)}/download"

    got = _csv_rows(client.get(f"{base}.csv").content)
    assert got[0] == STATS_HEADER
    streets = [r[0] for r in got[1:]]
    assert streets == ["'" + v for v in MALICIOUS]
    assert sorted(r[2] for r in got[1:]) == sorted(str(-i) for i in range(1, 7))

    book = load_workbook(io.BytesIO(client.get(f"{base}.xlsx").content))
    sheet = book.active
    for text, _year, count in sheet.iter_rows(min_row=2):
        assert text.data_type == "s" and text.quotePrefix
        # The lake keeps text; a plain number stays as written, with no guard.
        assert int(count.value) < 0 and not count.quotePrefix

    parsed = json.loads(client.get(f"{base}.json").content)  # JSON is not a spreadsheet
    assert [r["街道名称"] for r in parsed] == MALICIOUS
