"""Sharing tables: connected systems and their keys, share requests and their history,
grants, console notifications, and the working-day calendar that deadlines are counted in.

Other capabilities' rows are referred to by their stable codes (a catalogue entry by its
resource code); only units are foreign keys, as everywhere else.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypedDict

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shuzhi.catalog.schemas import ShareType
from shuzhi.db.base import Base, StrEnumType, json_dict, json_list, utcnow


class RequestStatus(StrEnum):
    PENDING = "pending"  # waiting for the provider unit's CDO
    ESCALATED = "escalated"  # the deadline passed: the executive may decide
    APPROVED = "approved"
    PARTLY_APPROVED = "partly_approved"
    REFUSED = "refused"
    APPEALED = "appealed"  # the requester appealed a refusal; the executive arbitrates
    WITHDRAWN = "withdrawn"


class RequestKind(StrEnum):
    NEW = "new"
    RENEWAL = "renewal"


class Outcome(StrEnum):
    APPROVE = "approve"
    PARTLY_APPROVE = "partly_approve"
    REFUSE = "refuse"


class GrantStatus(StrEnum):
    ACTIVE = "active"  # until expires_at; "expired" is derived from the clock
    SUPERSEDED = "superseded"  # replaced by a later grant (renewal, new approval)
    REVOKED = "revoked"


class ApplicationStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


class DayKind(StrEnum):
    HOLIDAY = "holiday"  # a weekday off (public holiday)
    WORKDAY = "workday"  # a weekend day worked (调休)


class Application(Base):
    """A connected system (应接尽接) of a unit; it calls the gateway with its keys."""

    __tablename__ = "sharing_application"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[ApplicationStatus] = mapped_column(
        StrEnumType(ApplicationStatus, 20), default=ApplicationStatus.ACTIVE
    )
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]


class AppKey(Base):
    """An application key; only a SHA-256 of the token is kept (the platform's key scheme)."""

    __tablename__ = "sharing_app_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("sharing_application.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    # Set while a security containment suspends the key (reversible, unlike a revocation).
    suspended_at: Mapped[datetime | None]
    # The key this one replaced by rotation (the old one keeps working for the overlap).
    rotated_from_id: Mapped[int | None] = mapped_column(Integer)


class GrantedMask(TypedDict):
    """A granted column's classification category and the masking level applied to it."""

    category: str
    level: str


class ShareRequest(Base):
    """共享申请: what a consumer unit asked for, and where the request stands."""

    __tablename__ = "sharing_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[RequestKind] = mapped_column(StrEnumType(RequestKind, 20), default=RequestKind.NEW)
    renews_grant_id: Mapped[int | None] = mapped_column(Integer)
    consumer_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    provider_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("sharing_application.id"), index=True)
    resource_code: Mapped[str] = mapped_column(String(64), index=True)
    entry_id: Mapped[int] = mapped_column(Integer)
    entry_name: Mapped[str] = mapped_column(String(128))
    entry_version: Mapped[int] = mapped_column(Integer)
    share_type: Mapped[ShareType] = mapped_column(StrEnumType(ShareType, 20))
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    columns: Mapped[list[str]] = mapped_column(json_list())  # column names
    # Conditions as ``filters.encode`` gives them: [{column, op, value}].
    row_filter: Mapped[list[dict[str, Any]]] = mapped_column(json_list(), default=list)
    # Stricter masking asked for, {column: level} (a renewal carries its grant's over).
    masking: Mapped[dict[str, str]] = mapped_column(json_dict(), default=dict)
    delivery: Mapped[list[str]] = mapped_column(json_list())  # delivery mode values
    duration_days: Mapped[int] = mapped_column(Integer)
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[RequestStatus] = mapped_column(StrEnumType(RequestStatus, 20), index=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The deadline is fixed when the request is filed; later calendar edits do not move it,
    # except a provisional one (counted over a year not yet seeded: weekdays only), which is
    # counted again when that year is declared complete.
    jurisdiction: Mapped[str] = mapped_column(String(32))
    decision_days: Mapped[int | None] = mapped_column(Integer)
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    # One extension of the deadline by the provider (check period): due_on is then the
    # extended deadline and original_due_on the one before.
    original_due_on: Mapped[date | None] = mapped_column(Date)
    extension_days: Mapped[int | None] = mapped_column(Integer)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    extended_by: Mapped[str | None] = mapped_column(String(200))
    extended_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    outcome: Mapped[Outcome | None] = mapped_column(StrEnumType(Outcome, 20))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    # The legal or catalogue basis cited when refusing (required for conditional entries).
    decision_basis: Mapped[str | None] = mapped_column(Text)
    appeal_reason: Mapped[str | None] = mapped_column(Text)
    appealed_at: Mapped[datetime | None]
    arbitrated_by: Mapped[str | None] = mapped_column(String(200))
    arbitrated_at: Mapped[datetime | None]
    arbitration_note: Mapped[str | None] = mapped_column(Text)
    arbitration_basis: Mapped[str | None] = mapped_column(Text)
    withdrawn_at: Mapped[datetime | None]
    grant_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RequestEvent(Base):
    """One step in a request's history (kept forever, newest last)."""

    __tablename__ = "sharing_request_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("sharing_request.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Grant(Base):
    """授权: the terms under which one application may read one entry's dataset."""

    __tablename__ = "sharing_grant"
    __table_args__ = (Index("ix_sharing_grant_app_resource", "application_id", "resource_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("sharing_request.id"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("sharing_application.id"))
    consumer_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    provider_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    resource_code: Mapped[str] = mapped_column(String(64))
    entry_id: Mapped[int] = mapped_column(Integer)
    entry_name: Mapped[str] = mapped_column(String(128))
    columns: Mapped[list[str]] = mapped_column(json_list())
    row_filter: Mapped[list[dict[str, Any]]] = mapped_column(json_list(), default=list)
    masking: Mapped[dict[str, GrantedMask]] = mapped_column(json_dict())
    key_column: Mapped[str | None] = mapped_column(String(200))
    delivery: Mapped[list[str]] = mapped_column(json_list())
    purpose: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer)
    status: Mapped[GrantStatus] = mapped_column(
        StrEnumType(GrantStatus, 20), default=GrantStatus.ACTIVE, index=True
    )
    # "<application id>:<resource code>" while active, NULL otherwise: a unique column makes
    # "at most one active grant per application and entry" hold under racing approvals.
    active_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    replaces_grant_id: Mapped[int | None] = mapped_column(Integer)
    # Set while a security containment suspends the grant (reversible, unlike a revocation).
    suspended_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Revision(Base):
    """One row: bumped by every change that can narrow what a caller may do (gateway caches)."""

    __tablename__ = "sharing_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class Notification(Base):
    """A console message for everyone holding ``roles`` in ``unit_id`` (None: region level)."""

    __tablename__ = "sharing_notification"
    __table_args__ = (Index("ix_sharing_notification_audience", "unit_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    roles: Mapped[str] = mapped_column(String(120))  # comma-separated role codes
    kind: Mapped[str] = mapped_column(String(40))
    request_id: Mapped[int | None] = mapped_column(Integer)
    grant_id: Mapped[int | None] = mapped_column(Integer)
    message_zh: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationRead(Base):
    __tablename__ = "sharing_notification_read"

    notification_id: Mapped[int] = mapped_column(
        ForeignKey("sharing_notification.id", ondelete="CASCADE"), primary_key=True
    )
    reader: Mapped[str] = mapped_column(String(200), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarDay(Base):
    """An exception to "Monday–Friday are working days" in one jurisdiction's calendar."""

    __tablename__ = "sharing_calendar_day"
    __table_args__ = (
        UniqueConstraint("jurisdiction", "day", name="uq_sharing_calendar_day_jurisdiction_day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[DayKind] = mapped_column(StrEnumType(DayKind, 10))
    name: Mapped[str] = mapped_column(String(60), default="")
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CalendarYear(Base):
    """A year of a jurisdiction's calendar declared complete: every statutory holiday and
    adjusted working day of the year is entered. Only such years count as seeded."""

    __tablename__ = "sharing_calendar_year"

    jurisdiction: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    marked_by: Mapped[str] = mapped_column(String(200))
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)


class Policy(Base):
    """A jurisdiction's sharing rules; jurisdictions without a row use the national defaults."""

    __tablename__ = "sharing_policy"

    jurisdiction: Mapped[str] = mapped_column(String(32), primary_key=True)
    decision_working_days: Mapped[int] = mapped_column(Integer)
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OutboxState(StrEnum):
    PENDING = "pending"  # not yet accepted; retried with growing pauses
    SENT = "sent"
    FAILED = "failed"  # given up after the last attempt: shown to the bureau


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class OutboxMessage(Base):
    """One notice on its way out (an e-mail to one address, or one webhook post).

    Written in the transaction that created the notice, so a committed notice is never
    lost and a rolled-back one never leaves; delivered afterwards, outside any request."""

    __tablename__ = "sharing_outbox"
    __table_args__ = (Index("ix_sharing_outbox_state_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[Channel] = mapped_column(StrEnumType(Channel, 10))
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(320))  # an address, or the webhook URL
    username: Mapped[str | None] = mapped_column(String(64))
    unit_code: Mapped[str | None] = mapped_column(String(32))
    roles: Mapped[str] = mapped_column(String(120), default="")
    subject_zh: Mapped[str] = mapped_column(Text)
    subject_en: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[OutboxState] = mapped_column(
        StrEnumType(OutboxState, 10), default=OutboxState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class NoticeAddress(Base):
    """Where an account's notices are mailed, and whether it wants them by mail at all."""

    __tablename__ = "sharing_notice_address"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), default="")
    mail_off: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
