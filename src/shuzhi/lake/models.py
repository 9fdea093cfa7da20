"""Lake metadata: one dataset per catalogue entry, its immutable versions, people's
classification overrides and stored source definitions for scheduled pulls.

The Parquet files and manifests on disk are the data; these rows say which version is
current, what was found in it and who decided what.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, TypedDict

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shuzhi.db.base import Base, StrEnumType, json_dict, json_list, utcnow


class VersionStatus(StrEnum):
    CURRENT = "current"
    SUPERSEDED = "superseded"
    REJECTED = "rejected"
    PENDING_REVIEW = "pending_review"


class StoredColumn(TypedDict):
    name: str
    type: str
    source_name: str


class Dataset(Base):
    """The aggregated data of one catalogue entry (addressed by its resource code)."""

    __tablename__ = "lake_dataset"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    update_cycle: Mapped[str] = mapped_column(String(10), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DatasetVersion(Base):
    """One immutable load; JSON columns hold what the analysis found at load time."""

    __tablename__ = "lake_version"
    __table_args__ = (
        UniqueConstraint("dataset_id", "number", name="uq_lake_version_dataset_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("lake_dataset.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    lake_version_id: Mapped[str] = mapped_column(String(40))
    manifest_path: Mapped[str] = mapped_column(Text)
    schema_json: Mapped[list[StoredColumn]] = mapped_column(json_list())
    row_count: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    source_json: Mapped[dict[str, Any]] = mapped_column(json_dict())
    rejects_json: Mapped[dict[str, Any]] = mapped_column(json_dict())
    # The analysis models as JSON: SchemaCheck, ProfileOut, [ColumnClassification], GradeOut
    # (``{}`` when not graded).
    schema_check_json: Mapped[dict[str, Any]] = mapped_column(json_dict(compact=True), default=dict)
    profile_json: Mapped[dict[str, Any]] = mapped_column(json_dict(compact=True), default=dict)
    classification_json: Mapped[list[dict[str, Any]]] = mapped_column(json_list(), default=list)
    grade_json: Mapped[dict[str, Any]] = mapped_column(json_dict(compact=True), default=dict)
    quality_score: Mapped[float | None]
    status: Mapped[VersionStatus] = mapped_column(StrEnumType(VersionStatus, 20), index=True)
    review_note: Mapped[str] = mapped_column(Text, default="")
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ColumnOverride(Base):
    """A person's decision on a column's category; applies to every later load."""

    __tablename__ = "lake_column_override"
    __table_args__ = (
        UniqueConstraint("dataset_id", "column_name", name="uq_lake_column_override_column"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("lake_dataset.id", ondelete="CASCADE"), index=True
    )
    column_name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)


class SourceDefinition(Base):
    """A database table or query pulled on a schedule into a dataset."""

    __tablename__ = "lake_source"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("lake_dataset.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    # The connection URL with its password masked, for display and the audit log.
    url: Mapped[str] = mapped_column(Text)
    # The full URL, needed to connect, sealed by ``lake.credentials`` (never stored in clear).
    url_sealed: Mapped[str] = mapped_column(Text, default="")
    table_name: Mapped[str | None] = mapped_column(String(200))
    query: Mapped[str | None] = mapped_column(Text)
    schedule: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    last_run_at: Mapped[datetime | None]
    last_outcome: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
