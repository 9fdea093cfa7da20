"""``shuzhi lake tables``: published versions as tables of other engines, by stable names.

The DuckDB output is executed against the files; the Spark and Trino layouts (one directory
per version) are read back with DuckDB too.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from shuzhi.catalog import service as catalog
from shuzhi.cli import app
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.settings import Settings
from tests.conftest import acting
from tests.factories import seed_org
from tests.lake.helpers import people_rows, published_entry, write_csv

runner = CliRunner()


def _env(settings: Settings) -> dict[str, str]:
    return {
        "SHUZHI_DATA_DIR": str(settings.data_dir),
        "SHUZHI_DATABASE_URL": settings.database_url,
        "SHUZHI_SECRET_KEY": settings.secret_key,
        "SHUZHI_CREDENTIALS_KEY": settings.credentials_key,
    }


def _two_versions(database: Database, tmp_path: Path) -> str:
    seeded = seed_org(database)
    code = published_entry(database)
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "a.csv", people_rows(20))))
        lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "b.csv", people_rows(30))))
    return code


def test_duckdb_definitions_read_every_version_and_the_current_one(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    code = _two_versions(database, tmp_path)
    name = lake.table_name(code)
    result = runner.invoke(app, ["lake", "tables", "--dialect", "duckdb"], env=_env(settings))
    assert result.exit_code == 0, result.output
    assert "unmasked" in result.output
    conn = duckdb.connect()
    conn.execute(result.output)

    def count(table: str) -> int:
        found = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()
        assert found is not None
        return int(found[0])

    assert (count(f"{name}__v1"), count(f"{name}__v2"), count(name)) == (20, 30, 30)
    rows = conn.execute(f'SELECT * FROM "{name}__v1"').fetchall()
    assert sorted(rows) == sorted(tuple(r) for r in people_rows(20))
    # Stable names: the same output again.
    again = runner.invoke(app, ["lake", "tables"], env=_env(settings))
    assert again.output == result.output


def test_spark_and_trino_read_one_directory_per_version(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    code = _two_versions(database, tmp_path)
    name = lake.table_name(code)
    spark = runner.invoke(app, ["lake", "tables", "--dialect", "spark"], env=_env(settings))
    assert spark.exit_code == 0, spark.output
    tables = settings.data_dir / "tables" / name
    assert sorted(p.name for p in tables.iterdir()) == ["v1", "v2"]
    for version, rows in (("v1", 20), ("v2", 30)):
        files = list((tables / version).iterdir())
        assert [f.name for f in files] == ["part-00000.parquet"]
        read = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{files[0]}')")
        assert read.fetchone() == (rows,)
        assert f"LOCATION '{(tables / version).resolve().as_uri()}'" in spark.output
    assert f"CREATE OR REPLACE VIEW `shuzhi`.`{name}` AS SELECT * FROM `shuzhi`.`{name}__v2`;" in (
        spark.output
    )
    trino = runner.invoke(
        app,
        [
            "lake",
            "tables",
            "--dialect",
            "trino",
            "--schema",
            "hive.shuzhi",
            "--prefix",
            "s3a://b/x",
        ],
        env=_env(settings),
    )
    assert trino.exit_code == 0, trino.output
    assert f"external_location = 's3a://b/x/tables/{name}/v1'" in trino.output
    assert '"姓名" varchar' in trino.output and 'CREATE SCHEMA IF NOT EXISTS "hive"."shuzhi";' in (
        trino.output
    )


def test_versions_whose_files_are_gone_and_withdrawn_entries_are_left_out(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    code = _two_versions(database, tmp_path)
    with acting(database, SYSTEM) as ctx:
        found = lake.published_tables(ctx)
        assert [(t.name, t.number, t.current) for t in found] == [
            (lake.table_name(code), 1, False),
            (lake.table_name(code), 2, True),
        ]
        data = found[0].data_file
        data.with_name(data.name.replace(".parquet", ".manifest.json")).unlink()
    with acting(database, SYSTEM) as ctx:
        assert [t.number for t in lake.published_tables(ctx)] == [2]
        catalog.withdraw_entry(ctx, code, "该目录已停止编制，撤回")
    with acting(database, SYSTEM) as ctx:
        assert lake.published_tables(ctx) == []  # a withdrawn entry's data is not listed


@given(st.lists(st.text(min_size=1, max_size=12), min_size=2, max_size=8, unique=True))
def test_table_names_are_plain_identifiers_and_never_shared(codes: list[str]) -> None:
    names = [lake.table_name(c) for c in codes]
    assert all(re.fullmatch(r"ds_[0-9a-z_]+", n) for n in names)
    assert len(set(names)) == len(names)


@pytest.mark.parametrize(
    ("code", "name"),
    [("101001/000001", "ds_101001_000001"), ("330100/ABC/7", "ds_330100_abc_7")],
)
def test_plain_codes_keep_readable_names(code: str, name: str) -> None:
    assert lake.table_name(code) == name
