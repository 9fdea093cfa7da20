"""Security operations tables: thresholds, per-subject tuning, alerts, containments,
incidents and their timelines, and the evaluator's claim row.

No foreign keys into other capabilities' tables: alerts and incidents are a record that
outlives the keys and grants they name, and the ``secops`` migration branch stays
independent.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shuzhi.db.base import Base, StrEnumType, json_list, utcnow


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"  # seen and being handled: still collects the attack's calls
    FALSE_POSITIVE = "false_positive"
    RESOLVED = "resolved"


class ContainmentKind(StrEnum):
    APPLICATION_KEY = "application_key"
    GRANT = "grant"
    PUBLICATION = "publication"  # an open dataset on the portal
    SANDBOX_GRANT = "sandbox_grant"  # a grant with the sandbox delivery mode
    AGREEMENT = "agreement"  # a market authorisation agreement (授权运营协议)


class IncidentStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Threshold(Base):
    """A rule's parameter as the bureau set it (defaults live in ``rules.RULES``)."""

    __tablename__ = "secops_threshold"
    __table_args__ = (UniqueConstraint("rule", "param", name="uq_secops_threshold"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(40))
    param: Mapped[str] = mapped_column(String(40))
    value: Mapped[float] = mapped_column(Float)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Tuning(Base):
    """A subject's own multiplier of a rule's thresholds, raised by each false positive."""

    __tablename__ = "secops_tuning"
    __table_args__ = (UniqueConstraint("rule", "subject", name="uq_secops_tuning"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(100))
    factor: Mapped[float] = mapped_column(Float, default=1.0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Alert(Base):
    """One finding of a rule about one subject; a running attack keeps one alert whose
    ``count`` and ``last_seen`` grow (``open_key`` is unique while it is open or
    acknowledged, so two evaluators cannot raise it twice)."""

    __tablename__ = "secops_alert"
    __table_args__ = (Index("ix_secops_alert_status_unit", "status", "unit_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(40))
    severity: Mapped[Severity] = mapped_column(StrEnumType(Severity, 10))
    subject: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[int | None] = mapped_column(Integer, index=True)
    status: Mapped[AlertStatus] = mapped_column(
        StrEnumType(AlertStatus, 20), default=AlertStatus.OPEN
    )
    open_key: Mapped[str | None] = mapped_column(String(150), unique=True)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer, default=0)
    measure: Mapped[float] = mapped_column(Float, default=0.0)
    threshold: Mapped[float] = mapped_column(Float, default=0.0)
    summary_zh: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(json_list(), default=list)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    acknowledged_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None]
    resolve_note: Mapped[str] = mapped_column(Text, default="")


class Incident(Base):
    """An incident (安全事件) or a drill (演练): the same workflow, marked as an exercise."""

    __tablename__ = "secops_incident"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int | None] = mapped_column(Integer, index=True)
    alert_id: Mapped[int | None] = mapped_column(Integer)
    drill: Mapped[bool] = mapped_column(Boolean, default=False)
    # From the alert's rule, or as given: sets the notification checklist's deadlines.
    severity: Mapped[Severity] = mapped_column(StrEnumType(Severity, 10), default=Severity.MEDIUM)
    status: Mapped[IncidentStatus] = mapped_column(
        StrEnumType(IncidentStatus, 10), default=IncidentStatus.OPEN, index=True
    )
    # The period the impact statement covers (from the alert's first call, or as given).
    window_start: Mapped[datetime]
    opened_by: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    review: Mapped[str] = mapped_column(Text, default="")
    closed_by: Mapped[str | None] = mapped_column(String(200))
    closed_at: Mapped[datetime | None]


class IncidentEvent(Base):
    """One line of an incident's timeline."""

    __tablename__ = "secops_incident_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(Integer, index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text, default="")


class Containment(Base):
    """A suspension of a key or grant (reversible; lifting restores exactly what it held)."""

    __tablename__ = "secops_containment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[ContainmentKind] = mapped_column(StrEnumType(ContainmentKind, 20))
    subject_id: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int | None] = mapped_column(Integer, index=True)
    incident_id: Mapped[int | None] = mapped_column(Integer, index=True)
    reason: Mapped[str] = mapped_column(Text)
    # "kind:id" while in force: one active containment per subject.
    active_key: Mapped[str | None] = mapped_column(String(60), unique=True)
    contained_by: Mapped[str] = mapped_column(String(200))
    contained_at: Mapped[datetime] = mapped_column(default=utcnow)
    lifted_by: Mapped[str | None] = mapped_column(String(200))
    lifted_at: Mapped[datetime | None]
    lift_reason: Mapped[str] = mapped_column(Text, default="")
    # An agreement's containment: the sharing grants it suspended (and lifting resumes).
    held: Mapped[list[Any]] = mapped_column(json_list(), default=list)


class Notification(Base):
    """One line of an incident's notification checklist: a party that must be told, by
    when (from the incident's severity and opening time), ticked off by whom and when."""

    __tablename__ = "secops_notification"
    __table_args__ = (UniqueConstraint("incident_id", "party", name="uq_secops_notification"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(Integer, index=True)
    party: Mapped[str] = mapped_column(String(40))
    due_at: Mapped[datetime]
    done_by: Mapped[str | None] = mapped_column(String(200))
    done_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")


class EvaluatorState(Base):
    """One row: when the rules last ran, claimed by one process at a time."""

    __tablename__ = "secops_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_run_at: Mapped[datetime]
