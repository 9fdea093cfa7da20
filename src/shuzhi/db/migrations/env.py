"""Alembic environment: runs against the engine handed over by ``shuzhi.db.migrate``."""

from typing import Any

from alembic import context

from shuzhi.models import metadata

# Tables a capability's migration creates on purpose without a model (full-text index
# tables); autogenerate must not propose dropping them.
UNMODELLED_TABLE_PREFIXES = ("search_fts",)


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    return not (
        type_ == "table" and name is not None and name.startswith(UNMODELLED_TABLE_PREFIXES)
    )


config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=include_name,
    )
    context.run_migrations()
