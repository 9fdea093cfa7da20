"""Aggregation (归集): load a source into a catalogue entry's dataset as a new version, find
what is in it, and decide which version is current.

A load runs the lake engine (``writer.write_version``: atomic, rejects counted), then profiles,
classifies and checks the version through the query engine, compares its columns with the
entry's data items and runs the dataset's quality rules. A version whose columns drifted from
the catalogue waits for the unit CDO (pending_review); otherwise it becomes current and the
previous current version is superseded. Loading the same content again changes nothing.
A failed load leaves the previous version current, writes nothing and is audited.
"""

from __future__ import annotations

import json
import shutil
import uuid
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import case, func, select

from shuzhi import hooks
from shuzhi.audit.service import record
from shuzhi.auth.permissions import allowed, require, scope_unit
from shuzhi.catalog import codes as catalog_codes
from shuzhi.catalog import service as catalog
from shuzhi.context import Actor, Ctx, unit_of_work
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Invalid, NotFound, ShuzhiError
from shuzhi.lake import analysis, credentials
from shuzhi.lake.events import (
    ClassificationOverridden,
    DriftAccepted,
    DriftRejected,
    IngestFailed,
    IngestUnchanged,
    SampleViewed,
    SourceDefined,
    VersionIngested,
)
from shuzhi.lake.manifest import Version, load_version
from shuzhi.lake.models import ColumnOverride, Dataset, DatasetVersion, SourceDefinition
from shuzhi.lake.models import VersionStatus as S
from shuzhi.lake.query import DuckDBEngine
from shuzhi.lake.readers import DatabaseSource, FileSource, Source, text_value
from shuzhi.lake.schedule import parse_schedule
from shuzhi.lake.schemas import (
    ColumnClassification,
    ColumnOut,
    DatasetOverview,
    FreshnessReport,
    FreshnessRow,
    FreshnessState,
    GradeOut,
    IngestOut,
    ProfileOut,
    RejectsOut,
    SampleRows,
    SchemaCheck,
    SourceIn,
    SourceOut,
    SourceRun,
    UnitFreshness,
    VersionBrief,
    VersionDetail,
    VersionOut,
)
from shuzhi.lake.worker import WorkerLimits, load_in_worker
from shuzhi.lake.writer import LoadOptions
from shuzhi.org import service as org
from shuzhi.security.categories import Category
from shuzhi.security.classifier import SAMPLE_LIMIT

DATASETS_DIR = "datasets"
UPLOADS_DIR = "uploads"
SAMPLE_ROWS_MAX = 200
# Catalogue update-cycle codes → how old the newest load may be (None: no promise).
CYCLE_PERIODS: dict[str, timedelta | None] = {
    "1": timedelta(days=1),  # 实时: a real-time feed should have loaded within a day
    "2": timedelta(days=1),
    "3": timedelta(days=7),
    "4": timedelta(days=31),
    "5": timedelta(days=92),
    "6": timedelta(days=366),
    "7": timedelta(days=183),
    "8": None,
}
GRACE = timedelta(hours=12)

_ENGINES: weakref.WeakKeyDictionary[Database, DuckDBEngine] = weakref.WeakKeyDictionary()
Progress = Callable[[str], None]


# ---------------------------------------------------------------- engine and paths


def lake_root(ctx: Ctx) -> Path:
    return ctx.settings.data_dir.resolve() / DATASETS_DIR


def open_engine(database: Database) -> DuckDBEngine:
    """The query engine of an app or a CLI run: one per database, created on first use."""
    engine = _ENGINES.get(database)
    if engine is None:
        root = database.settings.data_dir.resolve() / DATASETS_DIR
        root.mkdir(parents=True, exist_ok=True)
        engine = DuckDBEngine(root)
        _ENGINES[database] = engine
    return engine


def close_engine(database: Database) -> None:
    engine = _ENGINES.pop(database, None)
    if engine is not None:
        engine.close()


def query_engine(ctx: Ctx) -> DuckDBEngine:
    return open_engine(ctx.database)


def _dataset_dir(ctx: Ctx, resource_code: str) -> Path:
    root = lake_root(ctx)
    directory = (root / resource_code).resolve()
    if not directory.is_relative_to(root) or directory == root:
        raise Invalid.field("resource_code", "目录代码不合法。", "Invalid resource code.")
    return directory


