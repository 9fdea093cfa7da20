"""Apply Alembic migrations programmatically (on start and from the CLI).

Each capability owns one migration branch rooted at the foundation revision ``0001``
(revision ids ``<capability>_NNNN``), so capabilities can be added independently;
``upgrade`` applies every head.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from shuzhi.db.engine import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(db: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = db.engine
    return config


def upgrade(db: Database) -> None:
    """Bring the metadata schema to the newest revision; a no-op when already there."""
    if is_current(db):
        return
    command.upgrade(alembic_config(db), "heads")


def is_current(db: Database) -> bool:
    script = ScriptDirectory.from_config(alembic_config(db))
    with db.engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current == set(script.get_heads())
