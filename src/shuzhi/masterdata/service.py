"""Base libraries: define them, feed them member datasets, run them, read their entities.

Every function takes the acting ``Ctx`` first, checks ``require(ctx, <function name>,
owning unit)`` and records what it did in the audit log. A run computes in memory
(``runner``), then writes its run row, entities, memberships, events and conflicts and
moves the library's ``current_run_id`` to it, all in the caller's one transaction: a run
that fails leaves the previous run current and nothing of itself but a ``failed`` run row
(written after the rollback, with the reason).

Reads of entities are data access: checked, masked per the reader's role (the security
categories' default masks, except for the bureau's executive CDO and the system) and
audited, found or not. A lookup by resident ID or USCC validates the key's format first and
answers "not found" alike for an unknown library, an unknown key and a library the reader
may not read, after the same work.
"""

from __future__ import annotations

import os
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import func, insert, select, update

from shuzhi.audit.service import record
from shuzhi.auth.permissions import allowed, require
from shuzhi.context import Ctx, Role
from shuzhi.db.base import utcnow
from shuzhi.errors import Conflict, Invalid, NotFound, ShuzhiError
from shuzhi.lake import service as lake
from shuzhi.masterdata import pushback, pushback_delivery, runner
from shuzhi.masterdata.events import (
    EntityNotFound,
    EntityViewed,
    LibraryDefined,
    LibraryRun,
    LibraryRunFailed,
    MemberAdded,
    MemberRemoved,
    ReviewPairDecided,
    ReviewPairViewed,
)
from shuzhi.masterdata.models import (
    ConflictStatus,
    EventKind,
    LibraryKind,
    MasterdataConflict,
    MasterdataEntity,
    MasterdataEvent,
    MasterdataLibrary,
    MasterdataMember,
    MasterdataMembership,
    MasterdataReviewPair,
    MasterdataRun,
    ReviewDecision,
    ReviewStatus,
    RunMode,
    RunStatus,
)
from shuzhi.masterdata.normalize.evidence import Check
from shuzhi.masterdata.normalize.legal_ids import read_uscc
from shuzhi.masterdata.normalize.resident_ids import read_resident_id
from shuzhi.masterdata.schemas import (
    ELEMENTS,
    REQUIRED,
    EntityOut,
    EventOut,
    GoldenValueOut,
    LibraryIn,
    LibraryOut,
    LibrarySummaryOut,
    MasterdataFiguresOut,
    MemberIn,
    MemberOut,
    ReviewDecisionIn,
    ReviewPairOut,
    ReviewRecordOut,
    RunOut,
    SourceRecordRef,
)
from shuzhi.masterdata.sources import map_columns
from shuzhi.org import service as org
from shuzhi.quality import cross_source
from shuzhi.security.categories import CATEGORY_INFO, Category
from shuzhi.security.masking import MaskLevel, mask

# Who reads golden records in the clear; everyone else permitted sees the categories'
# default masks (pseudonyms shown partially masked, as on the dataset pages).
CLEAR_ROLES = frozenset({Role.CDO_EXECUTIVE})
_NOT_FOUND = ("未找到该实体。", "No such entity.")


# ------------------------------------------------------------------ helpers


def _library(ctx: Ctx, code: str) -> MasterdataLibrary:
    found = ctx.db.scalar(select(MasterdataLibrary).where(MasterdataLibrary.code == code.strip()))
    if found is None:
        raise NotFound(f"基础库 {code} 不存在。", f"Base library {code} does not exist.")
    return found


def _unit_code(ctx: Ctx, unit_id: int) -> str:
    brief = org.unit_brief(ctx, unit_id)
    return brief.code if brief else ""


def _run_out(run: MasterdataRun, current_id: int | None) -> RunOut:
    return RunOut(
        id=run.id,
        mode=RunMode(run.mode),
        status=RunStatus(run.status),
        current=run.id == current_id,
        started_at=run.started_at,
        finished_at=run.finished_at,
        records_in=run.records_in,
        records_linked=run.records_linked,
        entities_out=run.entities_out,
        links=run.links,
        conflicts=run.conflicts,
        review_pairs=run.review_pairs,
        versions=dict(run.versions),
        report=dict(run.report),
        error_zh=run.error_zh,
        error_en=run.error_en,
    )


def _members(ctx: Ctx, library: MasterdataLibrary) -> list[MasterdataMember]:
    return list(
        ctx.db.scalars(
            select(MasterdataMember)
            .where(MasterdataMember.library_id == library.id, MasterdataMember.active.is_(True))
            .order_by(MasterdataMember.rank, MasterdataMember.resource_code)
        )
    )


