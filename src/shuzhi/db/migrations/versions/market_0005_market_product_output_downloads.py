"""market: a product's own output resource, file downloads counted on the contract

Revision ID: market_0005
Revises: market_0004
"""

import sqlalchemy as sa
from alembic import op

revision = "market_0005"
down_revision = "market_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("market_product", schema=None) as batch_op:
        batch_op.add_column(sa.Column("output_resource_code", sa.String(length=64), nullable=True))

    with op.batch_alter_table("market_contract", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("downloads", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("market_contract", schema=None) as batch_op:
        batch_op.drop_column("downloads")

    with op.batch_alter_table("market_product", schema=None) as batch_op:
        batch_op.drop_column("output_resource_code")
