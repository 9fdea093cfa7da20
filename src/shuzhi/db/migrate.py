"""Apply Alembic migrations programmatically (on start and from the CLI).

Each capability owns one migration branch rooted at the foundation revision ``0001``
(revision ids ``<capability>_NNNN``), so capabilities can be added independently;
``upgrade`` applies every head.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from shuzhi.db.engine import Database

MIGRATIONS = Path(__file__).parent / "migrations"

# Objects a capability's migration creates on purpose without a model (full-text index
# tables and columns, backend-specific); autogenerate and drift checks must leave them be.
UNMODELLED = {
    "table": ("search_fts",),
    "column": ("search_doc.tsv",),
    "index": ("ix_search_doc_tsv",),
}


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic filter: False for the unmodelled objects above."""
    if name is None:
        return True
    if type_ == "column":
        name = f"{obj.table.name}.{name}"
    return not name.startswith(UNMODELLED.get(type_, ()))


def alembic_config(db: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = db.engine
    config.attributes["settings"] = db.settings  # keys for data steps (sealing source URLs)
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
