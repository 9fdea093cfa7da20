"""audit: closed stretches of the log archived to files

Revision ID: audit_0003
Revises: audit_0002

``audit_archive`` records each archive file (``shuzhi audit archive``): the range of entries
it holds, ending at a signed checkpoint, the hash of its last entry and the file's SHA-256.
Nothing is archived by the upgrade itself.
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "audit_0003"
down_revision = "audit_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_archive",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_seq", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("file", sa.String(length=80), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("archived_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_archive")),
        sa.UniqueConstraint("first_seq", name=op.f("uq_audit_archive_first_seq")),
        sa.UniqueConstraint("last_seq", name=op.f("uq_audit_archive_last_seq")),
    )


def downgrade() -> None:
    op.drop_table("audit_archive")
