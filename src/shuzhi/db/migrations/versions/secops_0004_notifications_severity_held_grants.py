"""secops: incidents' severity and notification checklist; the grants an agreement's
containment holds

Revision ID: secops_0004
Revises: secops_0003
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "secops_0004"
down_revision = "secops_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "secops_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(length=40), nullable=False),
        sa.Column("due_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_by", sa.String(length=200), nullable=True),
        sa.Column("done_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secops_notification")),
        sa.UniqueConstraint("incident_id", "party", name="uq_secops_notification"),
    )
    with op.batch_alter_table("secops_notification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_secops_notification_incident_id"), ["incident_id"], unique=False
        )
    with op.batch_alter_table("secops_incident", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("severity", sa.String(length=10), nullable=False, server_default="medium")
        )
        batch_op.alter_column("severity", server_default=None)
    with op.batch_alter_table("secops_containment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("held", shuzhi.db.base.JSONText(), nullable=False, server_default="[]")
        )
        batch_op.alter_column("held", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("secops_containment", schema=None) as batch_op:
        batch_op.drop_column("held")
    with op.batch_alter_table("secops_incident", schema=None) as batch_op:
        batch_op.drop_column("severity")
    with op.batch_alter_table("secops_notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_secops_notification_incident_id"))
    op.drop_table("secops_notification")
