"""Audit events of the org capability."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shuzhi.audit.events import AuditEvent


@dataclass(frozen=True)
class _UnitEvent(AuditEvent):
    target_type: ClassVar[str] = "unit"
    target_fields: ClassVar[tuple[str, ...]] = ("code",)
    unit_field: ClassVar[str | None] = "unit"
    code: str
    unit: int


@dataclass(frozen=True)
class UnitCreated(_UnitEvent):
    action: ClassVar[str] = "org.unit_created"
    name: str
    parent_code: str | None


@dataclass(frozen=True)
class UnitUpdated(_UnitEvent):
    action: ClassVar[str] = "org.unit_updated"
    changes: dict[str, list[object]]


@dataclass(frozen=True)
class PersonCreated(AuditEvent):
    action: ClassVar[str] = "org.person_created"
    target_type: ClassVar[str] = "person"
    target_fields: ClassVar[tuple[str, ...]] = ("person_id",)
    unit_field: ClassVar[str | None] = "unit"
    person_id: int
    unit: int
    name: str


@dataclass(frozen=True)
class _FilingEvent(AuditEvent):
    target_type: ClassVar[str] = "appointment"
    target_fields: ClassVar[tuple[str, ...]] = ("appointment_id",)
    unit_field: ClassVar[str | None] = "unit"
    appointment_id: int
    unit: int


@dataclass(frozen=True)
class AppointmentCreated(_FilingEvent):
    action: ClassVar[str] = "org.appointment_created"
    position: str
    person_id: int


@dataclass(frozen=True)
class FilingSubmitted(_FilingEvent):
    action: ClassVar[str] = "org.filing_submitted"


@dataclass(frozen=True)
class FilingApproved(_FilingEvent):
    action: ClassVar[str] = "org.filing_approved"
    note: str


@dataclass(frozen=True)
class FilingReturned(_FilingEvent):
    action: ClassVar[str] = "org.filing_returned"
    reason: str


@dataclass(frozen=True)
class AppointmentEnded(_FilingEvent):
    action: ClassVar[str] = "org.appointment_ended"
    reason: str


@dataclass(frozen=True)
class RosterExported(AuditEvent):
    action: ClassVar[str] = "org.roster_exported"
    target_type: ClassVar[str] = "roster"
    target_fields: ClassVar[tuple[str, ...]] = ("scope",)
    scope: str
    rows: int
