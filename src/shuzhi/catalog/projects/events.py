"""Audit events of IT projects and their gate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shuzhi.audit.events import AuditEvent


@dataclass(frozen=True)
class _ProjectEvent(AuditEvent):
    target_type: ClassVar[str] = "it_project"
    code: str
    unit: int

    @property
    def target_id(self) -> str:
        return self.code

    @property
    def unit_id(self) -> int | None:
        return self.unit


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
