"""gateway: metered calls

Revision ID: gateway_0001
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "gateway_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=32), nullable=False),
        sa.Column("at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("endpoint", sa.String(length=20), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("consumer_unit_id", sa.Integer(), nullable=True),
        sa.Column("provider_unit_id", sa.Integer(), nullable=True),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("application_code", sa.String(length=64), nullable=True),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("filter", sa.Text(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("latency_us", sa.Integer(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_call")),
        sa.UniqueConstraint("call_id", name=op.f("uq_gateway_call_call_id")),
    )
    with op.batch_alter_table("gateway_call", schema=None) as batch_op:
        batch_op.create_index(
            "ix_gateway_call_day_consumer", ["day", "consumer_unit_id"], unique=False
        )
        batch_op.create_index("ix_gateway_call_day_latency", ["day", "latency_us"], unique=False)
        batch_op.create_index(
            "ix_gateway_call_day_resource", ["day", "resource_code"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("gateway_call", schema=None) as batch_op:
        batch_op.drop_index("ix_gateway_call_day_resource")
        batch_op.drop_index("ix_gateway_call_day_latency")
        batch_op.drop_index("ix_gateway_call_day_consumer")

    op.drop_table("gateway_call")
