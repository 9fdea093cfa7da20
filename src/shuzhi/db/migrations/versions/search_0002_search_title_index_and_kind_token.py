"""search: a title-only text index, a kind token in every document, covering count index

Revision ID: search_0002
Revises: search_0001

Broad queries are planned from cheap facts: how many titles match (read from a title-only
index), and how many documents of a kind do *not* match (a text query on the kind token
every document now carries). Existing rows are converted in place. The kind token is
U+E000 followed by the kind with "_" written as U+E001 (``backends.kind_token``).
"""

from alembic import op

revision = "search_0002"
down_revision = "search_0001"
branch_labels = None
depends_on = None

SQLITE_TOKEN = "char(57344) || replace(d.kind, '_', char(57345))"
PG_TOKEN = "chr(57344) || replace(kind, '_', chr(57345))"

FULL_TEXT_UP = {
    "sqlite": [
        "CREATE VIRTUAL TABLE search_fts_title USING fts5(title, tokenize = 'unicode61')",
        "INSERT INTO search_fts_title (rowid, title) SELECT rowid, title FROM search_fts",
        f"UPDATE search_fts SET body = body || ' ' || (SELECT {SQLITE_TOKEN} "
        "FROM search_doc d WHERE d.id = search_fts.rowid)",
    ],
    "postgresql": [
        "ALTER TABLE search_doc ADD COLUMN tsv_title tsvector",
        "UPDATE search_doc SET tsv_title = strip(ts_filter(tsv, '{a}')), "
        f"tsv = tsv || array_to_tsvector(ARRAY[{PG_TOKEN}]) WHERE tsv IS NOT NULL",
        "CREATE INDEX ix_search_doc_tsv_title ON search_doc USING gin (tsv_title)",
    ],
}
FULL_TEXT_DOWN = {
    "sqlite": [
        "DROP TABLE search_fts_title",
        "UPDATE search_fts SET body = rtrim(substr(body, 1, length(body) - (SELECT "
        f"length({SQLITE_TOKEN}) FROM search_doc d WHERE d.id = search_fts.rowid)))",
    ],
    "postgresql": [
        "DROP INDEX ix_search_doc_tsv_title",
        "ALTER TABLE search_doc DROP COLUMN tsv_title",
        f"UPDATE search_doc SET tsv = ts_delete(tsv, {PG_TOKEN}) WHERE tsv IS NOT NULL",
    ],
}


def upgrade() -> None:
    with op.batch_alter_table("search_doc_count", schema=None) as batch_op:
        batch_op.drop_index("ix_search_doc_count_kind_set")
        batch_op.create_index(
            "ix_search_doc_count_bucket", ["kind", "facet_set_id", "scope_unit_id", "n"]
        )
    for statement in FULL_TEXT_UP[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    for statement in FULL_TEXT_DOWN[op.get_bind().dialect.name]:
        op.execute(statement)
    with op.batch_alter_table("search_doc_count", schema=None) as batch_op:
        batch_op.drop_index("ix_search_doc_count_bucket")
        batch_op.create_index("ix_search_doc_count_kind_set", ["kind", "facet_set_id"])
