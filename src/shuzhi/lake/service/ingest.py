"""Lake: loading a source into a new version (check, write, profile, classify, quality)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from shuzhi import hooks
from shuzhi.audit.events import AuditEvent
from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.catalog import service as catalog
from shuzhi.context import Ctx
from shuzhi.errors import Conflict, Invalid, NotFound, ShuzhiError
from shuzhi.lake import analysis
from shuzhi.lake.events import (
    IngestFailed,
    IngestUnchanged,
    LeftoversRemoved,
    VersionIngested,
)
from shuzhi.lake.manifest import TEMP_PREFIX, Version
from shuzhi.lake.models import Dataset, DatasetVersion, StoredColumn
from shuzhi.lake.models import VersionStatus as S
from shuzhi.lake.readers import Source, text_value
from shuzhi.lake.schemas import (
    ColumnClassification,
    GradeOut,
    IngestOut,
    ProfileOut,
    SchemaCheck,
)
from shuzhi.lake.service.common import (
    UPLOADS_DIR,
    Progress,
    _dataset_dir,
    describe_source,
    query_engine,
    stored_path,
)
from shuzhi.lake.service.reading import _dataset, _out, _version_row, column_overrides
from shuzhi.lake.worker import WorkerLimits, load_in_worker
from shuzhi.lake.writer import (
    LoadOptions,
    abandoned,
    clean_leftovers,
    locked,
    remove,
    renumber,
)
from shuzhi.org import service as org
from shuzhi.security.classifier import SAMPLE_LIMIT
from shuzhi.settings import Settings


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


def individuals(ctx: Ctx, version: Version, column: str | None) -> int:
    """Persons in a version: distinct non-empty values of its ID column, or its rows."""
    if column is None:
        return version.row_count
    return query_engine(ctx).column_counts(version, column)[1]


def grade_version(
    ctx: Ctx,
    version: Version,
    classification: list[ColumnClassification],
    samples: dict[str, list[str | None]] | None = None,
) -> GradeOut:
    """A version's grade: categories, minors in the sampled values, and the individuals it
    holds (counted over the whole version by its ID column, or its rows)."""
    samples = _samples(ctx, version) if samples is None else samples
    column = analysis.identity_column(classification)
    return analysis.grade(
        classification,
        individuals(ctx, version, column),
        ctx.settings.grading_scheme,
        counted_by=column,
        samples=samples,
    )


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
        samples = _samples(ctx, version)
        classification = analysis.classify(samples, overrides)
        hidden = analysis.hidden_columns(classification)
        check = analysis.check_schema(
            items,
            [(c.name, c.source_name) for c in version.columns],
            {c.name: c.inferred_type for c in profile.columns},
        )
        grade = grade_version(ctx, version, classification, samples)
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
                    schema_json=[
                        StoredColumn(name=c.name, type=c.type, source_name=c.source_name)
                        for c in version.columns
                    ],
                    row_count=version.row_count,
                    content_hash=version.content_hash,
                    source_json=dict(version.source),
                    rejects_json=dict(version.rejects.__dict__),
                    schema_check_json=found.check.model_dump(mode="json"),
                    profile_json=found.profile.model_dump(mode="json"),
                    classification_json=[c.model_dump(mode="json") for c in found.classification],
                    grade_json=found.grade.model_dump(mode="json"),
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


def set_quality_score(ctx: Ctx, version_key: int, score: float | None) -> None:
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
        overrides = column_overrides(ctx, dataset)
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
    return abandoned(settings.data_dir / UPLOADS_DIR, f"{TEMP_PREFIX}*", UPLOAD_GRACE_SECONDS)


def _clean_uploads(settings: Settings) -> list[str]:
    return [f"{UPLOADS_DIR}/{name}" for name in remove(_stale_uploads(settings))]
