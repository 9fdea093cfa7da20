"""Audit events of security operations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shuzhi.audit.events import AuditEvent


@dataclass(frozen=True)
class _AlertEvent(AuditEvent):
    target_type: ClassVar[str] = "security_alert"
    target_fields: ClassVar[tuple[str, ...]] = ("alert_id",)
    unit_field: ClassVar[str | None] = "unit"
    alert_id: int
    unit: int | None


@dataclass(frozen=True)
class AlertRaised(_AlertEvent):
    action: ClassVar[str] = "secops.alert_raised"
    rule: str
    subject: str
    measure: float


@dataclass(frozen=True)
class AlertGrew(_AlertEvent):
    """A running attack: the open alert's count and last_seen moved on."""

    action: ClassVar[str] = "secops.alert_grew"
    count: int


@dataclass(frozen=True)
class AlertAcknowledged(_AlertEvent):
    action: ClassVar[str] = "secops.alert_acknowledged"


@dataclass(frozen=True)
class AlertFalsePositive(_AlertEvent):
    action: ClassVar[str] = "secops.alert_false_positive"
    reason: str
    factor: float


@dataclass(frozen=True)
class AlertsViewed(AuditEvent):
    """Alerts carry evidence of calls: reading them is a data access."""

    action: ClassVar[str] = "secops.alerts_viewed"
    target_type: ClassVar[str] = "security_alert"
    target_fields: ClassVar[tuple[str, ...]] = ("scope",)
    unit_field: ClassVar[str | None] = "unit"
    scope: str
    unit: int | None
    status: str


@dataclass(frozen=True)
class ThresholdSet(AuditEvent):
    action: ClassVar[str] = "secops.threshold_set"
    target_type: ClassVar[str] = "security_rule"
    target_fields: ClassVar[tuple[str, ...]] = ("rule", "param")
    rule: str
    param: str
    value: float
    previous: float


@dataclass(frozen=True)
class _ContainmentEvent(AuditEvent):
    target_type: ClassVar[str] = "containment"
    target_fields: ClassVar[tuple[str, ...]] = ("containment_id",)
    unit_field: ClassVar[str | None] = "unit"
    containment_id: int
    unit: int | None
    kind: str
    subject_id: int
    reason: str


@dataclass(frozen=True)
class SubjectContained(_ContainmentEvent):
    action: ClassVar[str] = "secops.contained"
    incident_id: int | None


@dataclass(frozen=True)
class ContainmentLifted(_ContainmentEvent):
    action: ClassVar[str] = "secops.containment_lifted"


@dataclass(frozen=True)
class _IncidentEvent(AuditEvent):
    target_type: ClassVar[str] = "incident"
    target_fields: ClassVar[tuple[str, ...]] = ("incident_id",)
    unit_field: ClassVar[str | None] = "unit"
    incident_id: int
    unit: int | None


@dataclass(frozen=True)
class IncidentOpened(_IncidentEvent):
    action: ClassVar[str] = "secops.incident_opened"
    title: str
    alert_id: int | None
    drill: bool


@dataclass(frozen=True)
class IncidentNoted(_IncidentEvent):
    action: ClassVar[str] = "secops.incident_noted"


@dataclass(frozen=True)
class IncidentNotified(_IncidentEvent):
    """A party on the incident's notification checklist was told."""

    action: ClassVar[str] = "secops.incident_notified"
    party: str
    late: bool


@dataclass(frozen=True)
class IncidentViewed(_IncidentEvent):
    action: ClassVar[str] = "secops.incident_viewed"


@dataclass(frozen=True)
class IncidentClosed(_IncidentEvent):
    action: ClassVar[str] = "secops.incident_closed"
    drill: bool
