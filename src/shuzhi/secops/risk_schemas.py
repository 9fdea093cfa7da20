"""Input and output of the risk register."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

AnswerValue = Literal["yes", "no", "not_applicable"]


class ReasonOut(BaseModel):
    factor: str
    points: int
    zh: str
    en: str
    evidence: dict[str, int] = {}


class RiskItem(BaseModel):
    """A register row: one subject and its current assessment."""

    subject: str
    kind: str
    unit_id: int
    unit_code: str
    unit_name: str
    resource_code: str | None
    name: str
    score: int
    level: str
    important: bool
    assessed_at: datetime | None
    stale: bool
    stale_reason: str
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_due: datetime | None = Field(description="when the next confirmation is due")
    overdue: bool


class RiskRegister(BaseModel):
    items: list[RiskItem]
    overdue: int
    by_level: dict[str, int]


class QuestionOut(BaseModel):
    code: str
    text_zh: str
    text_en: str
    points: int
    answer: AnswerValue | None
    note: str = ""
    answered_by: str | None = None
    answered_at: datetime | None = None


class HistoryPoint(BaseModel):
    id: int
    score: int
    level: str
    trigger: str
    assessed_by: str
    assessed_at: datetime


class RiskDetail(RiskItem):
    reasons: list[ReasonOut]
    facts: dict[str, Any]
    questions: list[QuestionOut]
    history: list[HistoryPoint]


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    question: str = Field(min_length=1, max_length=40)
    answer: AnswerValue
    note: str = Field(default="", max_length=1000)


class AnswersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: list[AnswerIn] = Field(min_length=1, max_length=50)


class SweepOut(BaseModel):
    assessed: int
    subjects: list[str]


class ReportDataset(BaseModel):
    resource_code: str
    name: str
    level: str
    rows: int
    individuals: int
    personal: bool
    sensitive: bool
    categories: dict[str, int]
    grants: int
    consumer_units: int
    open_publications: int
    score: int
    risk_level: str


class ReportRisk(BaseModel):
    subject: str
    factor: str
    points: int
    zh: str
    en: str
    measure_zh: str
    measure_en: str


class RiskReport(BaseModel):
    """The annual important-data risk assessment report of one unit (data for the page and
    the PDF)."""

    unit_id: int
    unit_code: str
    unit_name: str
    year: int
    generated_at: datetime
    officers: list[str]
    unit_score: int
    unit_level: str
    datasets: list[ReportDataset]
    important: list[ReportDataset]
    processing: dict[str, int]
    questions: list[QuestionOut]
    risks: list[ReportRisk]
    incidents: int
    drills: int
    alerts: int
    overdue: bool


class RiskChange(BaseModel):
    """One assessment of the month that moved a subject's score or level (the monthly
    security report's "risk changes")."""

    at: datetime
    risk: str
    change: str  # "medium (30) → high (52)"; a first assessment: "high (52)"
