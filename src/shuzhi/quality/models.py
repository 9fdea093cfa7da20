"""Quality tables: rules per dataset, their results per version, and issues sent back to the
source unit (open → fixed → verified)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shuzhi.db.base import Base, StrEnumType, json_dict, json_list, utcnow


class RuleKind(StrEnum):
    NOT_NULL = "not_null"
    UNIQUE = "unique"
    PATTERN = "pattern"
    RANGE = "range"
    RESIDENT_ID = "resident_id"
    USCC = "uscc"
    ALLOWED_VALUES = "allowed_values"
    REFERENCE = "reference"
    FRESHNESS = "freshness"
    # Raised by a base library (masterdata) when a golden record shows this dataset's value
    # lost to another source's or failed its check; never defined by hand, never run on a load.
    CROSS_SOURCE = "cross_source"


class IssueStatus(StrEnum):
    OPEN = "open"
    FIXED = "fixed"
    VERIFIED = "verified"


class QualityRule(Base):
    """One check on one dataset (by resource code); ``params``: shape per kind."""

    __tablename__ = "quality_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_code: Mapped[str] = mapped_column(String(64), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    kind: Mapped[RuleKind] = mapped_column(StrEnumType(RuleKind, 20))
    column_name: Mapped[str | None] = mapped_column(String(200))
    params: Mapped[dict[str, Any]] = mapped_column(json_dict(), default=dict)
    weight: Mapped[float] = mapped_column(default=1.0)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QualityResult(Base):
    """What one rule found in one dataset version."""

    __tablename__ = "quality_result"
    __table_args__ = (
        UniqueConstraint("version_key", "rule_id", name="uq_quality_result_version_rule"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_code: Mapped[str] = mapped_column(String(64), index=True)
    version_key: Mapped[int] = mapped_column(Integer, index=True)  # lake version row id
    version_number: Mapped[int] = mapped_column(Integer)
    rule_id: Mapped[int] = mapped_column(ForeignKey("quality_rule.id", ondelete="CASCADE"))
    checked: Mapped[int] = mapped_column(Integer)
    failing: Mapped[int] = mapped_column(Integer)
    sample_json: Mapped[list[str]] = mapped_column(
        json_list(), default=list
    )  # masked failing values
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QualityIssue(Base):
    """A failing rule, assigned to the unit that supplies the data."""

    __tablename__ = "quality_issue"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_code: Mapped[str] = mapped_column(String(64), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("quality_rule.id", ondelete="CASCADE"))
    version_number: Mapped[int] = mapped_column(Integer)
    failing: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[IssueStatus] = mapped_column(
        StrEnumType(IssueStatus, 20), default=IssueStatus.OPEN, index=True
    )
    fixed_by: Mapped[str | None] = mapped_column(String(200))
    fixed_at: Mapped[datetime | None]
    fix_note: Mapped[str] = mapped_column(Text, default="")
    verified_by: Mapped[str | None] = mapped_column(String(200))
    verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
