"""gateway: call rows name the audit entry sealing their batch

Revision ID: gateway_0003
Revises: gateway_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "gateway_0003"
down_revision = "gateway_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no table rebuild on SQLite): the call log may hold millions of rows.
    op.add_column("gateway_call", sa.Column("seal", sa.Integer(), nullable=True))
    op.create_index("ix_gateway_call_seal", "gateway_call", ["seal", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_gateway_call_seal", table_name="gateway_call")
    with op.batch_alter_table("gateway_call", schema=None) as batch_op:
        batch_op.drop_column("seal")
