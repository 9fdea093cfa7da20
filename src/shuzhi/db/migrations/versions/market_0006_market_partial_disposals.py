"""market: a sale or derecognition of a share of a data asset (the share, and the
amortisation and allowance removed with it)

Revision ID: market_0006
Revises: market_0005
"""

import sqlalchemy as sa
from alembic import op

revision = "market_0006"
down_revision = "market_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("market_asset_reduction", schema=None) as batch_op:
        batch_op.add_column(sa.Column("amortisation_fen", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("allowance_fen", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("share", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("market_asset_reduction", schema=None) as batch_op:
        batch_op.drop_column("share")
        batch_op.drop_column("allowance_fen")
        batch_op.drop_column("amortisation_fen")
