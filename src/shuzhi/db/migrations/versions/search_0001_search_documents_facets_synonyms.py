"""search: documents, facets, synonyms, and each backend's full-text structure

Revision ID: search_0001
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base

revision = "search_0001"
down_revision = "0001"
branch_labels = None
depends_on = None

# The full-text part differs per backend: an FTS5 table over the pre-segmented tokens on
# SQLite (rowid = search_doc.id), a tsvector column with a GIN index on PostgreSQL.
FULL_TEXT_UP = {
    "sqlite": [
        "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, tokenize = 'unicode61')",
    ],
    "postgresql": [
        "ALTER TABLE search_doc ADD COLUMN tsv tsvector",
        "CREATE INDEX ix_search_doc_tsv ON search_doc USING gin (tsv)",
    ],
}
FULL_TEXT_DOWN = {
    "sqlite": ["DROP TABLE search_fts"],
    "postgresql": ["DROP INDEX ix_search_doc_tsv", "ALTER TABLE search_doc DROP COLUMN tsv"],
}


def upgrade() -> None:
    op.create_table(
        "search_facet_set",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_facet_set")),
        sa.UniqueConstraint("digest", name=op.f("uq_search_facet_set_digest")),
    )
    op.create_table(
        "search_synonym",
        sa.Column("term", sa.String(length=100), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_search_synonym")),
    )
    with op.batch_alter_table("search_synonym", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_synonym_group_id"), ["group_id"], unique=False)

    op.create_table(
        "search_doc",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("scope_unit_id", sa.Integer(), nullable=True),
        sa.Column("facet_set_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["facet_set_id"],
            ["search_facet_set.id"],
            name=op.f("fk_search_doc_facet_set_id_search_facet_set"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_doc")),
        sa.UniqueConstraint("kind", "key", name="uq_search_doc_kind_key"),
    )
    with op.batch_alter_table("search_doc", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_search_doc_facet_set_id"), ["facet_set_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_search_doc_scope_unit_id"), ["scope_unit_id"], unique=False
        )

    op.create_table(
        "search_doc_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("facet_set_id", sa.Integer(), nullable=False),
        sa.Column("scope_unit_id", sa.Integer(), nullable=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["facet_set_id"],
            ["search_facet_set.id"],
            name=op.f("fk_search_doc_count_facet_set_id_search_facet_set"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_doc_count")),
    )
    with op.batch_alter_table("search_doc_count", schema=None) as batch_op:
        batch_op.create_index(
            "ix_search_doc_count_kind_set", ["kind", "facet_set_id"], unique=False
        )

    op.create_table(
        "search_facet",
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=60), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["set_id"],
            ["search_facet_set.id"],
            name=op.f("fk_search_facet_set_id_search_facet_set"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("set_id", "field", "value", name=op.f("pk_search_facet")),
    )
    with op.batch_alter_table("search_facet", schema=None) as batch_op:
        batch_op.create_index(
            "ix_search_facet_field_value", ["field", "value", "set_id"], unique=False
        )

    for statement in FULL_TEXT_UP[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    for statement in FULL_TEXT_DOWN[op.get_bind().dialect.name]:
        op.execute(statement)
    with op.batch_alter_table("search_facet", schema=None) as batch_op:
        batch_op.drop_index("ix_search_facet_field_value")

    op.drop_table("search_facet")
    with op.batch_alter_table("search_doc_count", schema=None) as batch_op:
        batch_op.drop_index("ix_search_doc_count_kind_set")

    op.drop_table("search_doc_count")
    with op.batch_alter_table("search_doc", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_doc_scope_unit_id"))
        batch_op.drop_index(batch_op.f("ix_search_doc_facet_set_id"))

    op.drop_table("search_doc")
    with op.batch_alter_table("search_synonym", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_synonym_group_id"))

    op.drop_table("search_synonym")
    op.drop_table("search_facet_set")
