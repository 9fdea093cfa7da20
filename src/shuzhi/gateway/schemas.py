"""What the gateway returns: pages and records of granted (masked) rows, problems, and
call statistics."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field, RootModel

RecordValue = str | int | float | bool | None


class Record(RootModel[dict[str, RecordValue]]):
    """One row: granted columns only, each masked per the grant."""


class RecordsPage(BaseModel):
    items: list[dict[str, RecordValue]] = Field(
        description="rows of the page: granted columns only, masked per the grant"
    )
    next: str | None = Field(
        description="opaque cursor of the next page (pass as `cursor`); null on the last page"
    )


class ProblemField(BaseModel):
    field: str
    message: str
    message_zh: str
    message_en: str


class Problem(BaseModel):
    """application/problem+json, the shape of every error."""

    type: str
    title: str
    status: int
    detail: str
    detail_zh: str
    detail_en: str
    errors: list[ProblemField] = []


class DayStats(BaseModel):
    day: date
    calls: int
    rows: int
    errors: int
    p50_ms: float | None
    p99_ms: float | None


class TopItem(BaseModel):
    key: str
    label: str
    calls: int
    rows: int


class RecentCall(BaseModel):
    at: datetime
    endpoint: str
    resource_code: str
    resource_name: str | None = None
    application_code: str | None
    rows: int
    status: int
    outcome: str
    latency_ms: float


class CallStats(BaseModel):
    since: date
    until: date
    calls: int
    rows: int
    errors: int
    p50_ms: float | None
    p99_ms: float | None
    days: list[DayStats]
    outcomes: dict[str, int]
    top_consumers: list[TopItem]
    top_entries: list[TopItem]
    top_applications: list[TopItem]
    recent: list[RecentCall]
