"""Audit events of the base libraries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shuzhi.audit.events import AuditEvent


@dataclass(frozen=True)
class LibraryDefined(AuditEvent):
    action: ClassVar[str] = "masterdata.library_defined"
    target_type: ClassVar[str] = "masterdata_library"
    target_fields: ClassVar[tuple[str, ...]] = ("library",)
    unit_field: ClassVar[str | None] = "unit"
    library: str
    unit: int
    kind: str
    name: str


@dataclass(frozen=True)
class MemberAdded(AuditEvent):
    action: ClassVar[str] = "masterdata.member_added"
    target_type: ClassVar[str] = "masterdata_library"
    target_fields: ClassVar[tuple[str, ...]] = ("library",)
    unit_field: ClassVar[str | None] = "unit"
    library: str
    unit: int
    resource_code: str
    rank: int
    mapping: str  # field=column, …


@dataclass(frozen=True)
class MemberRemoved(AuditEvent):
    action: ClassVar[str] = "masterdata.member_removed"
    target_type: ClassVar[str] = "masterdata_library"
    target_fields: ClassVar[tuple[str, ...]] = ("library",)
    unit_field: ClassVar[str | None] = "unit"
    library: str
    unit: int
    resource_code: str


@dataclass(frozen=True)
class LibraryRun(AuditEvent):
    """A run finished and became current."""

    action: ClassVar[str] = "masterdata.library_run"
    target_type: ClassVar[str] = "masterdata_run"
    target_fields: ClassVar[tuple[str, ...]] = ("library", "run_id")
    unit_field: ClassVar[str | None] = "unit"
    library: str
    run_id: int
    unit: int
    mode: str
    records_in: int
    records_linked: int
    entities_out: int
    conflicts: int
    issues: int


@dataclass(frozen=True)
class LibraryRunFailed(AuditEvent):
    """A run failed; the previous run stays current."""

    action: ClassVar[str] = "masterdata.library_run_failed"
    target_type: ClassVar[str] = "masterdata_run"
    target_fields: ClassVar[tuple[str, ...]] = ("library", "run_id")
    unit_field: ClassVar[str | None] = "unit"
    library: str
    run_id: int
    unit: int
    mode: str
    error: str


@dataclass(frozen=True)
class ReviewPairViewed(AuditEvent):
    """The two records of a review pair were read side by side."""

    action: ClassVar[str] = "masterdata.review_pair_viewed"
    target_type: ClassVar[str] = "masterdata_review_pair"
    target_fields: ClassVar[tuple[str, ...]] = ("library", "pair_id")
    unit_field: ClassVar[str | None] = "unit"
    library: str
    pair_id: int
    unit: int
    masked: bool


@dataclass(frozen=True)
class ReviewPairDecided(AuditEvent):
    """A reviewer decided a pair: match (one entity from the next run on) or not."""

    action: ClassVar[str] = "masterdata.review_pair_decided"
    target_type: ClassVar[str] = "masterdata_review_pair"
    target_fields: ClassVar[tuple[str, ...]] = ("library", "pair_id")
    unit_field: ClassVar[str | None] = "unit"
    library: str
    pair_id: int
    unit: int
    decision: str
    left: str  # member:row
    right: str
    note: str


@dataclass(frozen=True)
class EntityViewed(AuditEvent):
    """A golden record was read (by entity ID or by lookup)."""

    action: ClassVar[str] = "masterdata.entity_viewed"
    target_type: ClassVar[str] = "masterdata_entity"
    target_fields: ClassVar[tuple[str, ...]] = ("library", "entity_id")
    unit_field: ClassVar[str | None] = "unit"
    library: str
    entity_id: str
    unit: int
    via: str  # entity, lookup
    masked: bool


@dataclass(frozen=True)
class EntityNotFound(AuditEvent):
    """A read found nothing to show: an unknown library, ID or key, or one the reader may
    not see (the two answer alike; the log says which)."""

    action: ClassVar[str] = "masterdata.entity_not_found"
    target_type: ClassVar[str] = "masterdata_entity"
    target_fields: ClassVar[tuple[str, ...]] = ("library", "entity_id")
    library: str
    entity_id: str  # the ID asked for, or the looked-up key masked
    via: str
    refused: bool
