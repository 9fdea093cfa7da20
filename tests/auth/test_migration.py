"""auth_0001 on an existing database: accounts keep their passwords, nobody is forced to
change, nobody has a second factor, and the address index is there."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, select, text

from shuzhi.auth import service as auth
from shuzhi.auth.models import User
from shuzhi.auth.passwords import hash_password
from shuzhi.context import SYSTEM, Actor
from shuzhi.db.engine import Database
from shuzhi.db.migrate import alembic_config, is_current, upgrade
from tests.conftest import acting
from tests.factories import PASSWORD


def test_existing_accounts_survive_the_upgrade(database: Database) -> None:
    command.downgrade(alembic_config(database), "auth_0001-1")
    columns = {c["name"] for c in inspect(database.engine).get_columns("user_account")}
    assert "must_change_password" not in columns and "totp_secret_sealed" not in columns
    with database.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO user_account (username, display_name, password_hash, role, locale,"
                " active, session_epoch, created_at) VALUES ('old.hand', 'Old hand', :hash,"
                " 'auditor', 'zh-CN', :yes, 3, CURRENT_TIMESTAMP)"
            ),
            {"hash": hash_password(database.settings, PASSWORD), "yes": True},
        )
    upgrade(database)
    assert is_current(database)
    indexes = {i["name"] for i in inspect(database.engine).get_indexes("login_failure")}
    assert "ix_login_failure_client_at" in indexes
    with acting(database, SYSTEM) as ctx:
        user = ctx.db.scalar(select(User).where(User.username == "old.hand"))
        assert user is not None
        assert user.must_change_password is False and user.totp_enabled_at is None
        assert user.session_epoch == 3
        actor = auth.login(ctx, "old.hand", PASSWORD)
    assert isinstance(actor, Actor) and actor.name == "old.hand"
