"""Sandbox tables: the terms of sandbox grants, and every query asked (with the datasets
it touched, for the providers' view and the differencing defence)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shuzhi.db.base import Base, StrEnumType, json_dict, utcnow


class QueryStatus(StrEnum):
    DONE = "done"
    REFUSED = "refused"


class SandboxTerms(Base):
    """The sandbox terms of one share request: asked for, and as decided (the grant's)."""

    __tablename__ = "sandbox_terms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(Integer, unique=True)
    resource_code: Mapped[str] = mapped_column(String(64), index=True)
    application_id: Mapped[int] = mapped_column(Integer, index=True)
    consumer_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    provider_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    requested: Mapped[dict[str, Any]] = mapped_column(json_dict())
    # Set by the decision; a grant issued without sandbox terms (decided elsewhere) runs on
    # the requested ones, which the approval granted as asked.
    granted: Mapped[dict[str, Any] | None] = mapped_column(json_dict(), nullable=True)
    grant_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]


class SandboxQuery(Base):
    """One query asked in the sandbox (answered or refused)."""

    __tablename__ = "sandbox_query"
    __table_args__ = (Index("ix_sandbox_query_analyst", "analyst", "signature", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "app:<id>" for an application key, "unit:<id>" for a console session of the unit.
    analyst: Mapped[str] = mapped_column(String(40))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(200))
    sql: Mapped[str] = mapped_column(Text)
    status: Mapped[QueryStatus] = mapped_column(StrEnumType(QueryStatus, 10))
    rule: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    plan: Mapped[dict[str, Any]] = mapped_column(json_dict(), default=dict)
    # The datasets and joins (``CheckedQuery.signature``) and the built filter: what the
    # differencing defence compares later queries with.
    signature: Mapped[str | None] = mapped_column(Text)
    filter_sql: Mapped[str | None] = mapped_column(Text)
    rows_released: Mapped[int] = mapped_column(Integer, default=0)
    suppressed: Mapped[int] = mapped_column(Integer, default=0)
    k: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SandboxQueryDataset(Base):
    """A dataset a query named (its provider sees the query)."""

    __tablename__ = "sandbox_query_dataset"

    query_id: Mapped[int] = mapped_column(
        ForeignKey("sandbox_query.id", ondelete="CASCADE"), primary_key=True
    )
    resource_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    grant_id: Mapped[int] = mapped_column(Integer)


class SandboxBudget(Base):
    """What one analyst has spent of one grant's differential-privacy budget.

    Charged with a conditional UPDATE that adds a query's cost only while the total stays
    within the budget, so two queries at once cannot overspend it.
    """

    __tablename__ = "sandbox_budget"
    __table_args__ = (UniqueConstraint("analyst", "grant_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    analyst: Mapped[str] = mapped_column(String(40))
    grant_id: Mapped[int] = mapped_column(Integer, index=True)
    resource_code: Mapped[str] = mapped_column(String(64))
    epsilon_spent: Mapped[float] = mapped_column(Float, default=0.0)
    delta_spent: Mapped[float] = mapped_column(Float, default=0.0)
    queries: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


# ---- releases ---------------------------------------------------------------------------


class ReleaseStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class ReleaseTarget(StrEnum):
    """Where a released result goes."""

    DOWNLOAD = "download"  # a CSV/XLSX file
    PORTAL = "portal"  # publication on the open-data portal
    DATA_PRODUCT = "data_product"  # input to a data product


class SandboxResult(Base):
    """An answer exactly as released to the analyst (what a release request takes out)."""

    __tablename__ = "sandbox_result"

    query_id: Mapped[int] = mapped_column(
        ForeignKey("sandbox_query.id", ondelete="CASCADE"), primary_key=True
    )
    answer: Mapped[dict[str, Any]] = mapped_column(json_dict())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SandboxTemplate(Base):
    """A parameterised query a provider unit pre-approved: run within its parameters, its
    answer is released without review."""

    __tablename__ = "sandbox_template"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    sql: Mapped[str] = mapped_column(Text)
    # Parameter name -> the values the provider allows (each a text or a number).
    parameters: Mapped[dict[str, Any]] = mapped_column(json_dict())
    targets: Mapped[dict[str, Any]] = mapped_column(json_dict())  # {"targets": [...]}
    created_by: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SandboxRelease(Base):
    """A request to take one answered query's figures out of the sandbox."""

    __tablename__ = "sandbox_release"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    query_id: Mapped[int] = mapped_column(ForeignKey("sandbox_query.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    target: Mapped[ReleaseTarget] = mapped_column(StrEnumType(ReleaseTarget, 20))
    figures: Mapped[dict[str, Any]] = mapped_column(json_dict())  # {"columns", "rows", ...}
    status: Mapped[ReleaseStatus] = mapped_column(StrEnumType(ReleaseStatus, 10), index=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("sandbox_template.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]


class SandboxReleaseReview(Base):
    """One provider unit's part of a release: every provider must approve."""

    __tablename__ = "sandbox_release_review"

    release_id: Mapped[int] = mapped_column(
        ForeignKey("sandbox_release.id", ondelete="CASCADE"), primary_key=True
    )
    provider_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    status: Mapped[ReleaseStatus] = mapped_column(StrEnumType(ReleaseStatus, 10))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
