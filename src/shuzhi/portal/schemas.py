"""What the portal hands to pages, the CKAN layer and other capabilities."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from shuzhi.catalog.schemas import EntryOut
from shuzhi.portal.models import ApplicationStatus, PublicationStatus

FORMATS = ("csv", "xlsx", "json", "parquet")


def slug(resource_code: str) -> str:
    """The resource code in URLs and CKAN names: ``101001/000001`` → ``101001-000001``."""
    return resource_code.replace("/", "-")


def code_of(slug_text: str) -> str:
    """Back from a slug (resource codes are digits and one slash, never a hyphen)."""
    return slug_text.replace("-", "/")


class OpenColumn(BaseModel):
    name: str
    type: str
    description: str = ""
    deidentified: bool = False


class OpenDataset(BaseModel):
    """One open dataset as the public sees it."""

    resource_code: str
    unit_id: int
    status: PublicationStatus
    entry: EntryOut
    columns: list[OpenColumn]
    record_count: int
    version: int | None
    data_available: bool = Field(description="false while a newer version awaits the guard")
    opened_at: datetime
    modified_at: datetime

    @property
    def slug(self) -> str:
        return slug(self.resource_code)

    @property
    def conditional(self) -> bool:
        return self.entry.open_type == "conditional"


class OpenBrief(BaseModel):
    resource_code: str
    name: str
    abstract: str
    unit_code: str
    unit_name: str
    open_type: str
    update_cycle: str
    record_count: int
    opened_at: datetime

    @property
    def slug(self) -> str:
        return slug(self.resource_code)


class OpenPage(BaseModel):
    total: int
    items: list[OpenBrief]
    facets: dict[str, dict[str, int]]
    labels: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="code labels by table, unit names under 'unit'"
    )


class UnitFigures(BaseModel):
    unit_id: int
    unit_code: str
    unit_name: str
    open_entries: int
    open_records: int
    views: int
    downloads: int
    api_calls: int


class DayFigures(BaseModel):
    day: date
    views: int
    downloads: int
    api_calls: int
    visitors: int


class PortalFigures(BaseModel):
    """Portal usage for the cockpit and the home page (no visitor is identifiable here)."""

    open_entries: int
    conditional_entries: int
    open_records: int
    views: int
    downloads: int
    api_calls: int
    units: list[UnitFigures]
    days: list[DayFigures]


class Preview(BaseModel):
    columns: list[str]
    rows: list[list[str | None]]


class PublicationOut(BaseModel):
    resource_code: str
    name: str
    unit_code: str
    status: PublicationStatus
    open_type: str
    checked_version: int | None
    deidentified: dict[str, str]
    record_count: int
    opened_by: str
    opened_at: datetime
    closed_at: datetime | None
    close_reason: str = ""


class Candidate(BaseModel):
    """A published entry of the unit that could be opened, with what the guard found."""

    resource_code: str
    name: str
    open_type: str
    has_data: bool
    personal_columns: list[str]
    publication: PublicationStatus | None


class ApplicantIn(BaseModel):
    email: Annotated[str, Field(min_length=3, max_length=200)]
    name: Annotated[str, Field(min_length=1, max_length=100)]
    organisation: Annotated[str, Field(max_length=200)] = ""
    kind: Annotated[str, Field(max_length=20)] = "person"
    password: Annotated[str, Field(min_length=1, max_length=200)]


class ApplicantPasswordChange(BaseModel):
    current_password: Annotated[str, Field(max_length=200)]
    new_password: Annotated[str, Field(max_length=200)]


class ApplicantOut(BaseModel):
    id: int
    email: str
    name: str
    organisation: str
    kind: str


class ApplicationIn(BaseModel):
    resource_code: Annotated[str, Field(min_length=1, max_length=64)]
    purpose: Annotated[str, Field(max_length=2000)] = ""
    accept_agreement: bool = False


class ApplicationOut(BaseModel):
    id: int
    resource_code: str
    dataset_name: str
    applicant_name: str
    applicant_organisation: str
    purpose: str
    agreement_version: str
    status: ApplicationStatus
    due_at: datetime
    overdue: bool
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    created_at: datetime


class IssuedKey(BaseModel):
    application_id: int
    prefix: str
    token: str = Field(description="shown once; only its SHA-256 is stored")
    expires_at: datetime
