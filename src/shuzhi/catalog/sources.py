"""一数一源: standard data elements, their one authoritative source unit, and conflicts.

The first unit whose published entry claims to be the source of an element becomes its
source. A later claim by another unit opens a ``SourceConflict`` for the CDO executive, who
assigns the source; every other unit's items then reference that source instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require, scope_unit
from shuzhi.catalog.events import ConflictRaised, ConflictResolved, ElementSaved, SourceClaimed
from shuzhi.catalog.memo import forget, remembered
from shuzhi.catalog.models import (
    CatalogEntry,
    ConflictStatus,
    DataElement,
    DataItem,
    SourceConflict,
)
from shuzhi.catalog.schemas import ConflictOut, ConflictResolve, ElementIn, ElementOut
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.db.cas import affected
from shuzhi.errors import Conflict, ErrorCollector, Invalid, NotFound
from shuzhi.org import service as org


@dataclass(frozen=True)
class ElementRef:
    """What an entry's data item shows of its element."""

    code: str
    name: str
    source_unit_id: int | None


@dataclass(frozen=True)
class _Elements:
    by_code: dict[str, int]
    by_term: dict[str, int]
    by_id: dict[int, ElementRef]


def _elements(ctx: Ctx) -> _Elements:
    def load() -> _Elements:
        found = _Elements({}, {}, {})
        for element in ctx.db.scalars(select(DataElement)):
            found.by_code[element.code.upper()] = element.id
            found.by_term[element.name] = element.id
            for term in element.synonyms:
                found.by_term.setdefault(term, element.id)
            found.by_id[element.id] = ElementRef(element.code, element.name, element.source_unit_id)
        return found

    return remembered(ctx, "elements", load)


def element_lookup(ctx: Ctx) -> tuple[dict[str, int], dict[str, int]]:
    """(code → id, name-or-synonym → id) over all data elements (read once per transaction)."""
    found = _elements(ctx)
    return found.by_code, found.by_term


def element_refs(ctx: Ctx) -> dict[int, ElementRef]:
    """Element id → code, name and source unit (read once per transaction)."""
    return _elements(ctx).by_id


def synonym_groups(ctx: Ctx) -> list[list[str]]:
    """Each element's name with its synonyms: the search index's synonym groups."""
    groups = []
    for element in ctx.db.scalars(select(DataElement).order_by(DataElement.code)):
        terms = [element.name, *element.synonyms]
        if len(terms) > 1:
            groups.append(terms)
    return groups


def claim_sources(ctx: Ctx, entry_id: int, unit_id: int) -> None:
    """At publication: take unclaimed elements, and raise conflicts for elements already held."""
    claims = ctx.db.scalars(
        select(DataElement)
        .join(DataItem, DataItem.element_id == DataElement.id)
        .where(DataItem.entry_id == entry_id, DataItem.is_source.is_(True))
        .distinct()
    )
    for element in claims:
        if element.source_unit_id is None:
            element.source_unit_id = unit_id
            forget(ctx)
            record(ctx, SourceClaimed(code=element.code, unit=unit_id))
            continue
        if element.source_unit_id == unit_id:
            continue
        already = ctx.db.scalar(
            select(SourceConflict.id).where(
                SourceConflict.element_id == element.id,
                SourceConflict.claimant_unit_id == unit_id,
                SourceConflict.status == ConflictStatus.OPEN,
            )
        )
        if already is not None:
            continue
        conflict = SourceConflict(
            element_id=element.id,
            claimant_unit_id=unit_id,
            source_unit_id=element.source_unit_id,
            entry_id=entry_id,
            status=ConflictStatus.OPEN,
        )
        ctx.db.add(conflict)
        ctx.db.flush()
        record(
            ctx,
            ConflictRaised(
                conflict_id=conflict.id,
                element_code=element.code,
                claimant_unit=unit_id,
                source_unit=element.source_unit_id,
            ),
        )


# ---------------------------------------------------------------- elements


def _element_out(ctx: Ctx, element: DataElement, items: int = 0) -> ElementOut:
    source = org.unit_brief(ctx, element.source_unit_id) if element.source_unit_id else None
    return ElementOut(
        code=element.code,
        name=element.name,
        data_type=element.data_type,
        length=element.length,
        synonyms=element.synonyms,
        description=element.description,
        source_unit_code=source.code if source else None,
        source_unit_name=source.name if source else None,
        items=items,
    )


def list_elements(ctx: Ctx) -> list[ElementOut]:
    require(ctx, "view_catalog")
    counts = dict(
        ctx.db.execute(
            select(DataItem.element_id, func.count())
            .where(DataItem.element_id.is_not(None))
            .group_by(DataItem.element_id)
        ).all()
    )
    return [
        _element_out(ctx, e, counts.get(e.id, 0))
        for e in ctx.db.scalars(select(DataElement).order_by(DataElement.code))
    ]


