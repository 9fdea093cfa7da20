"""``shuzhi lake inspect`` shows operators what a file will load as."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from shuzhi.cli import app
from tests.lake.conftest import PEOPLE, write_csv


def test_inspect_gbk_file_as_json(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", PEOPLE, encoding="gbk", delimiter=";")
    result = CliRunner().invoke(app, ["lake", "inspect", str(path), "--rows", "2", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["details"]["encoding"] == "gbk" and data["details"]["delimiter"] == ";"
    assert data["columns"] == PEOPLE[0]
    assert data["rows"] == PEOPLE[1:3]


def test_inspect_table_output_and_errors(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", PEOPLE)
    result = CliRunner().invoke(app, ["lake", "inspect", str(path)])
    assert result.exit_code == 0 and "身份证号" in result.output and "utf-8" in result.output
    binary = tmp_path / "b.csv"
    binary.write_bytes(bytes(range(256)))
    result = CliRunner().invoke(app, ["lake", "inspect", str(binary)])
    assert result.exit_code == 1 and "not a text file" in result.output
