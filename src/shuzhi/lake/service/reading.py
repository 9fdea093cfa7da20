"""Lake: reading datasets and their versions."""

from __future__ import annotations

from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.context import Ctx
from shuzhi.errors import NotFound
from shuzhi.lake import analysis
from shuzhi.lake.events import (
    SampleViewed,
)
from shuzhi.lake.manifest import Version
from shuzhi.lake.models import ColumnOverride, Dataset, DatasetVersion
from shuzhi.lake.models import VersionStatus as S
from shuzhi.lake.readers import text_value
from shuzhi.lake.schemas import (
    ColumnClassification,
    ColumnOut,
    GradeOut,
    ProfileOut,
    RejectsOut,
    SampleRows,
    SchemaCheck,
    VersionBrief,
    VersionOut,
)
from shuzhi.lake.service.common import SAMPLE_ROWS_MAX, query_engine, version_files
from shuzhi.org import service as org
from shuzhi.security.categories import Category

# Every load is checked by quality control; a version without a score is one whose dataset
# had no quality rules (quality control stores no score then, rather than 100).
NO_SCORE = "no_rules"


def _dataset(ctx: Ctx, resource_code: str) -> Dataset:
    found = ctx.db.scalar(select(Dataset).where(Dataset.resource_code == resource_code.strip()))
    if found is None:
        raise NotFound(
            f"目录 {resource_code} 尚未归集数据。",
            f"No data has been loaded for entry {resource_code} yet.",
        )
    return found


def _version_row(ctx: Ctx, dataset: Dataset, number: int | None) -> DatasetVersion:
    query = select(DatasetVersion).where(DatasetVersion.dataset_id == dataset.id)
    if number is None:
        current = ctx.db.scalar(query.where(DatasetVersion.status == S.CURRENT))
        row = current or ctx.db.scalar(query.order_by(DatasetVersion.number.desc()).limit(1))
    else:
        row = ctx.db.scalar(query.where(DatasetVersion.number == number))
    if row is None:
        raise NotFound(
            f"数据集 {dataset.resource_code} 没有该版本。",
            f"Dataset {dataset.resource_code} has no such version.",
        )
    return row


def column_overrides(ctx: Ctx, dataset: Dataset | None) -> dict[str, tuple[str, str]]:
    """People's decisions on the dataset's columns: column → (category, decided_by)."""
    if dataset is None:
        return {}
    rows = ctx.db.scalars(select(ColumnOverride).where(ColumnOverride.dataset_id == dataset.id))
    return {r.column_name: (r.category, r.decided_by) for r in rows}


def _stored(row: DatasetVersion) -> list[ColumnClassification]:
    """The classification found when the version was loaded (overrides of that time included)."""
    return [ColumnClassification.model_validate(c) for c in row.classification_json]


def _hidden(
    ctx: Ctx, dataset: Dataset, row: DatasetVersion, overrides: dict[str, tuple[str, str]]
) -> dict[str, Category]:
    """Which columns of a version every reader sees masked, decided when it is read: those
    masked at its load and those the dataset's categories mask now — its current version's
    classification (the newest version's while none is current) with the overrides applied.
    An override or a stricter classification of a later load reaches every version at once."""
    latest = _version_row(ctx, dataset, None)
    decided = {c.name: Category(c.category) for c in _stored(latest)}
    decided.update((name, Category(category)) for name, (category, _who) in overrides.items())
    return analysis.version_hidden(_stored(row), decided)


def hidden_columns_of(ctx: Ctx, resource_code: str, number: int) -> dict[str, Category]:
    """For other capabilities' services: the columns of a version shown masked and the
    category whose mask applies (see ``_hidden``); the caller checked the permission."""
    dataset = _dataset(ctx, resource_code)
    row = _version_row(ctx, dataset, number)
    return _hidden(ctx, dataset, row, column_overrides(ctx, dataset))


def _out(ctx: Ctx, dataset: Dataset, row: DatasetVersion) -> VersionOut:
    brief = org.unit_brief(ctx, dataset.unit_id)
    overrides = column_overrides(ctx, dataset)
    profile = ProfileOut.model_validate(row.profile_json)
    return VersionOut(
        resource_code=dataset.resource_code,
        dataset_name=dataset.name,
        unit_code=brief.code if brief else "",
        number=row.number,
        version_id=row.lake_version_id,
        status=S(row.status),
        row_count=row.row_count,
        content_hash=row.content_hash,
        columns=[ColumnOut.model_validate(c) for c in row.schema_json],
        source=row.source_json,
        rejects=RejectsOut.model_validate(row.rejects_json),
        schema_check=SchemaCheck.model_validate(row.schema_check_json),
        profile=analysis.mask_profile(profile, _hidden(ctx, dataset, row, overrides)),
        classification=analysis.with_overrides(_stored(row), overrides),
        grade=GradeOut.model_validate(row.grade_json) if row.grade_json else None,
        quality_score=row.quality_score,
        quality_score_reason=NO_SCORE if row.quality_score is None else None,
        created_by=row.created_by,
        created_at=row.created_at,
        reviewed_by=row.reviewed_by,
        reviewed_at=row.reviewed_at,
        review_note=row.review_note,
    )


