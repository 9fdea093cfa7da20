"""``shuzhi ingest`` loads a file into an entry's dataset and runs due sources."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from shuzhi.cli import app
from shuzhi.db.engine import Database
from shuzhi.settings import Settings
from tests.factories import seed_org
from tests.lake.helpers import people_rows, published_entry, write_csv


def test_ingest_file_then_unchanged_then_bad(
    settings: Settings, database: Database, tmp_path: Path
) -> None:
    seed_org(database)
    code = published_entry(database)
    env = {
        "SHUZHI_DATA_DIR": str(settings.data_dir),
        "SHUZHI_DATABASE_URL": settings.database_url,
        "SHUZHI_SECRET_KEY": "s" * 40,
    }
    source = write_csv(tmp_path / "p.csv", people_rows(40), encoding="gbk")
    runner = CliRunner()
    first = runner.invoke(app, ["ingest", str(source), "--entry", code], env=env)
    assert first.exit_code == 0, first.output
    assert "version 1 (current): 40 rows" in first.output
    again = runner.invoke(app, ["ingest", str(source), "--entry", code], env=env)
    assert again.exit_code == 0 and "unchanged" in again.output
    missing = runner.invoke(app, ["ingest", str(tmp_path / "nope.csv"), "--entry", code], env=env)
    assert missing.exit_code == 1
    due = runner.invoke(app, ["ingest", "--due"], env=env)
    assert due.exit_code == 0 and "0 source(s) run" in due.output
