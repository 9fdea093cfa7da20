"""``shuzhi sharing escalate`` applies passed deadlines from cron."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from typer.testing import CliRunner

from shuzhi.cli import app
from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.settings import Settings
from shuzhi.sharing import service
from shuzhi.sharing.models import ShareRequest
from tests.conftest import acting
from tests.factories import seed_org
from tests.sharing.helpers import application, request, shared_entry


def test_escalate_command(settings: Settings, database: Database) -> None:
    seeded = seed_org(database)
    out = request(
        database, seeded.actor(Role.DATA_LIAISON), shared_entry(database), application(database)
    )
    assert out.due_on is not None
    with acting(database, SYSTEM) as ctx:
        ctx.db.execute(
            update(ShareRequest)
            .where(ShareRequest.id == out.id)
            .values(due_on=out.due_on - timedelta(days=40))
        )
    env = {
        "SHUZHI_DATA_DIR": str(settings.data_dir),
        "SHUZHI_DATABASE_URL": settings.database_url,
        "SHUZHI_SECRET_KEY": "s" * 40,
    }
    result = CliRunner().invoke(app, ["sharing", "escalate"], env=env)
    assert result.exit_code == 0, result.output
    assert f"#{out.id}" in result.output and "1" in result.output
    with acting(database, SYSTEM) as ctx:
        assert service.get_share_request(ctx, out.id).status == "escalated"
        assert service.escalate_overdue(ctx, utcnow()) == []