def save_element(ctx: Ctx, data: ElementIn) -> ElementOut:
    """Add a data element or change one (by code); synonyms feed the search index."""
    require(ctx, "manage_data_elements", target=data.code)
    code = data.code.upper()
    element = ctx.db.scalar(select(DataElement).where(DataElement.code == code))
    errors = ErrorCollector()
    same_name = ctx.db.scalar(select(DataElement.code).where(DataElement.name == data.name))
    if same_name is not None and same_name != code:
        errors.add("name", f"数据元名称已被 {same_name} 使用。", f"Name used by {same_name}.")
    _, by_term = element_lookup(ctx)
    for term in data.synonyms:
        owner = by_term.get(term)
        if owner is not None and (element is None or owner != element.id):
            errors.add(
                "synonyms",
                f"同义词「{term}」已属于其他数据元。",
                f"Synonym '{term}' belongs to another element.",
            )
    if data.data_type.upper() not in "CNYDTLMGBIF":
        errors.add("data_type", "数据类型无效。", "Unknown data type.")
    errors.raise_if_any()
    created = element is None
    if element is None:
        element = DataElement(code=code)
        ctx.db.add(element)
    element.name = data.name
    element.data_type = data.data_type.upper()
    element.length = data.length
    element.synonyms = data.synonyms
    element.description = data.description
    ctx.db.flush()
    forget(ctx)
    record(ctx, ElementSaved(code=code, name=data.name, created=created))
    return _element_out(ctx, element)


# ---------------------------------------------------------------- conflicts


def _conflict_out(ctx: Ctx, c: SourceConflict) -> ConflictOut:
    element = ctx.db.get(DataElement, c.element_id)
    entry = ctx.db.get(CatalogEntry, c.entry_id)
    claimant = org.unit_brief(ctx, c.claimant_unit_id)
    source = org.unit_brief(ctx, c.source_unit_id)
    assigned = org.unit_brief(ctx, c.assigned_unit_id) if c.assigned_unit_id else None
    assert element is not None and entry is not None and claimant and source
    return ConflictOut(
        id=c.id,
        element_code=element.code,
        element_name=element.name,
        claimant_unit_code=claimant.code,
        claimant_unit_name=claimant.name,
        source_unit_code=source.code,
        source_unit_name=source.name,
        resource_code=entry.resource_code,
        status=ConflictStatus(c.status),
        raised_at=c.raised_at,
        resolved_by=c.resolved_by,
        resolved_at=c.resolved_at,
        assigned_unit_code=assigned.code if assigned else None,
        note=c.note,
    )


def list_conflicts(ctx: Ctx, status: ConflictStatus | None = None) -> list[ConflictOut]:
    """All conflicts for the bureau; a unit sees those it is part of."""
    scope = scope_unit(ctx, "view_source_conflicts")
    query = select(SourceConflict).order_by(SourceConflict.status, SourceConflict.id.desc())
    if status is not None:
        query = query.where(SourceConflict.status == status)
    if scope is not None:
        query = query.where(
            (SourceConflict.claimant_unit_id == scope) | (SourceConflict.source_unit_id == scope)
        )
    return [_conflict_out(ctx, c) for c in ctx.db.scalars(query)]


def open_conflict_count(ctx: Ctx) -> int:
    return int(
        ctx.db.scalar(
            select(func.count())
            .select_from(SourceConflict)
            .where(SourceConflict.status == ConflictStatus.OPEN)
        )
        or 0
    )


def resolve_source_conflict(ctx: Ctx, conflict_id: int, data: ConflictResolve) -> ConflictOut:
    """Assign the element's source; all open conflicts on it close, other units now reference."""
    require(ctx, "resolve_source_conflict", target=str(conflict_id))
    conflict = ctx.db.get(SourceConflict, conflict_id)
    if conflict is None:
        raise NotFound("一数一源冲突不存在。", "No such source conflict.")
    unit_id = org.unit_id_for_code(ctx, data.source_unit_code)
    if unit_id is None:
        raise Invalid.field(
            "source_unit_code",
            f"单位 {data.source_unit_code} 不存在。",
            f"Unit {data.source_unit_code} does not exist.",
        )
    now = utcnow()
    result = ctx.db.execute(
        update(SourceConflict)
        .where(
            SourceConflict.element_id == conflict.element_id,
            SourceConflict.status == ConflictStatus.OPEN,
        )
        .values(
            status=ConflictStatus.RESOLVED,
            resolved_by=ctx.actor.label,
            resolved_at=now,
            assigned_unit_id=unit_id,
            note=data.note,
        )
        .execution_options(synchronize_session=False)
    )
    if affected(result) == 0:
        raise Conflict("该冲突已处理。", "This conflict has already been resolved.")
    element = ctx.db.get(DataElement, conflict.element_id)
    assert element is not None
    element.source_unit_id = unit_id
    forget(ctx)
    # Items of the assigned unit are the source; everyone else's now reference it.
    entry_ids = select(CatalogEntry.id).where(CatalogEntry.unit_id == unit_id)
    ctx.db.execute(
        update(DataItem)
        .where(DataItem.element_id == element.id, DataItem.entry_id.not_in(entry_ids))
        .values(is_source=False)
        .execution_options(synchronize_session=False)
    )
    ctx.db.flush()
    ctx.db.refresh(conflict)
    record(
        ctx,
        ConflictResolved(
            conflict_id=conflict.id,
            element_code=element.code,
            assigned_unit=unit_id,
            note=data.note,
        ),
    )
    return _conflict_out(ctx, conflict)
