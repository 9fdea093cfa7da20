"""lake: version manifests recorded relative to the data directory

Revision ID: lake_0003
Revises: lake_0002

``lake_version.manifest_path`` held absolute paths, so a data directory moved or restored
elsewhere served no dataset. Upgrade rewrites them as ``datasets/<resource code>/<file>``:
a path inside the data directory of the settings handed over by ``shuzhi.db.migrate`` is
made relative to it; any other absolute path that ends the way the lake lays files out
(``…/datasets/<resource code>/<file>``, e.g. recorded under the directory's former place)
keeps that tail. Other paths are left as they are (reading refuses them). Downgrade writes
absolute paths under the configured data directory again.
"""

from pathlib import PurePosixPath

import sqlalchemy as sa
from alembic import context, op

revision = "lake_0003"
down_revision = "lake_0002"
branch_labels = None
depends_on = None

DATASETS_DIR = "datasets"

_version = sa.table(
    "lake_version",
    sa.column("id", sa.Integer()),
    sa.column("dataset_id", sa.Integer()),
    sa.column("manifest_path", sa.Text()),
)
_dataset = sa.table(
    "lake_dataset",
    sa.column("id", sa.Integer()),
    sa.column("resource_code", sa.String()),
)


def _data_dir() -> PurePosixPath | None:
    settings = context.config.attributes.get("settings")
    directory = getattr(settings, "data_dir", None)
    return PurePosixPath(str(directory.resolve())) if directory is not None else None


def relative(path: str, resource_code: str, data_dir: PurePosixPath | None) -> str | None:
    """The relative form of a recorded absolute path, or None to leave it as it is."""
    stored = PurePosixPath(path)
    if not stored.is_absolute():
        return None
    if data_dir is not None and stored.is_relative_to(data_dir):
        return stored.relative_to(data_dir).as_posix()
    tail = PurePosixPath(DATASETS_DIR, resource_code, stored.name)
    parts = stored.parts
    if len(parts) > len(tail.parts) and PurePosixPath(*parts[-len(tail.parts) :]) == tail:
        return tail.as_posix()
    return None


def _rows(bind: sa.Connection) -> list[tuple[int, str, str]]:
    query = sa.select(_version.c.id, _version.c.manifest_path, _dataset.c.resource_code).join(
        _dataset, _dataset.c.id == _version.c.dataset_id
    )
    return [(int(i), str(p), str(c)) for i, p, c in bind.execute(query).all()]


def upgrade() -> None:
    bind = op.get_bind()
    data_dir = _data_dir()
    for row_id, path, code in _rows(bind):
        new = relative(path, code, data_dir)
        if new is not None:
            bind.execute(_version.update().where(_version.c.id == row_id).values(manifest_path=new))


def downgrade() -> None:
    bind = op.get_bind()
    data_dir = _data_dir()
    if data_dir is None:
        return
    for row_id, path, _code in _rows(bind):
        if not PurePosixPath(path).is_absolute():
            absolute = (data_dir / path).as_posix()
            bind.execute(
                _version.update().where(_version.c.id == row_id).values(manifest_path=absolute)
            )
