"""What the lake capability returns: versions with their schema check, profile,
classification, grade and quality score, and source definitions for scheduled pulls."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from shuzhi.lake.models import VersionStatus


class ColumnOut(BaseModel):
    name: str
    type: str
    source_name: str


class TypeChange(BaseModel):
    name: str
    expected: str = Field(description="data type code of the catalogue's data item (C/N/D/T/…)")
    inferred: str = Field(description="type inferred from the values (integer, date, text, …)")


class SchemaCheck(BaseModel):
    checked: bool = Field(description="false when the entry lists no data items")
    missing: list[str] = []
    extra: list[str] = []
    type_changed: list[TypeChange] = []

    @property
    def drift(self) -> bool:
        return bool(self.missing or self.extra or self.type_changed)


class TopValueOut(BaseModel):
    value: str
    count: int


class ColumnProfileOut(BaseModel):
    name: str
    physical_type: str
    inferred_type: str
    format: str | None
    dominant_type: str | None
    nonconforming: int
    null_count: int
    null_rate: float
    distinct_estimate: int
    min: str | None
    max: str | None
    top_values: list[TopValueOut]
    masked: bool = False


class ProfileOut(BaseModel):
    row_count: int = 0
    type_sample_rows: int = 0
    columns: list[ColumnProfileOut] = []


class ColumnClassification(BaseModel):
    name: str
    category: str
    label_zh: str
    label_en: str
    confidence: float
    evidence: list[str]
    personal: bool
    sensitive: bool
    overridden: bool = False
    decided_by: str | None = None
    detected: str = Field(description="the classifier's own category, before any override")


class GradeOut(BaseModel):
    scheme: str
    level: str
    level_zh: str
    level_en: str
    national_level: str
    personal: bool
    sensitive_personal: bool
    important_candidate: bool
    reasons: list[str]
    # Columns were classified from the first ``sample_rows`` rows; the scale rules counted
    # ``individuals``: distinct values of the ID column ``counted_by``, or rows (None).
    sample_rows: int = 0
    individuals: int = 0
    counted_by: str | None = None


class RejectsOut(BaseModel):
    count: int = 0
    ratio: float = 0.0
    max_ratio: float = 0.0
    by_reason: dict[str, int] = {}


class VersionBrief(BaseModel):
    resource_code: str
    number: int
    status: VersionStatus
    row_count: int
    content_hash: str
    quality_score: float | None
    quality_score_reason: str | None = None  # "no_rules" when quality_score is null
    drift: bool
    created_by: str
    created_at: datetime


class VersionOut(BaseModel):
    resource_code: str
    dataset_name: str
    unit_code: str
    number: int
    version_id: str
    status: VersionStatus
    row_count: int
    content_hash: str
    columns: list[ColumnOut]
    source: dict[str, Any]
    rejects: RejectsOut
    schema_check: SchemaCheck
    profile: ProfileOut
    classification: list[ColumnClassification]
    grade: GradeOut | None
    quality_score: float | None
    quality_score_reason: str | None = None  # "no_rules" when quality_score is null
    created_by: str
    created_at: datetime
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    review_note: str = ""


class IngestOut(BaseModel):
    outcome: Literal["created", "unchanged"]
    version: VersionOut


class SampleRows(BaseModel):
    columns: list[str]
    rows: list[list[str | None]]
    masked_columns: list[str]


class OverrideIn(BaseModel):
    category: str = Field(min_length=1, max_length=40)
    note: str = Field(default="", max_length=500)


class ReviewIn(BaseModel):
    note: str = Field(default="", max_length=1000)


class SourceIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=3, max_length=2000, description="SQLAlchemy URL")
    table: str | None = Field(default=None, max_length=200)
    query: str | None = Field(default=None, max_length=20000)
    schedule: str = Field(
        min_length=1,
        max_length=100,
        description="'every 30m' / 'every 6h' / 'every 1d', '@hourly', '@daily', '@weekly', "
        "or a five-field cron expression such as '0 2 * * *'",
    )


class SourceOut(BaseModel):
    id: int
    resource_code: str
    name: str
    url: str = Field(description="the connection URL with any password hidden")
    table: str | None
    query: str | None
    schedule: str
    active: bool
    last_run_at: datetime | None
    last_outcome: str
    next_run_at: datetime | None


class SourceRun(BaseModel):
    source_id: int
    resource_code: str
    outcome: str
    message: str
    message_zh: str = ""


class FreshnessState(StrEnum):
    FRESH = "fresh"  # loaded, and the update cycle's deadline (if any) has not passed
    OVERDUE = "overdue"  # loaded, but the newest current load is older than the cycle allows
    NEVER_LOADED = "never_loaded"  # published with a deadline-bearing cycle, nothing current yet


class FreshnessRow(BaseModel):
    resource_code: str
    name: str
    unit_code: str
    unit_name: str
    update_cycle: str
    update_cycle_label: str
    state: FreshnessState
    last_loaded_at: datetime | None
    due_by: datetime | None
    overdue: bool = Field(description="loaded, but later than the update cycle promises")
    never_loaded: bool = Field(description="no version has ever become current")
    days_overdue: int


class UnitFreshness(BaseModel):
    unit_code: str
    unit_name: str
    entries: int
    overdue: int
    never_loaded: int


class FreshnessReport(BaseModel):
    rows: list[FreshnessRow]
    units: list[UnitFreshness]


class DatasetOverview(BaseModel):
    resource_code: str
    name: str
    unit_code: str
    update_cycle: str
    versions: list[VersionBrief]
    sources: list[SourceOut]
    can_upload: bool


class VersionDetail(BaseModel):
    version: VersionOut
    rows: SampleRows | None
    can_review: bool
    can_override: bool


GarbageKind = Literal[
    "unregistered_version",
    "incomplete_version",
    "work_directory",
    "staged_upload",
    "derived_file",
]


class GarbageItem(BaseModel):
    """A file or directory a killed load or upload left behind."""

    path: str  # relative to the data directory
    kind: GarbageKind
    bytes: int


class LakeGarbage(BaseModel):
    """What ``collect_lake_garbage`` found, and whether it removed it."""

    applied: bool
    items: list[GarbageItem]
    busy: list[str]  # datasets being loaded right now: left alone

    @property
    def bytes(self) -> int:
        return sum(i.bytes for i in self.items)
