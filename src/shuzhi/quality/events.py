"""Audit events of the quality capability."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shuzhi.audit.events import AuditEvent


@dataclass(frozen=True)
class RuleDefined(AuditEvent):
    action: ClassVar[str] = "quality.rule_defined"
    target_type: ClassVar[str] = "quality_rule"
    target_fields: ClassVar[tuple[str, ...]] = ("rule_id",)
    unit_field: ClassVar[str | None] = "unit"
    rule_id: int
    resource_code: str
    unit: int
    kind: str
    column: str | None


@dataclass(frozen=True)
class RuleUpdated(RuleDefined):
    action: ClassVar[str] = "quality.rule_updated"


@dataclass(frozen=True)
class RuleDeleted(RuleDefined):
    """A rule stops running; its past results and issues stay."""

    action: ClassVar[str] = "quality.rule_deleted"


@dataclass(frozen=True)
class _IssueEvent(AuditEvent):
    target_type: ClassVar[str] = "quality_issue"
    target_fields: ClassVar[tuple[str, ...]] = ("issue_id",)
    unit_field: ClassVar[str | None] = "unit"
    issue_id: int
    resource_code: str
    unit: int
    note: str


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
    target_fields: ClassVar[tuple[str, ...]] = ("resource_code",)
    unit_field: ClassVar[str | None] = "unit"
    resource_code: str
    unit: int
    version: int
    score: float | None  # None: the dataset has no rules
    failing_rules: int


@dataclass(frozen=True)
class RejectedVersionIssuesWithdrawn(AuditEvent):
    """A rejected version's findings left the unit's issue list: issues it raised were
    withdrawn, issues it had updated went back to the current version's figures."""

    action: ClassVar[str] = "quality.rejected_version_issues_withdrawn"
    target_type: ClassVar[str] = "dataset"
    target_fields: ClassVar[tuple[str, ...]] = ("resource_code",)
    unit_field: ClassVar[str | None] = "unit"
    resource_code: str
    unit: int
    version: int
    withdrawn: int
    restored: int
