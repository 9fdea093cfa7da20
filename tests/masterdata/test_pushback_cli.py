"""``shuzhi masterdata pushback-define|pushbacks|pushback-refresh|report|pushback-retire``."""

from __future__ import annotations

from typer.testing import CliRunner

from shuzhi.cli import app
from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.masterdata import service
from shuzhi.settings import Settings
from tests.conftest import acting
from tests.masterdata.pushback_helpers import population, rid


def test_define_refresh_list_report_and_retire(settings: Settings, database: Database) -> None:
    lib = population(database)
    env = {
        "SHUZHI_DATA_DIR": str(settings.data_dir),
        "SHUZHI_DATABASE_URL": settings.database_url,
        "SHUZHI_SECRET_KEY": "s" * 40,
    }
    cli = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = cli.invoke(app, ["masterdata", *args], env=env)
        assert result.exit_code == code, result.output
        return result.output

    common = ["--unit", "S", "--division", "330106", "--street", "北山街道"]
    bad = run(
        "pushback-define", "population", "--name", "高龄", *common, "--columns", "姓名,身高",
        "--min-age", "90", "--max-age", "80", code=1,
    )  # fmt: skip
    assert "columns" in bad and "conditions.0.max_age" in bad
    out = run(
        "pushback-define", "population", "--name", "高龄透析患者", *common,
        "--columns", "姓名，出生日期", "--min-age", "80", "--in-dataset", lib.dialysis,
        "--mask", "姓名=redact",
    )  # fmt: skip
    assert "#1 高龄透析患者 → S" in out and "status / 状态 pending" in out
    assert run("pushback-refresh", "population", code=1)  # no run yet
    run("build", "population")
    listed = run("pushbacks", "population")
    assert "status / 状态 ok" in listed and "rows / 记录 3" in listed
    assert "aged 80 or over; has a record in" in listed
    with acting(database, SYSTEM) as ctx:
        entity = service.lookup_masterdata_entity(ctx, "population", resident_id=rid(0)).entity_id
    reported = run(
        "report", "population", "1", "--entity", entity, "--attribute", "出生日期",
        "--problem", "出生日期与户口簿不一致", "--proposed", "1935-01-02",
    )  # fmt: skip
    assert f"birth_date of {entity} → A ({lib.register}, version 1, row 1)" in reported
    refreshed = run("pushback-refresh", "population", "--id", "1")
    assert "status / 状态 ok" in refreshed
    retired = run("pushback-retire", "population", "1", "--reason", "不再需要该特殊人群名单")
    assert "status / 状态 retired" in retired and "(revoked)" in retired
