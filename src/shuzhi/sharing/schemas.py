"""Sharing I/O shapes; text is trimmed and kept as typed, codes are NFKC-normalised."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from shuzhi.catalog.schemas import ShareType
from shuzhi.lake.query import Op
from shuzhi.security.masking import MaskLevel
from shuzhi.sharing.grants import DeliveryMode
from shuzhi.sharing.models import (
    ApplicationStatus,
    DayKind,
    Outcome,
    RequestKind,
    RequestStatus,
)
from shuzhi.validation import REASON_RULE, blank_code_to_none, clean_code, clean_text


def _no_control(value: Any) -> Any:
    """Text is stored: refuse NUL and other control characters (tab and newlines allowed)."""
    if isinstance(value, str) and any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ValueError("control characters are not allowed / 不能包含控制字符")
    return value


Text = Annotated[str, BeforeValidator(clean_text), AfterValidator(_no_control)]
OptCode = Annotated[str | None, BeforeValidator(blank_code_to_none), AfterValidator(_no_control)]
ColumnName = Annotated[Text, Field(min_length=1, max_length=200)]
AppCode = Annotated[
    str,
    BeforeValidator(clean_code),
    Field(min_length=2, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$"),
]
MAX_DURATION_DAYS = 1095
Duration = Annotated[int, Field(ge=1, le=MAX_DURATION_DAYS)]
RateLimit = Annotated[int, Field(ge=1, le=100_000)]


class ConditionIn(BaseModel):
    """One row-filter condition; ``value`` must suit the column's type (dates as ISO text)."""

    column: ColumnName
    op: Op
    value: Any = None


class ConditionOut(BaseModel):
    column: str
    op: Op
    value: Any = None
    text: str = Field(description="a short human reading of the condition")


class RequestCreate(BaseModel):
    resource_code: Annotated[str, BeforeValidator(clean_code), Field(min_length=1, max_length=64)]
    application_code: AppCode
    purpose: Annotated[Text, Field(min_length=4, max_length=2000)]
    legal_basis: Annotated[Text, Field(min_length=2, max_length=2000)]
    columns: list[ColumnName] = Field(min_length=1, max_length=500)
    row_filter: list[ConditionIn] = Field(default_factory=list, max_length=20)
    delivery: list[DeliveryMode] = Field(default_factory=lambda: [DeliveryMode.API], min_length=1)
    duration_days: Duration = 365
    unit_code: OptCode = Field(
        default=None, description="the requesting (consumer) unit; default: your own unit"
    )


class DecisionIn(BaseModel):
    """approve: as requested. partly_approve: any narrowing below. refuse: a reason is needed
    (and, for a conditional entry, the basis)."""

    outcome: Outcome
    reason: Annotated[Text, Field(max_length=2000)] = Field(
        default="",
        description=f"required when refusing: {REASON_RULE}",
    )
    basis: Annotated[Text, Field(max_length=2000)] = Field(
        default="",
        description="refuse: the law, regulation, document or catalogue basis cited (required"
        " for conditional entries)",
    )
    columns: list[ColumnName] | None = Field(
        default=None, description="partly_approve: a subset of the requested columns"
    )
    masking: dict[ColumnName, MaskLevel] = Field(
        default_factory=dict, description="partly_approve: stricter masking per column"
    )
    row_filter: list[ConditionIn] = Field(
        default_factory=list, max_length=20, description="partly_approve: extra conditions"
    )
    duration_days: Duration | None = Field(default=None, description="partly_approve: shorter")
    delivery: list[DeliveryMode] | None = None
    rate_limit_per_minute: RateLimit | None = None


class ReasonIn(BaseModel):
    reason: Annotated[Text, Field(min_length=2, max_length=2000)]


class ExtensionIn(BaseModel):
    """The provider extends the decision deadline once (check period), saying why."""

    reason: Annotated[Text, Field(max_length=2000)] = Field(description=f"why: {REASON_RULE}")


class RenewalIn(BaseModel):
    duration_days: Duration = 365
    purpose: Annotated[Text, Field(max_length=2000)] = Field(
        default="", description="default: the grant's purpose"
    )
    legal_basis: Annotated[Text, Field(max_length=2000)] = Field(
        default="", description="default: the original request's legal basis"
    )


class RequestEventOut(BaseModel):
    action: str
    actor: str
    note: str
    at: datetime


class RequestOut(BaseModel):
    id: int
    kind: RequestKind
    renews_grant_id: int | None
    consumer_unit_code: str
    consumer_unit_name: str
    provider_unit_code: str
    provider_unit_name: str
    application_code: str
    application_name: str
    resource_code: str
    entry_name: str
    entry_version: int
    share_type: ShareType
    purpose: str
    legal_basis: str
    columns: list[str]
    row_filter: list[ConditionOut]
    delivery: list[DeliveryMode]
    duration_days: int
    status: RequestStatus
    requested_by: str
    requested_at: datetime
    jurisdiction: str
    decision_days: int | None
    due_on: date | None = Field(description="the deadline in force (the extended one, if any)")
    due_provisional: bool = Field(
        default=False,
        description="the deadline was counted over a year whose holidays are not yet entered"
        " (weekdays only); it is counted again once that year is complete",
    )
    original_due_on: date | None = Field(
        default=None, description="the deadline before the provider extended it"
    )
    extension_days: int | None = None
    extension_reason: str | None = None
    extended_by: str | None = None
    extended_at: datetime | None = None
    working_days_left: int | None = Field(
        description="working days after today up to the deadline (0: due today or overdue);"
        " None when not waiting"
    )
    overdue: bool
    escalated_at: datetime | None
    outcome: Outcome | None
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str
    decision_basis: str | None = None
    appeal_reason: str | None
    appealed_at: datetime | None
    arbitrated_by: str | None
    arbitrated_at: datetime | None
    arbitration_note: str | None
    arbitration_basis: str | None = None
    withdrawn_at: datetime | None
    grant_id: int | None
    history: list[RequestEventOut] = []


