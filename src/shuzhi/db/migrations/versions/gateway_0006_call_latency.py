"""gateway: call counts per latency step, instead of an index of the calls by latency

Revision ID: gateway_0006
Revises: gateway_0005
"""

import sqlalchemy as sa
from alembic import op

revision = "gateway_0006"
down_revision = "gateway_0005"
branch_labels = None
depends_on = None

GROUP = ["day", "resource_code", "consumer_unit_id", "provider_unit_id", "step"]


def upgrade() -> None:
    op.create_table(
        "gateway_call_latency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("consumer_unit_id", sa.Integer(), nullable=False),
        sa.Column("provider_unit_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_call_latency")),
        sa.UniqueConstraint(*GROUP, name="uq_gateway_call_latency_group"),
    )
    # The calls written so far, counted the way the meter counts each batch from now on
    # (latency in 10 µs steps, rounded; no unit as 0).
    op.execute(
        "INSERT INTO gateway_call_latency"
        " (day, resource_code, consumer_unit_id, provider_unit_id, step, calls)"
        " SELECT day, resource_code, COALESCE(consumer_unit_id, 0),"
        " COALESCE(provider_unit_id, 0), (latency_us + 5) / 10, COUNT(*)"
        " FROM gateway_call"
        " GROUP BY day, resource_code, COALESCE(consumer_unit_id, 0),"
        " COALESCE(provider_unit_id, 0), (latency_us + 5) / 10"
    )
    op.drop_index("ix_gateway_call_day_latency", table_name="gateway_call")


def downgrade() -> None:
    op.create_index("ix_gateway_call_day_latency", "gateway_call", ["day", "latency_us"])
    op.drop_table("gateway_call_latency")
