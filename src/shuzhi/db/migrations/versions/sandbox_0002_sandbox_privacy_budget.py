"""sandbox: what each analyst has spent of a grant's differential-privacy budget

Revision ID: sandbox_0002
Revises: sandbox_0001
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "sandbox_0002"
down_revision = "sandbox_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sandbox_budget",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("analyst", sa.String(length=40), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("epsilon_spent", sa.Float(), nullable=False),
        sa.Column("delta_spent", sa.Float(), nullable=False),
        sa.Column("queries", sa.Integer(), nullable=False),
        sa.Column("updated_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_budget")),
        sa.UniqueConstraint("analyst", "grant_id", name=op.f("uq_sandbox_budget_analyst")),
    )
    op.create_index(op.f("ix_sandbox_budget_grant_id"), "sandbox_budget", ["grant_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sandbox_budget_grant_id"), table_name="sandbox_budget")
    op.drop_table("sandbox_budget")
