"""market: reductions of data assets (impairment, write-down reversal, sale, derecognition)

Revision ID: market_0004
Revises: market_0003
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "market_0004"
down_revision = "market_0003"
branch_labels = None
depends_on = None

UTC = shuzhi.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "market_asset_reduction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("cost_fen", sa.BigInteger(), nullable=False),
        sa.Column("proceeds_fen", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["market_data_asset.id"],
            name=op.f("fk_market_asset_reduction_asset_id_market_data_asset"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_asset_reduction")),
    )
    op.create_index(
        op.f("ix_market_asset_reduction_asset_id"), "market_asset_reduction", ["asset_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_market_asset_reduction_asset_id"), table_name="market_asset_reduction")
    op.drop_table("market_asset_reduction")
