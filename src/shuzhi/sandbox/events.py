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