def _library_out(ctx: Ctx, library: MasterdataLibrary) -> LibraryOut:
    current = ctx.db.get(MasterdataRun, library.current_run_id) if library.current_run_id else None
    return LibraryOut(
        code=library.code,
        name=library.name,
        kind=LibraryKind(library.kind),
        unit_code=_unit_code(ctx, library.unit_id),
        threshold=library.threshold,
        members=[
            MemberOut(
                resource_code=m.resource_code,
                unit_id=m.unit_id,
                unit_code=_unit_code(ctx, m.unit_id),
                rank=m.rank,
                mapping=dict(m.mapping),
            )
            for m in _members(ctx, library)
        ],
        current_run=_run_out(current, library.current_run_id) if current else None,
    )


# ------------------------------------------------------------------ definitions


def define_masterdata_library(ctx: Ctx, data: LibraryIn) -> LibraryOut:
    """A new, empty base library owned by ``data.unit_code`` (the bureau)."""
    unit_id = org.unit_id_for_code(ctx, data.unit_code)
    if unit_id is None:
        raise Invalid(f"单位 {data.unit_code} 不存在。", f"Unit {data.unit_code} does not exist.")
    require(ctx, "define_masterdata_library", unit_id, data.code)
    if ctx.db.scalar(select(MasterdataLibrary.id).where(MasterdataLibrary.code == data.code)):
        raise Conflict(f"基础库 {data.code} 已存在。", f"Base library {data.code} already exists.")
    library = MasterdataLibrary(
        code=data.code,
        name=data.name.strip(),
        kind=data.kind,
        unit_id=unit_id,
        threshold=data.threshold,
        created_by=ctx.actor.label,
    )
    ctx.db.add(library)
    ctx.db.flush()
    record(ctx, LibraryDefined(library.code, unit_id, data.kind.value, library.name))
    return _library_out(ctx, library)


def get_masterdata_library(ctx: Ctx, code: str) -> LibraryOut:
    library = _library(ctx, code)
    require(ctx, "view_masterdata", library.unit_id, code)
    return _library_out(ctx, library)


def _summary(ctx: Ctx, library: MasterdataLibrary) -> LibrarySummaryOut:
    current = ctx.db.get(MasterdataRun, library.current_run_id) if library.current_run_id else None
    conflicts = ctx.db.scalar(
        select(func.count(MasterdataConflict.id)).where(
            MasterdataConflict.library_id == library.id,
            MasterdataConflict.status == ConflictStatus.OPEN,
        )
    )
    review = ctx.db.scalar(
        select(func.count(MasterdataReviewPair.id)).where(
            MasterdataReviewPair.library_id == library.id,
            MasterdataReviewPair.status == ReviewStatus.OPEN,
        )
    )
    return LibrarySummaryOut(
        code=library.code,
        name=library.name,
        kind=LibraryKind(library.kind),
        unit_code=_unit_code(ctx, library.unit_id),
        members=len(_members(ctx, library)),
        entities=current.entities_out if current else 0,
        open_conflicts=int(conflicts or 0),
        open_review_pairs=int(review or 0),
        current_run=_run_out(current, library.current_run_id) if current else None,
    )


def list_masterdata_libraries(ctx: Ctx) -> list[LibrarySummaryOut]:
    """The libraries the reader may see, with their current figures."""
    if not ctx.actor.is_authenticated:
        require(ctx, "view_masterdata")  # raises Unauthenticated
    libraries = ctx.db.scalars(select(MasterdataLibrary).order_by(MasterdataLibrary.code))
    return [_summary(ctx, lib) for lib in libraries if allowed(ctx, "view_masterdata", lib.unit_id)]


def masterdata_figures(ctx: Ctx) -> MasterdataFiguresOut:
    """Totals over the libraries the reader may see (the cockpit's box)."""
    rows = list_masterdata_libraries(ctx)
    streets = pushback.pushback_figures(ctx)
    return MasterdataFiguresOut(
        libraries=len(rows),
        entities=sum(r.entities for r in rows),
        open_conflicts=sum(r.open_conflicts for r in rows),
        open_review_pairs=sum(r.open_review_pairs for r in rows),
        pushbacks=streets.pushbacks,
        pushbacks_failed=streets.failed,
        pushback_reports=streets.reports,
    )


