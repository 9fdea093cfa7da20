"""Cockpit input and output shapes; the summary is what the page and the API both show."""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, field_validator

from shuzhi.assess.schemas import AssessedLevel
from shuzhi.cockpit.models import AlertStatus, Direction, Level, ScenarioStatus
from shuzhi.market.books_schemas import MarketFiguresOut
from shuzhi.masterdata.schemas import MasterdataFiguresOut
from shuzhi.sandbox.schemas import SandboxUseOut
from shuzhi.validation import blank_to_none, clean_code, clean_text


class Measure(StrEnum):
    """The aggregations an indicator may use (the query interface's, minus distinct counts)."""

    COUNT = "count"
    SUM = "sum"
    AVG = "avg"
    MIN = "min"
    MAX = "max"


TREND_WINDOWS = (7, 30, 365)


def _split_codes(value: Any) -> Any:
    """Forms send codes as one text ("A, B C"); the API sends a list."""
    if isinstance(value, str):
        return [p for p in re.split(r"[\s,，;；]+", value) if p]
    return value


def _milestone_lines(value: Any) -> Any:
    """Forms send one milestone per line: ``name YYYY-MM-DD``."""
    if not isinstance(value, str):
        return value
    out: list[dict[str, str]] = []
    for line in value.splitlines():
        line = clean_code(line)
        if not line:
            continue
        name, _, day = line.rpartition(" ")
        out.append({"name": name.strip() or line, "due_on": day if name else ""})
    return out


def _filter_lines(value: Any) -> Any:
    """Forms send one filter per line: ``column op value`` (``value`` may hold spaces)."""
    if not isinstance(value, str):
        return value
    out: list[dict[str, Any]] = []
    for line in value.splitlines():
        parts = clean_code(line).split(" ", 2)
        if parts == [""]:
            continue
        out.append(
            {
                "column": parts[0],
                "op": parts[1] if len(parts) > 1 else "",
                "value": parts[2] if len(parts) > 2 else None,
            }
        )
    return out


Text100 = Annotated[str, BeforeValidator(clean_text), Field(min_length=1, max_length=100)]
OptionalNumber = Annotated[float | None, BeforeValidator(blank_to_none)]


class MilestoneIn(BaseModel):
    name: Text100
    due_on: date


class ScenarioCreate(BaseModel):
    unit_code: Annotated[str | None, BeforeValidator(blank_to_none)] = None
    year: int = Field(ge=2000, le=2100)
    name: Text100
    goal: Annotated[str, BeforeValidator(clean_text), Field(min_length=1, max_length=2000)]
    owner: Text100
    resource_codes: Annotated[list[str], BeforeValidator(_split_codes)] = []
    grant_ids: Annotated[list[int], BeforeValidator(_split_codes)] = []
    milestones: Annotated[list[MilestoneIn], BeforeValidator(_milestone_lines)] = Field(
        min_length=1, max_length=20
    )


class MilestoneDone(BaseModel):
    note: Annotated[str, BeforeValidator(clean_text), Field(max_length=1000)] = ""
    done_on: Annotated[date | None, BeforeValidator(blank_to_none)] = None


class ScenarioCancel(BaseModel):
    reason: Annotated[str, BeforeValidator(clean_text), Field(min_length=1, max_length=1000)]


class MilestoneOut(BaseModel):
    id: int
    seq: int
    name: str
    due_on: date
    done_on: date | None
    done_by: str | None
    note: str


class ScenarioOut(BaseModel):
    id: int
    unit_code: str
    unit_name: str
    year: int
    name: str
    goal: str
    owner: str
    resource_codes: list[str]
    grant_ids: list[int]
    status: ScenarioStatus
    milestones: list[MilestoneOut]
    progress: float = Field(description="share of milestones reached, 0..1")
    due_on: date = Field(description="the last milestone's date")
    overdue: bool = Field(description="a milestone's date passed and it is not reached")
    at_risk: bool = Field(description="not overdue, but the next milestone is due within 14 days")
    cancel_reason: str


class FilterIn(BaseModel):
    column: Annotated[str, BeforeValidator(clean_text), Field(min_length=1, max_length=128)]
    op: str
    value: Any = None


