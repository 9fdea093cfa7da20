"""market: annual disclosures, data assets for the balance sheet and their cost items

Revision ID: market_0002
Revises: market_0001
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "market_0002"
down_revision = "market_0001"
branch_labels = None
depends_on = None

UTC = shuzhi.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "market_disclosure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("published_by", sa.String(length=200), nullable=False),
        sa.Column("published_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_disclosure")),
        sa.UniqueConstraint("year", name=op.f("uq_market_disclosure_year")),
    )
    op.create_table(
        "market_data_asset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("use", sa.String(length=20), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("useful_life_months", sa.Integer(), nullable=True),
        sa.Column("ready_on", sa.Date(), nullable=True),
        sa.Column("declared_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_market_data_asset_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_data_asset")),
        sa.UniqueConstraint("unit_id", "resource_code", name=op.f("uq_market_data_asset_unit_id")),
    )
    op.create_index(op.f("ix_market_data_asset_unit_id"), "market_data_asset", ["unit_id"])
    op.create_table(
        "market_cost_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("incurred_on", sa.Date(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["market_data_asset.id"],
            name=op.f("fk_market_cost_item_asset_id_market_data_asset"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_cost_item")),
    )
    op.create_index(op.f("ix_market_cost_item_asset_id"), "market_cost_item", ["asset_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_market_cost_item_asset_id"), table_name="market_cost_item")
    op.drop_table("market_cost_item")
    op.drop_index(op.f("ix_market_data_asset_unit_id"), table_name="market_data_asset")
    op.drop_table("market_data_asset")
    op.drop_table("market_disclosure")
