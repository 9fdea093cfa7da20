"""Base-library service: what the operations share (finding a library, its members, the
run and library views, masking of values for readers who do not see them in the clear)."""

from __future__ import annotations

from sqlalchemy import select

from shuzhi.context import Ctx, Role
from shuzhi.errors import NotFound
from shuzhi.masterdata.models import (
    LibraryKind,
    MasterdataLibrary,
    MasterdataMember,
    MasterdataRun,
    RunMode,
    RunStatus,
)
from shuzhi.masterdata.schemas import LibraryOut, MemberOut, RunOut
from shuzhi.org import service as org
from shuzhi.security.categories import CATEGORY_INFO, Category
from shuzhi.security.masking import MaskLevel, mask

# Who reads golden records in the clear; everyone else permitted sees the categories'
# default masks (pseudonyms shown partially masked, as on the dataset pages).
CLEAR_ROLES = frozenset({Role.CDO_EXECUTIVE})
NOT_FOUND = ("未找到该实体。", "No such entity.")


def find_library(ctx: Ctx, code: str) -> MasterdataLibrary:
    found = ctx.db.scalar(select(MasterdataLibrary).where(MasterdataLibrary.code == code.strip()))
    if found is None:
        raise NotFound(f"基础库 {code} 不存在。", f"Base library {code} does not exist.")
    return found


def unit_code_of(ctx: Ctx, unit_id: int) -> str:
    brief = org.unit_brief(ctx, unit_id)
    return brief.code if brief else ""


def run_out(run: MasterdataRun, current_id: int | None) -> RunOut:
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


def active_members(ctx: Ctx, library: MasterdataLibrary) -> list[MasterdataMember]:
    return list(
        ctx.db.scalars(
            select(MasterdataMember)
            .where(MasterdataMember.library_id == library.id, MasterdataMember.active.is_(True))
            .order_by(MasterdataMember.rank, MasterdataMember.resource_code)
        )
    )


def library_out(ctx: Ctx, library: MasterdataLibrary) -> LibraryOut:
    current = ctx.db.get(MasterdataRun, library.current_run_id) if library.current_run_id else None
    return LibraryOut(
        code=library.code,
        name=library.name,
        kind=LibraryKind(library.kind),
        unit_code=unit_code_of(ctx, library.unit_id),
        threshold=library.threshold,
        members=[
            MemberOut(
                resource_code=m.resource_code,
                unit_id=m.unit_id,
                unit_code=unit_code_of(ctx, m.unit_id),
                rank=m.rank,
                mapping=dict(m.mapping),
            )
            for m in active_members(ctx, library)
        ],
        current_run=run_out(current, library.current_run_id) if current else None,
    )


def mask_value(value: str, category: str) -> str:
    try:
        level = CATEGORY_INFO[Category(category)].default_level
    except ValueError:
        level = MaskLevel.REDACT
    if level is MaskLevel.PSEUDONYM:
        level = MaskLevel.PARTIAL
    return mask(value, category, level) if value else value


def in_clear(ctx: Ctx, library: MasterdataLibrary) -> bool:
    """Whether the reader sees golden values in the clear."""
    return ctx.actor.kind == "system" or ctx.actor.role in CLEAR_ROLES
