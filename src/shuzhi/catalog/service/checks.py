"""Catalogue entries: validation against stored data (codes, names, elements)."""

from __future__ import annotations

from shuzhi.catalog import codes, sources
from shuzhi.catalog.models import (
    CatalogEntry,
    EntryStatus,
)
from shuzhi.catalog.rules import check_entry
from shuzhi.catalog.schemas import (
    EntryFields,
    ItemIn,
)
from shuzhi.catalog.service.common import _SAME_NAME, _SEQUENCES, _STATE_BY_CODE, _TASK
from shuzhi.catalog.service.reading import _unit_id, shown_status
from shuzhi.context import Ctx
from shuzhi.errors import ErrorCollector, Invalid
from shuzhi.validation import text_key


def _resolve_unit(ctx: Ctx, unit_code: str | None) -> int:
    if unit_code:
        unit_id = _unit_id(ctx, unit_code)
        if unit_id is None:
            raise Invalid.field(
                "unit_code", f"单位 {unit_code} 不存在。", f"Unit {unit_code} does not exist."
            )
        return unit_id
    if ctx.actor.unit_id is None:
        raise Invalid.field("unit_code", "请指定提供方单位。", "Name the provider unit.")
    return ctx.actor.unit_id


def _elements_for(ctx: Ctx, items: list[ItemIn], errors: ErrorCollector) -> list[int | None]:
    """Element id per item: the named element, else one whose name or synonym matches."""
    by_code, by_term = sources.element_lookup(ctx)
    out: list[int | None] = []
    for i, item in enumerate(items):
        if item.element_code:
            element_id = by_code.get(item.element_code.upper())
            if element_id is None:
                errors.add(
                    f"items.{i}.element_code",
                    f"数据元 {item.element_code} 不存在。",
                    f"Data element {item.element_code} does not exist.",
                )
            out.append(element_id)
        else:
            out.append(by_term.get(item.name))
    return out


def _check_stored(
    ctx: Ctx,
    f: EntryFields,
    unit_id: int,
    errors: ErrorCollector,
    entry: CatalogEntry | None = None,
) -> None:
    own_id = entry.id if entry else None
    # Found by name alone, the rest checked here: with the unit in the query SQLite walks the
    # unit's index, i.e. every entry of the unit, for each entry an import writes. Names are
    # compared by their key: full-width and ASCII punctuation, case and spaces do not count.
    same_name = next(
        (
            code
            for code, unit, status, other_id in ctx.db.execute(
                _SAME_NAME, {"name_key": text_key(f.name)}
            )
            if unit == unit_id and status != EntryStatus.WITHDRAWN and other_id != own_id
        ),
        None,
    )
    if same_name:
        errors.add(
            "name",
            f"本单位已有同名目录（{same_name}）。",
            f"Your unit already has an entry with this name ({same_name}).",
        )
    for code in f.related_codes:
        # A code the actor may not know of is refused exactly like one nobody holds.
        related = ctx.db.execute(_STATE_BY_CODE, {"code": code}).first()
        if related is None or related.id == own_id or shown_status(ctx, related) is None:
            errors.add(
                "related_codes",
                f"关联资源代码 {code} 不存在或指向本目录。",
                f"Related resource code {code} does not exist or is this entry.",
            )
    for task_id in f.task_ids:
        task = ctx.db.execute(_TASK, {"id": task_id}).first()
        if task is None or task.unit_id != unit_id:
            errors.add(
                "task_ids",
                f"编目任务 {task_id} 不存在或不属于本单位。",
                f"Compile task {task_id} does not exist or belongs to another unit.",
            )
        elif task.entry_id is not None and task.entry_id != own_id:
            errors.add(
                "task_ids",
                f"编目任务「{task.name}」已由其他目录覆盖。",
                f"Compile task '{task.name}' is already covered by another entry.",
            )


def _validate(
    ctx: Ctx, f: EntryFields, unit_id: int, entry: CatalogEntry | None = None
) -> list[int | None]:
    """Every rule at once; returns the element id of each data item."""
    errors = ErrorCollector()
    check_entry(f, codes.code_book(ctx), codes.segment_lengths(ctx), errors)
    _check_stored(ctx, f, unit_id, errors, entry)
    elements = _elements_for(ctx, f.items, errors)
    errors.raise_if_any()
    return elements


def _next_sequence(ctx: Ctx, classification: str) -> str:
    width = codes.segment_lengths(ctx).sequence
    used = ctx.db.scalars(_SEQUENCES, {"classification": classification})
    highest = max((int(s) for s in used if s.isdigit()), default=0)
    return str(highest + 1).zfill(width)
