"""Audit events of the periodic grant review and the monthly security report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shuzhi.audit.events import AuditEvent


@dataclass(frozen=True)
class _ReviewEvent(AuditEvent):
    target_type: ClassVar[str] = "grant_review"
    target_fields: ClassVar[tuple[str, ...]] = ("review_id",)
    unit_field: ClassVar[str | None] = "unit"
    review_id: int
    unit: int
    grant_id: int


@dataclass(frozen=True)
class GrantReviewRequested(_ReviewEvent):
    action: ClassVar[str] = "secops.grant_review_requested"
    due: str


@dataclass(frozen=True)
class GrantReviewConfirmed(_ReviewEvent):
    action: ClassVar[str] = "secops.grant_review_confirmed"
    note: str


@dataclass(frozen=True)
class GrantReviewLapsed(_ReviewEvent):
    """Not confirmed within the grace period: the grant was suspended by a containment."""

    action: ClassVar[str] = "secops.grant_review_lapsed"
    containment_id: int


@dataclass(frozen=True)
class GrantReviewEnded(_ReviewEvent):
    """The grant ended (revoked, expired, suspended) before anyone confirmed it."""

    action: ClassVar[str] = "secops.grant_review_ended"


@dataclass(frozen=True)
class ReportViewed(AuditEvent):
    """A unit's monthly security report was read (page) or downloaded (pdf)."""

    action: ClassVar[str] = "secops.report_viewed"
    target_type: ClassVar[str] = "security_report"
    target_fields: ClassVar[tuple[str, ...]] = ("month",)
    unit_field: ClassVar[str | None] = "unit"
    month: str
    unit: int | None
    file_format: str
