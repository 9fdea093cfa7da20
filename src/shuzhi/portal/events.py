"""Audit events of the open data portal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shuzhi.audit.events import AuditEvent


@dataclass(frozen=True)
class _PublicationEvent(AuditEvent):
    target_type: ClassVar[str] = "open_dataset"
    target_fields: ClassVar[tuple[str, ...]] = ("resource_code",)
    unit_field: ClassVar[str | None] = "unit"
    resource_code: str
    unit: int


@dataclass(frozen=True)
class DatasetOpened(_PublicationEvent):
    action: ClassVar[str] = "portal.dataset_opened"
    open_type: str
    version: int
    deidentified: list[str]


@dataclass(frozen=True)
class DatasetRepublished(_PublicationEvent):
    action: ClassVar[str] = "portal.dataset_republished"
    open_type: str
    version: int
    deidentified: list[str]


@dataclass(frozen=True)
class DatasetClosed(_PublicationEvent):
    action: ClassVar[str] = "portal.dataset_closed"
    reason: str


@dataclass(frozen=True)
class OpenDataDownloaded(_PublicationEvent):
    action: ClassVar[str] = "portal.data_downloaded"
    format: str
    version: int
    applicant: int | None  # None: anonymous (unconditionally open data)


@dataclass(frozen=True)
class ApplicantRegistered(AuditEvent):
    action: ClassVar[str] = "portal.applicant_registered"
    target_type: ClassVar[str] = "applicant"
    target_fields: ClassVar[tuple[str, ...]] = ("applicant",)
    applicant: int
    kind: str


@dataclass(frozen=True)
class ApplicantRegistrationRepeated(AuditEvent):
    """Someone registered an address that already has an account; nothing was created."""

    action: ClassVar[str] = "portal.applicant_registration_repeated"
    target_type: ClassVar[str] = "applicant_email"
    target_fields: ClassVar[tuple[str, ...]] = ("email",)
    email: str
    client: str | None


@dataclass(frozen=True)
class ApplicantLoggedIn(AuditEvent):
    action: ClassVar[str] = "portal.applicant_logged_in"
    target_type: ClassVar[str] = "applicant"
    target_fields: ClassVar[tuple[str, ...]] = ("applicant",)
    applicant: int
    client: str | None


@dataclass(frozen=True)
class ApplicantLoginFailed(AuditEvent):
    """A refused applicant log-in or current-password check (the e-mail as typed)."""

    action: ClassVar[str] = "portal.applicant_login_failed"
    target_type: ClassVar[str] = "applicant_email"
    target_fields: ClassVar[tuple[str, ...]] = ("email",)
    email: str
    client: str | None
    reason: str


@dataclass(frozen=True)
class ApplicantPasswordChanged(AuditEvent):
    action: ClassVar[str] = "portal.applicant_password_changed"
    target_type: ClassVar[str] = "applicant"
    target_fields: ClassVar[tuple[str, ...]] = ("applicant",)
    applicant: int


@dataclass(frozen=True)
class _ApplicationEvent(AuditEvent):
    target_type: ClassVar[str] = "open_application"
    target_fields: ClassVar[tuple[str, ...]] = ("application",)
    unit_field: ClassVar[str | None] = "unit"
    application: int
    unit: int


@dataclass(frozen=True)
class OpenApplicationSubmitted(_ApplicationEvent):
    action: ClassVar[str] = "portal.application_submitted"
    resource_code: str
    applicant: int
    agreement_version: str
    due_at: str


@dataclass(frozen=True)
class OpenApplicationDecided(_ApplicationEvent):
    action: ClassVar[str] = "portal.application_decided"
    outcome: str
    note: str


@dataclass(frozen=True)
class OpenApplicationRevoked(_ApplicationEvent):
    action: ClassVar[str] = "portal.application_revoked"
    reason: str


@dataclass(frozen=True)
class ApplicantKeyIssued(_ApplicationEvent):
    action: ClassVar[str] = "portal.applicant_key_issued"
    prefix: str
