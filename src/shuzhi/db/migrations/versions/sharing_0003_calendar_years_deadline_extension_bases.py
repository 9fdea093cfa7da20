"""sharing: complete calendar years, provisional deadlines, deadline extension, refusal bases

Revision ID: sharing_0003
Revises: sharing_0002

A year of a jurisdiction's calendar counts as seeded only once it is declared complete
(``sharing_calendar_year``); the State Council's 2025 and 2026 arrangements are complete.
The lone national 2027 New Year's Day row seeded by sharing_0001 is removed: the 2027
arrangement was not published when this revision was written, and a year with only some of
its holidays looked seeded while Spring Festival deadlines came out wrong. A share request
records whether its deadline was counted over an unseeded year (weekdays only), its one
extension (original deadline, reason, who, when) and the basis cited when refusing.
"""

from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "sharing_0003"
down_revision = "sharing_0002"
branch_labels = None
depends_on = None

_day = sa.table(
    "sharing_calendar_day",
    sa.column("jurisdiction", sa.String()),
    sa.column("day", sa.Date()),
    sa.column("updated_by", sa.String()),
)


def upgrade() -> None:
    years = op.create_table(
        "sharing_calendar_year",
        sa.Column("jurisdiction", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("marked_by", sa.String(length=200), nullable=False),
        sa.Column("marked_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("jurisdiction", "year", name=op.f("pk_sharing_calendar_year")),
    )
    with op.batch_alter_table("sharing_request", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("due_provisional", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("original_due_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("extension_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("extension_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("extended_by", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("extended_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("decision_basis", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("arbitration_basis", sa.Text(), nullable=True))
    with op.batch_alter_table("sharing_request", schema=None) as batch_op:
        batch_op.alter_column("due_provisional", server_default=None)
    op.execute(
        _day.delete().where(
            _day.c.jurisdiction == "national",
            _day.c.day == date(2027, 1, 1),
            _day.c.updated_by == "system:seed",
        )
    )
    at = datetime(2026, 12, 5, tzinfo=UTC)
    op.bulk_insert(
        years,
        [
            {"jurisdiction": "national", "year": year, "marked_by": "system:seed", "marked_at": at}
            for year in (2025, 2026)
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("sharing_request", schema=None) as batch_op:
        batch_op.drop_column("arbitration_basis")
        batch_op.drop_column("decision_basis")
        batch_op.drop_column("extended_at")
        batch_op.drop_column("extended_by")
        batch_op.drop_column("extension_reason")
        batch_op.drop_column("extension_days")
        batch_op.drop_column("original_due_on")
        batch_op.drop_column("due_provisional")
    op.drop_table("sharing_calendar_year")
