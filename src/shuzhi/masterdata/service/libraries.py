"""Base-library definitions: a library, its member datasets (rank, column mapping checked
against the current version), listings and the cockpit's figures."""

from __future__ import annotations

from sqlalchemy import func, select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import allowed, require
from shuzhi.context import Ctx
from shuzhi.errors import Conflict, ErrorCollector, Invalid, NotFound
from shuzhi.lake import service as lake
from shuzhi.masterdata import pushback
from shuzhi.masterdata.events import LibraryDefined, MemberAdded, MemberRemoved
from shuzhi.masterdata.models import (
    ConflictStatus,
    LibraryKind,
    MasterdataConflict,
    MasterdataLibrary,
    MasterdataMember,
    MasterdataReviewPair,
    MasterdataRun,
    ReviewStatus,
)
from shuzhi.masterdata.schemas import (
    ELEMENTS,
    REQUIRED,
    LibraryIn,
    LibraryOut,
    LibrarySummaryOut,
    MasterdataFiguresOut,
    MemberIn,
    RunOut,
)
from shuzhi.masterdata.service.common import (
    active_members,
    find_library,
    library_out,
    run_out,
    unit_code_of,
)
from shuzhi.masterdata.sources import map_columns
from shuzhi.org import service as org

# Codes the console's own paths under /masterdata/ take (a library so named could not be opened).
RESERVED_CODES = frozenset({"new"})


def define_masterdata_library(ctx: Ctx, data: LibraryIn) -> LibraryOut:
    """A new, empty base library owned by ``data.unit_code`` (the bureau)."""
    unit_id = org.unit_id_for_code(ctx, data.unit_code)
    if unit_id is None:
        raise Invalid(f"单位 {data.unit_code} 不存在。", f"Unit {data.unit_code} does not exist.")
    require(ctx, "define_masterdata_library", unit_id, data.code)
    if data.code in RESERVED_CODES:
        errors = ErrorCollector()
        errors.add(
            "code",
            f"“{data.code}”是控制台保留的路径，不能用作基础库代码。",
            f"“{data.code}” is a console path and cannot be a library code.",
        )
        errors.raise_if_any()
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
    return library_out(ctx, library)


def get_masterdata_library(ctx: Ctx, code: str) -> LibraryOut:
    library = find_library(ctx, code)
    require(ctx, "view_masterdata", library.unit_id, code)
    return library_out(ctx, library)


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
        unit_code=unit_code_of(ctx, library.unit_id),
        members=len(active_members(ctx, library)),
        entities=current.entities_out if current else 0,
        open_conflicts=int(conflicts or 0),
        open_review_pairs=int(review or 0),
        current_run=run_out(current, library.current_run_id) if current else None,
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
    library = find_library(ctx, code)
    require(ctx, "view_masterdata", library.unit_id, code)
    runs = ctx.db.scalars(
        select(MasterdataRun)
        .where(MasterdataRun.library_id == library.id)
        .order_by(MasterdataRun.id.desc())
    )
    return [run_out(r, library.current_run_id) for r in runs]


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


def missing_columns(mapping: dict[str, str], columns: list[str]) -> list[str]:
    present = set(columns)
    return sorted({c for c in mapping.values() if c not in present})


def add_masterdata_member(ctx: Ctx, code: str, data: MemberIn) -> LibraryOut:
    """Add a dataset to a library (or change its rank and mapping).

    The mapping is checked against the member's current version: every mapped column must
    exist, and a name or the identifier (resident ID, USCC) must be mapped.
    """
    library = find_library(ctx, code)
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
    missing = missing_columns(mapping, columns)
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
    return library_out(ctx, library)


def remove_masterdata_member(ctx: Ctx, code: str, resource_code: str) -> LibraryOut:
    """Stop feeding a dataset into the library (from its next run on)."""
    library = find_library(ctx, code)
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
    return library_out(ctx, library)
