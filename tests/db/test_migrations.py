"""Migrations and models agree on every backend, and upgrading twice changes nothing."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from shuzhi.db.engine import Database
from shuzhi.db.migrate import include_object, is_current, upgrade
from shuzhi.models import metadata


def test_schema_matches_models(database: Database) -> None:
    assert is_current(database)
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        diffs = compare_metadata(context, metadata)
    assert diffs == []


def test_upgrade_is_idempotent(database: Database) -> None:
    upgrade(database)
    upgrade(database)
    assert is_current(database)
