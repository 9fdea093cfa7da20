"""gateway: index the call log by time

Revision ID: gateway_0005
Revises: gateway_0004
"""

from alembic import op

revision = "gateway_0005"
down_revision = "gateway_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Security monitoring counts the last hour's calls every turn. Through the day indexes
    # each count visited every call of the day, in latency or consumer order (a random walk
    # over the table); by time it visits the hour's calls only, in the order they were
    # written.
    op.create_index("ix_gateway_call_at", "gateway_call", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_gateway_call_at", table_name="gateway_call")
