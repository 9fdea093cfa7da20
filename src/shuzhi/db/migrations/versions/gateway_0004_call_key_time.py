"""gateway: index the call log by application key and time

Revision ID: gateway_0004
Revises: gateway_0003
"""

from alembic import op

revision = "gateway_0004"
down_revision = "gateway_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Security monitoring reads one key's calls of the last hour (an alert's evidence, what
    # an open alert grew by); without this index each such read scanned the whole day.
    op.create_index("ix_gateway_call_key_at", "gateway_call", ["key_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_gateway_call_key_at", table_name="gateway_call")
