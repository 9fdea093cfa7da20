"""sharing: application keys and grants can be suspended by a security containment

Revision ID: sharing_0004
Revises: sharing_0003
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "sharing_0004"
down_revision = "sharing_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("sharing_app_key", "sharing_grant"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("suspended_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True)
            )


def downgrade() -> None:
    for table in ("sharing_app_key", "sharing_grant"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("suspended_at")
