"""catalog: IT projects (信息化项目), their declared data sets and gate checks

Revision ID: catalog_0002
Revises: catalog_0001
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "catalog_0002"
down_revision = "catalog_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("budget_yuan", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("approval_date", sa.Date(), nullable=True),
        sa.Column("acceptance_date", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_catalog_project_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_project")),
        sa.UniqueConstraint("code", name=op.f("uq_catalog_project_code")),
    )
    with op.batch_alter_table("catalog_project", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_project_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_catalog_project_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "catalog_project_dataset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["catalog_project.id"],
            name=op.f("fk_catalog_project_dataset_project_id_catalog_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_project_dataset")),
    )
    with op.batch_alter_table("catalog_project_dataset", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_project_dataset_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "catalog_project_gate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("checked_by", sa.String(length=200), nullable=False),
        sa.Column("checked_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["catalog_project.id"],
            name=op.f("fk_catalog_project_gate_project_id_catalog_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_project_gate")),
    )
    with op.batch_alter_table("catalog_project_gate", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_project_gate_project_id"), ["project_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("catalog_project_gate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_project_gate_project_id"))

    op.drop_table("catalog_project_gate")
    with op.batch_alter_table("catalog_project_dataset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_project_dataset_project_id"))

    op.drop_table("catalog_project_dataset")
    with op.batch_alter_table("catalog_project", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_project_unit_id"))
        batch_op.drop_index(batch_op.f("ix_catalog_project_status"))

    op.drop_table("catalog_project")
