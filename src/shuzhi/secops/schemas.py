"""Input and output of security operations."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AlertItem(BaseModel):
    id: int
    rule: str
    severity: str
    subject: str
    first_seen: datetime
    last_seen: datetime
    count: int


class AlertList(BaseModel):
    total: int
    items: list[AlertItem]


class AlertOut(AlertItem):
    status: str
    unit_id: int | None
    measure: float
    threshold: float
    summary_zh: str
    summary_en: str
    evidence: list[dict[str, Any]]
    owners: list[str]
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None
    resolve_note: str


class FalsePositiveIn(_In):
    reason: str = Field(max_length=2000)


class ThresholdOut(BaseModel):
    rule: str
    param: str
    value: float
    default: float
    least: float
    name_zh: str
    name_en: str


class ThresholdIn(_In):
    value: float


class ContainmentIn(_In):
    kind: Literal["application_key", "grant", "publication", "sandbox_grant", "agreement"]
    id: int = Field(ge=1)
    reason: str = Field(max_length=2000)
    incident_id: int | None = Field(default=None, ge=1)


class LiftIn(_In):
    reason: str = Field(default="", max_length=2000)


class ContainmentOut(BaseModel):
    id: int
    kind: str
    subject_id: int
    unit_id: int | None
    incident_id: int | None
    reason: str
    active: bool
    contained_by: str
    contained_at: datetime
    lifted_by: str | None
    lifted_at: datetime | None
    # An agreement's containment: the sharing grants it suspended along with it.
    held_grants: list[int] = []


class IncidentIn(_In):
    title: str = Field(default="", max_length=200)
    alert_id: int | None = Field(default=None, ge=1)
    unit_id: int | None = Field(default=None, ge=1)
    drill: bool = False
    # Without an alert (whose rule gives it): how serious, which sets who must be told by when.
    severity: Literal["low", "medium", "high", "critical"] = "medium"
    # Without an alert: how far back the impact statement looks.
    window_hours: int = Field(default=24, ge=1, le=24 * 90)


class NoteIn(_In):
    text: str = Field(min_length=1, max_length=4000)


class CloseIn(_In):
    review: str = Field(max_length=8000)


class NotifyIn(_In):
    note: str = Field(default="", max_length=2000)


class NotificationOut(BaseModel):
    """One line of an incident's notification checklist (who must be told, by when)."""

    id: int
    party: str
    name_zh: str
    name_en: str
    due_at: datetime
    done_by: str | None
    done_at: datetime | None
    note: str
    overdue: bool
    late: bool  # ticked off after its deadline


class TimelineItem(BaseModel):
    at: datetime
    actor: str
    kind: str
    text: str


class ImpactOut(BaseModel):
    since: datetime
    until: datetime
    consumer_units: list[int]
    applications: list[str]
    calls: int
    served_calls: int
    records: int


class IncidentOut(BaseModel):
    id: int
    title: str
    unit_id: int | None
    alert_id: int | None
    drill: bool
    severity: str = "medium"
    status: str
    opened_by: str
    opened_at: datetime
    closed_by: str | None
    closed_at: datetime | None
    review: str
    timeline: list[TimelineItem] = []
    containments: list[ContainmentOut] = []
    impact: ImpactOut | None = None
    notifications: list[NotificationOut] = []


class DrillReportOut(BaseModel):
    """A drill's printable report: the incident and how fast each step went."""

    incident: IncidentOut
    minutes_to_contain: float | None
    minutes_open: float
    notified_in_time: int
    notified_late: int
    not_notified: int


class EvaluationOut(BaseModel):
    ran: bool
    new: list[AlertOut]
    grown: int
