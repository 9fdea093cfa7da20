"""``shuzhi cockpit evaluate``: the daily run evaluates indicators and keeps the figures."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from shuzhi.cli import app
from shuzhi.cockpit import service
from shuzhi.cockpit.schemas import IndicatorCreate
from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.settings import Settings
from tests.conftest import acting
from tests.factories import seed_org
from tests.sharing.helpers import shared_entry


def test_evaluate_from_the_command_line(settings: Settings, database: Database) -> None:
    seeded = seed_org(database)
    code = shared_entry(database, unit="A", loaded=True)
    data: dict[str, Any] = {"code": "AGE", "name": "年龄", "resource_code": code, "func": "avg",
                            "column": "年龄", "warn_at": 10, "alarm_at": 20}  # fmt: skip
    with acting(database, SYSTEM) as ctx:
        service.define_indicator(ctx, IndicatorCreate.model_validate(data))
    env = {
        "SHUZHI_DATA_DIR": str(settings.data_dir),
        "SHUZHI_DATABASE_URL": settings.database_url,
        "SHUZHI_SECRET_KEY": "s" * 40,
    }
    result = CliRunner().invoke(app, ["cockpit", "evaluate"], env=env)
    assert result.exit_code == 0, result.output
    assert "AGE:" in result.output and "[alarm]" in result.output
    assert "alerts / 告警: 1" in result.output
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        points = service.snapshot_points(ctx, utcnow().date())
        assert [a.indicator_code for a in service.list_alerts(ctx)] == ["AGE"]
    assert {p.unit_id for p in points} == {None, *seeded.unit_ids.values()}
    again = CliRunner().invoke(app, ["cockpit", "evaluate", "--no-snapshot"], env=env)
    assert "alerts / 告警: 0" in again.output and "快照: 0" in again.output
