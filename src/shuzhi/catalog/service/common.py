"""Catalogue service: shared statements and helpers of the entry operations."""

from __future__ import annotations

from sqlalchemy import Table, bindparam, insert, select

from shuzhi.catalog.models import (
    CatalogEntry,
    CompileTask,
    DataElement,
    DataItem,
    EntryEvent,
    EntryStatus,
)

SYNONYMS_KEY = "synonyms_synced"


DEFER_KEY = "catalog.deferred_index"


# Fields of EntryOut that describe the workflow rather than the resource (left out of diffs).
WORKFLOW_FIELDS = {
    "status",
    "version",
    "published_version",
    "submitted_by",
    "submitted_at",
    "decided_by",
    "decided_at",
    "return_reason",
    "withdraw_reason",
    "history",
    "showing_version",
    "items",
    "task_ids",
    "publish_date",
}


# Entries in these states have a published version others may read.
LIVE_STATES = (EntryStatus.DRAFT, EntryStatus.SUBMITTED, EntryStatus.PUBLISHED)


# Statements run for every entry of a bulk compile, built once (building a statement costs
# about as much as running it on SQLite).
_BY_CODE = select(CatalogEntry).where(CatalogEntry.resource_code == bindparam("code"))


# What decides whether a caller may know of the entry holding a code (``shown_status``).
_STATE_BY_CODE = select(
    CatalogEntry.id, CatalogEntry.unit_id, CatalogEntry.status, CatalogEntry.published_version
).where(CatalogEntry.resource_code == bindparam("code"))


_SAME_NAME = select(
    CatalogEntry.resource_code, CatalogEntry.unit_id, CatalogEntry.status, CatalogEntry.id
).where(CatalogEntry.name_key == bindparam("name_key"))


_TASK = select(CompileTask.unit_id, CompileTask.entry_id, CompileTask.name).where(
    CompileTask.id == bindparam("id")
)


_SEQUENCES = select(CatalogEntry.sequence_code).where(
    CatalogEntry.class_code
    + CatalogEntry.subclass_code
    + CatalogEntry.group_code
    + CatalogEntry.detail_code
    == bindparam("classification")
)


_ITEMS_OF = (
    select(
        DataItem.entry_id,
        DataItem.position,
        DataItem.name,
        DataItem.data_type,
        DataItem.length,
        DataItem.share_type,
        DataItem.is_source,
        DataItem.description,
        DataElement.code.label("element_code"),
        DataElement.name.label("element_name"),
        DataElement.source_unit_id,
    )
    .outerjoin(DataElement, DataElement.id == DataItem.element_id)
    .where(DataItem.entry_id.in_(bindparam("ids", expanding=True)))
    .order_by(DataItem.entry_id, DataItem.position)
)


_TASKS_OF = (
    select(CompileTask.id, CompileTask.entry_id)
    .where(CompileTask.entry_id.in_(bindparam("ids", expanding=True)))
    .order_by(CompileTask.id)
)


_HISTORY_OF = (
    select(
        EntryEvent.entry_id,
        EntryEvent.version,
        EntryEvent.action,
        EntryEvent.actor,
        EntryEvent.note,
        EntryEvent.at,
    )
    .where(EntryEvent.entry_id.in_(bindparam("ids", expanding=True)))
    .order_by(EntryEvent.id)
)


_EVENTS: Table = EntryEvent.__table__  # type: ignore[assignment]


_ADD_EVENT = insert(_EVENTS)


# Items are written with Core on the table: one multi-row statement, none of the ORM's
# per-row bookkeeping (nothing holds DataItem objects).
_ITEMS: Table = DataItem.__table__  # type: ignore[assignment]


_ADD_ITEMS = insert(_ITEMS)
