"""secops: alerts, thresholds, tuning, containments, incidents and the evaluator's claim row

Revision ID: secops_0001
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "secops_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "secops_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("open_key", sa.String(length=150), nullable=True),
        sa.Column("first_seen", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("measure", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("summary_zh", sa.Text(), nullable=False),
        sa.Column("summary_en", sa.Text(), nullable=False),
        sa.Column("evidence", shuzhi.db.base.JSONText(), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("acknowledged_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("resolved_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolve_note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secops_alert")),
        sa.UniqueConstraint("open_key", name=op.f("uq_secops_alert_open_key")),
    )
    with op.batch_alter_table("secops_alert", schema=None) as batch_op:
        batch_op.create_index("ix_secops_alert_status_unit", ["status", "unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_secops_alert_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "secops_containment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("active_key", sa.String(length=60), nullable=True),
        sa.Column("contained_by", sa.String(length=200), nullable=False),
        sa.Column("contained_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lifted_by", sa.String(length=200), nullable=True),
        sa.Column("lifted_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secops_containment")),
        sa.UniqueConstraint("active_key", name=op.f("uq_secops_containment_active_key")),
    )
    with op.batch_alter_table("secops_containment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_secops_containment_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_secops_containment_unit_id"), ["unit_id"], unique=False
        )

    op.create_table(
        "secops_incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("drill", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("window_start", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.String(length=200), nullable=False),
        sa.Column("opened_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("review", sa.Text(), nullable=False),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("closed_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secops_incident")),
    )
    with op.batch_alter_table("secops_incident", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_secops_incident_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_secops_incident_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "secops_incident_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secops_incident_event")),
    )
    with op.batch_alter_table("secops_incident_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_secops_incident_event_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "secops_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_run_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secops_state")),
    )
    op.create_table(
        "secops_threshold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("param", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secops_threshold")),
        sa.UniqueConstraint("rule", "param", name="uq_secops_threshold"),
    )
    op.create_table(
        "secops_tuning",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("factor", sa.Float(), nullable=False),
        sa.Column("updated_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secops_tuning")),
        sa.UniqueConstraint("rule", "subject", name="uq_secops_tuning"),
    )


def downgrade() -> None:

    op.drop_table("secops_tuning")
    op.drop_table("secops_threshold")
    op.drop_table("secops_state")
    with op.batch_alter_table("secops_incident_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_secops_incident_event_incident_id"))

    op.drop_table("secops_incident_event")
    with op.batch_alter_table("secops_incident", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_secops_incident_unit_id"))
        batch_op.drop_index(batch_op.f("ix_secops_incident_status"))

    op.drop_table("secops_incident")
    with op.batch_alter_table("secops_containment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_secops_containment_unit_id"))
        batch_op.drop_index(batch_op.f("ix_secops_containment_incident_id"))

    op.drop_table("secops_containment")
    with op.batch_alter_table("secops_alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_secops_alert_unit_id"))
        batch_op.drop_index("ix_secops_alert_status_unit")

    op.drop_table("secops_alert")
