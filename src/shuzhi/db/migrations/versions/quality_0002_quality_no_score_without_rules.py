"""quality: no score for versions checked against no rules

Revision ID: quality_0002
Revises: quality_0001

A version loaded while its dataset had no quality rules used to get its parse rate as its
score — usually 100, which read as "perfect" beside open issues. Such versions now have no
score. A version was checked against rules exactly when quality results were stored for it,
so upgrade clears the score of every version without results. Downgrade leaves the scores
as they are (the old parse rates are not kept; a missing score is still valid there).
"""

import sqlalchemy as sa
from alembic import op

revision = "quality_0002"
down_revision = "quality_0001"
branch_labels = None
depends_on = "lake_0001"


def upgrade() -> None:
    version = sa.table("lake_version", sa.column("id", sa.Integer), sa.column("quality_score"))
    result = sa.table("quality_result", sa.column("version_key", sa.Integer))
    op.execute(
        sa.update(version)
        .where(version.c.quality_score.is_not(None))
        .where(~sa.exists().where(result.c.version_key == version.c.id))
        .values(quality_score=None)
    )


def downgrade() -> None:
    pass
