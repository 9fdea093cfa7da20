"""Aggregation (归集): load a source into a catalogue entry's dataset as a new version, find
what is in it, and decide which version is current.

A load runs the lake engine (``writer.write_version``: atomic, rejects counted), then profiles,
classifies and checks the version through the query engine, compares its columns with the
entry's data items and runs the dataset's quality rules. A version whose columns drifted from
the catalogue waits for the unit CDO (pending_review); otherwise it becomes current and the
previous current version is superseded. Loading the same content again changes nothing.
A failed load leaves the previous version current, writes nothing and is audited.
A load holds no database transaction while it reads the source and analyses the version:
it registers the version in one short transaction at the end (see ``ingest``).
"""

from __future__ import annotations

import json
import shutil
import time
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
from sqlalchemy.exc import IntegrityError

from shuzhi import hooks
from shuzhi.audit.events import AuditEvent
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
    LakeGarbageCollected,
    LeftoversRemoved,
    SampleViewed,
    SourceDefined,
    VersionIngested,
)
from shuzhi.lake.manifest import LOCK_FILE, MANIFEST_SUFFIX, TEMP_PREFIX, Version, load_version
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
    GarbageItem,
    GarbageKind,
    GradeOut,
    IngestOut,
    LakeGarbage,
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
from shuzhi.lake.writer import (
    LoadOptions,
    clean_leftovers,
    in_use,
    leftovers,
    locked,
    remove,
    renumber,
)
from shuzhi.org import service as org
from shuzhi.security.categories import Category
from shuzhi.security.classifier import SAMPLE_LIMIT
from shuzhi.settings import Settings

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


def stored_path(settings: Settings, path: Path) -> str:
    """How a file under the data directory is recorded: relative to it (``datasets/…``), so
    that the data directory can be moved or restored elsewhere."""
    return path.resolve().relative_to(settings.data_dir.resolve()).as_posix()


def manifest_file(settings: Settings, stored: str) -> Path:
    """The manifest a version row names. Paths are relative to the data directory; absolute
    paths (recorded before migration ``lake_0003``) are accepted while they lie inside it."""
    root = settings.data_dir.resolve()
    path = Path(stored)
    full = (path if path.is_absolute() else root / path).resolve()
    if not full.is_relative_to(root / DATASETS_DIR):
        raise NotFound(
            "该版本的文件不在数据目录中。", "The version's files are not in the data directory."
        )
    return full


def version_files(ctx: Ctx, row: DatasetVersion) -> Version:
    """The files of a registered version (its manifest, read from the data directory)."""
    try:
        return load_version(manifest_file(ctx.settings, row.manifest_path))
    except (OSError, ValueError, KeyError) as exc:
        raise NotFound(
            f"第 {row.number} 版的文件缺失或已损坏。",
            f"The files of version {row.number} are missing or damaged.",
        ) from exc


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
    return _out(ctx, dataset, row), version_files(ctx, row)


def sample_rows(ctx: Ctx, resource_code: str, number: int, limit: int = 20) -> SampleRows:
    """The first rows of a version with sensitive columns masked (a data access: audited)."""
    dataset = _dataset(ctx, resource_code)
    require(ctx, "view_dataset_rows", dataset.unit_id, resource_code)
    row = _version_row(ctx, dataset, number)
    version = version_files(ctx, row)
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


def _on_failure(err: ShuzhiError, *events: AuditEvent) -> None:
    """Keep audit records of the failed load after the unit of work rolls back."""
    previous = err.after_rollback

    def hook(ctx: Any) -> None:
        if previous is not None:
            previous(ctx)
        for event in events:
            record(ctx, event, outcome="failed" if isinstance(event, IngestFailed) else "ok")

    err.after_rollback = hook


def _load(
    source: Source, directory: Path, options: LoadOptions, sequence: int, limits: WorkerLimits
) -> tuple[Version, bool]:
    """The one way a source is read: in a worker process, within time and memory limits,
    numbered ``sequence``; the caller holds the directory's lock."""
    result = load_in_worker(
        source, directory, options, limits, sequence=sequence, locked_by_caller=True
    )
    return result.version, result.duplicate


