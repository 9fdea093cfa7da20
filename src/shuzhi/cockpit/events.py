"""Audit events of the cockpit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shuzhi.audit.events import AuditEvent


@dataclass(frozen=True)
class CockpitViewed(AuditEvent):
    """The cockpit reads every capability's figures: looking at it is a data access."""

    action: ClassVar[str] = "cockpit.viewed"
    target_type: ClassVar[str] = "cockpit"
    target_fields: ClassVar[tuple[str, ...]] = ("scope",)
    unit_field: ClassVar[str | None] = "unit"
    scope: str
    unit: int | None
    days: int


@dataclass(frozen=True)
class CockpitExported(AuditEvent):
    action: ClassVar[str] = "cockpit.exported"
    target_type: ClassVar[str] = "cockpit"
    target_fields: ClassVar[tuple[str, ...]] = ("scope",)
    unit_field: ClassVar[str | None] = "unit"
    scope: str
    unit: int | None
    format: str


@dataclass(frozen=True)
class _ScenarioEvent(AuditEvent):
    target_type: ClassVar[str] = "scenario"
    target_fields: ClassVar[tuple[str, ...]] = ("scenario_id",)
    unit_field: ClassVar[str | None] = "unit"
    scenario_id: int
    unit: int


@dataclass(frozen=True)
class ScenarioRegistered(_ScenarioEvent):
    action: ClassVar[str] = "cockpit.scenario_registered"
    name: str
    year: int
    milestones: int


@dataclass(frozen=True)
class MilestoneReached(_ScenarioEvent):
    action: ClassVar[str] = "cockpit.milestone_reached"
    milestone_id: int
    note: str
    status: str


@dataclass(frozen=True)
class ScenarioCancelled(_ScenarioEvent):
    action: ClassVar[str] = "cockpit.scenario_cancelled"
    reason: str


@dataclass(frozen=True)
class _IndicatorChange(AuditEvent):
    """A definition written: what the indicator now measures."""

    target_type: ClassVar[str] = "indicator"
    target_fields: ClassVar[tuple[str, ...]] = ("code",)
    unit_field: ClassVar[str | None] = "unit"
    code: str
    unit: int
    resource_code: str
    func: str
    column: str | None


@dataclass(frozen=True)
class IndicatorDefined(_IndicatorChange):
    action: ClassVar[str] = "cockpit.indicator_defined"


@dataclass(frozen=True)
class IndicatorUpdated(_IndicatorChange):
    action: ClassVar[str] = "cockpit.indicator_updated"


@dataclass(frozen=True)
class IndicatorEvaluated(AuditEvent):
    """Evaluating reads a dataset's contents (an aggregate): audited like any data access."""

    action: ClassVar[str] = "cockpit.indicator_evaluated"
    target_type: ClassVar[str] = "indicator"
    target_fields: ClassVar[tuple[str, ...]] = ("code",)
    unit_field: ClassVar[str | None] = "unit"
    code: str
    unit: int
    resource_code: str
    level: str
    value: float | None


@dataclass(frozen=True)
class AlertRaised(AuditEvent):
    action: ClassVar[str] = "cockpit.alert_raised"
    target_type: ClassVar[str] = "alert"
    target_fields: ClassVar[tuple[str, ...]] = ("alert_id",)
    unit_field: ClassVar[str | None] = "unit"
    alert_id: int
    unit: int
    indicator: str
    level: str


@dataclass(frozen=True)
class AlertAcknowledged(AuditEvent):
    action: ClassVar[str] = "cockpit.alert_acknowledged"
    target_type: ClassVar[str] = "alert"
    target_fields: ClassVar[tuple[str, ...]] = ("alert_id",)
    unit_field: ClassVar[str | None] = "unit"
    alert_id: int
    unit: int
    note: str


@dataclass(frozen=True)
class SnapshotTaken(AuditEvent):
    action: ClassVar[str] = "cockpit.snapshot_taken"
    target_type: ClassVar[str] = "cockpit_snapshot"
    target_fields: ClassVar[tuple[str, ...]] = ("day",)
    day: str
    figures: int
