"""auth: forced password change, TOTP second factor, login failures indexed by address

Revision ID: auth_0001
Revises: 0001

Existing accounts keep their passwords and have no second factor; nobody is forced to change.
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "auth_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column(
                "password_changed_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("totp_secret_sealed", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("totp_enabled_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.create_index("ix_login_failure_client_at", ["client", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failure_client_at")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_enabled_at")
        batch_op.drop_column("totp_secret_sealed")
        batch_op.drop_column("password_changed_at")
        batch_op.drop_column("must_change_password")
