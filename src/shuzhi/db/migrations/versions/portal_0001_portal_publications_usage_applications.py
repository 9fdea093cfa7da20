"""portal: publications, usage, applicants, applications, keys

Revision ID: portal_0001
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "portal_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_applicant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("created_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_applicant")),
        sa.UniqueConstraint("email", name=op.f("uq_portal_applicant_email")),
    )
    op.create_table(
        "portal_visitor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("digest", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_visitor")),
        sa.UniqueConstraint("day", "digest", name="uq_portal_visitor"),
    )
    with op.batch_alter_table("portal_visitor", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_portal_visitor_day"), ["day"], unique=False)

    op.create_table(
        "portal_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("applicant_id", sa.Integer(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("agreement_version", sa.String(length=20), nullable=False),
        sa.Column("agreed_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("due_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("created_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["applicant_id"],
            ["portal_applicant.id"],
            name=op.f("fk_portal_application_applicant_id_portal_applicant"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_portal_application_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_application")),
    )
    with op.batch_alter_table("portal_application", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_portal_application_applicant_id"), ["applicant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_portal_application_resource_code"), ["resource_code"], unique=False
        )
        batch_op.create_index(
            "ix_portal_application_unit_status", ["unit_id", "status"], unique=False
        )

    op.create_table(
        "portal_publication",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("open_type", sa.String(length=20), nullable=False),
        sa.Column("entry_json", sa.Text(), nullable=False),
        sa.Column("checked_version", sa.Integer(), nullable=True),
        sa.Column("deidentified_json", sa.Text(), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("opened_by", sa.String(length=200), nullable=False),
        sa.Column("opened_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("republished_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_portal_publication_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_publication")),
        sa.UniqueConstraint("resource_code", name=op.f("uq_portal_publication_resource_code")),
    )
    with op.batch_alter_table("portal_publication", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_portal_publication_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_portal_publication_unit_id"), ["unit_id"], unique=False
        )

    op.create_table(
        "portal_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_portal_usage_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_usage")),
        sa.UniqueConstraint("day", "resource_code", "kind", name="uq_portal_usage"),
    )
    with op.batch_alter_table("portal_usage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_portal_usage_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_portal_usage_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "portal_applicant_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("applicant_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["applicant_id"],
            ["portal_applicant.id"],
            name=op.f("fk_portal_applicant_key_applicant_id_portal_applicant"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["portal_application.id"],
            name=op.f("fk_portal_applicant_key_application_id_portal_application"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_applicant_key")),
        sa.UniqueConstraint("prefix", name=op.f("uq_portal_applicant_key_prefix")),
    )
    with op.batch_alter_table("portal_applicant_key", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_portal_applicant_key_applicant_id"), ["applicant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_portal_applicant_key_application_id"), ["application_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("portal_applicant_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_applicant_key_application_id"))
        batch_op.drop_index(batch_op.f("ix_portal_applicant_key_applicant_id"))

    op.drop_table("portal_applicant_key")
    with op.batch_alter_table("portal_usage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_usage_unit_id"))
        batch_op.drop_index(batch_op.f("ix_portal_usage_day"))

    op.drop_table("portal_usage")
    with op.batch_alter_table("portal_publication", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_publication_unit_id"))
        batch_op.drop_index(batch_op.f("ix_portal_publication_status"))

    op.drop_table("portal_publication")
    with op.batch_alter_table("portal_application", schema=None) as batch_op:
        batch_op.drop_index("ix_portal_application_unit_status")
        batch_op.drop_index(batch_op.f("ix_portal_application_resource_code"))
        batch_op.drop_index(batch_op.f("ix_portal_application_applicant_id"))

    op.drop_table("portal_application")
    with op.batch_alter_table("portal_visitor", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_visitor_day"))

    op.drop_table("portal_visitor")
    op.drop_table("portal_applicant")
