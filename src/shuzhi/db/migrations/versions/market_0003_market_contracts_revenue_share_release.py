"""market contracts, the agreement's revenue share, products from sandbox releases

Revision ID: market_0003
Revises: market_0002
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "market_0003"
down_revision = "market_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("market_agreement", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("revenue_share_percent", sa.Integer(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("market_product", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sandbox_release_id", sa.Integer(), nullable=True))

    op.create_table(
        "market_contract",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("registration_number", sa.String(length=32), nullable=False),
        sa.Column("operator_unit_id", sa.Integer(), nullable=False),
        sa.Column("buyer_party_id", sa.Integer(), nullable=False),
        sa.Column("buyer_unit_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("delivery_mode", sa.String(length=20), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=True),
        sa.Column("application_code", sa.String(length=40), nullable=True),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(length=200), nullable=True),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("delivered_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("filing_number", sa.String(length=32), nullable=True),
        sa.Column("filed_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("filed_by", sa.String(length=200), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("evaluation", sa.Text(), nullable=True),
        sa.Column("evaluated_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.Column("applied_by", sa.String(length=200), nullable=False),
        sa.Column("signed_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["buyer_party_id"],
            ["market_party.id"],
            name=op.f("fk_market_contract_buyer_party_id_market_party"),
        ),
        sa.ForeignKeyConstraint(
            ["buyer_unit_id"],
            ["org_unit.id"],
            name=op.f("fk_market_contract_buyer_unit_id_org_unit"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_unit_id"],
            ["org_unit.id"],
            name=op.f("fk_market_contract_operator_unit_id_org_unit"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["market_product.id"],
            name=op.f("fk_market_contract_product_id_market_product"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_contract")),
        sa.UniqueConstraint("filing_number", name=op.f("uq_market_contract_filing_number")),
    )
    with op.batch_alter_table("market_contract", schema=None) as batch_op:
        for column in (
            "buyer_party_id",
            "buyer_unit_id",
            "operator_unit_id",
            "product_id",
            "registration_number",
            "status",
        ):
            batch_op.create_index(
                batch_op.f(f"ix_market_contract_{column}"), [column], unique=False
            )


def downgrade() -> None:
    op.drop_table("market_contract")
    with op.batch_alter_table("market_product", schema=None) as batch_op:
        batch_op.drop_column("sandbox_release_id")
    with op.batch_alter_table("market_agreement", schema=None) as batch_op:
        batch_op.drop_column("revenue_share_percent")
