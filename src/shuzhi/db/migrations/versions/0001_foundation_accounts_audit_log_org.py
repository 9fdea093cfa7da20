"""foundation: accounts, audit log, org

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_role", sa.String(length=40), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("target_type", sa.String(length=60), nullable=False),
        sa.Column("target_id", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_entry")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entry_action"), ["action"], unique=False)
        batch_op.create_index("ix_audit_entry_target", ["target_type", "target_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entry_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    # The chain head exists from the start; appenders lock and advance it.
    op.bulk_insert(
        sa.table(
            "audit_head",
            sa.column("id", sa.Integer()),
            sa.column("seq", sa.Integer()),
            sa.column("last_hash", sa.String()),
        ),
        [{"id": 1, "seq": 0, "last_hash": "0" * 64}],
    )
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.Column("at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failure")),
    )
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.create_index("ix_login_failure_user_at", ["username", "at"], unique=False)

    op.create_table(
        "org_unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("uscc", sa.String(length=18), nullable=True),
        sa.Column("org_code", sa.String(length=10), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("created_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["org_unit.id"], name=op.f("fk_org_unit_parent_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_unit")),
        sa.UniqueConstraint("code", name=op.f("uq_org_unit_code")),
        sa.UniqueConstraint("uscc", name=op.f("uq_org_unit_uscc")),
    )
    with op.batch_alter_table("org_unit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_org_unit_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_api_key_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_key_prefix")),
    )
    op.create_table(
        "org_person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("created_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_org_person_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_person")),
    )
    with op.batch_alter_table("org_person", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_org_person_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("session_epoch", sa.Integer(), nullable=False),
        sa.Column("created_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_user_account_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("username", name=op.f("uq_user_account_username")),
    )
    op.create_table(
        "org_appointment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.String(length=20), nullable=False),
        sa.Column("appointed_on", sa.Date(), nullable=False),
        sa.Column("document_no", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("submitted_by", sa.String(length=200), nullable=True),
        sa.Column("submitted_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("return_reason", sa.Text(), nullable=True),
        sa.Column("created_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["org_person.id"], name=op.f("fk_org_appointment_person_id_org_person")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_org_appointment_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_appointment")),
    )
    with op.batch_alter_table("org_appointment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_org_appointment_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_org_appointment_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_org_appointment_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "org_filing_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["org_appointment.id"],
            name=op.f("fk_org_filing_event_appointment_id_org_appointment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_filing_event")),
    )
    with op.batch_alter_table("org_filing_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_org_filing_event_appointment_id"), ["appointment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("org_filing_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_org_filing_event_appointment_id"))

    op.drop_table("org_filing_event")
    with op.batch_alter_table("org_appointment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_org_appointment_unit_id"))
        batch_op.drop_index(batch_op.f("ix_org_appointment_status"))
        batch_op.drop_index(batch_op.f("ix_org_appointment_person_id"))

    op.drop_table("org_appointment")
    op.drop_table("user_account")
    with op.batch_alter_table("org_person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_org_person_unit_id"))

    op.drop_table("org_person")
    op.drop_table("api_key")
    with op.batch_alter_table("org_unit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_org_unit_parent_id"))

    op.drop_table("org_unit")
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failure_user_at")

    op.drop_table("login_failure")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entry_unit_id"))
        batch_op.drop_index("ix_audit_entry_target")
        batch_op.drop_index(batch_op.f("ix_audit_entry_action"))

    op.drop_table("audit_entry")
