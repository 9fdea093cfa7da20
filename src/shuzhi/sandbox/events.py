"""Audit events of the sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from shuzhi.audit.events import AuditEvent


@dataclass(frozen=True)
class TermsRequested(AuditEvent):
    action: ClassVar[str] = "sandbox.terms_requested"
    target_type: ClassVar[str] = "share_request"
    target_fields: ClassVar[tuple[str, ...]] = ("request_id",)
    unit_field: ClassVar[str | None] = "unit"
    request_id: int
    unit: int
    resource_code: str
    terms: dict[str, Any]


@dataclass(frozen=True)
class TermsDecided(AuditEvent):
    action: ClassVar[str] = "sandbox.terms_decided"
    target_type: ClassVar[str] = "share_request"
    target_fields: ClassVar[tuple[str, ...]] = ("request_id",)
    unit_field: ClassVar[str | None] = "unit"
    request_id: int
    unit: int
    grant_id: int | None
    terms: dict[str, Any] | None


@dataclass(frozen=True)
class QueryRun(AuditEvent):
    """One sandbox query answered: text, plan summary, rows released, suppressions."""

    action: ClassVar[str] = "sandbox.query_run"
    target_type: ClassVar[str] = "sandbox_query"
    target_fields: ClassVar[tuple[str, ...]] = ("query_id",)
    unit_field: ClassVar[str | None] = "unit"
    query_id: int
    unit: int
    application: str | None
    sql: str
    plan: dict[str, Any]
    rows_released: int
    suppressed: int
    epsilon_spent: float | None = None


@dataclass(frozen=True)
class QueryRefusedEvent(AuditEvent):
    """One sandbox query refused, with the rule it broke."""

    action: ClassVar[str] = "sandbox.query_refused"
    target_type: ClassVar[str] = "sandbox_query"
    target_fields: ClassVar[tuple[str, ...]] = ("query_id",)
    unit_field: ClassVar[str | None] = "unit"
    query_id: int
    unit: int
    application: str | None
    sql: str
    rule: str
    reason: str


@dataclass(frozen=True)
class SandboxGrantEnded(AuditEvent):
    """A sandbox grant was revoked or ended: its queries stop at once."""

    action: ClassVar[str] = "sandbox.grant_ended"
    target_type: ClassVar[str] = "grant"
    target_fields: ClassVar[tuple[str, ...]] = ("grant_id",)
    unit_field: ClassVar[str | None] = "unit"
    grant_id: int
    unit: int
    resource_code: str


@dataclass(frozen=True)
class ReleaseRequested(AuditEvent):
    """An analyst asked to take a query's figures out of the sandbox."""

    action: ClassVar[str] = "sandbox.release_requested"
    target_type: ClassVar[str] = "sandbox_release"
    target_fields: ClassVar[tuple[str, ...]] = ("release_id",)
    unit_field: ClassVar[str | None] = "unit"
    release_id: int
    unit: int
    query_id: int
    target: str
    purpose: str
    providers: list[int]
    template_id: int | None = None


@dataclass(frozen=True)
class ReleaseReviewed(AuditEvent):
    """A provider unit approved or refused its part of a release."""

    action: ClassVar[str] = "sandbox.release_reviewed"
    target_type: ClassVar[str] = "sandbox_release"
    target_fields: ClassVar[tuple[str, ...]] = ("release_id",)
    unit_field: ClassVar[str | None] = "unit"
    release_id: int
    unit: int
    approve: bool
    reason: str
    status: str


@dataclass(frozen=True)
class ReleaseDownloaded(AuditEvent):
    """An approved release's file was taken."""

    action: ClassVar[str] = "sandbox.release_downloaded"
    target_type: ClassVar[str] = "sandbox_release"
    target_fields: ClassVar[tuple[str, ...]] = ("release_id",)
    unit_field: ClassVar[str | None] = "unit"
    release_id: int
    unit: int
    format: str


@dataclass(frozen=True)
class TemplateCreated(AuditEvent):
    """A provider unit pre-approved a parameterised query."""

    action: ClassVar[str] = "sandbox.template_created"
    target_type: ClassVar[str] = "sandbox_template"
    target_fields: ClassVar[tuple[str, ...]] = ("template_id",)
    unit_field: ClassVar[str | None] = "unit"
    template_id: int
    unit: int
    name: str
    sql: str
    parameters: dict[str, Any]
