"""IT projects, the data sets each declares, and every gate check made on them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shuzhi.db.base import Base, StrEnumType, json_list, utcnow


class ProjectStatus(StrEnum):
    PROPOSED = "proposed"  # 申报
    APPROVED = "approved"  # 已立项
    ACCEPTED = "accepted"  # 已验收


class GateStage(StrEnum):
    APPROVAL = "approval"  # 立项审批
    ACCEPTANCE = "acceptance"  # 竣工验收


class GateOutcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    # Every check that can be made passed, but some cannot be made yet (e.g. aggregation).
    INCOMPLETE = "incomplete"


class FindingStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_CHECKABLE = "not_checkable"


class ItProject(Base):
    __tablename__ = "catalog_project"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    budget_yuan: Mapped[int] = mapped_column(BigInteger, default=0)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ProjectStatus] = mapped_column(
        StrEnumType(ProjectStatus, 20), default=ProjectStatus.PROPOSED, index=True
    )
    approval_date: Mapped[date | None] = mapped_column(Date)
    acceptance_date: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ProjectDataset(Base):
    """A data set the project produces: a catalogue entry by code, or by name until coded."""

    __tablename__ = "catalog_project_dataset"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_project.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    resource_code: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(String(200), default="")


class GateCheck(Base):
    """One run of the gate, kept as evidence (newest last)."""

    __tablename__ = "catalog_project_gate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_project.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[GateStage] = mapped_column(StrEnumType(GateStage, 20))
    outcome: Mapped[GateOutcome] = mapped_column(StrEnumType(GateOutcome, 20))
    findings: Mapped[list[dict[str, Any]]] = mapped_column(json_list())  # Finding list
    checked_by: Mapped[str] = mapped_column(String(200))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
