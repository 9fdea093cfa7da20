"""sharing: the notice outbox (e-mail and webhook, with attempts) and notice addresses

Revision ID: sharing_0002
Revises: sharing_0001
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "sharing_0002"
down_revision = "sharing_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    stamp = shuzhi.db.base.UTCDateTime(timezone=True)
    op.create_table(
        "sharing_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("unit_code", sa.String(length=32), nullable=True),
        sa.Column("roles", sa.String(length=120), nullable=False),
        sa.Column("subject_zh", sa.Text(), nullable=False),
        sa.Column("subject_en", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", stamp, nullable=False),
        sa.Column("next_attempt_at", stamp, nullable=False),
        sa.Column("sent_at", stamp, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_outbox")),
    )
    with op.batch_alter_table("sharing_outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sharing_outbox_state_due", ["state", "next_attempt_at"], unique=False
        )
    op.create_table(
        "sharing_notice_address",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("mail_off", sa.Boolean(), nullable=False),
        sa.Column("updated_at", stamp, nullable=False),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_sharing_notice_address")),
    )


def downgrade() -> None:
    op.drop_table("sharing_notice_address")
    with op.batch_alter_table("sharing_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_sharing_outbox_state_due")
    op.drop_table("sharing_outbox")
