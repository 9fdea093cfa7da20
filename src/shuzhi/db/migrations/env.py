"""Alembic environment: runs against the engine handed over by ``shuzhi.db.migrate``."""

from alembic import context

from shuzhi.db.migrate import include_object
from shuzhi.models import metadata

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
    )
    context.run_migrations()
