"""``shuzhi assess seed`` and ``shuzhi assess evidence``."""

from __future__ import annotations

from typer.testing import CliRunner

from shuzhi.assess import service
from shuzhi.cli import app
from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.settings import Settings
from tests.assess.helpers import PLATFORM, open_round
from tests.conftest import acting
from tests.factories import seed_org


def test_seed_and_evidence_from_the_command_line(settings: Settings, database: Database) -> None:
    seed_org(database)
    env = {
        "SHUZHI_DATA_DIR": str(settings.data_dir),
        "SHUZHI_DATABASE_URL": settings.database_url,
        "SHUZHI_SECRET_KEY": settings.secret_key,
        "SHUZHI_CREDENTIALS_KEY": settings.credentials_key,
    }
    seeded = CliRunner().invoke(app, ["assess", "seed"], env=env)
    assert seeded.exit_code == 0, seeded.output
    assert "dcmm-2025: 9 domains / 能力域, 33 items / 能力项" in seeded.output
    again = CliRunner().invoke(app, ["assess", "seed"], env=env)
    assert "已载入模型: 0" in again.output
    preview = CliRunner().invoke(app, ["assess", "evidence", "--unit", "A"], env=env)
    assert preview.exit_code == 0, preview.output
    assert "Platform indicators / 平台指标: 43" in preview.output
    assert f"{PLATFORM}: 1 (threshold 1) [pass]" in preview.output
    round_id = open_round(database)
    stored = CliRunner().invoke(
        app, ["assess", "evidence", "--unit", "A", "--round", str(round_id)], env=env
    )
    assert stored.exit_code == 0, stored.output
    with acting(database, SYSTEM) as ctx:
        answers = service.unit_answers(ctx, round_id, "A")
    assert len(answers) == 43 and all(a.provided_by == "platform" for a in answers)
    unknown = CliRunner().invoke(app, ["assess", "evidence", "--unit", "ZZ"], env=env)
    assert unknown.exit_code == 1 and "单位 ZZ 不存在" in unknown.output
