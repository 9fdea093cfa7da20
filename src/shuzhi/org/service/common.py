"""Org service: shared helpers and lookups other capabilities use."""

from __future__ import annotations

from sqlalchemy import select

from shuzhi.context import Ctx
from shuzhi.errors import NotFound
from shuzhi.org.models import (
    FilingStatus,
    Position,
    Unit,
)
from shuzhi.org.schemas import (
    UnitBrief,
)

REGION_POSITIONS = {Position.CDO, Position.CDO_EXECUTIVE}


CDO_POSITIONS = {Position.CDO, Position.CDO_EXECUTIVE, Position.UNIT_CDO}


# Positions a unit may hold only once at a time (the older one must be ended first).
SINGLE_HOLDER = {Position.CDO, Position.CDO_EXECUTIVE, Position.UNIT_CDO}


LIVE = (FilingStatus.DRAFT, FilingStatus.SUBMITTED, FilingStatus.RETURNED, FilingStatus.FILED)


def unit_id_for_code(ctx: Ctx, code: str) -> int | None:
    return ctx.db.scalar(select(Unit.id).where(Unit.code == code.strip()))


def unit_brief(ctx: Ctx, unit_id: int) -> UnitBrief | None:
    unit = ctx.db.get(Unit, unit_id)
    if unit is None:
        return None
    return UnitBrief(id=unit.id, code=unit.code, name=unit.name, kind=unit.kind, uscc=unit.uscc)


def all_unit_briefs(ctx: Ctx) -> list[UnitBrief]:
    """Every unit, in tree order (no permission needed: unit names are not protected)."""
    return [
        UnitBrief(id=u.id, code=u.code, name=u.name, kind=u.kind, uscc=u.uscc)
        for u in _tree_order(ctx)
    ]


def _unit(ctx: Ctx, code: str) -> Unit:
    unit = ctx.db.scalar(select(Unit).where(Unit.code == code.strip()))
    if unit is None:
        raise NotFound(f"单位 {code} 不存在。", f"Unit {code} does not exist.")
    return unit


def _tree_order(ctx: Ctx) -> list[Unit]:
    units = list(ctx.db.scalars(select(Unit)))
    children: dict[int | None, list[Unit]] = {}
    for u in units:
        children.setdefault(u.parent_id, []).append(u)
    ordered: list[Unit] = []

    def visit(parent: int | None) -> None:
        for u in sorted(children.get(parent, []), key=lambda x: (x.sort_order, x.code)):
            ordered.append(u)
            visit(u.id)

    visit(None)
    return ordered
