"""Audit events of the lake capability (loads, reviews, overrides, sources, data reads)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shuzhi.audit.events import AuditEvent


@dataclass(frozen=True)
class _DatasetEvent(AuditEvent):
    target_type: ClassVar[str] = "dataset"
    target_fields: ClassVar[tuple[str, ...]] = ("resource_code",)
    unit_field: ClassVar[str | None] = "unit"
    resource_code: str
    unit: int


@dataclass(frozen=True)
class VersionIngested(_DatasetEvent):
    action: ClassVar[str] = "lake.version_ingested"
    version: int
    rows: int
    content_hash: str
    status: str
    source: str
    rejects: int


@dataclass(frozen=True)
class IngestUnchanged(_DatasetEvent):
    action: ClassVar[str] = "lake.ingest_unchanged"
    version: int
    content_hash: str
    source: str


@dataclass(frozen=True)
class IngestFailed(_DatasetEvent):
    action: ClassVar[str] = "lake.ingest_failed"
    source: str
    reason: str


@dataclass(frozen=True)
class DriftAccepted(_DatasetEvent):
    action: ClassVar[str] = "lake.drift_accepted"
    version: int
    note: str


@dataclass(frozen=True)
class DriftRejected(_DatasetEvent):
    action: ClassVar[str] = "lake.drift_rejected"
    version: int
    note: str


@dataclass(frozen=True)
class ClassificationOverridden(_DatasetEvent):
    action: ClassVar[str] = "lake.classification_overridden"
    column: str
    detected: str
    category: str
    note: str


@dataclass(frozen=True)
class SampleViewed(_DatasetEvent):
    action: ClassVar[str] = "lake.sample_viewed"
    version: int
    rows: int


@dataclass(frozen=True)
class SourceDefined(_DatasetEvent):
    action: ClassVar[str] = "lake.source_defined"
    source_id: int
    url: str  # password hidden
    schedule: str


@dataclass(frozen=True)
class TablesListed(AuditEvent):
    """An operator printed the table definitions of every published version (which name the
    raw files)."""

    action: ClassVar[str] = "lake.tables_listed"
    target_type: ClassVar[str] = "lake"
    target_fields: ClassVar[tuple[str, ...]] = ("dialect",)
    dialect: str
    versions: int


@dataclass(frozen=True)
class LeftoversRemoved(_DatasetEvent):
    """A load removed what killed loads had left in its dataset's directory (and staged
    uploads nobody was using any more)."""

    action: ClassVar[str] = "lake.leftovers_removed"
    files: int
    names: str


@dataclass(frozen=True)
class LakeGarbageCollected(AuditEvent):
    action: ClassVar[str] = "lake.garbage_collected"
    target_type: ClassVar[str] = "lake"
    target_fields: ClassVar[tuple[str, ...]] = ("scope",)
    scope: str
    applied: bool
    files: int
    bytes: int
    busy: int
    names: str