class IndicatorCreate(BaseModel):
    code: Annotated[str, BeforeValidator(clean_code), Field(pattern=r"^[A-Za-z0-9_-]{2,40}$")]
    name: Text100
    resource_code: Annotated[str, BeforeValidator(clean_code), Field(min_length=1, max_length=64)]
    func: Measure
    column: Annotated[str | None, BeforeValidator(blank_to_none)] = None
    filters: Annotated[list[FilterIn], BeforeValidator(_filter_lines)] = []
    group_by: Annotated[str | None, BeforeValidator(blank_to_none)] = None
    direction: Direction = Direction.ABOVE
    warn_at: OptionalNumber = None
    alarm_at: OptionalNumber = None

    @field_validator("filters")
    @classmethod
    def _few_filters(cls, value: list[FilterIn]) -> list[FilterIn]:
        if len(value) > 10:
            raise ValueError("at most 10 filters")
        return value


class ReadingOut(BaseModel):
    at: datetime
    value: float | None
    level: Level
    group_key: str | None
    message: str


class IndicatorOut(BaseModel):
    id: int
    code: str
    name: str
    unit_code: str
    unit_name: str
    resource_code: str
    func: str
    column: str | None
    filters: list[FilterIn]
    group_by: str | None
    direction: Direction
    warn_at: float | None
    alarm_at: float | None
    level: Level
    last_value: float | None
    last_evaluated_at: datetime | None
    history: list[ReadingOut] = []


class AlertAck(BaseModel):
    note: Annotated[str, BeforeValidator(clean_text), Field(min_length=1, max_length=1000)]


class AlertOut(BaseModel):
    id: int
    indicator_code: str
    indicator_name: str
    unit_code: str
    level: Level
    value: float | None
    message: str
    raised_at: datetime
    status: AlertStatus
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    note: str


class Evaluation(BaseModel):
    evaluated: int
    readings: list[tuple[str, ReadingOut]]
    alerts: list[AlertOut]


class Figures(BaseModel):
    """Every figure of one scope (the region or one unit); rates are null without a base."""

    unit_code: str
    unit_name: str
    compile_tasks: int
    compile_done: int
    compile_rate: float | None
    uncatalogued_matters: int
    source_conflicts: int
    entries_published: int
    datasets: int
    records: int
    fresh: int
    overdue: int
    never_loaded: int
    quality_score: float | None
    open_issues: int
    classified: int
    classification_coverage: float | None
    requests_by_state: dict[str, int]
    overdue_decisions: int
    active_grants: int
    calls_30d: int
    rows_30d: int
    calls_per_day: float
    filings_pending: int
    scenario_target: int
    scenarios: int
    scenarios_delivered: int
    scenarios_in_progress: int
    scenarios_overdue: int
    scenarios_at_risk: int
    open_entries: int = Field(description="entries open on the open-data portal")
    downloads: int = Field(description="downloads from the open-data portal, all time")
    score: float | None = Field(description="the ranking score, 0..100 (mean of the rates)")


class TrendPoint(BaseModel):
    day: date
    value: float | None


class Trend(BaseModel):
    metric: str
    points: list[TrendPoint]
    format: str = Field(default="number", description="'percent' for ratios (0..1)")
    axis_min: float | None = Field(default=None, description="where the value axis starts")
    axis_max: float | None = Field(default=None, description="where it ends (None: automatic)")


class Answer(BaseModel):
    """One of the three daily questions, answered in a sentence."""

    key: str
    zh: str
    en: str


class CockpitSummary(BaseModel):
    scope: str = Field(description="'region' or a unit code")
    scope_name: str
    as_of: date
    year: int
    days: int
    answers: list[Answer]
    figures: Figures
    ranking: list[Figures] = Field(description="every unit, best first (region view only)")
    assessed: list[AssessedLevel] = Field(
        default=[],
        description="each unit's self-assessed level in its latest closed round and the trend"
        " since the round before (the unit's own in a unit view)",
    )
    sandbox: list[SandboxUseOut] = Field(
        default=[],
        description="per analyst unit: sandbox queries answered and refused, releases asked"
        " and approved (the unit's own in a unit view)",
    )
    market: MarketFiguresOut | None = Field(
        default=None,
        description="the data market: products registered, listed and traded, revenue,"
        " agreements expiring within 90 days, annual disclosures (region view, bureau only)",
    )
    masterdata: MasterdataFiguresOut | None = Field(
        default=None,
        description="base libraries: libraries, entities, open conflicts, open review pairs"
        " (region view, when a library exists)",
    )
    trends: list[Trend]
    scenarios: list[ScenarioOut]
    indicators: list[IndicatorOut]
    alerts: list[AlertOut]
    # Open security alerts by severity (None: the viewer may not see security alerts).
    security_alerts: dict[str, int] | None = None
    # Risk assessments overdue for confirmation (None: the viewer may not see the register).
    overdue_risk_assessments: int | None = None
