"""What the quality capability takes and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from shuzhi.quality.models import IssueStatus, RuleKind


class RuleIn(BaseModel):
    kind: RuleKind
    column: str | None = Field(default=None, max_length=200)
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="pattern: {pattern}; range: {min, max}; allowed_values: {values}; "
        "reference: {resource_code, column}; freshness: {max_age_days} (default: update cycle)",
    )
    weight: float = Field(default=1.0, gt=0, le=100)


class RuleOut(BaseModel):
    id: int
    resource_code: str
    kind: RuleKind
    column: str | None
    params: dict[str, Any]
    weight: float
    active: bool


class ResultOut(BaseModel):
    rule_id: int
    kind: RuleKind
    column: str | None
    checked: int
    failing: int
    pass_rate: float
    sample: list[str] = Field(description="a few failing values, masked if sensitive")
    message: str


class IssueOut(BaseModel):
    id: int
    resource_code: str
    unit_code: str
    unit_name: str
    rule_id: int
    kind: RuleKind
    column: str | None
    version_number: int
    failing: int
    summary: str
    status: IssueStatus
    fixed_by: str | None
    fix_note: str
    verified_by: str | None
    created_at: datetime


class IssueNote(BaseModel):
    note: str = Field(default="", max_length=1000)


# Why a score is missing: the dataset (or every dataset of the unit) has no active rules.
NO_RULES = "no_rules"


class EntryScore(BaseModel):
    resource_code: str
    unit_code: str
    version_number: int
    score: float | None = Field(description="null when the dataset has no rules (see reason)")
    reason: str | None = Field(default=None, description="why score is null: no_rules")


class UnitScore(BaseModel):
    unit_code: str
    unit_name: str
    entries: int = Field(description="entries with a current version")
    scored_entries: int = Field(description="of those, entries whose dataset has rules")
    score: float | None = Field(description="mean over scored entries; null when there are none")
    reason: str | None = None
    open_issues: int


class RuleSheet(BaseModel):
    """A dataset's rules as its page shows them, and whether the reader may change them."""

    rules: list[RuleOut]
    can_edit: bool
    columns: list[str]
    kinds: list[RuleKind] = [k for k in RuleKind if k is not RuleKind.CROSS_SOURCE]


class ScoreBoard(BaseModel):
    entries: list[EntryScore]
    units: list[UnitScore]
