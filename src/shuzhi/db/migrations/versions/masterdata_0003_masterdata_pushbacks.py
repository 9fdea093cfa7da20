"""masterdata: push-backs to streets, their deliveries and the streets' reports

Revision ID: masterdata_0003
Revises: masterdata_0002
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "masterdata_0003"
down_revision = "masterdata_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "masterdata_pushback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("target_unit_id", sa.Integer(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("street", sa.String(length=40), nullable=False),
        sa.Column("community", sa.String(length=40), nullable=True),
        sa.Column("columns", shuzhi.db.base.JSONText(), nullable=False),
        sa.Column("conditions", shuzhi.db.base.JSONText(), nullable=False),
        sa.Column("masking", shuzhi.db.base.JSONText(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("application_code", sa.String(length=40), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("delivered_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error_zh", sa.Text(), nullable=False),
        sa.Column("error_en", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["masterdata_library.id"],
            name=op.f("fk_masterdata_pushback_library_id_masterdata_library"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_unit_id"],
            ["org_unit.id"],
            name=op.f("fk_masterdata_pushback_target_unit_id_org_unit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_masterdata_pushback")),
        sa.UniqueConstraint("library_id", "name", name="uq_masterdata_pushback"),
    )
    with op.batch_alter_table("masterdata_pushback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_masterdata_pushback_library_id"), ["library_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_masterdata_pushback_resource_code"), ["resource_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_masterdata_pushback_target_unit_id"), ["target_unit_id"], unique=False
        )

    op.create_table(
        "masterdata_pushback_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pushback_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("error_zh", sa.Text(), nullable=False),
        sa.Column("error_en", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pushback_id"],
            ["masterdata_pushback.id"],
            name=op.f("fk_masterdata_pushback_delivery_pushback_id_masterdata_pushback"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_masterdata_pushback_delivery")),
    )
    with op.batch_alter_table("masterdata_pushback_delivery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_masterdata_pushback_delivery_pushback_id"), ["pushback_id"], unique=False
        )

    op.create_table(
        "masterdata_pushback_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pushback_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.String(length=40), nullable=False),
        sa.Column("attribute", sa.String(length=40), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("proposed", sa.Text(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("row", sa.Integer(), nullable=True),
        sa.Column("quality_issue_id", sa.Integer(), nullable=False),
        sa.Column("reported_by", sa.String(length=200), nullable=False),
        sa.Column("reported_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pushback_id"],
            ["masterdata_pushback.id"],
            name=op.f("fk_masterdata_pushback_report_pushback_id_masterdata_pushback"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["org_unit.id"],
            name=op.f("fk_masterdata_pushback_report_unit_id_org_unit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_masterdata_pushback_report")),
    )
    with op.batch_alter_table("masterdata_pushback_report", schema=None) as batch_op:
        batch_op.create_index(
            "ix_masterdata_pushback_report_pushback", ["pushback_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_masterdata_pushback_report_unit_id"), ["unit_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("masterdata_pushback_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_masterdata_pushback_report_unit_id"))
        batch_op.drop_index("ix_masterdata_pushback_report_pushback")

    op.drop_table("masterdata_pushback_report")
    with op.batch_alter_table("masterdata_pushback_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_masterdata_pushback_delivery_pushback_id"))

    op.drop_table("masterdata_pushback_delivery")
    with op.batch_alter_table("masterdata_pushback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_masterdata_pushback_target_unit_id"))
        batch_op.drop_index(batch_op.f("ix_masterdata_pushback_resource_code"))
        batch_op.drop_index(batch_op.f("ix_masterdata_pushback_library_id"))

    op.drop_table("masterdata_pushback")
