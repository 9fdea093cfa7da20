"""Every reader streams Arrow batches; bad input gives clear zh/en errors or rejects."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import sqlite3
import zipfile
from pathlib import Path

import openpyxl
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shuzhi.errors import Invalid
from shuzhi.lake.readers import (
    DatabaseSource,
    FileSource,
    ReadOptions,
    open_reader,
    sample_columns,
)
from shuzhi.lake.rejects import RejectLog, RejectReason
from tests import pg
from tests.lake.conftest import PEOPLE, write_csv


def read_all(source: FileSource | DatabaseSource, options: ReadOptions | None = None):  # type: ignore[no-untyped-def]
    reader = open_reader(source, options)
    log = RejectLog()
    try:
        table = pa.Table.from_batches(list(reader.batches(log)), schema=reader.schema)
        return reader, table, log
    finally:
        reader.close()


def test_csv_values_are_strings_and_empty_is_null(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text('a,b,c\n1,,"x\ny"\n2,"",z\n', encoding="utf-8")
    _, table, log = read_all(FileSource(path))
    assert table.schema.types == [pa.string()] * 3
    assert table.to_pylist() == [
        {"a": "1", "b": None, "c": "x\ny"},
        {"a": "2", "b": None, "c": "z"},
    ]
    assert log.count == 0


def test_tsv_in_gb18030(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.tsv", PEOPLE, encoding="gb18030", delimiter="\t")
    reader, table, _ = read_all(FileSource(path))
    assert reader.describe()["delimiter"] == "\t"
    assert table.column("姓名").to_pylist() == ["张三", "李四", "王五"]


def test_csv_batches_are_bounded(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", [["n"]] + [[str(i)] for i in range(1000)])
    reader = open_reader(FileSource(path), ReadOptions(batch_rows=100))
    sizes = [b.num_rows for b in reader.batches(RejectLog())]
    assert sum(sizes) == 1000 and max(sizes) <= 100


def test_csv_ragged_rows_are_rejected_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text('a,b,c\n1,2,3\n"multi\nline",5,6\n7,8\n9,10,11,12\n13,14,15\n')
    _, table, log = read_all(FileSource(path))
    assert table.num_rows == 3
    assert [(r.line, r.reason) for r in log.examples] == [
        (5, RejectReason.TOO_FEW_FIELDS),
        (6, RejectReason.TOO_MANY_FIELDS),
    ]
    assert log.examples[0].raw == "7,8"


def test_headers_are_cleaned(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(" 姓名 ,ＩＤ,,姓名\n1,2,3,4\n", encoding="utf-8")
    reader, table, _ = read_all(FileSource(path))
    assert reader.columns == ["姓名", "ID", "col_3", "姓名_2"]
    assert reader.source_columns == [" 姓名 ", "ＩＤ", "", "姓名"]
    assert table.column_names == reader.columns


def _xlsx(path: Path, cached: str | None = "84") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "人口"
    sheet.append(["姓名", "出生日期", "登记时间", "数量", "合计", "启用"])
    sheet.append(["张三", dt.date(1990, 3, 7), dt.datetime(2024, 5, 1, 8, 30), 42, "=D2*2", True])
    sheet.append(["李四", dt.date(1985, 12, 12), dt.datetime(2024, 5, 2), 1.5, None, False])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["王五", "2000/01/01", None, 3, None, None, "多余"])
    other = book.create_sheet("其他")
    other.append(["x"])
    other.append(["1"])
    book.save(path)
    if cached is not None:
        # openpyxl writes formulas without results; give B2's formula a cached value as a
        # spreadsheet program would.
        with zipfile.ZipFile(path) as z:
            parts = {name: z.read(name) for name in z.namelist()}
        sheet_xml = parts["xl/worksheets/sheet1.xml"].decode()
        # an empty result element, however the XML writer in use spells it
        empty = re.compile(r"<f>D2\*2</f>(<v\s*/>|<v></v>)")
        assert empty.search(sheet_xml)
        parts["xl/worksheets/sheet1.xml"] = empty.sub(
            f"<f>D2*2</f><v>{cached}</v>", sheet_xml
        ).encode()
        with zipfile.ZipFile(path, "w") as z:
            for name, data in parts.items():
                z.writestr(name, data)
    return path


def test_xlsx_first_sheet_dates_iso_formulas_cached(tmp_path: Path) -> None:
    reader, table, log = read_all(FileSource(_xlsx(tmp_path / "f.xlsx")))
    assert reader.describe()["sheet"] == "人口"
    assert table.to_pylist()[:2] == [
        {
            "姓名": "张三",
            "出生日期": "1990-03-07",
            "登记时间": "2024-05-01 08:30:00",
            "数量": "42",
            "合计": "84",
            "启用": "true",
        },
        {
            "姓名": "李四",
            "出生日期": "1985-12-12",
            "登记时间": "2024-05-02",
            "数量": "1.5",
            "合计": None,
            "启用": "false",
        },
    ]
    # the empty row is skipped; the row with an extra cell is rejected with its sheet row
    assert table.num_rows == 2
    assert [(r.line, r.reason) for r in log.examples] == [(5, RejectReason.TOO_MANY_FIELDS)]


def test_xlsx_formula_without_cached_value_is_null_never_evaluated(tmp_path: Path) -> None:
    _, table, _ = read_all(FileSource(_xlsx(tmp_path / "f.xlsx", cached=None)))
    assert table.column("合计").to_pylist() == [None, None]


def test_xlsx_named_sheet_and_missing_sheet(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "f.xlsx")
    _, table, _ = read_all(FileSource(path, sheet="其他"))
    assert table.to_pylist() == [{"x": "1"}]
    with pytest.raises(Invalid) as err:
        open_reader(FileSource(path, sheet="不存在"))
    assert "其他" in err.value.errors[0].message.zh


def test_not_an_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(Invalid):
        open_reader(FileSource(path))


def test_jsonl_values_and_rejects(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    lines = [
        json.dumps({"name": "张三", "age": 30, "tags": ["a"], "ok": True, "x": None}),
        '{"name": "broken"',
        "[1, 2]",
        json.dumps({"name": "李四", "age": 31.5}),
        "",
        json.dumps({"name": "王五", "surprise": 1}),
    ]
    head = "\n".join(lines[:4]) + "\n"
    # keys are taken from the first lines, so put the surprise after a long known prefix
    path.write_text(head + "\n".join(lines[4:]) + "\n", encoding="utf-8")
    reader, table, log = read_all(FileSource(path))
    assert "surprise" in reader.columns  # seen within the first lines → a column
    assert table.to_pylist()[0] == {
        "name": "张三",
        "age": "30",
        "tags": '["a"]',
        "ok": "true",
        "x": None,
        "surprise": None,
    }
    assert [(r.line, r.reason) for r in log.examples] == [
        (2, RejectReason.INVALID_JSON),
        (3, RejectReason.NOT_AN_OBJECT),
    ]


def test_jsonl_unknown_fields_and_overlong_line(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    rows = [json.dumps({"a": i}) for i in range(1000)]
    rows.append(json.dumps({"a": "x" * 10_000}))
    rows.append(json.dumps({"a": 1, "b": 2}))
    path.write_text("\n".join(rows) + "\n")
    _, table, log = read_all(FileSource(path), ReadOptions(max_line_bytes=4096))
    assert table.num_rows == 1000
    assert [(r.line, r.reason) for r in log.examples] == [
        (1001, RejectReason.LINE_TOO_LONG),
        (1002, RejectReason.UNKNOWN_FIELDS),
    ]


def test_parquet_keeps_native_types(tmp_path: Path) -> None:
    path = tmp_path / "f.parquet"
    pq.write_table(
        pa.table({"ID ": [1, 2], "d": [dt.date(2024, 1, 2), None], "v": [1.5, 2.0]}), path
    )
    reader, table, _ = read_all(FileSource(path), ReadOptions(batch_rows=1))
    assert reader.columns == ["ID", "d", "v"]
    assert table.schema.types == [pa.int64(), pa.date32(), pa.float64()]
    assert table.column("d").to_pylist() == [dt.date(2024, 1, 2), None]


def test_not_a_parquet(tmp_path: Path) -> None:
    path = tmp_path / "f.parquet"
    path.write_bytes(b"nope")
    with pytest.raises(Invalid):
        open_reader(FileSource(path))


@pytest.mark.parametrize("name", ["f.xls", "f.doc", "noext"])
def test_unsupported_file_types(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"a,b\n")
    with pytest.raises(Invalid):
        open_reader(FileSource(path))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(Invalid) as err:
        open_reader(FileSource(tmp_path / "gone.csv"))
    assert "gone.csv" in err.value.errors[0].message.en


def _sqlite(tmp_path: Path) -> str:
    path = tmp_path / "src.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE people (id INTEGER, name TEXT, amount REAL, born TEXT)")
        conn.executemany(
            "INSERT INTO people VALUES (?, ?, ?, ?)",
            [(i, f"人{i}", i * 1.5, "1990-01-02") for i in range(120_001)]
            + [(None, "", None, None)],
        )
    return f"sqlite:///{path}"


def test_sqlite_table_streams_canonical_text(tmp_path: Path) -> None:
    url = _sqlite(tmp_path)
    reader, table, _ = read_all(DatabaseSource(url, table="people"))
    assert reader.columns == ["id", "name", "amount", "born"]
    assert table.num_rows == 120_002
    assert table.slice(1, 1).to_pylist() == [
        {"id": "1", "name": "人1", "amount": "1.5", "born": "1990-01-02"}
    ]
    assert table.slice(120_001, 1).to_pylist() == [
        {"id": None, "name": None, "amount": None, "born": None}
    ]
    again, _, _ = read_all(DatabaseSource(url, table="people"))
    assert again.content_hash() == reader.content_hash()


def test_sqlite_query(tmp_path: Path) -> None:
    _, table, _ = read_all(
        DatabaseSource(_sqlite(tmp_path), query="SELECT name FROM people WHERE id < 3")
    )
    assert table.column("name").to_pylist() == ["人0", "人1", "人2"]


def test_missing_table_and_bad_query(tmp_path: Path) -> None:
    url = _sqlite(tmp_path)
    with pytest.raises(Invalid) as err:
        open_reader(DatabaseSource(url, table="nope"))
    assert "nope" in err.value.errors[0].message.zh
    with pytest.raises(Invalid):
        open_reader(DatabaseSource(url, query="SELECT * FROM nowhere"))
    with pytest.raises(Invalid):
        open_reader(DatabaseSource(url))


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://u:secret@127.0.0.1:{_closed_port()}/db",
        "notadriver://x/y",
        "mysql+nodriver://u:secret@h/db",
        "sqlite:////nonexistent/dir/x.db",
    ],
    ids=["closed-port", "unknown-scheme", "missing-driver", "missing-file"],  # ports vary
)
def test_database_that_cannot_connect_is_a_clear_error(url: str) -> None:
    with pytest.raises(Invalid) as err:
        open_reader(DatabaseSource(url, table="t"))
    message = err.value.errors[0].message
    assert message.zh and message.en
    assert "secret" not in message.zh + message.en


@pytest.mark.postgres
def test_postgresql_table_with_server_side_cursor(pg_server: pg.PgServer) -> None:
    name = pg.database_name("lake_source")
    pg.create(pg_server.admin_url, name)
    url = pg_server.url(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE enterprises (code text, name text, capital numeric(12,2),"
            " founded date, updated timestamp)"
        )
        conn.execute(
            "INSERT INTO enterprises SELECT 'C' || i, '企业' || i, i * 10.5, DATE '2020-01-01' + i,"
            " TIMESTAMP '2024-01-01 08:00:00' FROM generate_series(1, 60000) i"
        )
    _, table, _ = read_all(DatabaseSource(url, table="enterprises"))
    assert table.num_rows == 60_000
    assert table.slice(0, 1).to_pylist() == [
        {
            "code": "C1",
            "name": "企业1",
            "capital": "10.50",
            "founded": "2020-01-02",
            "updated": "2024-01-01 08:00:00",
        }
    ]
    values = sample_columns(DatabaseSource(url, query="SELECT code FROM enterprises ORDER BY 1"), 5)
    assert values == {"code": ["C1", "C10", "C100", "C1000", "C10000"]}


def test_sample_columns_csv_and_xlsx(tmp_path: Path, people_csv: Path) -> None:
    values = sample_columns(FileSource(people_csv), n=2)
    assert values["身份证号"] == ["110101199003071234", "11010119851212567X"]
    assert set(values) == set(PEOPLE[0])
    xlsx = sample_columns(FileSource(_xlsx(tmp_path / "f.xlsx")), n=10)
    assert xlsx["出生日期"] == ["1990-03-07", "1985-12-12"]
