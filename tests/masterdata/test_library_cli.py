"""``shuzhi masterdata define|add-member|build|run`` on a data directory."""

from __future__ import annotations

from typer.testing import CliRunner

from shuzhi.cli import app
from shuzhi.db.engine import Database
from shuzhi.settings import Settings
from tests.factories import seed_org
from tests.masterdata.helpers import load, person, two_departments


def test_define_add_build_then_run_incrementally(settings: Settings, database: Database) -> None:
    seed_org(database)
    a, b = two_departments(database)
    load(database, a, [person(i) for i in range(12)])
    load(database, b, [person(i) for i in range(6)])
    env = {
        "SHUZHI_DATA_DIR": str(settings.data_dir),
        "SHUZHI_DATABASE_URL": settings.database_url,
        "SHUZHI_SECRET_KEY": "s" * 40,
    }
    cli = CliRunner()

    def run(*args: str) -> str:
        result = cli.invoke(app, ["masterdata", *args], env=env)
        assert result.exit_code == 0, result.output
        return result.output

    run("define", "population", "--name", "人口基础库", "--unit", "R")
    run("add-member", "population", a, "--rank", "1")
    out = run(
        "add-member",
        "population",
        b,
        "--rank",
        "2",
        "--map",
        "姓名=姓名",
        "--map",
        "公民身份号码=公民身份号码",
        "--map",
        "出生日期=出生日期",
    )
    assert "birth_date=出生日期" in out and "resident_id=公民身份号码" in out
    out = run("build", "population")
    assert "(full)" in out and "entities / 实体 12" in out and "records / 记录 18" in out
    load(database, b, [person(i) for i in range(6)] + [person(50)])
    out = run("run", "population", "--incremental")
    assert "(incremental)" in out and "entities / 实体 13" in out
    bad = cli.invoke(app, ["masterdata", "add-member", "population", a, "--map", "姓名"], env=env)
    assert bad.exit_code == 1 and "ELEMENT=COLUMN" in bad.output
    missing = cli.invoke(app, ["masterdata", "build", "nosuch"], env=env)
    assert missing.exit_code == 1 and "does not exist" in missing.output
