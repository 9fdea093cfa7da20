"""masterdata: clerical review pairs and their decisions

Revision ID: masterdata_0002
Revises: masterdata_0001
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "masterdata_0002"
down_revision = "masterdata_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "masterdata_review_pair",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=40), nullable=False),
        sa.Column("left_resource_code", sa.String(length=64), nullable=False),
        sa.Column("left_version", sa.Integer(), nullable=False),
        sa.Column("left_row", sa.Integer(), nullable=False),
        sa.Column("left_digest", sa.String(length=32), nullable=False),
        sa.Column("right_resource_code", sa.String(length=64), nullable=False),
        sa.Column("right_version", sa.Integer(), nullable=False),
        sa.Column("right_row", sa.Integer(), nullable=False),
        sa.Column("right_digest", sa.String(length=32), nullable=False),
        sa.Column("probability", sa.Double(), nullable=False),
        sa.Column("weight", sa.Double(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_run_id", sa.Integer(), nullable=False),
        sa.Column("last_run_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["masterdata_library.id"],
            name=op.f("fk_masterdata_review_pair_library_id_masterdata_library"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_masterdata_review_pair")),
        sa.UniqueConstraint("library_id", "fingerprint", name="uq_masterdata_review_pair"),
    )
    with op.batch_alter_table("masterdata_review_pair", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_masterdata_review_pair_library_id"), ["library_id"], unique=False
        )
        batch_op.create_index(
            "ix_masterdata_review_pair_library_status", ["library_id", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("masterdata_review_pair", schema=None) as batch_op:
        batch_op.drop_index("ix_masterdata_review_pair_library_status")
        batch_op.drop_index(batch_op.f("ix_masterdata_review_pair_library_id"))
    op.drop_table("masterdata_review_pair")
