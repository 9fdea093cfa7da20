"""Input and output shapes of the assessment capability."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from shuzhi.assess.models import (
    ActionStatus,
    AnswerState,
    Evidence,
    ModelKind,
    RoundStatus,
    Verdict,
)

CODE = r"^[a-z0-9][a-z0-9._-]{0,39}$"
ITEM_CODE = r"^[a-z0-9][a-z0-9._-]{0,79}$"
INDICATOR_CODE = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$"
DEFAULT_WINDOW_DAYS = 90


# ---------------------------------------------------------------- models


class IndicatorIn(BaseModel):
    code: str = Field(pattern=INDICATOR_CODE)
    level: int = Field(ge=1, le=5)
    evidence: Evidence
    weight: float = Field(default=1.0, gt=0, le=100)
    window_days: int = Field(default=DEFAULT_WINDOW_DAYS, ge=1, le=3650)
    probe: str | None = Field(default=None, max_length=60)
    threshold: float | None = None
    partial_at: float | None = None
    text_zh: str = Field(min_length=1, max_length=1000)
    text_en: str = Field(min_length=1, max_length=1000)


class IndicatorOut(IndicatorIn):
    pass


class ItemIn(BaseModel):
    code: str = Field(pattern=ITEM_CODE)
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    weight: float = Field(gt=0, le=100)
    indicators: list[IndicatorIn] = Field(min_length=1)


class ItemOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    weight: float
    indicators: list[IndicatorOut]


class DomainIn(BaseModel):
    code: str = Field(pattern=CODE)
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    weight: float = Field(gt=0, le=100)
    items: list[ItemIn] = Field(min_length=1)


class DomainOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    weight: float
    items: list[ItemOut]


class ModelIn(BaseModel):
    """A local scheme, defined like the national models (weights of the domains, and of the
    items within each domain, sum to 100)."""

    code: str = Field(pattern=CODE)
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    edition: str = Field(min_length=1, max_length=20)
    bands: list[float] = Field(default=[1, 2, 3, 4, 5], min_length=5, max_length=5)
    partial_credit: float = Field(default=0.5, ge=0, le=1)
    domains: list[DomainIn] = Field(min_length=1, max_length=30)


class ModelOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    edition: str
    kind: ModelKind
    revision: int
    levels: list[list[str]]
    bands: list[float]
    partial_credit: float
    domain_count: int
    item_count: int
    indicator_count: int
    domains: list[DomainOut] = []


class WeightsIn(BaseModel):
    """New weights: of the domains (summing to 100) and/or of the items of a domain
    (each domain's items summing to 100)."""

    domains: dict[str, float] = {}
    items: dict[str, float] = {}
    bands: list[float] | None = Field(default=None, min_length=5, max_length=5)
    partial_credit: float | None = Field(default=None, ge=0, le=1)


class IndicatorEdit(BaseModel):
    weight: float | None = Field(default=None, gt=0, le=100)
    window_days: int | None = Field(default=None, ge=1, le=3650)
    threshold: float | None = None
    partial_at: float | None = None
    text_zh: str | None = Field(default=None, min_length=1, max_length=1000)
    text_en: str | None = Field(default=None, min_length=1, max_length=1000)


# ---------------------------------------------------------------- rounds


class RoundIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    model_code: str = Field(min_length=1, max_length=40)
    unit_codes: list[str] = Field(min_length=1, max_length=500)
    period_start: date
    period_end: date
    deadline: date
    # assessed unit code → reviewing unit code; units left out are paired in turn.
    reviewers: dict[str, str] = {}


class RoundUnitOut(BaseModel):
    unit_id: int
    unit_code: str
    unit_name: str
    reviewer_unit_code: str | None
    reviewer_unit_name: str | None
    answers: int
    submitted: int
    accepted: int
    returned: int


class RoundOut(BaseModel):
    id: int
    title: str
    model_code: str
    model_revision: int
    model_name_zh: str
    model_name_en: str
    period_start: date
    period_end: date
    deadline: date
    status: RoundStatus
    opened_by: str
    opened_at: datetime
    closed_at: datetime | None
    units: list[RoundUnitOut] = []


# ---------------------------------------------------------------- answers


class AnswerIn(BaseModel):
    met: bool
    statement: str = Field(default="", max_length=2000)


class ReviewIn(BaseModel):
    decision: Literal["accept", "return"]
    reason: str = Field(default="", max_length=1000)


class DocumentOut(BaseModel):
    id: int
    filename: str
    kind: str
    size: int
    uploaded_by: str
    uploaded_at: datetime


class AnswerOut(BaseModel):
    indicator: str
    evidence: Evidence
    state: AnswerState
    met: bool
    statement: str
    value: float | None
    verdict: Verdict | None
    details: dict[str, Any]
    provided_by: str
    provided_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_reason: str
    expired: bool
    documents: list[DocumentOut] = []


class IndicatorRow(BaseModel):
    """One indicator of a unit's sheet, with the unit's answer if any."""

    indicator: IndicatorOut
    answer: AnswerOut | None
    credit: float


class ItemRow(BaseModel):
    code: str
    name_zh: str
    name_en: str
    level: int
    score: float
    gaps: list[str]
    indicators: list[IndicatorRow]


class DomainRow(BaseModel):
    code: str
    name_zh: str
    name_en: str
    level: int
    score: float
    items: list[ItemRow]


class UnitSheet(BaseModel):
    round: RoundOut
    unit_id: int
    unit_code: str
    unit_name: str
    levels: list[list[str]]
    level: int
    score: float
    can_answer: bool
    can_review: bool
    domains: list[DomainRow]


# ---------------------------------------------------------------- results and plans


class DomainResult(BaseModel):
    code: str
    name_zh: str
    name_en: str
    level: int
    score: float


class UnitResult(BaseModel):
    unit_code: str
    unit_name: str
    level: int
    score: float
    domains: list[DomainResult]


class RoundResults(BaseModel):
    """A self-assessment (readiness) of each unit, never a certification."""

    round_id: int
    model_code: str
    model_revision: int
    kind: Literal["self_assessment"] = "self_assessment"
    levels: list[list[str]]
    units: list[UnitResult]
    # How many units reached each overall level (0–5), and each domain's mean score.
    distribution: list[int] = []
    domain_means: list[DomainResult] = []


class RankRow(BaseModel):
    """A unit's place in a round, with its previous closed round (same unit)."""

    rank: int
    unit_code: str
    unit_name: str
    level: int
    score: float
    previous_round_id: int | None = None
    previous_round_title: str | None = None
    previous_level: int | None = None
    previous_score: float | None = None
    change: float | None = Field(default=None, description="score minus the previous score")


class HeatRow(BaseModel):
    """One row of the domain heat map: a unit's score per domain (the round's order)."""

    unit_code: str
    unit_name: str
    scores: list[float]
    levels: list[int]


class RegionReport(BaseModel):
    """A round across its units: ranking, level distribution, domain heat map and the
    change since each unit's previous closed round. A self-assessment, never a
    certification."""

    kind: Literal["self_assessment"] = "self_assessment"
    round_id: int
    title: str
    model_code: str
    status: str
    levels: list[list[str]]
    domains: list[DomainResult] = Field(description="each domain's mean over the units")
    ranking: list[RankRow]
    distribution: list[int]
    heat: list[HeatRow]


class ItemLine(BaseModel):
    domain_code: str
    domain_name_zh: str
    domain_name_en: str
    item_code: str
    name_zh: str
    name_en: str
    level: int
    score: float
    gaps: int = Field(description="indicators of the next level not met")


class EvidenceRow(BaseModel):
    """One answer of the unit: what it says, who gave it, its review and the records."""

    indicator: str
    level: int
    evidence: Evidence
    state: AnswerState
    met: bool
    value: float | None
    verdict: Verdict | None
    provided_by: str
    provided_at: datetime
    expired: bool
    documents: int
    links: list[str] = []


class UnitReport(BaseModel):
    """One unit in a round: domains (radar), items, evidence, gaps and the change since
    its previous closed round. A self-assessment, never a certification."""

    kind: Literal["self_assessment"] = "self_assessment"
    round_id: int
    title: str
    model_code: str
    status: str
    unit_code: str
    unit_name: str
    levels: list[list[str]]
    level: int
    score: float
    domains: list[DomainResult]
    previous_round_id: int | None = None
    previous_round_title: str | None = None
    previous_level: int | None = None
    previous_score: float | None = None
    previous_domains: dict[str, float] = Field(
        default={}, description="domain code → score in the previous round (shared codes)"
    )
    items: list[ItemLine]
    evidence: list[EvidenceRow]
    gaps: list[GapOut]


class AssessedLevel(BaseModel):
    """A unit's level in the latest closed round that assessed it, and the change since the
    closed round before that (a self-assessment, never a certification)."""

    unit_code: str
    unit_name: str
    round_id: int
    round_title: str
    level: int
    score: float
    previous_round_id: int | None = None
    previous_level: int | None = None
    previous_score: float | None = None
    trend: Literal["up", "down", "same"] | None = Field(
        default=None, description="score against the previous closed round; null without one"
    )


class GapOut(BaseModel):
    domain_code: str
    item_code: str
    item_name_zh: str
    item_name_en: str
    level: int
    next_level: int
    indicator: str
    text_zh: str
    text_en: str


class ActionIn(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    owner: str = Field(min_length=1, max_length=100)
    due_on: date
    indicator: str | None = Field(default=None, max_length=120)
    status: ActionStatus = ActionStatus.OPEN
    note: str = Field(default="", max_length=2000)


class ActionOut(BaseModel):
    id: int
    round_id: int
    unit_code: str
    indicator: str | None
    title: str
    owner: str
    due_on: date
    status: ActionStatus
    note: str
    overdue: bool
    updated_by: str
    updated_at: datetime


class UnitPlan(BaseModel):
    round_id: int
    unit_code: str
    unit_name: str
    gaps: list[GapOut]
    actions: list[ActionOut]
    can_edit: bool


class UnitChoice(BaseModel):
    code: str
    name: str
    kind: str


class Overview(BaseModel):
    """The assessment start page: rounds the reader takes part in, the models, and what the
    reader may do."""

    rounds: list[RoundOut]
    models: list[ModelOut]
    units: list[UnitChoice]
    can_open: bool
    can_seed: bool


class EvidenceLine(BaseModel):
    """One platform indicator measured for one unit."""

    indicator: str
    probe: str
    text_zh: str
    text_en: str
    value: float | None
    threshold: float
    verdict: Verdict
    figures: dict[str, float | int | None]
