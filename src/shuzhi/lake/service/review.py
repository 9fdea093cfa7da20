"""Lake: reviewing versions (accept, reject) and classification overrides."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from shuzhi import hooks
from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import Conflict, Invalid
from shuzhi.lake import analysis
from shuzhi.lake.events import (
    ClassificationOverridden,
    DriftAccepted,
    DriftRejected,
)
from shuzhi.lake.models import ColumnOverride, Dataset
from shuzhi.lake.models import VersionStatus as S
from shuzhi.lake.schemas import VersionOut
from shuzhi.lake.service.common import version_files
from shuzhi.lake.service.ingest import _make_current, grade_version
from shuzhi.lake.service.reading import _dataset, _out, _stored, _version_row, column_overrides
from shuzhi.security.categories import Category
from shuzhi.validation import required_reason


def _pending(ctx: Ctx, resource_code: str, number: int, operation: str) -> tuple[Dataset, Any]:
    dataset = _dataset(ctx, resource_code)
    require(ctx, operation, dataset.unit_id, resource_code)
    row = _version_row(ctx, dataset, number)
    if row.status != S.PENDING_REVIEW:
        raise Conflict(
            f"第 {number} 版不在待审核状态。", f"Version {number} is not waiting for review."
        )
    return dataset, row


def accept_drift(ctx: Ctx, resource_code: str, number: int, note: str = "") -> VersionOut:
    """The unit CDO accepts a version whose columns differ from the catalogue: it goes live."""
    dataset, row = _pending(ctx, resource_code, number, "accept_drift")
    _make_current(ctx, dataset, row)
    row.reviewed_by, row.reviewed_at, row.review_note = ctx.actor.label, utcnow(), note.strip()
    ctx.db.flush()
    record(ctx, DriftAccepted(resource_code, dataset.unit_id, number, note.strip()))
    hooks.publish(ctx, hooks.VersionAccepted(resource_code, dataset.unit_id, number))
    return _out(ctx, dataset, row)


def reject_drift(ctx: Ctx, resource_code: str, number: int, note: str) -> VersionOut:
    """The unit CDO rejects the version; the previous current version stays current."""
    note = required_reason(note, "拒绝该版本", "Rejecting a version", field="note")
    dataset, row = _pending(ctx, resource_code, number, "reject_drift")
    row.status = S.REJECTED
    row.reviewed_by, row.reviewed_at, row.review_note = ctx.actor.label, utcnow(), note.strip()
    ctx.db.flush()
    record(ctx, DriftRejected(resource_code, dataset.unit_id, number, note.strip()))
    hooks.publish(ctx, hooks.VersionRejected(resource_code, dataset.unit_id, number))
    return _out(ctx, dataset, row)


def override_classification(
    ctx: Ctx, resource_code: str, column: str, category: str, note: str = ""
) -> VersionOut:
    """Confirm or correct a column's category. Every version is read with it from now on
    (``reading._hidden``: a masking category masks the column in all of them; one that masks
    nothing leaves masked what was masked at load) and every later load is classified with
    it. Only the current version's grade is derived again; what versions stored is kept."""
    dataset = _dataset(ctx, resource_code)
    require(ctx, "override_classification", dataset.unit_id, resource_code)
    try:
        chosen = Category(category)
    except ValueError:
        raise Invalid.field(
            "category", f"未知的类别 {category!r}。", f"Unknown category {category!r}."
        ) from None
    row = _version_row(ctx, dataset, None)
    found = next((c for c in _stored(row) if c.name == column), None)
    if found is None:
        raise Invalid.field("column", f"没有名为 {column} 的列。", f"No column named {column!r}.")
    existing = ctx.db.scalar(
        select(ColumnOverride).where(
            ColumnOverride.dataset_id == dataset.id, ColumnOverride.column_name == column
        )
    )
    if existing is None:
        existing = ColumnOverride(dataset_id=dataset.id, column_name=column)
        ctx.db.add(existing)
    existing.category, existing.note = chosen.value, note.strip()
    existing.decided_by, existing.decided_at = ctx.actor.label, utcnow()
    ctx.db.flush()
    updated = analysis.with_overrides(_stored(row), column_overrides(ctx, dataset))
    row.grade_json = grade_version(ctx, version_files(ctx, row), updated).model_dump(mode="json")
    ctx.db.flush()
    record(
        ctx,
        ClassificationOverridden(
            resource_code, dataset.unit_id, column, found.detected, chosen.value, note.strip()
        ),
    )
    hooks.publish(ctx, hooks.ClassificationChanged(resource_code, dataset.unit_id, column))
    return _out(ctx, dataset, row)
