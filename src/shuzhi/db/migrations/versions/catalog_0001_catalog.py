"""catalog: entries, items, versions, code tables, elements, tasks

Also seeds the code tables, the resource-code segment lengths and the standard data
elements with their values as of this revision (later changes are data, made by the CDO
executive, or new migrations).

Revision ID: catalog_0001
Revises: 0001
"""

import json

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base
from shuzhi.catalog.seeds import (
    DEFAULT_SEGMENT_LENGTHS,
    SEED_CODES,
    SEED_ELEMENTS,
    SEGMENT_LENGTHS_KEY,
)

revision = "catalog_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    code = op.create_table(
        "catalog_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label_zh", sa.String(length=100), nullable=False),
        sa.Column("label_en", sa.String(length=200), nullable=False),
        sa.Column("parent_code", sa.String(length=40), nullable=True),
        sa.Column("national_code", sa.String(length=10), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_code")),
        sa.UniqueConstraint("table_name", "code", name="uq_catalog_code_table_code"),
    )
    with op.batch_alter_table("catalog_code", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_code_table_name"), ["table_name"], unique=False
        )

    setting = op.create_table(
        "catalog_setting",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_catalog_setting")),
    )
    op.create_table(
        "catalog_duty",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_catalog_duty_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_duty")),
        sa.UniqueConstraint("unit_id", "code", name="uq_catalog_duty_unit_code"),
    )
    with op.batch_alter_table("catalog_duty", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_duty_unit_id"), ["unit_id"], unique=False)

    element = op.create_table(
        "catalog_element",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("synonyms", sa.Text(), nullable=False),
        sa.Column("data_type", sa.String(length=1), nullable=False),
        sa.Column("length", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source_unit_id", sa.Integer(), nullable=True),
        sa.Column("created_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_unit_id"],
            ["org_unit.id"],
            name=op.f("fk_catalog_element_source_unit_id_org_unit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_element")),
        sa.UniqueConstraint("code", name=op.f("uq_catalog_element_code")),
        sa.UniqueConstraint("name", name=op.f("uq_catalog_element_name")),
    )
    with op.batch_alter_table("catalog_element", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_element_source_unit_id"), ["source_unit_id"], unique=False
        )

    op.create_table(
        "catalog_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("class_code", sa.String(length=4), nullable=False),
        sa.Column("subclass_code", sa.String(length=4), nullable=False),
        sa.Column("group_code", sa.String(length=8), nullable=False),
        sa.Column("detail_code", sa.String(length=16), nullable=False),
        sa.Column("sequence_code", sa.String(length=16), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("abstract", sa.Text(), nullable=False),
        sa.Column("format_code", sa.String(length=4), nullable=False),
        sa.Column("format_subtype", sa.String(length=40), nullable=False),
        sa.Column("share_type", sa.String(length=20), nullable=False),
        sa.Column("share_conditions", sa.Text(), nullable=False),
        sa.Column("not_shared_basis", sa.Text(), nullable=False),
        sa.Column("share_method", sa.String(length=10), nullable=False),
        sa.Column("share_method_type", sa.String(length=20), nullable=False),
        sa.Column("open_type", sa.String(length=20), nullable=False),
        sa.Column("open_conditions", sa.Text(), nullable=False),
        sa.Column("not_open_reason", sa.String(length=20), nullable=False),
        sa.Column("not_open_note", sa.Text(), nullable=False),
        sa.Column("update_cycle", sa.String(length=10), nullable=False),
        sa.Column("publish_date", sa.Date(), nullable=True),
        sa.Column("first_published_on", sa.Date(), nullable=True),
        sa.Column("related_codes", sa.Text(), nullable=False),
        sa.Column("is_classified", sa.Boolean(), nullable=False),
        sa.Column("extension", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("submitted_by", sa.String(length=200), nullable=True),
        sa.Column("submitted_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("return_reason", sa.Text(), nullable=True),
        sa.Column("withdraw_reason", sa.Text(), nullable=True),
        sa.Column("withdrawn_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_catalog_entry_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_entry")),
        sa.UniqueConstraint("resource_code", name=op.f("uq_catalog_entry_resource_code")),
    )
    with op.batch_alter_table("catalog_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_entry_first_published_on"), ["first_published_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_catalog_entry_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_catalog_entry_open_type"), ["open_type"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_catalog_entry_share_type"), ["share_type"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_catalog_entry_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_catalog_entry_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "catalog_conflict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("element_id", sa.Integer(), nullable=False),
        sa.Column("claimant_unit_id", sa.Integer(), nullable=False),
        sa.Column("source_unit_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("raised_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("resolved_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("assigned_unit_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_unit_id"],
            ["org_unit.id"],
            name=op.f("fk_catalog_conflict_assigned_unit_id_org_unit"),
        ),
        sa.ForeignKeyConstraint(
            ["claimant_unit_id"],
            ["org_unit.id"],
            name=op.f("fk_catalog_conflict_claimant_unit_id_org_unit"),
        ),
        sa.ForeignKeyConstraint(
            ["element_id"],
            ["catalog_element.id"],
            name=op.f("fk_catalog_conflict_element_id_catalog_element"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["catalog_entry.id"],
            name=op.f("fk_catalog_conflict_entry_id_catalog_entry"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_unit_id"],
            ["org_unit.id"],
            name=op.f("fk_catalog_conflict_source_unit_id_org_unit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_conflict")),
    )
    with op.batch_alter_table("catalog_conflict", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_conflict_element_id"), ["element_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_catalog_conflict_status"), ["status"], unique=False)

    op.create_table(
        "catalog_entry_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["catalog_entry.id"],
            name=op.f("fk_catalog_entry_event_entry_id_catalog_entry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_entry_event")),
    )
    with op.batch_alter_table("catalog_entry_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_entry_event_entry_id"), ["entry_id"], unique=False
        )

    op.create_table(
        "catalog_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("data_type", sa.String(length=1), nullable=False),
        sa.Column("length", sa.Integer(), nullable=True),
        sa.Column("share_type", sa.String(length=20), nullable=False),
        sa.Column("element_id", sa.Integer(), nullable=True),
        sa.Column("is_source", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["element_id"],
            ["catalog_element.id"],
            name=op.f("fk_catalog_item_element_id_catalog_element"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["catalog_entry.id"],
            name=op.f("fk_catalog_item_entry_id_catalog_entry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_item")),
        sa.UniqueConstraint("entry_id", "name", name="uq_catalog_item_entry_name"),
    )
    with op.batch_alter_table("catalog_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_item_element_id"), ["element_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_catalog_item_entry_id"), ["entry_id"], unique=False)

    op.create_table(
        "catalog_matter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("duty_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["duty_id"], ["catalog_duty.id"], name=op.f("fk_catalog_matter_duty_id_catalog_duty")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_catalog_matter_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_matter")),
        sa.UniqueConstraint("unit_id", "code", name="uq_catalog_matter_unit_code"),
    )
    with op.batch_alter_table("catalog_matter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_matter_duty_id"), ["duty_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_catalog_matter_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "catalog_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("published_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["catalog_entry.id"],
            name=op.f("fk_catalog_version_entry_id_catalog_entry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_version")),
        sa.UniqueConstraint("entry_id", "number", name="uq_catalog_version_entry_number"),
    )
    with op.batch_alter_table("catalog_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_version_entry_id"), ["entry_id"], unique=False)

    op.create_table(
        "catalog_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("matter_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("high_value", sa.Boolean(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["catalog_entry.id"], name=op.f("fk_catalog_task_entry_id_catalog_entry")
        ),
        sa.ForeignKeyConstraint(
            ["matter_id"],
            ["catalog_matter.id"],
            name=op.f("fk_catalog_task_matter_id_catalog_matter"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_catalog_task_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_task")),
    )
    with op.batch_alter_table("catalog_task", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_task_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_catalog_task_matter_id"), ["matter_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_catalog_task_unit_id"), ["unit_id"], unique=False)
    _seed(code, setting, element)


def _seed(code: sa.Table, setting: sa.Table, element: sa.Table) -> None:
    op.bulk_insert(
        code,
        [
            {
                "table_name": str(c.table),
                "code": c.code,
                "label_zh": c.zh,
                "label_en": c.en,
                "parent_code": c.parent,
                "national_code": c.national,
                "sort_order": i,
                "active": True,
                "locked": c.locked,
            }
            for i, c in enumerate(SEED_CODES)
        ],
    )
    op.bulk_insert(
        setting,
        [
            {
                "key": SEGMENT_LENGTHS_KEY,
                "value": json.dumps(DEFAULT_SEGMENT_LENGTHS, sort_keys=True),
                "updated_at": shuzhi.db.base.utcnow(),
            }
        ],
    )
    op.bulk_insert(
        element,
        [
            {
                "code": e.code,
                "name": e.name,
                "synonyms": json.dumps(list(e.synonyms), ensure_ascii=False),
                "data_type": e.data_type,
                "length": e.length,
                "description": "",
                "source_unit_id": None,
                "created_at": shuzhi.db.base.utcnow(),
            }
            for e in SEED_ELEMENTS
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("catalog_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_task_unit_id"))
        batch_op.drop_index(batch_op.f("ix_catalog_task_matter_id"))
        batch_op.drop_index(batch_op.f("ix_catalog_task_entry_id"))

    op.drop_table("catalog_task")
    with op.batch_alter_table("catalog_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_version_entry_id"))

    op.drop_table("catalog_version")
    with op.batch_alter_table("catalog_matter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_matter_unit_id"))
        batch_op.drop_index(batch_op.f("ix_catalog_matter_duty_id"))

    op.drop_table("catalog_matter")
    with op.batch_alter_table("catalog_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_item_entry_id"))
        batch_op.drop_index(batch_op.f("ix_catalog_item_element_id"))

    op.drop_table("catalog_item")
    with op.batch_alter_table("catalog_entry_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_entry_event_entry_id"))

    op.drop_table("catalog_entry_event")
    with op.batch_alter_table("catalog_conflict", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_conflict_status"))
        batch_op.drop_index(batch_op.f("ix_catalog_conflict_element_id"))

    op.drop_table("catalog_conflict")
    with op.batch_alter_table("catalog_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_entry_unit_id"))
        batch_op.drop_index(batch_op.f("ix_catalog_entry_status"))
        batch_op.drop_index(batch_op.f("ix_catalog_entry_share_type"))
        batch_op.drop_index(batch_op.f("ix_catalog_entry_open_type"))
        batch_op.drop_index(batch_op.f("ix_catalog_entry_name"))
        batch_op.drop_index(batch_op.f("ix_catalog_entry_first_published_on"))

    op.drop_table("catalog_entry")
    with op.batch_alter_table("catalog_element", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_element_source_unit_id"))

    op.drop_table("catalog_element")
    with op.batch_alter_table("catalog_duty", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_duty_unit_id"))

    op.drop_table("catalog_duty")
    op.drop_table("catalog_setting")
    with op.batch_alter_table("catalog_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_code_table_name"))

    op.drop_table("catalog_code")
