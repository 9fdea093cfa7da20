"""market parties agreements products registry

Revision ID: market_0001
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "market_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "market_party",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("unit_code", sa.String(length=32), nullable=True),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("merchant_classes", sa.Text(), nullable=False),
        sa.Column("licence_grade", sa.String(length=10), nullable=True),
        sa.Column("licence_sector", sa.String(length=100), nullable=True),
        sa.Column("licence_valid_from", sa.Date(), nullable=True),
        sa.Column("licence_valid_until", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("live_key", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("applied_by", sa.String(length=200), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_market_party_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_party")),
        sa.UniqueConstraint("live_key", name=op.f("uq_market_party_live_key")),
    )
    with op.batch_alter_table("market_party", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_market_party_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_market_party_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_market_party_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_market_party_uscc"), ["uscc"], unique=False)

    op.create_table(
        "market_agreement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("operator_unit_id", sa.Integer(), nullable=False),
        sa.Column("rights", sa.Text(), nullable=False),
        sa.Column("scenarios", sa.Text(), nullable=False),
        sa.Column("fee_cap_cents", sa.Integer(), nullable=False),
        sa.Column("security_obligations", sa.Text(), nullable=False),
        sa.Column("exit_terms", sa.Text(), nullable=False),
        sa.Column("breach_terms", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["market_party.id"],
            name=op.f("fk_market_agreement_operator_id_market_party"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_unit_id"],
            ["org_unit.id"],
            name=op.f("fk_market_agreement_operator_unit_id_org_unit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_agreement")),
    )
    with op.batch_alter_table("market_agreement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_agreement_operator_id"), ["operator_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_market_agreement_operator_unit_id"), ["operator_unit_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_market_agreement_status"), ["status"], unique=False)

    op.create_table(
        "market_agreement_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["market_agreement.id"],
            name=op.f("fk_market_agreement_grant_agreement_id_market_agreement"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_agreement_grant")),
        sa.UniqueConstraint("grant_id", name=op.f("uq_market_agreement_grant_grant_id")),
    )
    with op.batch_alter_table("market_agreement_grant", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_agreement_grant_agreement_id"), ["agreement_id"], unique=False
        )

    op.create_table(
        "market_agreement_resource",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["market_agreement.id"],
            name=op.f("fk_market_agreement_resource_agreement_id_market_agreement"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_agreement_resource")),
        sa.UniqueConstraint(
            "agreement_id", "resource_code", name=op.f("uq_market_agreement_resource_agreement_id")
        ),
    )
    with op.batch_alter_table("market_agreement_resource", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_agreement_resource_resource_code"),
            ["resource_code"],
            unique=False,
        )

    op.create_table(
        "market_product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("operator_unit_id", sa.Integer(), nullable=False),
        sa.Column("inputs", sa.Text(), nullable=False),
        sa.Column("processing", sa.Text(), nullable=False),
        sa.Column("scenario", sa.String(length=200), nullable=False),
        sa.Column("update_frequency", sa.String(length=40), nullable=False),
        sa.Column("delivery_mode", sa.String(length=20), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("fee_standard", sa.Text(), nullable=False),
        sa.Column("sample", sa.Text(), nullable=False),
        sa.Column("sample_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("compliance", sa.Text(), nullable=False),
        sa.Column("reviewed_by", sa.String(length=200), nullable=True),
        sa.Column("reviewed_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["market_agreement.id"],
            name=op.f("fk_market_product_agreement_id_market_agreement"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_unit_id"],
            ["org_unit.id"],
            name=op.f("fk_market_product_operator_unit_id_org_unit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_product")),
    )
    with op.batch_alter_table("market_product", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_product_agreement_id"), ["agreement_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_market_product_operator_unit_id"), ["operator_unit_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_market_product_status"), ["status"], unique=False)

    op.create_table(
        "market_registration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("subject_kind", sa.String(length=20), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("resource_code", sa.String(length=64), nullable=True),
        sa.Column("holder_unit_id", sa.Integer(), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("holder_uscc", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sections", sa.Text(), nullable=False),
        sa.Column("rights", sa.Text(), nullable=False),
        sa.Column("certificate", sa.Text(), nullable=False),
        sa.Column("sample_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("notice_ends_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("verification_code", sa.String(length=16), nullable=False),
        sa.Column("upstream_code", sa.String(length=100), nullable=True),
        sa.Column("registered_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["holder_unit_id"],
            ["org_unit.id"],
            name=op.f("fk_market_registration_holder_unit_id_org_unit"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["market_product.id"],
            name=op.f("fk_market_registration_product_id_market_product"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_registration")),
        sa.UniqueConstraint("number", name=op.f("uq_market_registration_number")),
        sa.UniqueConstraint("product_id", name=op.f("uq_market_registration_product_id")),
        sa.UniqueConstraint(
            "verification_code", name=op.f("uq_market_registration_verification_code")
        ),
    )
    with op.batch_alter_table("market_registration", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_registration_holder_unit_id"), ["holder_unit_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_market_registration_resource_code"), ["resource_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_market_registration_status"), ["status"], unique=False)

    op.create_table(
        "market_objection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("client", sa.String(length=100), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("filed_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["market_registration.id"],
            name=op.f("fk_market_objection_registration_id_market_registration"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_objection")),
    )
    with op.batch_alter_table("market_objection", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_objection_registration_id"), ["registration_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_market_objection_status"), ["status"], unique=False)

    op.create_table(
        "market_registration_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["market_registration.id"],
            name=op.f("fk_market_registration_event_registration_id_market_registration"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_registration_event")),
    )
    with op.batch_alter_table("market_registration_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_registration_event_registration_id"),
            ["registration_id"],
            unique=False,
        )


def downgrade() -> None:

    with op.batch_alter_table("market_registration_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_registration_event_registration_id"))

    op.drop_table("market_registration_event")
    with op.batch_alter_table("market_objection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_objection_status"))
        batch_op.drop_index(batch_op.f("ix_market_objection_registration_id"))

    op.drop_table("market_objection")
    with op.batch_alter_table("market_registration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_registration_status"))
        batch_op.drop_index(batch_op.f("ix_market_registration_resource_code"))
        batch_op.drop_index(batch_op.f("ix_market_registration_holder_unit_id"))

    op.drop_table("market_registration")
    with op.batch_alter_table("market_product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_product_status"))
        batch_op.drop_index(batch_op.f("ix_market_product_operator_unit_id"))
        batch_op.drop_index(batch_op.f("ix_market_product_agreement_id"))

    op.drop_table("market_product")
    with op.batch_alter_table("market_agreement_resource", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_agreement_resource_resource_code"))

    op.drop_table("market_agreement_resource")
    with op.batch_alter_table("market_agreement_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_agreement_grant_agreement_id"))

    op.drop_table("market_agreement_grant")
    with op.batch_alter_table("market_agreement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_agreement_status"))
        batch_op.drop_index(batch_op.f("ix_market_agreement_operator_unit_id"))
        batch_op.drop_index(batch_op.f("ix_market_agreement_operator_id"))

    op.drop_table("market_agreement")
    with op.batch_alter_table("market_party", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_party_uscc"))
        batch_op.drop_index(batch_op.f("ix_market_party_unit_id"))
        batch_op.drop_index(batch_op.f("ix_market_party_status"))
        batch_op.drop_index(batch_op.f("ix_market_party_kind"))

    op.drop_table("market_party")
