"""What the base-library services take and return."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from shuzhi.masterdata.models import (
    EventKind,
    LibraryKind,
    ReviewDecision,
    ReviewStatus,
    RunMode,
    RunStatus,
)

# Engine field → the standard data element it stands for (一数一源 names in the catalogue).
# A member's mapping may name a field by either; it is stored by field.
PERSON_ELEMENTS: dict[str, str] = {
    "name": "姓名",
    "resident_id": "公民身份号码",
    "sex": "性别",
    "birth_date": "出生日期",
    "phone": "联系电话",
    "address": "住址",
    "updated": "更新时间",
}
ENTITY_ELEMENTS: dict[str, str] = {
    "name": "名称",
    "uscc": "统一社会信用代码",
    "registration_number": "注册号",
    "org_code": "组织机构代码",
    "legal_representative": "法定代表人",
    "address": "注册地址",
    "updated": "更新时间",
}
ELEMENTS: dict[LibraryKind, dict[str, str]] = {
    LibraryKind.PERSON: PERSON_ELEMENTS,
    LibraryKind.LEGAL_ENTITY: ENTITY_ELEMENTS,
}
# A member must map one of these (what a record is linked by at all).
REQUIRED: dict[LibraryKind, tuple[str, ...]] = {
    LibraryKind.PERSON: ("name", "resident_id"),
    LibraryKind.LEGAL_ENTITY: ("name", "uscc"),
}
CODE_PATTERN = r"^[a-z][a-z0-9_-]{1,63}$"


class LibraryIn(BaseModel):
    code: str = Field(pattern=CODE_PATTERN, description="population, legal_entities, …")
    name: str = Field(min_length=1, max_length=200)
    kind: LibraryKind
    unit_code: str = Field(min_length=1, max_length=64, description="the owning unit (bureau)")
    threshold: float = Field(default=0.99, ge=0.5, le=1.0)


class MemberIn(BaseModel):
    resource_code: str = Field(min_length=1, max_length=64)
    rank: int = Field(default=100, ge=0, le=10_000, description="authority, lower first")
    mapping: dict[str, str] | None = Field(
        default=None,
        description="field or data element → column; None: mapped by the columns' headers",
    )


class MemberOut(BaseModel):
    resource_code: str
    unit_id: int
    unit_code: str
    rank: int
    mapping: dict[str, str]


class RunOut(BaseModel):
    id: int
    mode: RunMode
    status: RunStatus
    current: bool
    started_at: datetime
    finished_at: datetime | None
    records_in: int
    records_linked: int
    entities_out: int
    links: int
    conflicts: int
    review_pairs: int
    versions: dict[str, Any]
    report: dict[str, Any]
    error_zh: str
    error_en: str


class LibraryOut(BaseModel):
    code: str
    name: str
    kind: LibraryKind
    unit_code: str
    threshold: float
    members: list[MemberOut]
    current_run: RunOut | None


class LibrarySummaryOut(BaseModel):
    """A library in the console's list: its figures from the current run."""

    code: str
    name: str
    kind: LibraryKind
    unit_code: str
    members: int
    entities: int
    open_conflicts: int
    open_review_pairs: int
    current_run: RunOut | None


class MasterdataFiguresOut(BaseModel):
    """The cockpit's base-library box."""

    libraries: int
    entities: int
    open_conflicts: int
    open_review_pairs: int
    pushbacks: int = 0  # push-backs to streets (retired ones not counted)
    pushbacks_failed: int = 0  # whose last delivery failed
    pushback_reports: int = 0  # streets' reports of wrong values


class GoldenValueOut(BaseModel):
    """One golden value with its provenance (masked per the reader's rights)."""

    value: str | None
    resource_code: str | None
    unit_code: str | None
    version: int | None
    loaded_at: str | None
    row: int | None
    rule: str


class SourceRecordRef(BaseModel):
    resource_code: str
    version: int
    row: int


class EventOut(BaseModel):
    run_id: int
    kind: EventKind
    others: list[str]
    reason: str
    created_at: datetime


class EntityOut(BaseModel):
    library: str
    entity_id: str
    kind: LibraryKind
    run_id: int
    members: int
    golden: dict[str, GoldenValueOut]
    records: list[SourceRecordRef]
    events: list[EventOut]
    masked: bool


class ReviewRecordOut(BaseModel):
    """One record of a review pair: where it is and (on the pair's page) its mapped
    values, masked unless the reader sees values in the clear."""

    resource_code: str
    unit_code: str | None = None
    version: int
    row: int
    values: dict[str, str | None] = Field(default_factory=dict)


class ReviewPairOut(BaseModel):
    id: int
    library: str
    status: ReviewStatus
    probability: float
    weight: float
    explanation: str
    left: ReviewRecordOut
    right: ReviewRecordOut
    decision: ReviewDecision | None = None
    note: str = ""
    decided_by: str | None = None
    decided_at: datetime | None = None
    first_run_id: int
    last_run_id: int
    masked: bool = True


class ReviewDecisionIn(BaseModel):
    decision: ReviewDecision
    note: str = Field(default="", max_length=2000)
