"""cockpit: alert webhook delivery state and attempts (failed deliveries are retried)

Revision ID: cockpit_0002
Revises: cockpit_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "cockpit_0002"
down_revision = "cockpit_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Alerts raised before this revision count as handled: nothing old is re-sent.
    with op.batch_alter_table("cockpit_alert", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("webhook_state", sa.String(length=10), server_default="none", nullable=False)
        )
        batch_op.add_column(
            sa.Column("webhook_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_index(
            batch_op.f("ix_cockpit_alert_webhook_state"), ["webhook_state"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("cockpit_alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cockpit_alert_webhook_state"))
        batch_op.drop_column("webhook_attempts")
        batch_op.drop_column("webhook_state")
