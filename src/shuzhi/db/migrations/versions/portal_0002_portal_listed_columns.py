"""portal: the checked version's columns kept with the publication, for listings

Revision ID: portal_0002
Revises: portal_0001

Existing publications get the columns of the version they were checked with, read from
the lake's version table; one whose version is gone keeps NULL (listings then read the lake).
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "portal_0002"
down_revision = "portal_0001"
branch_labels = None
depends_on = "lake_0001"  # reads the lake's version table

_publication = sa.table(
    "portal_publication",
    sa.column("id", sa.Integer()),
    sa.column("resource_code", sa.String()),
    sa.column("entry_json", sa.Text()),
    sa.column("checked_version", sa.Integer()),
    sa.column("deidentified_json", sa.Text()),
    sa.column("columns_json", sa.Text()),
)
_dataset = sa.table("lake_dataset", sa.column("id", sa.Integer()), sa.column("resource_code"))
_version = sa.table(
    "lake_version",
    sa.column("dataset_id", sa.Integer()),
    sa.column("number", sa.Integer()),
    sa.column("schema_json", sa.Text()),
)


def _columns(entry_json: str, schema_json: str, deidentified_json: str) -> str:
    described = {
        i["name"]: i.get("description") or i["name"]
        for i in json.loads(entry_json).get("items", [])
    }
    hidden = json.loads(deidentified_json or "{}")
    columns = [
        {
            "name": c["name"],
            "type": c["type"],
            "description": described.get(c["name"], ""),
            "deidentified": c["name"] in hidden,
        }
        for c in json.loads(schema_json)
    ]
    return json.dumps(columns, ensure_ascii=False)


def upgrade() -> None:
    with op.batch_alter_table("portal_publication", schema=None) as batch_op:
        batch_op.add_column(sa.Column("columns_json", sa.Text(), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(
            _publication.c.id,
            _publication.c.entry_json,
            _publication.c.deidentified_json,
            _version.c.schema_json,
        )
        .join(_dataset, _dataset.c.resource_code == _publication.c.resource_code)
        .join(
            _version,
            sa.and_(
                _version.c.dataset_id == _dataset.c.id,
                _version.c.number == _publication.c.checked_version,
            ),
        )
    ).all()
    for pub_id, entry_json, deidentified_json, schema_json in rows:
        conn.execute(
            _publication.update()
            .where(_publication.c.id == pub_id)
            .values(columns_json=_columns(entry_json, schema_json, deidentified_json))
        )


def downgrade() -> None:
    with op.batch_alter_table("portal_publication", schema=None) as batch_op:
        batch_op.drop_column("columns_json")
