"""secops: the periodic grant review queue

Revision ID: secops_0003
Revises: secops_0002
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "secops_0003"
down_revision = "secops_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "secops_grant_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("provider_unit_id", sa.Integer(), nullable=False),
        sa.Column("consumer_unit_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("entry_name", sa.String(length=128), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("grant_started_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("open_key", sa.String(length=40), nullable=True),
        sa.Column("requested_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("containment_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secops_grant_review")),
        sa.UniqueConstraint("open_key", name=op.f("uq_secops_grant_review_open_key")),
    )
    with op.batch_alter_table("secops_grant_review", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_secops_grant_review_grant_id"), ["grant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_secops_grant_review_provider_unit_id"),
            ["provider_unit_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_secops_grant_review_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("secops_grant_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_secops_grant_review_status"))
        batch_op.drop_index(batch_op.f("ix_secops_grant_review_provider_unit_id"))
        batch_op.drop_index(batch_op.f("ix_secops_grant_review_grant_id"))
    op.drop_table("secops_grant_review")