def safe_url(url: str) -> str:
    """A database URL with its password hidden (for display and the audit log)."""
    return credentials.mask_url(url)


def describe_source(source: Source) -> str:
    """A one-line description safe for the audit log (never a password)."""
    if isinstance(source, FileSource):
        return f"file:{source.path.name}"
    what = f"table {source.table}" if source.table else "query"
    return f"database:{safe_url(source.url)} {what}"


# ---------------------------------------------------------------- reading


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


def _out(ctx: Ctx, dataset: Dataset, row: DatasetVersion) -> VersionOut:
    brief = org.unit_brief(ctx, dataset.unit_id)
    grade = json.loads(row.grade_json)
    rejects = json.loads(row.rejects_json)
    return VersionOut(
        resource_code=dataset.resource_code,
        dataset_name=dataset.name,
        unit_code=brief.code if brief else "",
        number=row.number,
        version_id=row.lake_version_id,
        status=S(row.status),
        row_count=row.row_count,
        content_hash=row.content_hash,
        columns=[ColumnOut(**c) for c in json.loads(row.schema_json)],
        source=json.loads(row.source_json),
        rejects=RejectsOut(**{k: v for k, v in rejects.items() if k != "file"}),
        schema_check=SchemaCheck.model_validate_json(row.schema_check_json),
        profile=ProfileOut.model_validate_json(row.profile_json),
        classification=[
            ColumnClassification.model_validate(c) for c in json.loads(row.classification_json)
        ],
        grade=GradeOut.model_validate(grade) if grade else None,
        quality_score=row.quality_score,
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
            drift=SchemaCheck.model_validate_json(r.schema_check_json).drift,
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
    return _out(ctx, dataset, row), load_version(Path(row.manifest_path))


def sample_rows(ctx: Ctx, resource_code: str, number: int, limit: int = 20) -> SampleRows:
    """The first rows of a version with sensitive columns masked (a data access: audited)."""
    dataset = _dataset(ctx, resource_code)
    require(ctx, "view_dataset_rows", dataset.unit_id, resource_code)
    row = _version_row(ctx, dataset, number)
    version = load_version(Path(row.manifest_path))
    classification = [
        ColumnClassification.model_validate(c) for c in json.loads(row.classification_json)
    ]
    hidden = analysis.hidden_columns(classification)
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


# ---------------------------------------------------------------- ingest


@dataclass(frozen=True)
class IngestOptions:
    max_reject_ratio: float = 0.01


def entry_facts(ctx: Ctx, resource_code: str) -> tuple[int, str, str, list[tuple[str, str]]]:
    """(unit id, name, update-cycle code, [(item name, type code)]) of a catalogue entry."""
    entry = catalog.get_entry(ctx, resource_code)
    unit_id = org.unit_id_for_code(ctx, entry.unit_code)
    if unit_id is None:  # pragma: no cover - entries always belong to a unit
        raise NotFound("单位不存在。", "Unit not found.")
    items = [(i.name, i.data_type) for i in entry.items]
    return unit_id, entry.name, entry.update_cycle, items


def _ensure_dataset(ctx: Ctx, resource_code: str, unit_id: int, name: str, cycle: str) -> Dataset:
    dataset = ctx.db.scalar(select(Dataset).where(Dataset.resource_code == resource_code))
    if dataset is None:
        dataset = Dataset(resource_code=resource_code, name=name, unit_id=unit_id)
        ctx.db.add(dataset)
    dataset.name, dataset.unit_id, dataset.update_cycle = name, unit_id, cycle
    ctx.db.flush()
    return dataset


def _discard(version: Version) -> None:
    """Remove a version's files, manifest first, so it stops existing before its data goes."""
    version.manifest_path.unlink(missing_ok=True)
    version.data_path.unlink(missing_ok=True)
    if version.rejects_path is not None:
        version.rejects_path.unlink(missing_ok=True)


def _on_failure(err: ShuzhiError, event: IngestFailed) -> None:
    """Keep an audit record of the failed load after the unit of work rolls back."""
    previous = err.after_rollback

    def hook(ctx: Any) -> None:
        if previous is not None:
            previous(ctx)
        record(ctx, event, outcome="failed")

    err.after_rollback = hook


def _load(
    source: Source, directory: Path, options: LoadOptions, limits: WorkerLimits
) -> tuple[Version, bool]:
    """The one way a source is read: in a worker process, within time and memory limits."""
    result = load_in_worker(source, directory, options, limits)
    return result.version, result.duplicate


def _samples(ctx: Ctx, version: Version) -> dict[str, list[str | None]]:
    names = [c.name for c in version.columns]
    values: dict[str, list[str | None]] = {n: [] for n in names}
    for batch in query_engine(ctx).scan(version, limit=SAMPLE_LIMIT):
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            values[name].extend(text_value(v) for v in column.to_pylist())
    return values


def _overrides(ctx: Ctx, dataset: Dataset) -> dict[str, tuple[str, str]]:
    rows = ctx.db.scalars(select(ColumnOverride).where(ColumnOverride.dataset_id == dataset.id))
    return {r.column_name: (r.category, r.decided_by) for r in rows}


def _analyse(
    ctx: Ctx,
    dataset: Dataset,
    version: Version,
    items: list[tuple[str, str]],
    progress: Progress,
) -> tuple[SchemaCheck, ProfileOut, list[ColumnClassification], GradeOut]:
    engine = query_engine(ctx)
    progress("profile")
    profile = engine.profile(version)
    progress("classify")
    classification = analysis.classify(_samples(ctx, version), _overrides(ctx, dataset))
    hidden = analysis.hidden_columns(classification)
    check = analysis.check_schema(
        items,
        [(c.name, c.source_name) for c in version.columns],
        {c.name: c.inferred_type for c in profile.columns},
    )
    grade = analysis.grade(classification, version.row_count, ctx.settings.grading_scheme)
    return check, analysis.masked_profile(profile, hidden), classification, grade


def _make_current(ctx: Ctx, dataset: Dataset, row: DatasetVersion) -> None:
    for other in ctx.db.scalars(
        select(DatasetVersion).where(
            DatasetVersion.dataset_id == dataset.id,
            DatasetVersion.status == S.CURRENT,
            DatasetVersion.id != row.id,
        )
    ):
        other.status = S.SUPERSEDED
    row.status = S.CURRENT


def _register(
    ctx: Ctx,
    dataset: Dataset,
    version: Version,
    items: list[tuple[str, str]],
    progress: Progress,
) -> DatasetVersion:
    # Quality control plans its rules now; they read only the lake, so they run beside
    # profiling and classification (DuckDB and Arrow release the interpreter lock), and
    # their results are stored once the row exists (subscriber: quality.service).
    written = hooks.VersionWritten(dataset.resource_code, dataset.unit_id, version)
    hooks.publish(ctx, written)
    with ThreadPoolExecutor(max(1, len(written.alongside)), "shuzhi-alongside") as pool:
        started = [pool.submit(work) for work in written.alongside]
        check, profile, classification, grade = _analyse(ctx, dataset, version, items, progress)
        progress("quality")
        finishers = [future.result() for future in started]
    row = DatasetVersion(
        dataset_id=dataset.id,
        number=version.sequence,
        lake_version_id=version.version_id,
        manifest_path=str(version.manifest_path),
        schema_json=json.dumps([c.__dict__ for c in version.columns], ensure_ascii=False),
        row_count=version.row_count,
        content_hash=version.content_hash,
        source_json=json.dumps(version.source, ensure_ascii=False, default=str),
        rejects_json=json.dumps(version.rejects.__dict__, ensure_ascii=False),
        schema_check_json=check.model_dump_json(),
        profile_json=profile.model_dump_json(),
        classification_json=json.dumps(
            [c.model_dump(mode="json") for c in classification], ensure_ascii=False
        ),
        grade_json=grade.model_dump_json(),
        status=S.PENDING_REVIEW if check.drift else S.CURRENT,
        created_by=ctx.actor.label,
    )
    ctx.db.add(row)
    ctx.db.flush()
    if not check.drift:
        _make_current(ctx, dataset, row)
    loaded = hooks.VersionLoaded(
        dataset.resource_code,
        dataset.unit_id,
        row.id,
        row.number,
        version,
        analysis.hidden_columns(classification),
        version.rejects.ratio,
    )
    for finish in finishers:
        finish(ctx, loaded)
    hooks.publish(ctx, loaded)
    ctx.db.flush()
    return row


def set_quality_score(ctx: Ctx, version_key: int, score: float) -> None:
    """The quality score of a version being loaded (stored by quality control, inside the
    load's unit of work)."""
    row = ctx.db.get(DatasetVersion, version_key)
    if row is None:
        raise NotFound("数据集版本不存在。", f"Dataset version {version_key} does not exist.")
    row.quality_score = score


def ingest(
    ctx: Ctx,
    resource_code: str,
    source: Source,
    options: IngestOptions | None = None,
    progress: Progress | None = None,
) -> IngestOut:
    """Load ``source`` as a new version of the entry's dataset (idempotent by content hash)."""
    options = options or IngestOptions()
    report = progress or (lambda step: None)
    unit_id, name, cycle, items = entry_facts(ctx, resource_code)
    require(ctx, "ingest", unit_id, resource_code)
    described = describe_source(source)
    try:
        dataset = _ensure_dataset(ctx, resource_code, unit_id, name, cycle)
        directory = _dataset_dir(ctx, resource_code)
        load_options = LoadOptions(max_reject_ratio=options.max_reject_ratio)
        report("load")
        limits = WorkerLimits.of(ctx.settings)
        version, duplicate = _load(source, directory, load_options, limits)
        known = ctx.db.scalar(
            select(DatasetVersion).where(
                DatasetVersion.dataset_id == dataset.id,
                DatasetVersion.lake_version_id == version.version_id,
            )
        )
        if duplicate and known is not None and known.status == S.REJECTED:
            # The same content was rejected before: a new submission gets a new version.
            version, duplicate = _load(
                source,
                directory,
                LoadOptions(load_options.max_reject_ratio, skip_duplicates=False),
                limits,
            )
            known = None
        if version.row_count == 0:
            # A header without rows would replace real data with nothing: refuse it.
            if known is None:
                _discard(version)
            raise Invalid.field(
                "source",
                "文件中没有数据行（只有表头或为空），未生成新版本。",
                "The source has no data rows (empty or header only); no version was created.",
            )
        same = ctx.db.scalar(
            select(DatasetVersion).where(
                DatasetVersion.dataset_id == dataset.id,
                DatasetVersion.content_hash == version.content_hash,
                DatasetVersion.status.in_((S.CURRENT, S.PENDING_REVIEW)),
            )
        )
        if same is not None:
            if not duplicate and same.lake_version_id != version.version_id:
                _discard(version)
            record(
                ctx,
                IngestUnchanged(resource_code, unit_id, same.number, same.content_hash, described),
            )
            return IngestOut(outcome="unchanged", version=_out(ctx, dataset, same))
        try:
            row = _register(ctx, dataset, version, items, report)
        except BaseException:
            _discard(version)
            raise
    except ShuzhiError as err:
        reason = err.message.en
        if isinstance(err, Invalid) and err.errors:
            reason += " " + "; ".join(e.message.en for e in err.errors)
        _on_failure(err, IngestFailed(resource_code, unit_id, described, reason[:1000]))
        raise
    record(
        ctx,
        VersionIngested(
            resource_code,
            unit_id,
            row.number,
            row.row_count,
            row.content_hash,
            row.status,
            described,
            version.rejects.count,
        ),
    )
    return IngestOut(outcome="created", version=_out(ctx, dataset, row))


@contextmanager
def staged_upload(ctx: Ctx, filename: str, stream: BinaryIO) -> Iterator[Path]:
    """Copy an uploaded file to a private work file (keeping its suffix), removed afterwards."""
    suffix = Path(filename or "upload").suffix.lower()[:10]
    directory = ctx.settings.data_dir / UPLOADS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    work = directory / f".tmp-{uuid.uuid4().hex}"
    work.mkdir()
    target = work / f"upload{suffix}"
    try:
        with open(target, "wb") as fh:
            shutil.copyfileobj(stream, fh, 1024 * 1024)
        yield target
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------- review and overrides


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
    if not note.strip():
        raise Invalid.field("note", "请说明拒绝原因。", "Give the reason for rejecting.")
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
    """Confirm or correct a column's category; kept for every later load of the dataset."""
    dataset = _dataset(ctx, resource_code)
    require(ctx, "override_classification", dataset.unit_id, resource_code)
    try:
        chosen = Category(category)
    except ValueError:
        raise Invalid.field(
            "category", f"未知的类别 {category!r}。", f"Unknown category {category!r}."
        ) from None
    row = _version_row(ctx, dataset, None)
    classification = [
        ColumnClassification.model_validate(c) for c in json.loads(row.classification_json)
    ]
    found = next((c for c in classification if c.name == column), None)
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
    updated = analysis.with_override(classification, column, chosen, ctx.actor.label)
    # Re-derive what depends on the categories: grade and the masking of the stored profile.
    version = load_version(Path(row.manifest_path))
    hidden = analysis.hidden_columns(updated)
    row.profile_json = analysis.masked_profile(
        query_engine(ctx).profile(version), hidden
    ).model_dump_json()
    row.classification_json = json.dumps(
        [c.model_dump(mode="json") for c in updated], ensure_ascii=False
    )
    row.grade_json = analysis.grade(
        updated, row.row_count, ctx.settings.grading_scheme
    ).model_dump_json()
    ctx.db.flush()
    record(
        ctx,
        ClassificationOverridden(
            resource_code, dataset.unit_id, column, found.detected, chosen.value, note.strip()
        ),
    )
    return _out(ctx, dataset, row)


# ---------------------------------------------------------------- console pages


def dataset_overview(ctx: Ctx, resource_code: str) -> DatasetOverview:
    """An entry's dataset page: its versions and sources (empty before the first load)."""
    unit_id, name, cycle, _items = entry_facts(ctx, resource_code)
    require(ctx, "view_datasets", unit_id, resource_code)
    dataset = ctx.db.scalar(select(Dataset).where(Dataset.resource_code == resource_code))
    brief = org.unit_brief(ctx, unit_id)
    return DatasetOverview(
        resource_code=resource_code,
        name=name,
        unit_code=brief.code if brief else "",
        update_cycle=cycle,
        versions=list_dataset_versions(ctx, resource_code) if dataset else [],
        sources=list_sources(ctx, resource_code) if dataset else [],
        can_upload=allowed(ctx, "ingest", unit_id),
    )


def version_detail(ctx: Ctx, resource_code: str, number: int) -> VersionDetail:
    """A version page: what was found and a few masked rows (the page adds quality control's
    results and issues)."""
    version = get_dataset_version(ctx, resource_code, number)
    dataset = _dataset(ctx, resource_code)
    rows = (
        sample_rows(ctx, resource_code, number)
        if allowed(ctx, "view_dataset_rows", dataset.unit_id)
        else None
    )
    return VersionDetail(
        version=version,
        rows=rows,
        can_review=allowed(ctx, "accept_drift", dataset.unit_id),
        can_override=allowed(ctx, "override_classification", dataset.unit_id),
    )


# ---------------------------------------------------------------- scheduled pulls


def _source_out(ctx: Ctx, dataset: Dataset, s: SourceDefinition) -> SourceOut:
    schedule = parse_schedule(s.schedule)
    base = s.last_run_at or s.created_at
    return SourceOut(
        id=s.id,
        resource_code=dataset.resource_code,
        name=s.name,
        url=s.url,
        table=s.table_name,
        query=s.query,
        schedule=s.schedule,
        active=s.active,
        last_run_at=s.last_run_at,
        last_outcome=s.last_outcome,
        next_run_at=schedule.next_after(base),
    )


def define_source(ctx: Ctx, resource_code: str, data: SourceIn) -> SourceOut:
    """Store a database table or query to be pulled into the dataset on a schedule."""
    unit_id, name, cycle, _items = entry_facts(ctx, resource_code)
    require(ctx, "define_source", unit_id, resource_code)
    if (data.table is None) == (data.query is None):
        raise Invalid.field("table", "请指定表名或查询语句（二选一）。", "Give a table or a query.")
    parse_schedule(data.schedule)
    url = data.url.strip()
    sealed = credentials.seal(url, ctx.settings.credentials_key)
    dataset = _ensure_dataset(ctx, resource_code, unit_id, name, cycle)
    row = SourceDefinition(
        dataset_id=dataset.id,
        name=data.name.strip(),
        url=safe_url(url),
        url_sealed=sealed,
        table_name=data.table,
        query=data.query,
        schedule=data.schedule.strip(),
        created_by=ctx.actor.label,
    )
    ctx.db.add(row)
    ctx.db.flush()
    out = _source_out(ctx, dataset, row)
    record(ctx, SourceDefined(resource_code, unit_id, row.id, out.url, row.schedule))
    return out


def list_sources(ctx: Ctx, resource_code: str) -> list[SourceOut]:
    dataset = _dataset(ctx, resource_code)
    require(ctx, "view_datasets", dataset.unit_id, resource_code)
    rows = ctx.db.scalars(
        select(SourceDefinition)
        .where(SourceDefinition.dataset_id == dataset.id)
        .order_by(SourceDefinition.id)
    )
    return [_source_out(ctx, dataset, s) for s in rows]


def _due(ctx: Ctx, now: datetime) -> list[tuple[int, str]]:
    due = []
    rows = ctx.db.execute(
        select(SourceDefinition, Dataset.resource_code)
        .join(Dataset, Dataset.id == SourceDefinition.dataset_id)
        .where(SourceDefinition.active.is_(True))
        .order_by(SourceDefinition.id)
    ).all()
    for s, code in rows:
        when = parse_schedule(s.schedule).next_after(s.last_run_at or s.created_at)
        if when is not None and when <= now:
            due.append((s.id, str(code)))
    return due


def _stored_source(ctx: Ctx, s: SourceDefinition, code: str) -> DatabaseSource:
    """The source a definition pulls from, its URL unsealed (a failure is audited)."""
    try:
        url = credentials.unseal(s.url_sealed, ctx.settings.credentials_key, f"#{s.id}")
    except ShuzhiError as err:
        dataset = ctx.db.get(Dataset, s.dataset_id)
        what = f"database:{s.url} " + (f"table {s.table_name}" if s.table_name else "query")
        event = IngestFailed(code, dataset.unit_id if dataset else 0, what, err.message.en)
        _on_failure(err, event)
        raise
    return DatabaseSource(url, table=s.table_name, query=s.query)


def _explain(err: ShuzhiError) -> tuple[str, str]:
    """(zh, en) text of an error with its field errors, for a run's outcome."""
    zh, en = err.message.zh, err.message.en
    if isinstance(err, Invalid) and err.errors:
        zh += " " + "；".join(e.message.zh for e in err.errors)
        en += " " + "; ".join(e.message.en for e in err.errors)
    return zh, en


def run_due_sources(
    database: Database, actor: Actor, now: datetime | None = None
) -> list[SourceRun]:
    """Pull every source whose schedule is due, each in its own unit of work."""
    now = now or datetime.now(UTC)
    with unit_of_work(database, actor) as ctx:
        require(ctx, "run_due_sources")
        due = _due(ctx, now)
    runs: list[SourceRun] = []
    for source_id, code in due:
        try:
            with unit_of_work(database, actor) as ctx:
                s = ctx.db.get(SourceDefinition, source_id)
                assert s is not None
                result = ingest(ctx, code, _stored_source(ctx, s, code))
                message = message_zh = f"version {result.version.number}"
                outcome: str = result.outcome
                stored = f"{outcome}: {message}"
        except ShuzhiError as err:
            outcome = "failed"
            message_zh, message = _explain(err)
            stored = f"{outcome}: {message_zh} / {message}"
        with unit_of_work(database, actor) as ctx:
            s = ctx.db.get(SourceDefinition, source_id)
            if s is not None:
                s.last_run_at = now
                s.last_outcome = stored[:1000]
        runs.append(
            SourceRun(
                source_id=source_id,
                resource_code=code,
                outcome=outcome,
                message=message,
                message_zh=message_zh,
            )
        )
    return runs


# ---------------------------------------------------------------- freshness


def cycle_period(code: str) -> timedelta | None:
    return CYCLE_PERIODS.get(code)


def freshness_report(
    ctx: Ctx,
    *,
    overdue_only: bool = False,
    state: FreshnessState | None = None,
    now: datetime | None = None,
) -> FreshnessReport:
    """Datasets against their entry's update cycle: loaded on time, overdue, or published
    with a deadline-bearing cycle and never loaded (``overdue_only``: the last two)."""
    scope = scope_unit(ctx, "view_freshness")
    now = now or datetime.now(UTC)
    labels = catalog_codes.code_labels(ctx, ctx.locale).get("update_cycle", {})
    latest = (
        select(DatasetVersion.dataset_id, func.max(DatasetVersion.created_at).label("at"))
        .where(DatasetVersion.status == S.CURRENT)
        .group_by(DatasetVersion.dataset_id)
        .subquery()
    )
    query = select(Dataset, latest.c.at).outerjoin(latest, latest.c.dataset_id == Dataset.id)
    if scope is not None:
        query = query.where(Dataset.unit_id == scope)
    # (resource code, name, unit id, update cycle, newest current load)
    found: dict[str, tuple[str, int, str, datetime | None]] = {
        d.resource_code: (d.name, d.unit_id, d.update_cycle, at)
        for d, at in ctx.db.execute(query).all()
    }
    for code, name, unit_id, cycle in catalog.published_cycles(ctx, scope):
        loaded = found[code][3] if code in found else None
        if code in found or cycle_period(cycle) is not None:
            found[code] = (name, unit_id, cycle, loaded)  # the catalogue's promise holds
    units = {u.id: u for u in org.all_unit_briefs(ctx)}
    rows: list[FreshnessRow] = []
    per_unit: dict[int, list[FreshnessState]] = {}
    for code in sorted(found):
        name, unit_id, cycle, loaded = found[code]
        period = cycle_period(cycle)
        loaded_at = loaded.replace(tzinfo=UTC) if loaded and loaded.tzinfo is None else loaded
        due = loaded_at + period + GRACE if (loaded_at and period) else None
        if loaded_at is None and period is not None:
            row_state = FreshnessState.NEVER_LOADED
        elif due is not None and due < now:
            row_state = FreshnessState.OVERDUE
        else:
            row_state = FreshnessState.FRESH
        per_unit.setdefault(unit_id, []).append(row_state)
        if state is not None and row_state is not state:
            continue
        if overdue_only and row_state is FreshnessState.FRESH:
            continue
        unit = units.get(unit_id)
        rows.append(
            FreshnessRow(
                resource_code=code,
                name=name,
                unit_code=unit.code if unit else "",
                unit_name=unit.name if unit else "",
                update_cycle=cycle,
                update_cycle_label=labels.get(cycle, cycle),
                state=row_state,
                last_loaded_at=loaded_at,
                due_by=due,
                overdue=row_state is FreshnessState.OVERDUE,
                never_loaded=row_state is FreshnessState.NEVER_LOADED,
                days_overdue=(now - due).days
                if (due and row_state is FreshnessState.OVERDUE)
                else 0,
            )
        )
    summary = [
        UnitFreshness(
            unit_code=units[u].code if u in units else "",
            unit_name=units[u].name if u in units else "",
            entries=len(states),
            overdue=states.count(FreshnessState.OVERDUE),
            never_loaded=states.count(FreshnessState.NEVER_LOADED),
        )
        for u, states in sorted(per_unit.items())
    ]
    return FreshnessReport(rows=rows, units=summary)


def dataset_figures(ctx: Ctx) -> dict[int, tuple[int, int, int]]:
    """For the cockpit: per unit, (datasets with a current version, their records, how many
    of them are graded), limited to the actor's unit when it sees only its own."""
    scope = scope_unit(ctx, "view_datasets")
    graded = func.sum(case((DatasetVersion.grade_json.not_in(["", "{}"]), 1), else_=0))
    query = (
        select(Dataset.unit_id, func.count(), func.coalesce(func.sum(DatasetVersion.row_count), 0))
        .add_columns(graded)
        .join(DatasetVersion, DatasetVersion.dataset_id == Dataset.id)
        .where(DatasetVersion.status == S.CURRENT)
        .group_by(Dataset.unit_id)
    )
    if scope is not None:
        query = query.where(Dataset.unit_id == scope)
    return {int(u): (int(n), int(r), int(g or 0)) for u, n, r, g in ctx.db.execute(query).all()}
