"""Audit events of the risk register."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shuzhi.audit.events import AuditEvent


@dataclass(frozen=True)
class _RiskEvent(AuditEvent):
    target_type: ClassVar[str] = "risk_subject"
    target_fields: ClassVar[tuple[str, ...]] = ("subject",)
    unit_field: ClassVar[str | None] = "unit"
    subject: str
    unit: int | None


@dataclass(frozen=True)
class RiskAssessed(_RiskEvent):
    """A subject was (re-)assessed: by a person, or by the background run after a change."""

    action: ClassVar[str] = "secops.risk_assessed"
    score: int
    level: str
    previous: int | None
    trigger: str


@dataclass(frozen=True)
class RiskAnswered(_RiskEvent):
    action: ClassVar[str] = "secops.risk_answered"
    answers: dict[str, str]


@dataclass(frozen=True)
class RiskConfirmed(_RiskEvent):
    """A person confirmed the current assessment (the periodic review the overdue rule reads)."""

    action: ClassVar[str] = "secops.risk_confirmed"
    score: int
    level: str


@dataclass(frozen=True)
class RiskViewed(_RiskEvent):
    """The register or one subject's assessment was read (evidence of other services)."""

    action: ClassVar[str] = "secops.risk_viewed"


@dataclass(frozen=True)
class RiskReportExported(AuditEvent):
    """The annual important-data risk assessment report was shown or downloaded."""

    action: ClassVar[str] = "secops.risk_report_exported"
    target_type: ClassVar[str] = "risk_report"
    target_fields: ClassVar[tuple[str, ...]] = ("unit", "year")
    unit_field: ClassVar[str | None] = "unit"
    unit: int
    year: int
    file_format: str
