"""Migrations and models agree on every backend, and upgrading twice changes nothing."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from shuzhi.db.engine import Database
from shuzhi.db.migrate import is_current, upgrade
from shuzhi.models import metadata

# Virtual/auxiliary objects a capability's migration creates on purpose without a model
# (e.g. full-text index tables) are named here.
UNMODELLED_PREFIXES = ("search_fts",)


def _relevant(diff: object) -> bool:
    text = repr(diff)
    return not any(prefix in text for prefix in UNMODELLED_PREFIXES)


def test_schema_matches_models(database: Database) -> None:
    assert is_current(database)
    with database.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in diffs if _relevant(d)] == []


def test_upgrade_is_idempotent(database: Database) -> None:
    upgrade(database)
    upgrade(database)
    assert is_current(database)
