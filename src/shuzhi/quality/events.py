"""Audit events of the quality capability."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shuzhi.audit.events import AuditEvent


@dataclass(frozen=True)
class RuleDefined(AuditEvent):
    action: ClassVar[str] = "quality.rule_defined"
    target_type: ClassVar[str] = "quality_rule"
    rule_id: int
    resource_code: str
    unit: int
    kind: str
    column: str | None

    @property
    def target_id(self) -> str:
        return str(self.rule_id)

    @property
    def unit_id(self) -> int | None:
        return self.unit


@dataclass(frozen=True)
class _IssueEvent(AuditEvent):
    target_type: ClassVar[str] = "quality_issue"
    issue_id: int
    resource_code: str
    unit: int
    note: str

    @property
    def target_id(self) -> str:
        return str(self.issue_id)

    @property
    def unit_id(self) -> int | None:
        return self.unit


@dataclass(frozen=True)
class IssueFixed(_IssueEvent):
    action: ClassVar[str] = "quality.issue_fixed"


@dataclass(frozen=True)
class IssueVerified(_IssueEvent):
    action: ClassVar[str] = "quality.issue_verified"


@dataclass(frozen=True)
class VersionChecked(AuditEvent):
    action: ClassVar[str] = "quality.version_checked"
    target_type: ClassVar[str] = "dataset"
    resource_code: str
    unit: int
    version: int
    score: float
    failing_rules: int

    @property
    def target_id(self) -> str:
        return self.resource_code

    @property
    def unit_id(self) -> int | None:
        return self.unit