def list_masterdata_runs(ctx: Ctx, code: str) -> list[RunOut]:
    """The library's runs, newest first, with their figures."""
    library = _library(ctx, code)
    require(ctx, "view_masterdata", library.unit_id, code)
    runs = ctx.db.scalars(
        select(MasterdataRun)
        .where(MasterdataRun.library_id == library.id)
        .order_by(MasterdataRun.id.desc())
    )
    return [_run_out(r, library.current_run_id) for r in runs]


def _resolve_mapping(
    kind: LibraryKind, given: dict[str, str] | None, columns: list[str]
) -> dict[str, str]:
    """field → column from a mapping keyed by field or data element (or by headers)."""
    elements = ELEMENTS[kind]
    if given is None:
        return {f: c for f, c in map_columns(columns, kind.value).items() if f in elements}
    by_element = {e: f for f, e in elements.items()}
    mapping: dict[str, str] = {}
    unknown = []
    for key, column in given.items():
        field = key if key in elements else by_element.get(key)
        if field is None:
            unknown.append(key)
        else:
            mapping[field] = column
    if unknown:
        known = "、".join(f"{e}({f})" for f, e in elements.items())
        raise Invalid(
            f"映射中有未知的数据元：{'、'.join(unknown)}（可用：{known}）。",
            f"Unknown data elements in the mapping: {', '.join(unknown)} (known: {known}).",
        )
    return mapping


def _missing_columns(mapping: dict[str, str], columns: list[str]) -> list[str]:
    present = set(columns)
    return sorted({c for c in mapping.values() if c not in present})


def add_masterdata_member(ctx: Ctx, code: str, data: MemberIn) -> LibraryOut:
    """Add a dataset to a library (or change its rank and mapping).

    The mapping is checked against the member's current version: every mapped column must
    exist, and a name or the identifier (resident ID, USCC) must be mapped.
    """
    library = _library(ctx, code)
    require(ctx, "add_masterdata_member", library.unit_id, code)
    kind = LibraryKind(library.kind)
    unit_id, _name, _cycle, _items = lake.entry_facts(ctx, data.resource_code)
    current = lake.current_version(ctx, data.resource_code)
    if current is None:
        raise Invalid(
            f"数据集 {data.resource_code} 还没有归集的版本，无法核对列映射。",
            f"Dataset {data.resource_code} has no loaded version to check the mapping against.",
        )
    columns = [c.name for c in current[1].columns]
    mapping = _resolve_mapping(kind, data.mapping, columns)
    missing = _missing_columns(mapping, columns)
    if missing:
        raise Invalid(
            f"数据集 {data.resource_code} 当前版本中没有列：{'、'.join(missing)}。",
            f"Dataset {data.resource_code} has no column {', '.join(missing)} in its current"
            " version.",
        )
    if not any(f in mapping for f in REQUIRED[kind]):
        zh = "、".join(ELEMENTS[kind][f] for f in REQUIRED[kind])
        raise Invalid(
            f"数据集 {data.resource_code} 须映射{zh}之一。",
            f"Dataset {data.resource_code} must map one of: {', '.join(REQUIRED[kind])}.",
        )
    member = ctx.db.scalar(
        select(MasterdataMember).where(
            MasterdataMember.library_id == library.id,
            MasterdataMember.resource_code == data.resource_code,
        )
    )
    if member is None:
        member = MasterdataMember(
            library_id=library.id,
            resource_code=data.resource_code,
            unit_id=unit_id,
            created_by=ctx.actor.label,
        )
        ctx.db.add(member)
    member.rank, member.mapping, member.active = data.rank, mapping, True
    ctx.db.flush()
    text = ", ".join(f"{f}={c}" for f, c in sorted(mapping.items()))
    record(ctx, MemberAdded(library.code, library.unit_id, data.resource_code, data.rank, text))
    return _library_out(ctx, library)


def remove_masterdata_member(ctx: Ctx, code: str, resource_code: str) -> LibraryOut:
    """Stop feeding a dataset into the library (from its next run on)."""
    library = _library(ctx, code)
    require(ctx, "remove_masterdata_member", library.unit_id, code)
    member = ctx.db.scalar(
        select(MasterdataMember).where(
            MasterdataMember.library_id == library.id,
            MasterdataMember.resource_code == resource_code,
            MasterdataMember.active.is_(True),
        )
    )
    if member is None:
        raise NotFound(
            f"数据集 {resource_code} 不是基础库 {code} 的成员。",
            f"Dataset {resource_code} is not a member of base library {code}.",
        )
    member.active = False
    ctx.db.flush()
    record(ctx, MemberRemoved(library.code, library.unit_id, resource_code))
    return _library_out(ctx, library)