def _samples(ctx: Ctx, version: Version) -> dict[str, list[str | None]]:
    names = [c.name for c in version.columns]
    values: dict[str, list[str | None]] = {n: [] for n in names}
    for batch in query_engine(ctx).scan(version, limit=SAMPLE_LIMIT):
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            values[name].extend(text_value(v) for v in column.to_pylist())
    return values


def _overrides(ctx: Ctx, dataset: Dataset | None) -> dict[str, tuple[str, str]]:
    if dataset is None:
        return {}
    rows = ctx.db.scalars(select(ColumnOverride).where(ColumnOverride.dataset_id == dataset.id))
    return {r.column_name: (r.category, r.decided_by) for r in rows}


@dataclass(frozen=True)
class _Found:
    """What the analysis of a freshly written version found (no database involved)."""

    check: SchemaCheck
    profile: ProfileOut
    classification: list[ColumnClassification]
    grade: GradeOut
    # What subscribers of VersionWritten computed beside the analysis, to store once the
    # version is registered.
    finishers: list[hooks.Finish]


def _analyse(
    ctx: Ctx,
    version: Version,
    items: list[tuple[str, str]],
    overrides: dict[str, tuple[str, str]],
    alongside: list[Callable[[], hooks.Finish]],
    progress: Progress,
) -> _Found:
    """Profile, classify and check the schema, with the subscribers' work (quality rules)
    beside it: reads only the lake, so it runs holding no database transaction."""
    engine = query_engine(ctx)
    # DuckDB and Arrow release the interpreter lock, so the work runs in parallel.
    with ThreadPoolExecutor(max(1, len(alongside)), thread_name_prefix="shuzhi-alongside") as pool:
        started = [pool.submit(work) for work in alongside]
        progress("profile")
        profile = engine.profile(version)
        progress("classify")
        classification = analysis.classify(_samples(ctx, version), overrides)
        hidden = analysis.hidden_columns(classification)
        check = analysis.check_schema(
            items,
            [(c.name, c.source_name) for c in version.columns],
            {c.name: c.inferred_type for c in profile.columns},
        )
        grade = analysis.grade(classification, version.row_count, ctx.settings.grading_scheme)
        progress("quality")
        finishers = [future.result() for future in started]
    return _Found(check, analysis.masked_profile(profile, hidden), classification, grade, finishers)


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


@dataclass(frozen=True)
class _Registered:
    """A version the catalogue knows, as a load's short read saw it."""

    number: int
    status: str
    content_hash: str


def _registered(ctx: Ctx, resource_code: str) -> dict[str, _Registered]:
    """Every registered version of a dataset by its lake version id."""
    rows = ctx.db.execute(
        select(
            DatasetVersion.lake_version_id,
            DatasetVersion.number,
            DatasetVersion.status,
            DatasetVersion.content_hash,
        )
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(Dataset.resource_code == resource_code)
    ).all()
    return {str(v): _Registered(int(n), str(st), str(h)) for v, n, st, h in rows}


def _end_transaction(ctx: Ctx) -> None:
    """Commit what the unit has done so far: slow work that follows holds no database lock
    (the next statement opens a new transaction)."""
    ctx.db.commit()


CLAIM_ATTEMPTS = 5


