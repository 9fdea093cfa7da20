"""Base-library runs. A run computes in memory (``runner``), then writes its run row,
entities, memberships, events and conflicts and moves the library's ``current_run_id`` to
it, all in the caller's one transaction: a run that fails leaves the previous run current
and nothing of itself but a ``failed`` run row (written after the rollback, with the
reason)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.catalog import service as catalog
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import Invalid, ShuzhiError
from shuzhi.lake import service as lake
from shuzhi.masterdata import pushback_delivery, runner
from shuzhi.masterdata.events import LibraryRun, LibraryRunFailed
from shuzhi.masterdata.models import (
    LibraryKind,
    MasterdataLibrary,
    MasterdataMembership,
    MasterdataRun,
    RunMode,
    RunStatus,
)
from shuzhi.masterdata.schemas import RunOut
from shuzhi.masterdata.service.common import active_members, find_library, run_out
from shuzhi.masterdata.service.libraries import missing_columns
from shuzhi.masterdata.service.results import report_conflicts, write_results
from shuzhi.masterdata.service.review import decisions_of, store_review


def _member_versions(ctx: Ctx, library: MasterdataLibrary) -> list[runner.MemberVersion]:
    """Every member's current version, its mapping checked against that version's columns."""
    members = active_members(ctx, library)
    if not members:
        raise Invalid(
            f"基础库 {library.code} 还没有成员数据集。",
            f"Base library {library.code} has no member datasets yet.",
        )
    out = []
    for m in members:
        if catalog.is_withdrawn(ctx.db, m.resource_code):
            raise Invalid(
                f"成员数据集 {m.resource_code} 已从目录撤回，不能再用于基础库：请移除该成员或待其"
                "重新发布后再运行。",
                f"Member dataset {m.resource_code} was withdrawn from the catalogue and may no"
                " longer feed the library: remove the member, or run again once it is"
                " republished.",
            )
        current = lake.current_version(ctx, m.resource_code)
        if current is None:
            raise Invalid(
                f"成员数据集 {m.resource_code} 没有当前版本。",
                f"Member dataset {m.resource_code} has no current version.",
            )
        brief, files = current
        columns = [c.name for c in files.columns]
        missing = missing_columns(dict(m.mapping), columns)
        if missing:
            raise Invalid(
                f"成员数据集 {m.resource_code} 的第 {brief.number} 版缺少映射的列"
                f" {'、'.join(missing)}：请修改映射或更正数据后再运行。",
                f"Member dataset {m.resource_code}, version {brief.number}, lacks the mapped"
                f" column {', '.join(missing)}: change the mapping or correct the data, then run"
                " again.",
            )
        out.append(
            runner.MemberVersion(
                m.resource_code,
                m.unit_id,
                m.rank,
                brief.number,
                brief.created_at.isoformat(),
                files.data_path,
                dict(m.mapping),
            )
        )
    return out


def _previous(ctx: Ctx, run_id: int | None) -> list[runner.PreviousRecord]:
    if run_id is None:
        return []
    rows = ctx.db.execute(
        select(
            MasterdataMembership.resource_code,
            MasterdataMembership.version,
            MasterdataMembership.row,
            MasterdataMembership.digest,
            MasterdataMembership.entity_id,
        ).where(MasterdataMembership.run_id == run_id)
    ).all()
    return [runner.PreviousRecord(*r) for r in rows]


def _model(ctx: Ctx, run_id: int | None) -> dict[str, Any] | None:
    """The model a run scored with (fitted by a full run, carried by incremental ones)."""
    run = ctx.db.get(MasterdataRun, run_id) if run_id is not None else None
    if run is None or not run.model:
        return None
    return {"fitted_in_run": run.id, **dict(run.model)}


def _failed(
    library_id: int, code: str, unit_id: int, mode: RunMode, actor: str, err: ShuzhiError
) -> Any:
    def write(c: Ctx) -> None:
        run = MasterdataRun(
            library_id=library_id,
            mode=mode,
            status=RunStatus.FAILED,
            finished_at=utcnow(),
            error_zh=err.message.zh,
            error_en=err.message.en,
            created_by=actor,
        )
        c.db.add(run)
        c.db.flush()
        record(c, LibraryRunFailed(code, run.id, unit_id, mode.value, err.message.en[:300]))

    return write


def run_masterdata_library(ctx: Ctx, code: str, *, incremental: bool = False) -> RunOut:
    """Run a library: everything (full) or only what changed since the current run.

    An incremental run without a current run to continue from runs in full. The results
    become current only when all of them are written, in this transaction; on a refusal the
    run is recorded as failed and the previous run stays current.
    """
    library = find_library(ctx, code)
    require(ctx, "run_masterdata_library", library.unit_id, code)
    base_id = library.current_run_id
    mode = RunMode.INCREMENTAL if incremental and base_id is not None else RunMode.FULL
    ids = (library.id, library.code, library.unit_id, mode, ctx.actor.label)
    try:
        out = _run(ctx, library, mode, base_id)
    except ShuzhiError as err:
        hook = _failed(*ids, err)
        previous = err.after_rollback

        def both(c: Ctx) -> None:
            if previous is not None:
                previous(c)
            hook(c)

        err.after_rollback = both
        raise
    pushback_delivery.deliver_after_run(ctx, library.code)  # the run is current: deliver it
    return out


def _run(ctx: Ctx, library: MasterdataLibrary, mode: RunMode, base_id: int | None) -> RunOut:
    started = utcnow()
    kind = LibraryKind(library.kind)
    members = _member_versions(ctx, library)
    previous = _previous(ctx, base_id)
    decisions = decisions_of(ctx, library)
    if mode is RunMode.INCREMENTAL:
        cached = _read_cache(ctx, library, base_id)
        result = runner.incremental_run(
            kind.value,
            members,
            previous,
            library.threshold,
            cached,
            decisions,
            _model(ctx, base_id),
        )
    else:
        result = runner.full_run(kind.value, members, previous, library.threshold, decisions)
    result.report["features_file"] = _write_cache(ctx, library, result)
    run = MasterdataRun(
        library_id=library.id,
        mode=mode,
        status=RunStatus.SUCCEEDED,
        base_run_id=base_id,
        started_at=started,
        records_in=result.features.num_rows,
        records_linked=result.records_linked,
        entities_out=len(result.golden),
        links=result.links,
        conflicts=len(result.conflicts),
        review_pairs=result.review_pairs,
        versions={m.resource_code: {"number": m.number, "loaded_at": m.loaded_at} for m in members},
        model=result.model,
        report=result.report,
        created_by=ctx.actor.label,
    )
    ctx.db.add(run)
    ctx.db.flush()
    if mode is RunMode.FULL:  # the model later incremental runs score with, and its run
        run.model = {**result.model, "fitted_in_run": run.id}
    write_results(ctx, library, run, members, result)
    run.review_pairs = store_review(ctx, library, run, mode, result)
    issues = report_conflicts(ctx, library, run, members, result)
    run.finished_at = utcnow()
    _make_current(ctx, library, run)
    keep = {str(run.report.get("features_file", ""))}
    base = ctx.db.get(MasterdataRun, base_id) if base_id is not None else None
    if base is not None:  # kept until the new run is committed: a rollback still has it
        keep.add(str(base.report.get("features_file", "")))
    _prune_cache(ctx, library, keep)
    record(
        ctx,
        LibraryRun(
            library.code,
            run.id,
            library.unit_id,
            mode.value,
            run.records_in,
            run.records_linked,
            run.entities_out,
            run.conflicts,
            issues,
        ),
    )
    return run_out(run, library.current_run_id)


def _cache_dir(ctx: Ctx, library: MasterdataLibrary) -> Path:
    return ctx.settings.data_dir.resolve() / "masterdata" / library.code


def _write_cache(ctx: Ctx, library: MasterdataLibrary, result: runner.RunResult) -> str:
    """Store the run's feature table for the next incremental run; returns its file name.

    Named afresh for every run (a run rolled back leaves an unused file, never one a later
    run could mistake for its own); the files of runs other than the current one and the
    new one are deleted once the new one is written."""
    directory = _cache_dir(ctx, library)
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{uuid.uuid4().hex}.features.parquet"
    tmp = directory / f".{name}.part"
    pq.write_table(runner.cache_table(result), tmp, compression="zstd")
    os.replace(tmp, directory / name)
    return name


def _read_cache(ctx: Ctx, library: MasterdataLibrary, run_id: int | None) -> pa.Table | None:
    """The feature table a run stored, or None (missing or unreadable: normalise anew)."""
    run = ctx.db.get(MasterdataRun, run_id) if run_id is not None else None
    name = str(run.report.get("features_file", "")) if run is not None else ""
    path = _cache_dir(ctx, library) / name
    if not name or "/" in name or not path.is_file():
        return None
    try:
        return pq.read_table(path)
    except (OSError, pa.ArrowException):
        return None


def _prune_cache(ctx: Ctx, library: MasterdataLibrary, keep: set[str]) -> None:
    """Delete the feature files of runs that are no longer current (best effort)."""
    directory = _cache_dir(ctx, library)
    for path in directory.glob("*.features.parquet"):
        if path.name not in keep:
            path.unlink(missing_ok=True)


def _make_current(ctx: Ctx, library: MasterdataLibrary, run: MasterdataRun) -> None:
    """The flip: readers see the new run from the commit of this transaction on."""
    library.current_run_id = run.id
    ctx.db.flush()
