"""catalog: a comparison key for entry names

Revision ID: catalog_0003
Revises: catalog_0002

Names are stored as typed (full-width punctuation included); the duplicate-name check
compares ``name_key`` instead: the name NFKC-normalised, case-folded and without spaces, so
人口（户籍） and 人口(户籍) are the same name. Upgrade fills the key for existing entries.
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "catalog_0003"
down_revision = "catalog_0002"
branch_labels = None
depends_on = None

_entry = sa.table(
    "catalog_entry",
    sa.column("id", sa.Integer()),
    sa.column("name", sa.String()),
    sa.column("name_key", sa.String()),
)


def _key(name: str) -> str:
    # Frozen copy of shuzhi.validation.text_key as of this revision.
    return "".join(unicodedata.normalize("NFKC", name).casefold().split())


def upgrade() -> None:
    with op.batch_alter_table("catalog_entry", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("name_key", sa.String(length=128), nullable=False, server_default="")
        )
    bind = op.get_bind()
    rows = bind.execute(sa.select(_entry.c.id, _entry.c.name)).all()
    for entry_id, name in rows:
        bind.execute(
            _entry.update().where(_entry.c.id == entry_id).values(name_key=_key(name)[:128])
        )
    with op.batch_alter_table("catalog_entry", schema=None) as batch_op:
        batch_op.alter_column("name_key", server_default=None)
        batch_op.create_index(batch_op.f("ix_catalog_entry_name_key"), ["name_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("catalog_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_entry_name_key"))
        batch_op.drop_column("name_key")
