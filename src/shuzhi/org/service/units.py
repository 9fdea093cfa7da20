"""Org: units as a tree, with their codes."""

from __future__ import annotations

from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.context import Ctx
from shuzhi.errors import ErrorCollector
from shuzhi.org.events import (
    UnitCreated,
    UnitUpdated,
)
from shuzhi.org.models import (
    Unit,
    UnitKind,
)
from shuzhi.org.schemas import (
    UnitCreate,
    UnitOut,
    UnitUpdate,
)
from shuzhi.org.service.common import _tree_order, _unit, unit_id_for_code
from shuzhi.standards.identifiers import is_valid_org_code, is_valid_uscc


def _depths(units: list[Unit]) -> dict[int, int]:
    by_id = {u.id: u for u in units}
    depth: dict[int, int] = {}
    for u in units:
        d, p = 0, u.parent_id
        while p is not None and p in by_id:
            d, p = d + 1, by_id[p].parent_id
        depth[u.id] = d
    return depth


def _unit_out(unit: Unit, parent: Unit | None, depth: int = 0) -> UnitOut:
    return UnitOut(
        code=unit.code,
        name=unit.name,
        name_en=unit.name_en,
        kind=unit.kind,
        parent_code=parent.code if parent else None,
        parent_name=parent.name if parent else None,
        uscc=unit.uscc,
        org_code=unit.org_code,
        sort_order=unit.sort_order,
        depth=depth,
    )


def list_units(ctx: Ctx) -> list[UnitOut]:
    """The unit tree, depth-first, each unit with its depth."""
    require(ctx, "view_units")
    units = _tree_order(ctx)
    by_id = {u.id: u for u in units}
    depth = _depths(units)
    return [_unit_out(u, by_id.get(u.parent_id or 0), depth[u.id]) for u in units]


def get_unit(ctx: Ctx, code: str) -> UnitOut:
    require(ctx, "view_units")
    unit = _unit(ctx, code)
    parent = ctx.db.get(Unit, unit.parent_id) if unit.parent_id else None
    return _unit_out(unit, parent)


def parent_choices(ctx: Ctx, code: str | None = None) -> list[UnitOut]:
    """Units that may become the parent of ``code`` (not itself or its descendants)."""
    require(ctx, "manage_units")
    units = list_units(ctx)
    if code is None:
        return units
    excluded, out = None, []
    for u in units:  # depth-first order: a subtree is the run of deeper units after its root
        if excluded is not None and u.depth > excluded:
            continue
        excluded = u.depth if u.code == code else None
        if excluded is None:
            out.append(u)
    return out


def _check_identifiers(
    ctx: Ctx,
    uscc: str | None,
    org_code: str | None,
    errors: ErrorCollector,
    own_id: int | None = None,
) -> None:
    if uscc:
        if not is_valid_uscc(uscc):
            errors.add(
                "uscc",
                "统一社会信用代码无效（格式、登记管理部门或校验码有误）。",
                "Invalid unified social credit code (format, authority or check character).",
            )
        else:
            other = ctx.db.scalar(select(Unit.id).where(Unit.uscc == uscc.upper()))
            if other is not None and other != own_id:
                errors.add(
                    "uscc",
                    "已有单位使用该统一社会信用代码。",
                    "Another unit already has this credit code.",
                )
    if org_code and not is_valid_org_code(org_code):
        errors.add(
            "org_code",
            "组织机构代码无效（校验码有误）。",
            "Invalid organisation code (check character).",
        )


def _check_parent(
    ctx: Ctx,
    kind: str,
    parent_code: str | None,
    errors: ErrorCollector,
    moving_id: int | None = None,
) -> Unit | None:
    if kind == UnitKind.REGION:
        if parent_code:
            errors.add(
                "parent_code",
                "区域是最高层级，不能有上级单位。",
                "A region is the top level and has no parent.",
            )
        return None
    if not parent_code:
        errors.add("parent_code", "请选择上级单位。", "Choose a parent unit.")
        return None
    parent = ctx.db.scalar(select(Unit).where(Unit.code == parent_code))
    if parent is None:
        errors.add(
            "parent_code",
            f"上级单位 {parent_code} 不存在。",
            f"Parent unit {parent_code} does not exist.",
        )
        return None
    # Walk up from the new parent: meeting the unit being moved would close a cycle.
    seen: set[int] = set()
    node: Unit | None = parent
    while node is not None and moving_id is not None:
        if node.id == moving_id:
            errors.add(
                "parent_code",
                "不能把单位移到它自己或其下级单位之下（会形成循环）。",
                "A unit cannot be placed under itself or its own sub-unit (cycle).",
            )
            break
        if node.id in seen:
            break
        seen.add(node.id)
        node = ctx.db.get(Unit, node.parent_id) if node.parent_id else None
    return parent


def create_unit(ctx: Ctx, data: UnitCreate) -> UnitOut:
    require(ctx, "manage_units")
    errors = ErrorCollector()
    if unit_id_for_code(ctx, data.code) is not None:
        errors.add(
            "code", f"单位代码 {data.code} 已存在。", f"Unit code {data.code} already exists."
        )
    parent = _check_parent(ctx, data.kind, data.parent_code, errors)
    _check_identifiers(ctx, data.uscc, data.org_code, errors)
    errors.raise_if_any()
    unit = Unit(
        code=data.code,
        name=data.name,
        name_en=data.name_en,
        kind=data.kind,
        parent_id=parent.id if parent else None,
        uscc=data.uscc.upper() if data.uscc else None,
        org_code=data.org_code.upper() if data.org_code else None,
        sort_order=data.sort_order,
    )
    ctx.db.add(unit)
    ctx.db.flush()
    record(
        ctx, UnitCreated(code=unit.code, unit=unit.id, name=unit.name, parent_code=data.parent_code)
    )
    return _unit_out(unit, parent)


def update_unit(ctx: Ctx, code: str, data: UnitUpdate) -> UnitOut:
    require(ctx, "manage_units", target=code)
    unit = _unit(ctx, code)
    errors = ErrorCollector()
    parent = _check_parent(ctx, unit.kind, data.parent_code, errors, moving_id=unit.id)
    _check_identifiers(ctx, data.uscc, data.org_code, errors, own_id=unit.id)
    errors.raise_if_any()
    new = {
        "name": data.name,
        "name_en": data.name_en,
        "parent_id": parent.id if parent else None,
        "uscc": data.uscc.upper() if data.uscc else None,
        "org_code": data.org_code.upper() if data.org_code else None,
        "sort_order": data.sort_order,
    }
    changes: dict[str, list[object]] = {}
    for field, value in new.items():
        old = getattr(unit, field)
        if old != value:
            changes[field] = [old, value]
            setattr(unit, field, value)
    if changes:
        ctx.db.flush()
        record(ctx, UnitUpdated(code=unit.code, unit=unit.id, changes=changes))
    return _unit_out(unit, parent)
