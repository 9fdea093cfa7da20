"""Audit events of IT projects and their gate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shuzhi.audit.events import AuditEvent


@dataclass(frozen=True)
class _ProjectEvent(AuditEvent):
    target_type: ClassVar[str] = "it_project"
    target_fields: ClassVar[tuple[str, ...]] = ("code",)
    unit_field: ClassVar[str | None] = "unit"
    code: str
    unit: int


@dataclass(frozen=True)
class ProjectCreated(_ProjectEvent):
    action: ClassVar[str] = "catalog.project_created"
    name: str


@dataclass(frozen=True)
class ProjectUpdated(_ProjectEvent):
    action: ClassVar[str] = "catalog.project_updated"


@dataclass(frozen=True)
class GateChecked(_ProjectEvent):
    action: ClassVar[str] = "catalog.project_gate_checked"
    stage: str
    outcome: str
    failed: int


@dataclass(frozen=True)
class ProjectApproved(_ProjectEvent):
    action: ClassVar[str] = "catalog.project_approved"
    on: str
    note: str


@dataclass(frozen=True)
class ProjectAccepted(_ProjectEvent):
    action: ClassVar[str] = "catalog.project_accepted"
    on: str
    note: str
