"""sandbox: answers kept for release, release requests with a review per provider, templates

Revision ID: sandbox_0003
Revises: sandbox_0002
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "sandbox_0003"
down_revision = "sandbox_0002"
branch_labels = None
depends_on = None

UTC = shuzhi.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sandbox_result",
        sa.Column("query_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["query_id"],
            ["sandbox_query.id"],
            name=op.f("fk_sandbox_result_query_id_sandbox_query"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("query_id", name=op.f("pk_sandbox_result")),
    )
    op.create_table(
        "sandbox_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sql", sa.Text(), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("targets", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_unit_id"],
            ["org_unit.id"],
            name=op.f("fk_sandbox_template_provider_unit_id_org_unit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_template")),
    )
    with op.batch_alter_table("sandbox_template", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sandbox_template_provider_unit_id"), ["provider_unit_id"]
        )
    op.create_table(
        "sandbox_release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("decided_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["query_id"],
            ["sandbox_query.id"],
            name=op.f("fk_sandbox_release_query_id_sandbox_query"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_sandbox_release_unit_id_org_unit")
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["sandbox_template.id"],
            name=op.f("fk_sandbox_release_template_id_sandbox_template"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_release")),
    )
    with op.batch_alter_table("sandbox_release", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sandbox_release_query_id"), ["query_id"])
        batch_op.create_index(batch_op.f("ix_sandbox_release_unit_id"), ["unit_id"])
        batch_op.create_index(batch_op.f("ix_sandbox_release_status"), ["status"])
    op.create_table(
        "sandbox_release_review",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("provider_unit_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["sandbox_release.id"],
            name=op.f("fk_sandbox_release_review_release_id_sandbox_release"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["provider_unit_id"],
            ["org_unit.id"],
            name=op.f("fk_sandbox_release_review_provider_unit_id_org_unit"),
        ),
        sa.PrimaryKeyConstraint(
            "release_id", "provider_unit_id", name=op.f("pk_sandbox_release_review")
        ),
    )


def downgrade() -> None:
    op.drop_table("sandbox_release_review")
    op.drop_table("sandbox_release")
    op.drop_table("sandbox_template")
    op.drop_table("sandbox_result")