class ColumnMaskOut(BaseModel):
    column: str
    category: str
    level: MaskLevel


class GrantOut(BaseModel):
    id: int
    request_id: int
    application_code: str
    application_name: str
    consumer_unit_code: str
    consumer_unit_name: str
    provider_unit_code: str
    provider_unit_name: str
    resource_code: str
    entry_name: str
    columns: list[str]
    row_filter: list[ConditionOut]
    masking: list[ColumnMaskOut]
    key_column: str | None
    delivery: list[DeliveryMode]
    purpose: str
    starts_at: datetime
    expires_at: datetime
    rate_limit_per_minute: int
    status: str = Field(description="active, expired, superseded or revoked")
    replaces_grant_id: int | None
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None


class ApplicationIn(BaseModel):
    code: AppCode
    name: Annotated[Text, Field(min_length=2, max_length=100)]
    description: Annotated[Text, Field(max_length=2000)] = ""
    contact: Annotated[Text, Field(max_length=200)] = ""
    unit_code: OptCode = Field(default=None, description="default: your own unit")


class AppKeyIn(BaseModel):
    label: Annotated[Text, Field(max_length=100)] = ""
    expires_in_days: Annotated[int, Field(ge=1, le=730)] = 365


class RotateIn(BaseModel):
    overlap_hours: Annotated[int, Field(ge=0, le=720)] = Field(
        default=24, description="how long the old key keeps working"
    )
    expires_in_days: Annotated[int, Field(ge=1, le=730)] = 365


class AppKeyOut(BaseModel):
    prefix: str
    label: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    status: str = Field(description="active, expired or revoked")
    rotated_from: str | None = None


class AppKeyCreated(AppKeyOut):
    application_code: str
    token: str = Field(description="shown once; only its hash is stored")


class ApplicationOut(BaseModel):
    code: str
    name: str
    description: str
    contact: str
    unit_code: str
    unit_name: str
    status: ApplicationStatus
    created_by: str
    created_at: datetime
    active_keys: int
    active_grants: int
    keys: list[AppKeyOut] = []


class UnitSystems(BaseModel):
    """One unit's line of the connected-systems registry (应接尽接)."""

    unit_code: str
    unit_name: str
    applications: int
    connected: int = Field(description="applications with an active key and an active grant")


class NotificationOut(BaseModel):
    id: int
    kind: str
    message: str
    link: str
    created_at: datetime
    read: bool


class NoticeAddressIn(BaseModel):
    """Where one's notices are mailed ("" for nowhere) and whether to mail them at all."""

    email: str = Field(default="", max_length=320)
    mail_off: bool = False


class NoticeAddressOut(BaseModel):
    username: str
    email: str
    mail_off: bool


class OutboxOut(BaseModel):
    """One outgoing notice as the bureau sees it (e-mail recipients by account only)."""

    id: int
    channel: str
    kind: str
    recipient: str
    state: str
    attempts: int
    last_error: str
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None


class CalendarDayIn(BaseModel):
    day: date
    kind: DayKind
    name: Annotated[Text, Field(max_length=60)] = ""


class CalendarYearIn(BaseModel):
    complete: bool = Field(
        description="true: every holiday and adjusted working day of the year is entered"
    )


class CalendarDayOut(BaseModel):
    day: date
    kind: DayKind
    name: str
    jurisdiction: str


class PolicyIn(BaseModel):
    decision_working_days: Annotated[int, Field(ge=1, le=60)]
    rate_limit_per_minute: RateLimit


class PolicyOut(BaseModel):
    jurisdiction: str
    decision_working_days: int
    rate_limit_per_minute: int
    national_default: bool


class CalendarOut(BaseModel):
    jurisdiction: str
    year: int
    days: list[CalendarDayOut]
    working_days: int
    seeded: bool = Field(
        description="true once the year is declared complete (all statutory holidays and"
        " adjusted working days entered), nationally or for this jurisdiction"
    )
    seeded_by: str | None = Field(
        default=None, description="national, or the jurisdiction that declared it complete"
    )
    holidays: int = Field(default=0, description="holiday days entered for the year")
    statutory_holidays: int = Field(
        default=13, description="the fewest holiday days a complete year can hold"
    )
    provisional_requests: int = Field(
        default=0,
        description="waiting requests whose deadline was counted over this year while it was"
        " not seeded (weekdays only)",
    )
    policy: PolicyOut


class RequestPage(BaseModel):
    items: list[RequestOut]
