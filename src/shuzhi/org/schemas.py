"""Org I/O shapes; text is trimmed and kept as typed, codes are NFKC-normalised."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

# The organisation's closed vocabularies are part of its public surface (re-exported).
from shuzhi.org.models import FilingStatus as FilingStatus
from shuzhi.org.models import Position as Position
from shuzhi.org.models import UnitKind as UnitKind
from shuzhi.validation import blank_code_to_none, blank_to_none, clean_code, clean_text

Text = Annotated[str, BeforeValidator(clean_text)]
OptText = Annotated[str | None, BeforeValidator(blank_to_none)]
Code = Annotated[
    str,
    BeforeValidator(clean_code),
    Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$"),
]
OptCode = Annotated[
    Annotated[str, Field(max_length=32)] | None, BeforeValidator(blank_code_to_none)
]


class UnitCreate(BaseModel):
    code: Code
    name: Annotated[Text, Field(min_length=2, max_length=100)]
    name_en: OptText = None
    kind: UnitKind
    parent_code: OptCode = None
    uscc: OptText = None
    org_code: OptText = None
    sort_order: int = Field(default=0, ge=0, le=100000)


class UnitUpdate(BaseModel):
    name: Annotated[Text, Field(min_length=2, max_length=100)]
    name_en: OptText = None
    parent_code: OptCode = None
    uscc: OptText = None
    org_code: OptText = None
    sort_order: int = Field(default=0, ge=0, le=100000)


class UnitBrief(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    uscc: str | None = None


class UnitOut(BaseModel):
    code: str
    name: str
    name_en: str | None
    kind: str
    parent_code: str | None
    parent_name: str | None = None
    uscc: str | None
    org_code: str | None
    sort_order: int
    depth: int = 0


class PersonCreate(BaseModel):
    unit_code: Code
    name: Annotated[Text, Field(min_length=2, max_length=50)]
    title: Annotated[Text, Field(max_length=100)] = ""
    phone: Annotated[Text, Field(max_length=30, pattern=r"^[0-9+\- ()]*$")] = ""
    email: Annotated[Text, Field(max_length=200, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")] = ""


class PersonOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    unit_code: str
    name: str
    title: str
    phone: str
    email: str


class AppointmentCreate(BaseModel):
    person_id: int
    position: Position
    appointed_on: date
    document_no: Annotated[Text, Field(max_length=100)] = ""


class FilingDecision(BaseModel):
    note: Annotated[Text, Field(max_length=2000)] = ""


class FilingReturn(BaseModel):
    reason: Annotated[Text, Field(min_length=2, max_length=2000)]


class FilingEventOut(BaseModel):
    action: str
    actor: str
    note: str
    at: datetime


class AppointmentOut(BaseModel):
    id: int
    person_id: int
    person_name: str
    person_title: str
    unit_code: str
    unit_name: str
    position: Position
    appointed_on: date
    document_no: str
    status: FilingStatus
    submitted_by: str | None
    submitted_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    return_reason: str | None
    history: list[FilingEventOut] = []


class OrgOverview(BaseModel):
    scope: str = Field(description="'region' or the unit code the figures are limited to")
    units: int
    units_by_kind: dict[str, int]
    cdos: int = Field(description="filed appointments as cdo, cdo_executive or unit_cdo")
    specialists: int = Field(description="filed data_liaison appointments")
    filings_pending: int
    filings_returned: int
    units_without_cdo: list[str]
