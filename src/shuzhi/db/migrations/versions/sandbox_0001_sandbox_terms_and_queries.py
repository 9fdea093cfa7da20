"""sandbox: terms of sandbox grants, queries asked and the datasets they touched

Revision ID: sandbox_0001
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "sandbox_0001"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC = shuzhi.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sandbox_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("consumer_unit_id", sa.Integer(), nullable=False),
        sa.Column("provider_unit_id", sa.Integer(), nullable=False),
        sa.Column("requested", sa.Text(), nullable=False),
        sa.Column("granted", sa.Text(), nullable=True),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("decided_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["consumer_unit_id"],
            ["org_unit.id"],
            name=op.f("fk_sandbox_terms_consumer_unit_id_org_unit"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_unit_id"],
            ["org_unit.id"],
            name=op.f("fk_sandbox_terms_provider_unit_id_org_unit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_terms")),
        sa.UniqueConstraint("request_id", name=op.f("uq_sandbox_terms_request_id")),
    )
    with op.batch_alter_table("sandbox_terms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sandbox_terms_resource_code"), ["resource_code"])
        batch_op.create_index(batch_op.f("ix_sandbox_terms_application_id"), ["application_id"])
        batch_op.create_index(batch_op.f("ix_sandbox_terms_grant_id"), ["grant_id"])
    op.create_table(
        "sandbox_query",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("analyst", sa.String(length=40), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("sql", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.Column("filter_sql", sa.Text(), nullable=True),
        sa.Column("rows_released", sa.Integer(), nullable=False),
        sa.Column("suppressed", sa.Integer(), nullable=False),
        sa.Column("k", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_sandbox_query_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_query")),
    )
    with op.batch_alter_table("sandbox_query", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sandbox_query_unit_id"), ["unit_id"])
        batch_op.create_index("ix_sandbox_query_analyst", ["analyst", "signature", "id"])
    op.create_table(
        "sandbox_query_dataset",
        sa.Column("query_id", sa.Integer(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("provider_unit_id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["query_id"],
            ["sandbox_query.id"],
            name=op.f("fk_sandbox_query_dataset_query_id_sandbox_query"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["provider_unit_id"],
            ["org_unit.id"],
            name=op.f("fk_sandbox_query_dataset_provider_unit_id_org_unit"),
        ),
        sa.PrimaryKeyConstraint("query_id", "resource_code", name=op.f("pk_sandbox_query_dataset")),
    )
    with op.batch_alter_table("sandbox_query_dataset", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sandbox_query_dataset_provider_unit_id"), ["provider_unit_id"]
        )


def downgrade() -> None:
    op.drop_table("sandbox_query_dataset")
    op.drop_table("sandbox_query")
    op.drop_table("sandbox_terms")
