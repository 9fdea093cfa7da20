"""Helpers for lake tests: files are generated in each test's temporary directory."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest


def write_csv(
    path: Path, rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ","
) -> Path:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


PEOPLE = [
    ["姓名", "身份证号", "出生日期", "金额"],
    ["张三", "110101199003071234", "1990-03-07", "12.50"],
    ["李四", "11010119851212567X", "1985-12-12", "8"],
    ["王五", "110101200001011111", "2000-01-01", "100.25"],
]


@pytest.fixture
def people_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "people.csv", PEOPLE)
