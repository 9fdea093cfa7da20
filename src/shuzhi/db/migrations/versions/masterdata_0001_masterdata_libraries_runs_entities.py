"""masterdata: base libraries, members, runs, entities, memberships, events, conflicts

Revision ID: masterdata_0001
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "masterdata_0001"
down_revision = "0001"
branch_labels = None
depends_on = None  # org_unit is created by 0001


def upgrade() -> None:

    op.create_table(
        "masterdata_library",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Double(), nullable=False),
        sa.Column("current_run_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_masterdata_library_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_masterdata_library")),
        sa.UniqueConstraint("code", name=op.f("uq_masterdata_library_code")),
    )
    with op.batch_alter_table("masterdata_library", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_masterdata_library_unit_id"), ["unit_id"], unique=False
        )

    op.create_table(
        "masterdata_conflict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=40), nullable=False),
        sa.Column("attribute", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("value_masked", sa.Text(), nullable=False),
        sa.Column("golden_masked", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("quality_issue_id", sa.Integer(), nullable=True),
        sa.Column("first_run_id", sa.Integer(), nullable=False),
        sa.Column("last_run_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["masterdata_library.id"],
            name=op.f("fk_masterdata_conflict_library_id_masterdata_library"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_masterdata_conflict_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_masterdata_conflict")),
        sa.UniqueConstraint("library_id", "fingerprint", name="uq_masterdata_conflict"),
    )
    with op.batch_alter_table("masterdata_conflict", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_masterdata_conflict_library_id"), ["library_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_masterdata_conflict_resource_code"), ["resource_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_masterdata_conflict_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_masterdata_conflict_unit_id"), ["unit_id"], unique=False
        )

    op.create_table(
        "masterdata_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("mapping", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["masterdata_library.id"],
            name=op.f("fk_masterdata_member_library_id_masterdata_library"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_masterdata_member_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_masterdata_member")),
        sa.UniqueConstraint("library_id", "resource_code", name="uq_masterdata_member"),
    )
    with op.batch_alter_table("masterdata_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_masterdata_member_library_id"), ["library_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_masterdata_member_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "masterdata_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("base_run_id", sa.Integer(), nullable=True),
        sa.Column("started_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("records_in", sa.Integer(), nullable=False),
        sa.Column("records_linked", sa.Integer(), nullable=False),
        sa.Column("entities_out", sa.Integer(), nullable=False),
        sa.Column("links", sa.Integer(), nullable=False),
        sa.Column("conflicts", sa.Integer(), nullable=False),
        sa.Column("review_pairs", sa.Integer(), nullable=False),
        sa.Column("versions", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("error_zh", sa.Text(), nullable=False),
        sa.Column("error_en", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["masterdata_library.id"],
            name=op.f("fk_masterdata_run_library_id_masterdata_library"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_masterdata_run")),
    )
    with op.batch_alter_table("masterdata_run", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_masterdata_run_library_id"), ["library_id"], unique=False
        )

    op.create_table(
        "masterdata_entity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.String(length=40), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("ident", sa.String(length=40), nullable=True),
        sa.Column("adcode", sa.String(length=12), nullable=True),
        sa.Column("golden", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["masterdata_run.id"],
            name=op.f("fk_masterdata_entity_run_id_masterdata_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_masterdata_entity")),
        sa.UniqueConstraint("run_id", "entity_id", name="uq_masterdata_entity"),
    )
    with op.batch_alter_table("masterdata_entity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_masterdata_entity_run_id"), ["run_id"], unique=False)
        batch_op.create_index("ix_masterdata_entity_run_ident", ["run_id", "ident"], unique=False)

    op.create_table(
        "masterdata_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.String(length=40), nullable=False),
        sa.Column("others", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["masterdata_library.id"],
            name=op.f("fk_masterdata_event_library_id_masterdata_library"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["masterdata_run.id"],
            name=op.f("fk_masterdata_event_run_id_masterdata_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_masterdata_event")),
    )
    with op.batch_alter_table("masterdata_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_masterdata_event_entity_id"), ["entity_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_masterdata_event_library_id"), ["library_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_masterdata_event_run_id"), ["run_id"], unique=False)

    op.create_table(
        "masterdata_membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.String(length=40), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["masterdata_run.id"],
            name=op.f("fk_masterdata_membership_run_id_masterdata_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_masterdata_membership")),
    )
    with op.batch_alter_table("masterdata_membership", schema=None) as batch_op:
        batch_op.create_index(
            "ix_masterdata_membership_run_entity", ["run_id", "entity_id"], unique=False
        )
        batch_op.create_index(
            "ix_masterdata_membership_run_source", ["run_id", "resource_code", "row"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("masterdata_membership", schema=None) as batch_op:
        batch_op.drop_index("ix_masterdata_membership_run_source")
        batch_op.drop_index("ix_masterdata_membership_run_entity")

    op.drop_table("masterdata_membership")
    with op.batch_alter_table("masterdata_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_masterdata_event_run_id"))
        batch_op.drop_index(batch_op.f("ix_masterdata_event_library_id"))
        batch_op.drop_index(batch_op.f("ix_masterdata_event_entity_id"))

    op.drop_table("masterdata_event")
    with op.batch_alter_table("masterdata_entity", schema=None) as batch_op:
        batch_op.drop_index("ix_masterdata_entity_run_ident")
        batch_op.drop_index(batch_op.f("ix_masterdata_entity_run_id"))

    op.drop_table("masterdata_entity")
    with op.batch_alter_table("masterdata_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_masterdata_run_library_id"))

    op.drop_table("masterdata_run")
    with op.batch_alter_table("masterdata_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_masterdata_member_unit_id"))
        batch_op.drop_index(batch_op.f("ix_masterdata_member_library_id"))

    op.drop_table("masterdata_member")
    with op.batch_alter_table("masterdata_conflict", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_masterdata_conflict_unit_id"))
        batch_op.drop_index(batch_op.f("ix_masterdata_conflict_status"))
        batch_op.drop_index(batch_op.f("ix_masterdata_conflict_resource_code"))
        batch_op.drop_index(batch_op.f("ix_masterdata_conflict_library_id"))

    op.drop_table("masterdata_conflict")
    with op.batch_alter_table("masterdata_library", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_masterdata_library_unit_id"))

    op.drop_table("masterdata_library")
