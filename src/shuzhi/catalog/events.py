"""Audit events of the catalog capability."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shuzhi.audit.events import AuditEvent


@dataclass(frozen=True)
class _EntryEvent(AuditEvent):
    target_type: ClassVar[str] = "catalog_entry"
    target_fields: ClassVar[tuple[str, ...]] = ("resource_code",)
    unit_field: ClassVar[str | None] = "unit"
    resource_code: str
    unit: int
    version: int


@dataclass(frozen=True)
class EntryCreated(_EntryEvent):
    action: ClassVar[str] = "catalog.entry_created"
    name: str
    items: int


@dataclass(frozen=True)
class EntryUpdated(_EntryEvent):
    action: ClassVar[str] = "catalog.entry_updated"
    fields: list[str]


@dataclass(frozen=True)
class EntrySubmitted(_EntryEvent):
    action: ClassVar[str] = "catalog.entry_submitted"


@dataclass(frozen=True)
class EntryApproved(_EntryEvent):
    action: ClassVar[str] = "catalog.entry_approved"
    note: str


@dataclass(frozen=True)
class EntryReturned(_EntryEvent):
    action: ClassVar[str] = "catalog.entry_returned"
    reason: str


@dataclass(frozen=True)
class EntryRevised(_EntryEvent):
    action: ClassVar[str] = "catalog.entry_revised"


@dataclass(frozen=True)
class EntryWithdrawn(_EntryEvent):
    action: ClassVar[str] = "catalog.entry_withdrawn"
    reason: str


@dataclass(frozen=True)
class PublishDateSet(_EntryEvent):
    action: ClassVar[str] = "catalog.publish_date_set"
    publish_date: str


@dataclass(frozen=True)
class EntryViewed(_EntryEvent):
    action: ClassVar[str] = "catalog.entry_viewed"


@dataclass(frozen=True)
class CatalogExported(AuditEvent):
    action: ClassVar[str] = "catalog.exported"
    target_type: ClassVar[str] = "catalog"
    target_fields: ClassVar[tuple[str, ...]] = ("format",)
    format: str
    entries: int


@dataclass(frozen=True)
class CodeChanged(AuditEvent):
    action: ClassVar[str] = "catalog.code_changed"
    target_type: ClassVar[str] = "code_table"
    target_fields: ClassVar[tuple[str, ...]] = ("table", "code")
    table: str
    code: str
    changes: dict[str, list[object]]


@dataclass(frozen=True)
class SettingChanged(AuditEvent):
    action: ClassVar[str] = "catalog.setting_changed"
    target_type: ClassVar[str] = "catalog_setting"
    target_fields: ClassVar[tuple[str, ...]] = ("key",)
    key: str
    value: dict[str, object]


@dataclass(frozen=True)
class ElementSaved(AuditEvent):
    action: ClassVar[str] = "catalog.element_saved"
    target_type: ClassVar[str] = "data_element"
    target_fields: ClassVar[tuple[str, ...]] = ("code",)
    code: str
    name: str
    created: bool


@dataclass(frozen=True)
class SourceClaimed(AuditEvent):
    action: ClassVar[str] = "catalog.source_claimed"
    target_type: ClassVar[str] = "data_element"
    target_fields: ClassVar[tuple[str, ...]] = ("code",)
    unit_field: ClassVar[str | None] = "unit"
    code: str
    unit: int


@dataclass(frozen=True)
class ConflictRaised(AuditEvent):
    action: ClassVar[str] = "catalog.source_conflict_raised"
    target_type: ClassVar[str] = "source_conflict"
    target_fields: ClassVar[tuple[str, ...]] = ("conflict_id",)
    unit_field: ClassVar[str | None] = "claimant_unit"
    conflict_id: int
    element_code: str
    claimant_unit: int
    source_unit: int


@dataclass(frozen=True)
class ConflictResolved(AuditEvent):
    action: ClassVar[str] = "catalog.source_conflict_resolved"
    target_type: ClassVar[str] = "source_conflict"
    target_fields: ClassVar[tuple[str, ...]] = ("conflict_id",)
    conflict_id: int
    element_code: str
    assigned_unit: int
    note: str


@dataclass(frozen=True)
class FunctionListChanged(AuditEvent):
    action: ClassVar[str] = "catalog.function_list_changed"
    target_type: ClassVar[str] = "function_list"
    target_fields: ClassVar[tuple[str, ...]] = ("kind", "item_id")
    unit_field: ClassVar[str | None] = "unit"
    kind: str  # duty / matter / task
    item_id: int
    unit: int
    name: str
