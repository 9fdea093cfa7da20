"""gateway: serving processes registered by heartbeat (shared rate limits)

Revision ID: gateway_0002
Revises: gateway_0001
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "gateway_0002"
down_revision = "gateway_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_node",
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seen_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("node_id", name=op.f("pk_gateway_node")),
    )
    with op.batch_alter_table("gateway_node", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gateway_node_seen_at"), ["seen_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("gateway_node", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gateway_node_seen_at"))
    op.drop_table("gateway_node")
