"""Assessment tables: models as versioned data (domains, items, indicators), rounds with the
model snapshot they started with, the units' answers and documents, and improvement plans."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shuzhi.db.base import Base, StrEnumType, json_dict, json_list, utcnow


class Evidence(StrEnum):
    """How an indicator is evidenced."""

    PLATFORM = "platform"
    DOCUMENT = "document"
    ATTESTATION = "attestation"


class ModelKind(StrEnum):
    NATIONAL = "national"
    LOCAL = "local"


class RoundStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class AnswerState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"


class Verdict(StrEnum):
    PASS = "pass"
    PARTIAL = "partial"
    FAIL = "fail"


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


class AssessModel(Base):
    """An assessment model (DCMM 2018, DCMM 2025 or a local scheme). ``revision`` grows with
    every edit; a round keeps the snapshot of the revision it opened with."""

    __tablename__ = "assess_model"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    edition: Mapped[str] = mapped_column(String(20))
    kind: Mapped[ModelKind] = mapped_column(StrEnumType(ModelKind, 20))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # Level names [[zh, en] × 5]; lower bounds of the score bands of levels 1..5.
    levels: Mapped[list[Any]] = mapped_column(json_list(), default=list)
    bands: Mapped[list[Any]] = mapped_column(json_list(), default=list)
    # Credit of a platform indicator that is "partial" (0: no partial credit).
    partial_credit: Mapped[float] = mapped_column(Float, default=0.5)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AssessDomain(Base):
    __tablename__ = "assess_domain"
    __table_args__ = (UniqueConstraint("model_id", "code", name="uq_assess_domain_model_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(
        ForeignKey("assess_model.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    weight: Mapped[float] = mapped_column(Float)


class AssessItem(Base):
    __tablename__ = "assess_item"
    __table_args__ = (UniqueConstraint("model_id", "code", name="uq_assess_item_model_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(
        ForeignKey("assess_model.id", ondelete="CASCADE"), index=True
    )
    domain_id: Mapped[int] = mapped_column(ForeignKey("assess_domain.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    weight: Mapped[float] = mapped_column(Float)


class AssessIndicator(Base):
    """One indicator of an item at one level, in the project's own words."""

    __tablename__ = "assess_indicator"
    __table_args__ = (UniqueConstraint("model_id", "code", name="uq_assess_indicator_model_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(
        ForeignKey("assess_model.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("assess_item.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(120))
    level: Mapped[int] = mapped_column(Integer)
    evidence: Mapped[Evidence] = mapped_column(StrEnumType(Evidence, 20))
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    window_days: Mapped[int] = mapped_column(Integer, default=90)
    probe: Mapped[str | None] = mapped_column(String(60))
    threshold: Mapped[float | None] = mapped_column(Float)
    partial_at: Mapped[float | None] = mapped_column(Float)
    text_zh: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)


class AssessRound(Base):
    """An assessment round: one model revision (its snapshot), units, period and deadline."""

    __tablename__ = "assess_round"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    model_code: Mapped[str] = mapped_column(String(40))
    model_revision: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]] = mapped_column(json_dict(), default=dict)
    period_start: Mapped[date]
    period_end: Mapped[date]
    deadline: Mapped[date]
    status: Mapped[RoundStatus] = mapped_column(
        StrEnumType(RoundStatus, 20), default=RoundStatus.OPEN
    )
    opened_by: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]


class AssessRoundUnit(Base):
    """A unit assessed in a round, and the unit whose CDO reviews its evidence."""

    __tablename__ = "assess_round_unit"
    __table_args__ = (UniqueConstraint("round_id", "unit_id", name="uq_assess_round_unit"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("assess_round.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    reviewer_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))


class AssessAnswer(Base):
    """A unit's answer to one indicator in one round (platform answers are measured)."""

    __tablename__ = "assess_answer"
    __table_args__ = (
        UniqueConstraint("round_id", "unit_id", "indicator", name="uq_assess_answer_indicator"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("assess_round.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    indicator: Mapped[str] = mapped_column(String(120))
    evidence: Mapped[Evidence] = mapped_column(StrEnumType(Evidence, 20))
    state: Mapped[AnswerState] = mapped_column(
        StrEnumType(AnswerState, 20), default=AnswerState.DRAFT
    )
    met: Mapped[bool] = mapped_column(default=False)
    statement: Mapped[str] = mapped_column(Text, default="")
    # Platform measurement: value, verdict, and the category figures and links it looked at.
    value: Mapped[float | None] = mapped_column(Float)
    verdict: Mapped[Verdict | None] = mapped_column(StrEnumType(Verdict, 20))
    details: Mapped[dict[str, Any]] = mapped_column(json_dict(), default=dict)
    provided_by: Mapped[str] = mapped_column(String(200))
    provided_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None]
    review_reason: Mapped[str] = mapped_column(Text, default="")


class AssessDocument(Base):
    """A document attached to an answer; the file lives under the data directory by digest."""

    __tablename__ = "assess_document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    answer_id: Mapped[int] = mapped_column(
        ForeignKey("assess_answer.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class AssessAction(Base):
    """One action of a unit's improvement plan (usually closing a gap to the next level)."""

    __tablename__ = "assess_action"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("assess_round.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    indicator: Mapped[str | None] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    owner: Mapped[str] = mapped_column(String(100))
    due_on: Mapped[date]
    status: Mapped[ActionStatus] = mapped_column(
        StrEnumType(ActionStatus, 20), default=ActionStatus.OPEN
    )
    note: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
