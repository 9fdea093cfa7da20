"""Portal tables: what is open to the public, how it is used, and who applied for what.

A catalogue entry is referred to by its resource code, as in sharing; units are foreign keys.
Applicants (citizens, researchers, companies) are not staff: they have their own table and
never appear among the console's users.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shuzhi.catalog.schemas import OpenType
from shuzhi.db.base import Base, StrEnumType, json_dict, json_list, utcnow


class PublicationStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    # Taken off the portal by a security containment until it is lifted (not a closing).
    SUSPENDED = "suspended"


class ApplicationStatus(StrEnum):
    PENDING = "pending"  # waiting for the provider unit, until due_at
    APPROVED = "approved"
    REFUSED = "refused"
    REVOKED = "revoked"  # approved earlier, then withdrawn by the provider
    WITHDRAWN = "withdrawn"  # the applicant gave up


class UsageKind(StrEnum):
    VIEW = "view"
    DOWNLOAD = "download"
    API = "api"


class Publication(Base):
    """One catalogue entry opened to the public, with the entry's text as published then."""

    __tablename__ = "portal_publication"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_code: Mapped[str] = mapped_column(String(64), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    status: Mapped[PublicationStatus] = mapped_column(
        StrEnumType(PublicationStatus, 10), default=PublicationStatus.OPEN, index=True
    )
    open_type: Mapped[OpenType] = mapped_column(StrEnumType(OpenType, 20))
    # EntryOut as JSON: what the public reads until the provider republishes.
    entry_json: Mapped[dict[str, Any]] = mapped_column(json_dict(compact=True))
    # Dataset version the guard checked, and the personal columns the provider confirmed
    # are served de-identified ({column: category}).
    checked_version: Mapped[int | None] = mapped_column(Integer)
    deidentified_json: Mapped[dict[str, str]] = mapped_column(
        json_dict(sort_keys=True), default=dict
    )
    record_count: Mapped[int] = mapped_column(Integer, default=0)
    # The checked version's columns as listings show them (OpenColumn list as JSON), so that
    # listings read no lake manifest. None: opened before they were kept; listings then
    # read the lake.
    columns_json: Mapped[list[dict[str, Any]] | None] = mapped_column(json_list())
    opened_by: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    republished_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str] = mapped_column(Text, default="")


class UsageCount(Base):
    """Views, downloads and API calls per dataset and day; visitors only as keyed digests."""

    __tablename__ = "portal_usage"
    __table_args__ = (UniqueConstraint("day", "resource_code", "kind", name="uq_portal_usage"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    resource_code: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    kind: Mapped[UsageKind] = mapped_column(StrEnumType(UsageKind, 10))
    count: Mapped[int] = mapped_column(Integer, default=0)


class Visitor(Base):
    """A distinct visitor of a day: HMAC(secret, day, address), never the address itself."""

    __tablename__ = "portal_visitor"
    __table_args__ = (UniqueConstraint("day", "digest", name="uq_portal_visitor"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    digest: Mapped[str] = mapped_column(String(32))


class Applicant(Base):
    """A member of the public who applies for conditionally open data (not a staff account)."""

    __tablename__ = "portal_applicant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OpenApplication(Base):
    """An application for one conditionally open dataset; the provider unit decides."""

    __tablename__ = "portal_application"
    __table_args__ = (Index("ix_portal_application_unit_status", "unit_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("portal_applicant.id"), index=True)
    resource_code: Mapped[str] = mapped_column(String(64), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    purpose: Mapped[str] = mapped_column(Text)
    agreement_version: Mapped[str] = mapped_column(String(20))
    agreed_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[ApplicationStatus] = mapped_column(
        StrEnumType(ApplicationStatus, 12), default=ApplicationStatus.PENDING
    )
    due_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApplicantKey(Base):
    """An API key of an approved application; only a SHA-256 of the token is kept."""

    __tablename__ = "portal_applicant_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("portal_application.id"), index=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("portal_applicant.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
