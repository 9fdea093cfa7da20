"""Audit events of the org capability."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shuzhi.audit.events import AuditEvent


@dataclass(frozen=True)
class _UnitEvent(AuditEvent):
    target_type: ClassVar[str] = "unit"
    code: str
    unit: int

    @property
    def target_id(self) -> str:
        return self.code

    @property
    def unit_id(self) -> int | None:
        return self.unit


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
    person_id: int
    unit: int
    name: str

    @property
    def target_id(self) -> str:
        return str(self.person_id)

    @property
    def unit_id(self) -> int | None:
        return self.unit


@dataclass(frozen=True)
class _FilingEvent(AuditEvent):
    target_type: ClassVar[str] = "appointment"
    appointment_id: int
    unit: int

    @property
    def target_id(self) -> str:
        return str(self.appointment_id)

    @property
    def unit_id(self) -> int | None:
        return self.unit


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
    scope: str
    rows: int

    @property
    def target_id(self) -> str:
        return self.scope