def list_dataset_versions(ctx: Ctx, resource_code: str) -> list[VersionBrief]:
    """Every version of a dataset, newest first."""
    dataset = _dataset(ctx, resource_code)
    require(ctx, "view_datasets", dataset.unit_id, resource_code)
    rows = ctx.db.scalars(
        select(DatasetVersion)
        .where(DatasetVersion.dataset_id == dataset.id)
        .order_by(DatasetVersion.number.desc())
    )
    return [
        VersionBrief(
            resource_code=dataset.resource_code,
            number=r.number,
            status=S(r.status),
            row_count=r.row_count,
            content_hash=r.content_hash,
            quality_score=r.quality_score,
            quality_score_reason=NO_SCORE if r.quality_score is None else None,
            drift=SchemaCheck.model_validate(r.schema_check_json).drift,
            created_by=r.created_by,
            created_at=r.created_at,
        )
        for r in rows
    ]


def get_dataset_version(ctx: Ctx, resource_code: str, number: int | None = None) -> VersionOut:
    """One version (``None``: the current one, or the newest if none is current yet)."""
    dataset = _dataset(ctx, resource_code)
    require(ctx, "view_datasets", dataset.unit_id, resource_code)
    return _out(ctx, dataset, _version_row(ctx, dataset, number))


def current_version(ctx: Ctx, resource_code: str) -> tuple[VersionOut, Version] | None:
    """For other capabilities' services: the current version and its files, if any."""
    dataset = ctx.db.scalar(select(Dataset).where(Dataset.resource_code == resource_code))
    if dataset is None:
        return None
    row = ctx.db.scalar(
        select(DatasetVersion).where(
            DatasetVersion.dataset_id == dataset.id, DatasetVersion.status == S.CURRENT
        )
    )
    if row is None:
        return None
    return _out(ctx, dataset, row), version_files(ctx, row)


def version_of(ctx: Ctx, resource_code: str, number: int) -> Version | None:
    """For other capabilities' services: the files of one version by number, if any."""
    row = ctx.db.scalar(
        select(DatasetVersion)
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(Dataset.resource_code == resource_code, DatasetVersion.number == number)
    )
    return version_files(ctx, row) if row is not None else None


def sample_rows(ctx: Ctx, resource_code: str, number: int, limit: int = 20) -> SampleRows:
    """The first rows of a version with sensitive columns masked (a data access: audited)."""
    dataset = _dataset(ctx, resource_code)
    require(ctx, "view_dataset_rows", dataset.unit_id, resource_code)
    row = _version_row(ctx, dataset, number)
    version = version_files(ctx, row)
    hidden = _hidden(ctx, dataset, row, column_overrides(ctx, dataset))
    limit = max(1, min(limit, SAMPLE_ROWS_MAX))
    names = [c.name for c in version.columns]
    rows: list[list[str | None]] = []
    for batch in query_engine(ctx).scan(version, limit=limit):
        for item in batch.to_pylist():
            values = []
            for name in names:
                value = text_value(item[name])
                if value is not None and name in hidden:
                    value = analysis.mask_value(value, hidden[name])
                values.append(value)
            rows.append(values)
    record(ctx, SampleViewed(resource_code, dataset.unit_id, row.number, len(rows)))
    return SampleRows(columns=names, rows=rows, masked_columns=sorted(hidden))


def update_cycle_of(ctx: Ctx, resource_code: str) -> str:
    """For the quality service: the update-cycle code the dataset was last loaded under."""
    cycle = ctx.db.scalar(
        select(Dataset.update_cycle).where(Dataset.resource_code == resource_code)
    )
    return cycle or ""


def current_scores(ctx: Ctx) -> list[tuple[str, int, int, float | None]]:
    """For the quality service: (resource code, unit id, number, score) of current versions."""
    rows = ctx.db.execute(
        select(
            Dataset.resource_code,
            Dataset.unit_id,
            DatasetVersion.number,
            DatasetVersion.quality_score,
        )
        .join(DatasetVersion, DatasetVersion.dataset_id == Dataset.id)
        .where(DatasetVersion.status == S.CURRENT)
        .order_by(Dataset.resource_code)
    ).all()
    return [(str(c), int(u), int(n), s) for c, u, n, s in rows]