def _claim(
    ctx: Ctx, facts: tuple[int, str, str], resource_code: str, version: Version, found: _Found
) -> tuple[Dataset, DatasetVersion, Version]:
    """Insert the version row under the next free number (the files follow the number).

    The number is read and taken in one savepoint: SQLite's write lock serialises this, and
    on PostgreSQL a load that registered the same number first makes the insert fail on the
    unique (dataset, number) constraint; the savepoint is rolled back and the next number
    tried. The dataset row is created here too, under the same retry.
    """
    unit_id, name, cycle = facts
    for attempt in range(CLAIM_ATTEMPTS):
        try:
            with ctx.db.begin_nested():
                dataset = _ensure_dataset(ctx, resource_code, unit_id, name, cycle)
                taken = ctx.db.scalar(
                    select(func.max(DatasetVersion.number)).where(
                        DatasetVersion.dataset_id == dataset.id
                    )
                )
                version = renumber(version, (taken or 0) + 1)
                row = DatasetVersion(
                    dataset_id=dataset.id,
                    number=version.sequence,
                    lake_version_id=version.version_id,
                    manifest_path=stored_path(ctx.settings, version.manifest_path),
                    schema_json=json.dumps(
                        [c.__dict__ for c in version.columns], ensure_ascii=False
                    ),
                    row_count=version.row_count,
                    content_hash=version.content_hash,
                    source_json=json.dumps(version.source, ensure_ascii=False, default=str),
                    rejects_json=json.dumps(version.rejects.__dict__, ensure_ascii=False),
                    schema_check_json=found.check.model_dump_json(),
                    profile_json=found.profile.model_dump_json(),
                    classification_json=json.dumps(
                        [c.model_dump(mode="json") for c in found.classification],
                        ensure_ascii=False,
                    ),
                    grade_json=found.grade.model_dump_json(),
                    status=S.PENDING_REVIEW if found.check.drift else S.CURRENT,
                    created_by=ctx.actor.label,
                )
                ctx.db.add(row)
                ctx.db.flush()
            return dataset, row, version
        except IntegrityError:
            if attempt == CLAIM_ATTEMPTS - 1:
                _discard(version)
                raise Conflict(
                    "同一数据集的其他归集同时完成，请重新上传。",
                    "Other loads of this dataset finished at the same time; load again.",
                ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _register(
    ctx: Ctx,
    facts: tuple[int, str, str],
    resource_code: str,
    version: Version,
    found: _Found,
    described: str,
    removed: list[str],
) -> IngestOut:
    """The load's one short write transaction: the version row, its number, what the
    subscribers store (quality results, issues, score), the audit records; committed here,
    before the load lock is freed."""
    try:
        dataset, row, version = _claim(ctx, facts, resource_code, version, found)
        if not found.check.drift:
            _make_current(ctx, dataset, row)
        loaded = hooks.VersionLoaded(
            dataset.resource_code,
            dataset.unit_id,
            row.id,
            row.number,
            version,
            analysis.hidden_columns(found.classification),
            version.rejects.ratio,
        )
        for finish in found.finishers:
            finish(ctx, loaded)
        hooks.publish(ctx, loaded)
        ctx.db.flush()
        if removed:
            record(ctx, _cleaned(resource_code, dataset.unit_id, removed))
        record(
            ctx,
            VersionIngested(
                resource_code,
                dataset.unit_id,
                row.number,
                row.row_count,
                row.content_hash,
                row.status,
                described,
                version.rejects.count,
            ),
        )
        out = IngestOut(outcome="created", version=_out(ctx, dataset, row))
        ctx.db.commit()
    except BaseException:
        ctx.db.rollback()
        _discard(version)
        raise
    return out


def _cleaned(resource_code: str, unit_id: int, removed: list[str]) -> LeftoversRemoved:
    return LeftoversRemoved(resource_code, unit_id, len(removed), ", ".join(removed)[:1000])


def _write(
    source: Source,
    directory: Path,
    options: IngestOptions,
    number: int,
    known: dict[str, _Registered],
    limits: WorkerLimits,
) -> tuple[Version, bool]:
    """Write the version's files (or find them unchanged on disk): (version, duplicate)."""
    load_options = LoadOptions(max_reject_ratio=options.max_reject_ratio)
    version, duplicate = _load(source, directory, load_options, number, limits)
    same_file = known.get(version.version_id) if duplicate else None
    if duplicate and (same_file is None or same_file.status == S.REJECTED):
        # The same content was rejected before: a new submission gets a new version.
        forced = LoadOptions(options.max_reject_ratio, skip_duplicates=False)
        version, duplicate = _load(source, directory, forced, number, limits)
    if version.row_count == 0:
        # A header without rows would replace real data with nothing: refuse it.
        if not duplicate:
            _discard(version)
        raise Invalid.field(
            "source",
            "文件中没有数据行（只有表头或为空），未生成新版本。",
            "The source has no data rows (empty or header only); no version was created.",
        )
    return version, duplicate


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
    """Load ``source`` as a new version of the entry's dataset (idempotent by content hash).

    Transactions: what the load needs (entry, permission, registered versions, overrides,
    quality rules) is read in short transactions; reading the source, writing Parquet and
    the analysis then hold no database transaction; the version is registered in one short
    write transaction that this function commits (``_register``), so the caller's unit of
    work is committed too. Loads of one dataset are serialised by the dataset directory's
    file lock, held from before the files are written until they are registered; under it,
    files of loads that were killed before registering are removed first.
    """
    options = options or IngestOptions()
    report = progress or (lambda step: None)
    unit_id, name, cycle, items = entry_facts(ctx, resource_code)
    require(ctx, "ingest", unit_id, resource_code)
    described = describe_source(source)
    removed: list[str] = []
    try:
        directory = _dataset_dir(ctx, resource_code)
        dataset = ctx.db.scalar(select(Dataset).where(Dataset.resource_code == resource_code))
        overrides = _overrides(ctx, dataset)
        _end_transaction(ctx)
        with locked(directory):
            known = _registered(ctx, resource_code)
            _end_transaction(ctx)
            removed = clean_leftovers(directory, keep=known) + _clean_uploads(ctx.settings)
            number = max((k.number for k in known.values()), default=0) + 1
            report("load")
            limits = WorkerLimits.of(ctx.settings)
            version, duplicate = _write(source, directory, options, number, known, limits)
            live = (S.CURRENT, S.PENDING_REVIEW)
            same = next(
                (
                    k
                    for k in known.values()
                    if k.content_hash == version.content_hash and k.status in live
                ),
                None,
            )
            if same is not None:
                if not duplicate:
                    _discard(version)
                return _unchanged(ctx, resource_code, same.number, described, removed)
            try:
                # Subscribers (quality control) plan their work in a short read.
                written = hooks.VersionWritten(resource_code, unit_id, version)
                hooks.publish(ctx, written)
                _end_transaction(ctx)
                found = _analyse(ctx, version, items, overrides, written.alongside, report)
            except BaseException:
                _discard(version)
                raise
            return _register(
                ctx, (unit_id, name, cycle), resource_code, version, found, described, removed
            )
    except ShuzhiError as err:
        reason = err.message.en
        if isinstance(err, Invalid) and err.errors:
            reason += " " + "; ".join(e.message.en for e in err.errors)
        failed = IngestFailed(resource_code, unit_id, described, reason[:1000])
        cleaned = [_cleaned(resource_code, unit_id, removed)] if removed else []
        _on_failure(err, *cleaned, failed)
        raise


def _unchanged(
    ctx: Ctx, resource_code: str, number: int, described: str, removed: list[str]
) -> IngestOut:
    dataset = _dataset(ctx, resource_code)
    row = _version_row(ctx, dataset, number)
    if removed:
        record(ctx, _cleaned(resource_code, dataset.unit_id, removed))
    record(
        ctx,
        IngestUnchanged(resource_code, dataset.unit_id, row.number, row.content_hash, described),
    )
    return IngestOut(outcome="unchanged", version=_out(ctx, dataset, row))


# Staged uploads younger than this are never taken for leftovers (the lock of a staging
# directory is taken just after it is created).
UPLOAD_GRACE_SECONDS = 60.0


@contextmanager
def staged_upload(ctx: Ctx, filename: str, stream: BinaryIO) -> Iterator[Path]:
    """Copy an uploaded file to a private work file (keeping its suffix), removed afterwards.

    The work directory's lock is held while the file is in use: a staging directory whose
    lock is free belongs to a process that was killed and is removed by the next load or by
    ``collect_lake_garbage``. The copy holds no database transaction.
    """
    _end_transaction(ctx)
    suffix = Path(filename or "upload").suffix.lower()[:10]
    directory = ctx.settings.data_dir / UPLOADS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    work = directory / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
    work.mkdir()
    target = work / f"upload{suffix}"
    try:
        with locked(work):
            with open(target, "wb") as fh:
                shutil.copyfileobj(stream, fh, 1024 * 1024)
            yield target
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _stale_uploads(settings: Settings) -> list[Path]:
    """Staging directories of uploads whose process is gone (their lock is free)."""
    directory = settings.data_dir / UPLOADS_DIR
    if not directory.is_dir():
        return []
    stale = []
    for work in sorted(directory.glob(f"{TEMP_PREFIX}*")):
        try:
            young = time.time() - work.stat().st_mtime < UPLOAD_GRACE_SECONDS
        except FileNotFoundError:
            continue
        if not young and work.is_dir() and not in_use(work):
            stale.append(work)
    return stale


def _clean_uploads(settings: Settings) -> list[str]:
    return [f"{UPLOADS_DIR}/{name}" for name in remove(_stale_uploads(settings))]


# ---------------------------------------------------------------- leftovers


def _size(path: Path) -> int:
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        return path.stat().st_size
    except OSError:
        return 0


def _kind(path: Path, manifests: set[str]) -> GarbageKind:
    if path.name.startswith(TEMP_PREFIX):
        return "work_directory"
    stem = path.name.split(".", 1)[0]
    return "unregistered_version" if stem in manifests else "incomplete_version"


def _dataset_directories(root: Path, codes: set[str]) -> list[Path]:
    """Directories loads have written to: the known datasets' and any holding a load lock."""
    found = {root / code for code in codes}
    if root.is_dir():
        for lock in root.rglob(LOCK_FILE):
            relative = lock.parent.relative_to(root)
            if relative.parts and not any(p.startswith(".") for p in relative.parts):
                found.add(lock.parent)
    return sorted(d for d in found if d.is_dir())


def collect_lake_garbage(ctx: Ctx, *, apply: bool = False) -> LakeGarbage:
    """Find what killed loads and uploads left behind: version files written but never
    registered, data files without a manifest, work directories, staged uploads whose
    process is gone. With ``apply`` remove them. Datasets being loaded right now (their load
    lock is held) are left alone and listed as busy. Audited either way."""
    require(ctx, "collect_lake_garbage")
    root = lake_root(ctx)
    data_dir = ctx.settings.data_dir.resolve()
    codes = set(ctx.db.scalars(select(Dataset.resource_code)))
    _end_transaction(ctx)
    items: list[GarbageItem] = []
    busy: list[str] = []
    for directory in _dataset_directories(root, codes):
        code = directory.relative_to(root).as_posix()
        with locked(directory, wait=False) as free:
            if not free:
                busy.append(code)
                continue
            # Read under the lock: a load registers (commits) before it lets go of it.
            known = _registered(ctx, code)
            _end_transaction(ctx)
            found = leftovers(directory, keep=known)
            manifests = {
                p.name[: -len(MANIFEST_SUFFIX)] for p in directory.glob(f"*{MANIFEST_SUFFIX}")
            }
            items += [
                GarbageItem(
                    path=p.resolve().relative_to(data_dir).as_posix(),
                    kind=_kind(p, manifests),
                    bytes=_size(p),
                )
                for p in found
            ]
            if apply:
                remove(found)
    uploads = _stale_uploads(ctx.settings)
    items += [
        GarbageItem(
            path=p.resolve().relative_to(data_dir).as_posix(), kind="staged_upload", bytes=_size(p)
        )
        for p in uploads
    ]
    if apply:
        remove(uploads)
    report = LakeGarbage(applied=apply, items=items, busy=busy)
    record(
        ctx,
        LakeGarbageCollected(
            "lake",
            apply,
            len(items),
            report.bytes,
            len(busy),
            ", ".join(i.path for i in items)[:1000],
        ),
    )
    return report


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
    version = version_files(ctx, row)
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
