"""Cockpit tables: application scenarios, vital-sign indicators, their readings and alerts,
and daily snapshots of the cockpit's own figures (figures only, never other data)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shuzhi.db.base import Base, StrEnumType, json_list, utcnow


class ScenarioStatus(StrEnum):
    PLANNED = "planned"  # registered, no milestone reached yet
    IN_PROGRESS = "in_progress"
    DELIVERED = "delivered"  # every milestone reached
    CANCELLED = "cancelled"


class Direction(StrEnum):
    """Which side of a threshold is bad."""

    ABOVE = "above"  # e.g. passenger load: the higher, the worse
    BELOW = "below"  # e.g. a pass rate: the lower, the worse


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"
    ALARM = "alarm"
    ERROR = "error"  # the indicator could not be evaluated (e.g. its column is gone)


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"


class WebhookState(StrEnum):
    """Delivery of an alert to the configured webhook."""

    NONE = "none"  # no webhook was configured when the alert was raised
    PENDING = "pending"  # not yet accepted by the receiver; retried by later evaluations
    SENT = "sent"
    ABANDONED = "abandoned"  # gave up after the last attempt or when the alert grew old


class Scenario(Base):
    """A data-sharing application scenario a unit commits to deliver in a year."""

    __tablename__ = "cockpit_scenario"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(String(100))
    goal: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(100))
    resource_codes: Mapped[list[str]] = mapped_column(json_list(), default=list)
    grant_ids: Mapped[list[int]] = mapped_column(json_list(), default=list)
    status: Mapped[ScenarioStatus] = mapped_column(
        StrEnumType(ScenarioStatus, 20), default=ScenarioStatus.PLANNED, index=True
    )
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_on: Mapped[date | None] = mapped_column(Date)


class Milestone(Base):
    __tablename__ = "cockpit_milestone"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[int] = mapped_column(
        ForeignKey("cockpit_scenario.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    due_on: Mapped[date] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)
    done_by: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")


class Indicator(Base):
    """A structured aggregation over one dataset, with warn/alarm thresholds."""

    __tablename__ = "cockpit_indicator"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    resource_code: Mapped[str] = mapped_column(String(64), index=True)
    func: Mapped[str] = mapped_column(String(20))
    column_name: Mapped[str | None] = mapped_column(String(128))
    # FilterIn list as JSON: [{column, op, value}].
    filters_json: Mapped[list[dict[str, Any]]] = mapped_column(json_list(), default=list)
    group_by: Mapped[str | None] = mapped_column(String(128))
    direction: Mapped[Direction] = mapped_column(StrEnumType(Direction, 10))
    warn_at: Mapped[float | None] = mapped_column(Float)
    alarm_at: Mapped[float | None] = mapped_column(Float)
    level: Mapped[Level] = mapped_column(StrEnumType(Level, 10), default=Level.OK)
    last_value: Mapped[float | None] = mapped_column(Float)
    last_evaluated_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Reading(Base):
    """One evaluation of an indicator (its history)."""

    __tablename__ = "cockpit_reading"
    __table_args__ = (Index("ix_cockpit_reading_indicator_at", "indicator_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("cockpit_indicator.id", ondelete="CASCADE")
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    value: Mapped[float | None] = mapped_column(Float)
    level: Mapped[Level] = mapped_column(StrEnumType(Level, 10))
    group_key: Mapped[str | None] = mapped_column(String(200))  # the group that set the value
    message: Mapped[str] = mapped_column(Text, default="")


class Alert(Base):
    """Raised when an indicator's level turns worse than ok (or changes while not ok)."""

    __tablename__ = "cockpit_alert"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("cockpit_indicator.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    level: Mapped[Level] = mapped_column(StrEnumType(Level, 10))
    value: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str] = mapped_column(Text, default="")
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[AlertStatus] = mapped_column(
        StrEnumType(AlertStatus, 20), default=AlertStatus.OPEN, index=True
    )
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    acknowledged_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")
    webhook_state: Mapped[WebhookState] = mapped_column(
        StrEnumType(WebhookState, 10),
        default=WebhookState.NONE,
        server_default=WebhookState.NONE.value,
        index=True,
    )
    webhook_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Snapshot(Base):
    """One cockpit figure on one day for the region (unit_id null) or one unit."""

    __tablename__ = "cockpit_snapshot"
    __table_args__ = (Index("ix_cockpit_snapshot_metric_day", "metric", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    unit_id: Mapped[int | None] = mapped_column(Integer)
    metric: Mapped[str] = mapped_column(String(40))
    value: Mapped[float] = mapped_column(Float)
