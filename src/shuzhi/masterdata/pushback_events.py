"""Audit events of push-back to the grass roots (反哺基层)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shuzhi.audit.events import AuditEvent


@dataclass(frozen=True)
class PushbackDefined(AuditEvent):
    """A push-back was defined: its dataset's entry, the street's application and grant."""

    action: ClassVar[str] = "masterdata.pushback_defined"
    target_type: ClassVar[str] = "masterdata_pushback"
    target_fields: ClassVar[tuple[str, ...]] = ("library", "pushback_id")
    unit_field: ClassVar[str | None] = "unit"
    library: str
    pushback_id: int
    unit: int  # the library's unit
    target_unit: int
    name: str
    area: str  # division code, street, community
    columns: str
    conditions: str
    resource_code: str
    grant_id: int | None


@dataclass(frozen=True)
class PushbackDelivered(AuditEvent):
    """A run's golden records were delivered as a version of the push-back's dataset."""

    action: ClassVar[str] = "masterdata.pushback_delivered"
    target_type: ClassVar[str] = "masterdata_pushback"
    target_fields: ClassVar[tuple[str, ...]] = ("library", "pushback_id")
    unit_field: ClassVar[str | None] = "unit"
    library: str
    pushback_id: int
    unit: int
    target_unit: int
    run_id: int
    rows: int
    version: int
    outcome: str  # created, unchanged


@dataclass(frozen=True)
class PushbackDeliveryFailed(AuditEvent):
    """A delivery failed; the street keeps reading the previous version."""

    action: ClassVar[str] = "masterdata.pushback_delivery_failed"
    target_type: ClassVar[str] = "masterdata_pushback"
    target_fields: ClassVar[tuple[str, ...]] = ("library", "pushback_id")
    unit_field: ClassVar[str | None] = "unit"
    library: str
    pushback_id: int
    unit: int
    target_unit: int
    run_id: int
    error: str


@dataclass(frozen=True)
class PushbackRetired(AuditEvent):
    """A push-back is no longer delivered; its grant was revoked."""

    action: ClassVar[str] = "masterdata.pushback_retired"
    target_type: ClassVar[str] = "masterdata_pushback"
    target_fields: ClassVar[tuple[str, ...]] = ("library", "pushback_id")
    unit_field: ClassVar[str | None] = "unit"
    library: str
    pushback_id: int
    unit: int
    target_unit: int
    reason: str


@dataclass(frozen=True)
class PushbackRecordsRead(AuditEvent):
    """The target unit read its delivered records in the console (masked per its grant)."""

    action: ClassVar[str] = "masterdata.pushback_records_read"
    target_type: ClassVar[str] = "masterdata_pushback"
    target_fields: ClassVar[tuple[str, ...]] = ("library", "pushback_id")
    unit_field: ClassVar[str | None] = "unit"
    library: str
    pushback_id: int
    unit: int  # the target unit (the reader's)
    resource_code: str
    version: int
    rows: int


@dataclass(frozen=True)
class RecordReported(AuditEvent):
    """A street reported a delivered value wrong; a quality issue of the source unit."""

    action: ClassVar[str] = "masterdata.record_reported"
    target_type: ClassVar[str] = "masterdata_pushback_report"
    target_fields: ClassVar[tuple[str, ...]] = ("library", "report_id")
    unit_field: ClassVar[str | None] = "unit"
    library: str
    report_id: int
    unit: int  # the reporting (target) unit
    pushback_id: int
    entity_id: str
    attribute: str
    source_unit: int
    resource_code: str
    quality_issue_id: int
