"""cockpit: scenarios, indicators, alerts, snapshots

Revision ID: cockpit_0001
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "cockpit_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cockpit_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cockpit_snapshot")),
    )
    with op.batch_alter_table("cockpit_snapshot", schema=None) as batch_op:
        batch_op.create_index("ix_cockpit_snapshot_metric_day", ["metric", "day"], unique=False)

    op.create_table(
        "cockpit_indicator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("func", sa.String(length=20), nullable=False),
        sa.Column("column_name", sa.String(length=128), nullable=True),
        sa.Column("filters_json", sa.Text(), nullable=False),
        sa.Column("group_by", sa.String(length=128), nullable=True),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("warn_at", sa.Float(), nullable=True),
        sa.Column("alarm_at", sa.Float(), nullable=True),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("last_value", sa.Float(), nullable=True),
        sa.Column("last_evaluated_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_cockpit_indicator_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cockpit_indicator")),
        sa.UniqueConstraint("code", name=op.f("uq_cockpit_indicator_code")),
    )
    with op.batch_alter_table("cockpit_indicator", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cockpit_indicator_resource_code"), ["resource_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_cockpit_indicator_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "cockpit_scenario",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("resource_codes", sa.Text(), nullable=False),
        sa.Column("grant_ids", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_cockpit_scenario_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cockpit_scenario")),
    )
    with op.batch_alter_table("cockpit_scenario", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cockpit_scenario_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_cockpit_scenario_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cockpit_scenario_year"), ["year"], unique=False)

    op.create_table(
        "cockpit_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("raised_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("acknowledged_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["cockpit_indicator.id"],
            name=op.f("fk_cockpit_alert_indicator_id_cockpit_indicator"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_cockpit_alert_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cockpit_alert")),
    )
    with op.batch_alter_table("cockpit_alert", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cockpit_alert_indicator_id"), ["indicator_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_cockpit_alert_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_cockpit_alert_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "cockpit_milestone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("done_by", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["cockpit_scenario.id"],
            name=op.f("fk_cockpit_milestone_scenario_id_cockpit_scenario"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cockpit_milestone")),
    )
    with op.batch_alter_table("cockpit_milestone", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cockpit_milestone_scenario_id"), ["scenario_id"], unique=False
        )

    op.create_table(
        "cockpit_reading",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("group_key", sa.String(length=200), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["cockpit_indicator.id"],
            name=op.f("fk_cockpit_reading_indicator_id_cockpit_indicator"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cockpit_reading")),
    )
    with op.batch_alter_table("cockpit_reading", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cockpit_reading_indicator_at", ["indicator_id", "at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("cockpit_reading", schema=None) as batch_op:
        batch_op.drop_index("ix_cockpit_reading_indicator_at")

    op.drop_table("cockpit_reading")
    with op.batch_alter_table("cockpit_milestone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cockpit_milestone_scenario_id"))

    op.drop_table("cockpit_milestone")
    with op.batch_alter_table("cockpit_alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cockpit_alert_unit_id"))
        batch_op.drop_index(batch_op.f("ix_cockpit_alert_status"))
        batch_op.drop_index(batch_op.f("ix_cockpit_alert_indicator_id"))

    op.drop_table("cockpit_alert")
    with op.batch_alter_table("cockpit_scenario", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cockpit_scenario_year"))
        batch_op.drop_index(batch_op.f("ix_cockpit_scenario_unit_id"))
        batch_op.drop_index(batch_op.f("ix_cockpit_scenario_status"))

    op.drop_table("cockpit_scenario")
    with op.batch_alter_table("cockpit_indicator", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cockpit_indicator_unit_id"))
        batch_op.drop_index(batch_op.f("ix_cockpit_indicator_resource_code"))

    op.drop_table("cockpit_indicator")
    with op.batch_alter_table("cockpit_snapshot", schema=None) as batch_op:
        batch_op.drop_index("ix_cockpit_snapshot_metric_day")

    op.drop_table("cockpit_snapshot")