# ------------------------------------------------------------------ runs


def _member_versions(ctx: Ctx, library: MasterdataLibrary) -> list[runner.MemberVersion]:
    """Every member's current version, its mapping checked against that version's columns."""
    members = _members(ctx, library)
    if not members:
        raise Invalid(
            f"基础库 {library.code} 还没有成员数据集。",
            f"Base library {library.code} has no member datasets yet.",
        )
    out = []
    for m in members:
        current = lake.current_version(ctx, m.resource_code)
        if current is None:
            raise Invalid(
                f"成员数据集 {m.resource_code} 没有当前版本。",
                f"Member dataset {m.resource_code} has no current version.",
            )
        brief, files = current
        columns = [c.name for c in files.columns]
        missing = _missing_columns(dict(m.mapping), columns)
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
    library = _library(ctx, code)
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
    decisions = _decisions(ctx, library)
    if mode is RunMode.INCREMENTAL:
        cached = _read_cache(ctx, library, base_id)
        result = runner.incremental_run(
            kind.value, members, previous, library.threshold, cached, decisions
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
    _write_results(ctx, library, run, members, result)
    run.review_pairs = _store_review(ctx, library, run, mode, result)
    issues = _report_conflicts(ctx, library, run, members, result)
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
    return _run_out(run, library.current_run_id)


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


def _write_results(
    ctx: Ctx,
    library: MasterdataLibrary,
    run: MasterdataRun,
    members: list[runner.MemberVersion],
    result: runner.RunResult,
) -> None:
    by_code = {m.resource_code: m for m in members}
    id_attribute = "uscc" if library.kind == LibraryKind.LEGAL_ENTITY else "resident_id"
    entities = []
    for g in result.golden:
        golden: dict[str, Any] = {}
        for attribute, v in g.values.items():
            m = by_code.get(v.source) if v.source else None
            golden[attribute] = {
                "value": v.value,
                "resource_code": v.source,
                "unit_id": m.unit_id if m else None,
                "version": m.number if m else None,
                "loaded_at": m.loaded_at if m else None,
                "row": v.row,
                "rule": v.rule,
            }
        entities.append(
            {
                "run_id": run.id,
                "entity_id": g.entity_id,
                "members": g.members,
                "ident": g.values[id_attribute].value,
                "adcode": g.adcode,
                "golden": golden,
            }
        )
    for chunk in _chunks(entities):
        ctx.db.execute(insert(MasterdataEntity), chunk)
    sources = result.features.column("source").to_pylist()
    rows = result.features.column("row").to_pylist()
    memberships = [
        {
            "run_id": run.id,
            "entity_id": result.entity[i],
            "resource_code": sources[i],
            "version": result.versions[i],
            "row": rows[i],
            "digest": result.digests[i],
        }
        for i in range(len(sources))
    ]
    for chunk in _chunks(memberships):
        ctx.db.execute(insert(MasterdataMembership), chunk)
    events = [
        {
            "library_id": library.id,
            "run_id": run.id,
            "kind": EventKind(e.kind).value,
            "entity_id": e.entity_id,
            "others": list(e.others),
            "reason": e.reason,
            "created_at": utcnow(),
        }
        for e in result.events
    ]
    for chunk in _chunks(events):
        ctx.db.execute(insert(MasterdataEvent), chunk)


def _chunks(items: list[dict[str, Any]], size: int = 5_000) -> list[list[dict[str, Any]]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _masked(value: str, category: str) -> str:
    try:
        level = CATEGORY_INFO[Category(category)].default_level
    except ValueError:
        level = MaskLevel.REDACT
    if level is MaskLevel.PSEUDONYM:
        level = MaskLevel.PARTIAL
    return mask(value, category, level) if value else value


def _fingerprint(library_code: str, c: runner.ConflictFinding) -> str:
    import hashlib

    text = "\x1f".join((library_code, c.resource_code, c.attribute, c.kind, c.digest, c.value))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


_KIND_TEXT = {
    "values_differ": ("与其他来源的取值不一致（未被采信）", "disagree with the value adopted"),
    "id_check_failed": ("校验位错误", "fail their check character"),
    "id_malformed": ("格式错误", "are malformed"),
}


def _report_conflicts(
    ctx: Ctx,
    library: MasterdataLibrary,
    run: MasterdataRun,
    members: list[runner.MemberVersion],
    result: runner.RunResult,
) -> int:
    """Store the run's conflicts (one row per finding, kept across runs) and raise one
    quality issue per member, attribute and kind; returns how many issues were raised or
    brought up to date. Findings no longer found are marked gone."""
    by_code = {m.resource_code: m for m in members}
    existing = {
        c.fingerprint: c
        for c in ctx.db.scalars(
            select(MasterdataConflict).where(MasterdataConflict.library_id == library.id)
        )
    }
    seen: set[str] = set()
    groups: dict[tuple[str, str, str], list[MasterdataConflict]] = defaultdict(list)
    for finding in result.conflicts:
        fp = _fingerprint(library.code, finding)
        if fp in seen:
            continue
        seen.add(fp)
        category = runner.category(result.kind, finding.attribute)
        row = existing.get(fp)
        if row is None:
            row = MasterdataConflict(
                library_id=library.id,
                fingerprint=fp,
                attribute=finding.attribute,
                kind=finding.kind,
                resource_code=finding.resource_code,
                unit_id=by_code[finding.resource_code].unit_id,
                first_run_id=run.id,
            )
            ctx.db.add(row)
        row.entity_id, row.row, row.last_run_id = finding.entity_id, finding.row, run.id
        row.value_masked = _masked(finding.value, category)
        row.golden_masked = _masked(finding.golden, category)
        row.status = ConflictStatus.OPEN
        groups[(finding.resource_code, finding.attribute, finding.kind)].append(row)
    gone = [c.id for fp, c in existing.items() if fp not in seen]
    if gone:
        ctx.db.execute(
            update(MasterdataConflict)
            .where(MasterdataConflict.id.in_(gone))
            .values(status=ConflictStatus.GONE)
        )
    ctx.db.flush()
    elements = ELEMENTS[LibraryKind(library.kind)]
    for (resource_code, attribute, kind), rows in sorted(groups.items()):
        m = by_code[resource_code]
        zh_kind, en_kind = _KIND_TEXT.get(kind, (kind, kind))
        column = m.mapping.get(attribute)
        summary = (
            f"基础库 {library.name}：{len(rows)} 条记录的{elements.get(attribute, attribute)}"
            f"{zh_kind} / base library {library.code}: {len(rows)} records' {attribute}"
            f" {en_kind} (run {run.id})"
        )
        issue_id = cross_source.report_cross_source_issue(
            ctx,
            resource_code=resource_code,
            unit_id=m.unit_id,
            version_number=m.number,
            column=column,
            key=f"{library.code}:{attribute}:{kind}",
            failing=len(rows),
            summary=summary,
        )
        ids = [r.id for r in rows]
        for i in range(0, len(ids), 5_000):
            ctx.db.execute(
                update(MasterdataConflict)
                .where(MasterdataConflict.id.in_(ids[i : i + 5_000]))
                .values(quality_issue_id=issue_id)
            )
    return len(groups)


def _make_current(ctx: Ctx, library: MasterdataLibrary, run: MasterdataRun) -> None:
    """The flip: readers see the new run from the commit of this transaction on."""
    library.current_run_id = run.id
    ctx.db.flush()


# ------------------------------------------------------------------ clerical review


def _decisions(ctx: Ctx, library: MasterdataLibrary) -> list[runner.Decision]:
    rows = ctx.db.scalars(
        select(MasterdataReviewPair).where(
            MasterdataReviewPair.library_id == library.id,
            MasterdataReviewPair.status == ReviewStatus.DECIDED,
        )
    )
    return [
        runner.Decision(
            (r.left_resource_code, r.left_digest),
            (r.right_resource_code, r.right_digest),
            r.decision == ReviewDecision.MATCH,
        )
        for r in rows
    ]


def _pair_fingerprint(left: tuple[str, str], right: tuple[str, str]) -> str:
    import hashlib

    text = "\x1f".join((*left, *right))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _store_review(
    ctx: Ctx,
    library: MasterdataLibrary,
    run: MasterdataRun,
    mode: RunMode,
    result: runner.RunResult,
) -> int:
    """Keep the run's review pairs: new ones open, ones seen before updated (a decided pair
    stays decided), open ones the run no longer finds gone (a full run scores every pair;
    an incremental run only drops the pairs whose records are no longer there). Returns
    the size of the open queue."""
    present = set(
        zip(
            result.features.column("source").to_pylist(),
            result.digests,
            strict=True,
        )
    )
    existing = {
        r.fingerprint: r
        for r in ctx.db.scalars(
            select(MasterdataReviewPair).where(MasterdataReviewPair.library_id == library.id)
        )
    }
    seen: set[str] = set()
    for f in result.review:
        fp = _pair_fingerprint(f.left.key, f.right.key)
        seen.add(fp)
        row = existing.get(fp)
        if row is None:
            row = MasterdataReviewPair(
                library_id=library.id,
                fingerprint=fp,
                status=ReviewStatus.OPEN,
                first_run_id=run.id,
                note="",
            )
            ctx.db.add(row)
            existing[fp] = row
        elif row.status == ReviewStatus.GONE:
            row.status = ReviewStatus.OPEN
        row.left_resource_code, row.left_version = f.left.resource_code, f.left.version
        row.left_row, row.left_digest = f.left.row, f.left.digest
        row.right_resource_code, row.right_version = f.right.resource_code, f.right.version
        row.right_row, row.right_digest = f.right.row, f.right.digest
        row.probability, row.weight, row.explanation = f.probability, f.weight, f.explanation
        row.last_run_id = run.id
    for fp, row in existing.items():
        if fp in seen or row.status != ReviewStatus.OPEN:
            continue
        gone = (row.left_resource_code, row.left_digest) not in present or (
            row.right_resource_code,
            row.right_digest,
        ) not in present
        if mode is RunMode.FULL or gone:
            row.status = ReviewStatus.GONE
    ctx.db.flush()
    return sum(1 for r in existing.values() if r.status == ReviewStatus.OPEN)


def _record_values(
    ctx: Ctx, library: MasterdataLibrary, resource_code: str, version: int, row: int
) -> dict[str, str | None]:
    """The mapped values of one source record (the member's mapping, that version's row)."""
    from shuzhi.lake.readers import text_value

    member = ctx.db.scalar(
        select(MasterdataMember).where(
            MasterdataMember.library_id == library.id,
            MasterdataMember.resource_code == resource_code,
        )
    )
    if member is None:
        return {}
    mapping = {str(k): str(v) for k, v in dict(member.mapping).items()}
    try:
        files = lake.version_of(ctx, resource_code, version)
        if files is None:
            return {}
        table = pq.read_table(files.data_path, columns=sorted(set(mapping.values())))
    except (NotFound, OSError, pa.ArrowException, KeyError):
        return {}
    if not 1 <= row <= table.num_rows:
        return {}
    line = table.slice(row - 1, 1).to_pylist()[0]
    return {f: text_value(line.get(c)) for f, c in mapping.items()}


def _review_out(
    ctx: Ctx,
    library: MasterdataLibrary,
    r: MasterdataReviewPair,
    *,
    values: bool = False,
    clear: bool = False,
) -> ReviewPairOut:
    kind = library.kind.value if isinstance(library.kind, LibraryKind) else str(library.kind)

    def side(code: str, version: int, row: int) -> ReviewRecordOut:
        member = ctx.db.scalar(
            select(MasterdataMember.unit_id).where(
                MasterdataMember.library_id == library.id,
                MasterdataMember.resource_code == code,
            )
        )
        shown: dict[str, str | None] = {}
        if values:
            for field, value in _record_values(ctx, library, code, version, row).items():
                masked = value
                if value is not None and not clear:
                    masked = _masked(value, runner.category(kind, field))
                shown[field] = masked
        return ReviewRecordOut(
            resource_code=code,
            unit_code=_unit_code(ctx, member) if member else None,
            version=version,
            row=row,
            values=shown,
        )

    return ReviewPairOut(
        id=r.id,
        library=library.code,
        status=ReviewStatus(r.status),
        probability=r.probability,
        weight=r.weight,
        explanation=r.explanation,
        left=side(r.left_resource_code, r.left_version, r.left_row),
        right=side(r.right_resource_code, r.right_version, r.right_row),
        decision=ReviewDecision(r.decision) if r.decision else None,
        note=r.note,
        decided_by=r.decided_by,
        decided_at=r.decided_at,
        first_run_id=r.first_run_id,
        last_run_id=r.last_run_id,
        masked=not clear,
    )


def list_masterdata_review(
    ctx: Ctx, code: str, status: ReviewStatus = ReviewStatus.OPEN, limit: int = 200
) -> list[ReviewPairOut]:
    """A library's review pairs of one status, the most uncertain (closest to even odds)
    first; where the records are, not their values."""
    library = _library(ctx, code)
    require(ctx, "view_masterdata", library.unit_id, code)
    rows = ctx.db.scalars(
        select(MasterdataReviewPair)
        .where(MasterdataReviewPair.library_id == library.id, MasterdataReviewPair.status == status)
        .order_by(MasterdataReviewPair.probability.desc(), MasterdataReviewPair.id)
        .limit(max(1, min(limit, 1000)))
    )
    return [_review_out(ctx, library, r) for r in rows]


def _pair(ctx: Ctx, library: MasterdataLibrary, pair_id: int) -> MasterdataReviewPair:
    row = ctx.db.get(MasterdataReviewPair, pair_id)
    if row is None or row.library_id != library.id:
        raise NotFound("该复核记录对不存在。", "No such review pair.")
    return row


def view_masterdata_review_pair(ctx: Ctx, code: str, pair_id: int) -> ReviewPairOut:
    """One pair side by side: both records' mapped values (masked per the reader, as golden
    records are) and the engine's explanation. A data access: audited."""
    library = _library(ctx, code)
    require(ctx, "view_masterdata_review_pair", library.unit_id, code)
    row = _pair(ctx, library, pair_id)
    clear = _clear(ctx, library)
    out = _review_out(ctx, library, row, values=True, clear=clear)
    record(ctx, ReviewPairViewed(library.code, row.id, library.unit_id, not clear))
    return out


def decide_masterdata_review_pair(
    ctx: Ctx, code: str, pair_id: int, data: ReviewDecisionIn
) -> ReviewPairOut:
    """Decide an open pair: ``match`` makes the two records one entity from the next run
    on, ``not_match`` keeps them apart; the pair then stays out of the queue until one of
    its records changes."""
    library = _library(ctx, code)
    require(ctx, "decide_masterdata_review_pair", library.unit_id, code)
    row = _pair(ctx, library, pair_id)
    if row.status != ReviewStatus.OPEN:
        raise Conflict(
            "该记录对已复核或已不在队列中。", "This pair was already decided or left the queue."
        )
    note = data.note.strip()
    row.status = ReviewStatus.DECIDED
    row.decision = data.decision
    row.note = note
    row.decided_by = ctx.actor.label
    row.decided_at = utcnow()
    ctx.db.flush()
    record(
        ctx,
        ReviewPairDecided(
            library.code,
            row.id,
            library.unit_id,
            data.decision.value,
            f"{row.left_resource_code}:{row.left_row}",
            f"{row.right_resource_code}:{row.right_row}",
            note[:500],
        ),
    )
    return _review_out(ctx, library, row)


# ------------------------------------------------------------------ reading entities


def _clear(ctx: Ctx, library: MasterdataLibrary) -> bool:
    """Whether the reader sees golden values in the clear."""
    return ctx.actor.kind == "system" or ctx.actor.role in CLEAR_ROLES


def _entity_out(
    ctx: Ctx, library: MasterdataLibrary, row: MasterdataEntity, clear: bool
) -> EntityOut:
    kind = library.kind.value if isinstance(library.kind, LibraryKind) else str(library.kind)
    golden: dict[str, GoldenValueOut] = {}
    for attribute, v in row.golden.items():
        value = v.get("value")
        if value is not None and not clear:
            value = _masked(str(value), runner.category(kind, attribute))
        unit_id = v.get("unit_id")
        golden[attribute] = GoldenValueOut(
            value=value,
            resource_code=v.get("resource_code"),
            unit_code=_unit_code(ctx, int(unit_id)) if unit_id else None,
            version=v.get("version"),
            loaded_at=v.get("loaded_at"),
            row=v.get("row"),
            rule=str(v.get("rule", "")),
        )
    records = ctx.db.execute(
        select(
            MasterdataMembership.resource_code,
            MasterdataMembership.version,
            MasterdataMembership.row,
        )
        .where(
            MasterdataMembership.run_id == row.run_id,
            MasterdataMembership.entity_id == row.entity_id,
        )
        .order_by(MasterdataMembership.resource_code, MasterdataMembership.row)
    ).all()
    events = ctx.db.scalars(
        select(MasterdataEvent)
        .where(
            MasterdataEvent.library_id == library.id,
            MasterdataEvent.entity_id == row.entity_id,
        )
        .order_by(MasterdataEvent.id)
    )
    return EntityOut(
        library=library.code,
        entity_id=row.entity_id,
        kind=LibraryKind(library.kind),
        run_id=row.run_id,
        members=row.members,
        golden=golden,
        records=[SourceRecordRef(resource_code=r[0], version=r[1], row=r[2]) for r in records],
        events=[
            EventOut(
                run_id=e.run_id,
                kind=EventKind(e.kind),
                others=list(e.others),
                reason=e.reason,
                created_at=e.created_at,
            )
            for e in events
        ],
        masked=not clear,
    )


def _readable(ctx: Ctx, operation: str, code: str) -> tuple[MasterdataLibrary | None, bool]:
    """The library if it exists and the reader may read it, else None (alike for the
    reader); and whether it was a refusal (the library exists), for the audit log only."""
    if not ctx.actor.is_authenticated:
        require(ctx, operation)  # raises Unauthenticated
    library = ctx.db.scalar(select(MasterdataLibrary).where(MasterdataLibrary.code == code))
    if library is None:
        return None, False
    if not allowed(ctx, operation, library.unit_id):
        return None, True
    return library, False


def _not_found(library: str, key: str, via: str, refused: bool) -> NotFound:
    err = NotFound(*_NOT_FOUND)
    err.after_rollback = lambda c: record(
        c, EntityNotFound(library, key, via, refused), "refused" if refused else "ok"
    )
    return err


def _current_entity(
    ctx: Ctx, library: MasterdataLibrary | None, column: str, value: str
) -> MasterdataEntity | None:
    run_id = library.current_run_id if library is not None else -1
    field = MasterdataEntity.entity_id if column == "entity_id" else MasterdataEntity.ident
    return ctx.db.scalar(
        select(MasterdataEntity)
        .where(MasterdataEntity.run_id == (run_id or -1), field == value)
        .order_by(MasterdataEntity.entity_id)
        .limit(1)
    )


def view_masterdata_entity(ctx: Ctx, code: str, entity_id: str) -> EntityOut:
    """An entity's golden record with provenance, its source records and its history."""
    library, refused = _readable(ctx, "view_masterdata_entity", code)
    row = _current_entity(ctx, library, "entity_id", entity_id.strip()[:40])
    if library is None or row is None:
        raise _not_found(code[:64], entity_id[:40], "entity", refused)
    clear = _clear(ctx, library)
    out = _entity_out(ctx, library, row, clear)
    record(ctx, EntityViewed(library.code, row.entity_id, library.unit_id, "entity", not clear))
    return out


def lookup_masterdata_entity(
    ctx: Ctx, code: str, *, resident_id: str | None = None, uscc: str | None = None
) -> EntityOut:
    """The entity whose golden resident ID (person libraries) or USCC (legal entities) is the
    key given. The key must be a valid one (check character and all): a lookup is never a
    way to test guesses digit by digit."""
    if (resident_id is None) == (uscc is None):
        raise Invalid(
            "请给出 resident_id 或 uscc 之一。", "Give exactly one of resident_id and uscc."
        )
    if resident_id is not None:
        evidence = read_resident_id(resident_id[:40])
        if not evidence.valid or evidence.number is None:
            raise Invalid("公民身份号码格式或校验位不正确。", "Not a valid resident ID.")
        key, kind, masked_key = evidence.number, LibraryKind.PERSON, "resident_id"
    else:
        read = read_uscc((uscc or "")[:40])
        if read.check is not Check.VALID or read.value is None:
            raise Invalid("统一社会信用代码格式或校验位不正确。", "Not a valid USCC.")
        key, kind, masked_key = read.value, LibraryKind.LEGAL_ENTITY, "uscc"
    library, refused = _readable(ctx, "lookup_masterdata_entity", code)
    # The same query runs whether or not the library may be read (no timing difference).
    row = _current_entity(ctx, library, "ident", key)
    shown = f"{masked_key}:{_masked(key, masked_key)}"
    if library is None or row is None or LibraryKind(library.kind) is not kind:
        raise _not_found(code[:64], shown, "lookup", refused)
    clear = _clear(ctx, library)
    out = _entity_out(ctx, library, row, clear)
    record(ctx, EntityViewed(library.code, row.entity_id, library.unit_id, "lookup", not clear))
    return out


__all__ = [
    "add_masterdata_member",
    "decide_masterdata_review_pair",
    "define_masterdata_library",
    "get_masterdata_library",
    "list_masterdata_libraries",
    "list_masterdata_review",
    "list_masterdata_runs",
    "lookup_masterdata_entity",
    "masterdata_figures",
    "remove_masterdata_member",
    "run_masterdata_library",
    "view_masterdata_entity",
    "view_masterdata_review_pair",
]
