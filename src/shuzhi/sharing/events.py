"""Audit events of the sharing capability."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shuzhi.audit.events import AuditEvent


@dataclass(frozen=True)
class _RequestEvent(AuditEvent):
    target_type: ClassVar[str] = "share_request"
    target_fields: ClassVar[tuple[str, ...]] = ("request_id",)
    unit_field: ClassVar[str | None] = "unit"
    request_id: int
    unit: int  # the unit whose staff acted (consumer or provider)


@dataclass(frozen=True)
class RequestSubmitted(_RequestEvent):
    action: ClassVar[str] = "sharing.request_submitted"
    kind: str
    resource_code: str
    provider_unit: int
    application: str
    columns: list[str]
    route: str  # the share type that decided the routing
    due_on: str | None
    # The deadline was counted over these years, not yet declared complete (weekdays only).
    unseeded_years: list[int] | None = None


@dataclass(frozen=True)
class RequestDecided(_RequestEvent):
    action: ClassVar[str] = "sharing.request_decided"
    outcome: str
    reason: str
    automatic: bool


@dataclass(frozen=True)
class DeadlineExtended(_RequestEvent):
    action: ClassVar[str] = "sharing.deadline_extended"
    original_due_on: str
    due_on: str
    working_days: int
    reason: str


@dataclass(frozen=True)
class DeadlineRecounted(_RequestEvent):
    """A provisional deadline counted again once the year it fell in was declared complete."""

    action: ClassVar[str] = "sharing.deadline_recounted"
    previous_due_on: str
    due_on: str
    still_provisional: bool


@dataclass(frozen=True)
class RequestEscalated(_RequestEvent):
    action: ClassVar[str] = "sharing.request_escalated"
    due_on: str
    triggered_by: str


@dataclass(frozen=True)
class RequestWithdrawn(_RequestEvent):
    action: ClassVar[str] = "sharing.request_withdrawn"
    reason: str


@dataclass(frozen=True)
class RequestAppealed(_RequestEvent):
    action: ClassVar[str] = "sharing.request_appealed"
    reason: str


@dataclass(frozen=True)
class RequestArbitrated(_RequestEvent):
    action: ClassVar[str] = "sharing.request_arbitrated"
    outcome: str
    reason: str


@dataclass(frozen=True)
class _GrantEvent(AuditEvent):
    target_type: ClassVar[str] = "grant"
    target_fields: ClassVar[tuple[str, ...]] = ("grant_id",)
    unit_field: ClassVar[str | None] = "unit"
    grant_id: int
    unit: int


@dataclass(frozen=True)
class GrantIssued(_GrantEvent):
    action: ClassVar[str] = "sharing.grant_issued"
    request_id: int
    resource_code: str
    application: str
    consumer_unit: int
    columns: list[str]
    masking: dict[str, str]
    row_filter: list[str]
    delivery: list[str]
    expires_at: str
    replaces_grant: int | None


@dataclass(frozen=True)
class GrantSuperseded(_GrantEvent):
    action: ClassVar[str] = "sharing.grant_superseded"
    by_grant: int


@dataclass(frozen=True)
class GrantRevoked(_GrantEvent):
    action: ClassVar[str] = "sharing.grant_revoked"
    reason: str


@dataclass(frozen=True)
class GrantMasksTightened(_GrantEvent):
    """The data's classification became stricter than the grant's masks (column → the
    category and level now applied)."""

    action: ClassVar[str] = "sharing.grant_masks_tightened"
    masking: dict[str, str]


@dataclass(frozen=True)
class _ApplicationEvent(AuditEvent):
    target_type: ClassVar[str] = "application"
    target_fields: ClassVar[tuple[str, ...]] = ("code",)
    unit_field: ClassVar[str | None] = "unit"
    code: str
    unit: int


@dataclass(frozen=True)
class ApplicationRegistered(_ApplicationEvent):
    action: ClassVar[str] = "sharing.application_registered"
    name: str


@dataclass(frozen=True)
class ApplicationRetired(_ApplicationEvent):
    action: ClassVar[str] = "sharing.application_retired"
    reason: str


@dataclass(frozen=True)
class AppKeyIssued(_ApplicationEvent):
    action: ClassVar[str] = "sharing.app_key_issued"
    prefix: str
    expires_at: str
    rotated_from: str | None


@dataclass(frozen=True)
class AppKeyRevoked(_ApplicationEvent):
    action: ClassVar[str] = "sharing.app_key_revoked"
    prefix: str


@dataclass(frozen=True)
class AppKeyOverlapSet(_ApplicationEvent):
    """A rotated key keeps working only until the end of the overlap."""

    action: ClassVar[str] = "sharing.app_key_overlap"
    prefix: str
    expires_at: str


@dataclass(frozen=True)
class _CalendarEvent(AuditEvent):
    target_type: ClassVar[str] = "sharing_calendar"
    target_fields: ClassVar[tuple[str, ...]] = ("jurisdiction",)
    jurisdiction: str


@dataclass(frozen=True)
class CalendarDaySet(_CalendarEvent):
    action: ClassVar[str] = "sharing.calendar_day_set"
    day: str
    kind: str
    name: str


@dataclass(frozen=True)
class CalendarDayRemoved(_CalendarEvent):
    action: ClassVar[str] = "sharing.calendar_day_removed"
    day: str


@dataclass(frozen=True)
class CalendarYearMarked(_CalendarEvent):
    action: ClassVar[str] = "sharing.calendar_year_marked"
    year: int
    complete: bool
    holidays: int


@dataclass(frozen=True)
class PolicySet(_CalendarEvent):
    action: ClassVar[str] = "sharing.policy_set"
    decision_working_days: int
    rate_limit_per_minute: int


@dataclass(frozen=True)
class NoticeAddressSet(AuditEvent):
    action: ClassVar[str] = "sharing.notice_address_set"
    target_type: ClassVar[str] = "account"
    target_fields: ClassVar[tuple[str, ...]] = ("username",)
    username: str
    email: str
    mail_off: bool
