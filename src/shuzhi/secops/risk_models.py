"""Risk register tables (docs/secops.md, Risk register): the questionnaire (items as data),
answers per subject, one register row per subject (its current assessment, whether a fact
changed since, who confirmed it last) and every assessment ever made (the history).

A *subject* is ``dataset:<resource code>`` or ``unit:<unit id>``. Like the other secops
tables, no foreign keys into other capabilities' tables.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shuzhi.db.base import Base, StrEnumType, json_dict, json_list, utcnow


class SubjectKind(StrEnum):
    DATASET = "dataset"
    UNIT = "unit"


class Answer(StrEnum):
    YES = "yes"  # the safeguard is in place
    NO = "no"  # it is not: the question's points count
    NOT_APPLICABLE = "not_applicable"


class RiskQuestion(Base):
    """One question of the questionnaire: what the platform cannot know by itself. A "no"
    adds ``points`` to the score; an unanswered question adds half of them."""

    __tablename__ = "secops_risk_question"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[SubjectKind] = mapped_column(StrEnumType(SubjectKind, 10))
    position: Mapped[int] = mapped_column(Integer, default=0)
    text_zh: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    points: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class RiskAnswer(Base):
    """The current answer of one subject to one question (earlier ones are in the audit log)."""

    __tablename__ = "secops_risk_answer"
    __table_args__ = (UniqueConstraint("subject", "question", name="uq_secops_risk_answer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(120), index=True)
    question: Mapped[str] = mapped_column(String(40))
    answer: Mapped[Answer] = mapped_column(StrEnumType(Answer, 20))
    note: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[str] = mapped_column(String(200))
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


class RiskSubject(Base):
    """The register: one row per subject with its current assessment. ``stale`` is set when
    a relevant fact changed (through the hook seam); the background run re-assesses it.
    ``reviewed_at`` is the last confirmation by a person, which the overdue rule reads."""

    __tablename__ = "secops_risk_subject"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[SubjectKind] = mapped_column(StrEnumType(SubjectKind, 10))
    unit_id: Mapped[int] = mapped_column(Integer, index=True)
    resource_code: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300), default="")
    current_id: Mapped[int | None] = mapped_column(Integer)
    score: Mapped[int] = mapped_column(Integer, default=0)
    level: Mapped[str] = mapped_column(String(20), default="low")
    important: Mapped[bool] = mapped_column(Boolean, default=False)
    assessed_at: Mapped[datetime | None]
    stale: Mapped[bool] = mapped_column(Boolean, default=True)
    stale_reason: Mapped[str] = mapped_column(String(60), default="")
    stale_since: Mapped[datetime | None]
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RiskAssessment(Base):
    """One assessment of a subject: the score, its level and the reasons (each factor with
    its points, bilingual text and evidence as counts), kept for the history."""

    __tablename__ = "secops_risk_assessment"
    __table_args__ = (Index("ix_secops_risk_assessment_subject", "subject", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(120))
    unit_id: Mapped[int] = mapped_column(Integer)
    score: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(20))
    important: Mapped[bool] = mapped_column(Boolean, default=False)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(json_list(), default=list)
    facts: Mapped[dict[str, Any]] = mapped_column(json_dict(sort_keys=True), default=dict)
    trigger: Mapped[str] = mapped_column(String(60), default="")
    assessed_by: Mapped[str] = mapped_column(String(200))
    assessed_at: Mapped[datetime] = mapped_column(default=utcnow)
