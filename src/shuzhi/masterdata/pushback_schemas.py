"""What the push-back services take and return."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from shuzhi.masterdata.pushback_models import DeliveryStatus, PushbackStatus
from shuzhi.security.masking import MaskLevel

MAX_CONDITIONS = 10


class ConditionKind(StrEnum):
    AGE = "age"  # age from the golden birth date, at least / at most
    EQUALS = "equals"  # a golden attribute equals a value
    IN_DATASET = "in_dataset"  # the entity has a record in a member dataset
    NOT_IN_DATASET = "not_in_dataset"  # … or has none


class ConditionIn(BaseModel):
    """One condition of a special group; the conditions of a push-back all hold (AND).

    ``age``: ``min_age`` and/or ``max_age`` (whole years on the day of delivery);
    ``equals``: ``attribute`` (field or data element) and ``value``; ``in_dataset`` /
    ``not_in_dataset``: ``resource_code`` of one of the library's member datasets.
    """

    kind: ConditionKind
    min_age: int | None = Field(default=None, ge=0, le=150)
    max_age: int | None = Field(default=None, ge=0, le=150)
    attribute: str | None = Field(default=None, max_length=40)
    value: str | None = Field(default=None, max_length=200)
    resource_code: str | None = Field(default=None, max_length=64)


class PushbackIn(BaseModel):
    name: str = Field(
        min_length=2, max_length=100, description="城西街道居民, 城西街道高龄独居老人…"
    )
    target_unit_code: str = Field(min_length=1, max_length=32, description="the street unit")
    division_code: str = Field(
        pattern=r"^[0-9]{6}$", description="county (区/县) code of the area, GB/T 2260"
    )
    street: str = Field(min_length=2, max_length=40, description="乡镇街道, e.g. 北山街道")
    community: str | None = Field(default=None, max_length=40, description="社区/村, optional")
    columns: list[str] = Field(
        min_length=1, max_length=20, description="golden attributes (field or data element)"
    )
    conditions: list[ConditionIn] = Field(default_factory=list, max_length=MAX_CONDITIONS)
    masking: dict[str, MaskLevel] = Field(
        default_factory=dict, description="attribute → stricter masking than the default"
    )


class ConditionOut(BaseModel):
    kind: ConditionKind
    min_age: int | None = None
    max_age: int | None = None
    attribute: str | None = None
    value: str | None = None
    resource_code: str | None = None
    text_zh: str
    text_en: str


class DeliveryOut(BaseModel):
    id: int
    run_id: int
    status: DeliveryStatus
    rows: int
    version: int | None
    outcome: str
    error_zh: str
    error_en: str
    created_by: str
    created_at: datetime


class PushbackOut(BaseModel):
    id: int
    library: str
    name: str
    target_unit_code: str
    target_unit_name: str
    division_code: str
    division_name: str
    street: str
    community: str | None
    columns: list[str]
    delivered_columns: list[str] = Field(description="the dataset's column names")
    conditions: list[ConditionOut]
    masking: dict[str, str]
    resource_code: str
    application_code: str
    grant_id: int | None
    grant_status: str | None = Field(description="active, expired, superseded, revoked")
    status: PushbackStatus
    last_run_id: int | None
    rows: int | None
    version: int | None
    delivered_at: datetime | None
    error_zh: str
    error_en: str
    reports: int = 0
    created_by: str
    created_at: datetime
    deliveries: list[DeliveryOut] = Field(default_factory=list)


class PushbackFiguresOut(BaseModel):
    """Push-back figures over the libraries the reader may see (the cockpit may show them)."""

    pushbacks: int
    delivered: int
    failed: int
    rows: int
    reports: int


class RecordsOut(BaseModel):
    """Rows of a push-back's current version as its target unit's grant shows them."""

    pushback_id: int
    resource_code: str
    version: int | None
    columns: list[str]
    rows: list[dict[str, str | None]]
    total: int
    masked: dict[str, str] = Field(description="column → masking level applied")
    next_after: str | None = Field(default=None, description="the entity ID to page after")


class ReportIn(BaseModel):
    entity_id: str = Field(min_length=2, max_length=40)
    attribute: str = Field(min_length=1, max_length=40, description="field or data element")
    problem: str = Field(min_length=1, max_length=1000, description="what is wrong")
    proposed: str = Field(default="", max_length=200, description="the value it should be")


class ReportOut(BaseModel):
    id: int
    pushback_id: int
    run_id: int
    entity_id: str
    attribute: str
    problem: str
    proposed: str
    resource_code: str
    unit_code: str
    version: int | None
    row: int | None
    quality_issue_id: int
    reported_by: str
    reported_at: datetime
