"""lake: source connection URLs sealed at rest; the clear column keeps a masked copy

Revision ID: lake_0002
Revises: lake_0001

Existing rows are sealed with the key from the settings handed over by
``shuzhi.db.migrate`` (SHUZHI_CREDENTIALS_KEY); with rows to seal and no key the upgrade stops
before changing anything.
"""

import sqlalchemy as sa
from alembic import context, op

from shuzhi.lake.credentials import mask_url, seal, unseal

revision = "lake_0002"
down_revision = "lake_0001"
branch_labels = None
depends_on = None

_source = sa.table(
    "lake_source",
    sa.column("id", sa.Integer()),
    sa.column("url", sa.Text()),
    sa.column("url_sealed", sa.Text()),
)


def _key(rows: int) -> str:
    settings = context.config.attributes.get("settings")
    key = str(getattr(settings, "credentials_key", "") or "")
    if rows and not key:
        raise RuntimeError(
            "lake_0002 需要 SHUZHI_CREDENTIALS_KEY 来加密已登记的数据源连接串 / lake_0002 needs"
            " SHUZHI_CREDENTIALS_KEY to encrypt the stored source connection URLs"
        )
    return key


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_source.c.id, _source.c.url)).all()
    key = _key(len(rows))
    with op.batch_alter_table("lake_source", schema=None) as batch_op:
        batch_op.add_column(sa.Column("url_sealed", sa.Text(), nullable=True))
    for row_id, url in rows:
        bind.execute(
            _source.update()
            .where(_source.c.id == row_id)
            .values(url=mask_url(url), url_sealed=seal(url, key))
        )
    with op.batch_alter_table("lake_source", schema=None) as batch_op:
        batch_op.alter_column("url_sealed", existing_type=sa.Text(), nullable=False)


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_source.c.id, _source.c.url_sealed)).all()
    key = _key(len(rows))
    for row_id, sealed in rows:
        bind.execute(_source.update().where(_source.c.id == row_id).values(url=unseal(sealed, key)))
    with op.batch_alter_table("lake_source", schema=None) as batch_op:
        batch_op.drop_column("url_sealed")
