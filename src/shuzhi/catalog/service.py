"""Catalogue entries: compile, validate, approve, publish, revise and withdraw.

Lifecycle: draft → submitted → published (approved by the unit's CDO; nobody approves their
own submission) → revised (a new draft version; the published snapshot stays readable) →
published again, or withdrawn with a reason. Only the owning unit's liaison or CDO edits.
Status changes are conditional UPDATEs, so two people acting at once cannot both win.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuzhi import hooks
from shuzhi.audit.service import record
from shuzhi.auth.permissions import RULES as PERMISSIONS
from shuzhi.auth.permissions import allowed, deny, require
from shuzhi.catalog import codes, dcat, memo, sources, tasks
from shuzhi.catalog.events import (
    CatalogExported,
    EntryApproved,
    EntryCreated,
    EntryReturned,
    EntryRevised,
    EntrySubmitted,
    EntryUpdated,
    EntryWithdrawn,
    PublishDateSet,
)
from shuzhi.catalog.models import (
    CatalogEntry,
    CodeTable,
    CompileTask,
    DataElement,
    DataItem,
    EntryEvent,
    EntryStatus,
    EntryVersion,
    OpenType,
    Setting,
    ShareType,
)
from shuzhi.catalog.rules import check_entry
from shuzhi.catalog.schemas import (
    CatalogOverview,
    ElementIn,
    ElementOut,
    EntryBrief,
    EntryCreate,
    EntryEventOut,
    EntryFields,
    EntryOut,
    EntryPage,
    EntryUpdate,
    FieldChange,
    ItemIn,
    ItemOut,
    VersionDiff,
    VersionOut,
)
from shuzhi.catalog.sources import ElementRef
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.db.cas import compare_and_set
from shuzhi.errors import Conflict, ErrorCollector, Invalid, NotFound
from shuzhi.org import service as org
from shuzhi.org.schemas import UnitBrief
from shuzhi.search import service as search
from shuzhi.search.service import SearchDoc

SYNONYMS_KEY = "synonyms_synced"
DEFER_KEY = "catalog.deferred_index"
# Fields of EntryOut that describe the workflow rather than the resource (left out of diffs).
WORKFLOW_FIELDS = {
    "status",
    "version",
    "published_version",
    "submitted_by",
    "submitted_at",
    "decided_by",
    "decided_at",
    "return_reason",
    "withdraw_reason",
    "history",
    "showing_version",
    "items",
    "task_ids",
    "publish_date",
}
# Entries in these states have a published version others may read.
LIVE_STATES = (EntryStatus.DRAFT, EntryStatus.SUBMITTED, EntryStatus.PUBLISHED)


# Statements run for every entry of a bulk compile, built once (building a statement costs
# about as much as running it on SQLite).
_BY_CODE = select(CatalogEntry).where(CatalogEntry.resource_code == bindparam("code"))
_ID_BY_CODE = select(CatalogEntry.id).where(CatalogEntry.resource_code == bindparam("code"))
_SAME_NAME = select(
    CatalogEntry.resource_code, CatalogEntry.unit_id, CatalogEntry.status, CatalogEntry.id
).where(CatalogEntry.name == bindparam("name"))
_TASK = select(CompileTask.unit_id, CompileTask.entry_id, CompileTask.name).where(
    CompileTask.id == bindparam("id")
)
_SEQUENCES = select(CatalogEntry.sequence_code).where(
    CatalogEntry.class_code
    + CatalogEntry.subclass_code
    + CatalogEntry.group_code
    + CatalogEntry.detail_code
    == bindparam("classification")
)
_ITEMS_OF = (
    select(
        DataItem.entry_id,
        DataItem.position,
        DataItem.name,
        DataItem.data_type,
        DataItem.length,
        DataItem.share_type,
        DataItem.is_source,
        DataItem.description,
        DataElement.code.label("element_code"),
        DataElement.name.label("element_name"),
        DataElement.source_unit_id,
    )
    .outerjoin(DataElement, DataElement.id == DataItem.element_id)
    .where(DataItem.entry_id.in_(bindparam("ids", expanding=True)))
    .order_by(DataItem.entry_id, DataItem.position)
)
_TASKS_OF = (
    select(CompileTask.id, CompileTask.entry_id)
    .where(CompileTask.entry_id.in_(bindparam("ids", expanding=True)))
    .order_by(CompileTask.id)
)
_HISTORY_OF = (
    select(
        EntryEvent.entry_id,
        EntryEvent.version,
        EntryEvent.action,
        EntryEvent.actor,
        EntryEvent.note,
        EntryEvent.at,
    )
    .where(EntryEvent.entry_id.in_(bindparam("ids", expanding=True)))
    .order_by(EntryEvent.id)
)
_EVENTS: Table = EntryEvent.__table__  # type: ignore[assignment]
_ADD_EVENT = insert(_EVENTS)
# Items are written with Core on the table: one multi-row statement, none of the ORM's
# per-row bookkeeping (nothing holds DataItem objects).
_ITEMS: Table = DataItem.__table__  # type: ignore[assignment]
_ADD_ITEMS = insert(_ITEMS)


# ---------------------------------------------------------------- reading


def resource_code_of(classification: str, sequence: str) -> str:
    """The rendered resource code: ``分类码/顺序码``."""
    return f"{classification}/{sequence}"


def _classification(f: EntryFields | CatalogEntry) -> str:
    return f.class_code + f.subclass_code + f.group_code + f.detail_code


def _entry(ctx: Ctx, resource_code: str) -> CatalogEntry:
    entry = ctx.db.scalar(_BY_CODE, {"code": resource_code.strip()})
    if entry is None:
        raise NotFound(
            f"目录 {resource_code} 不存在。", f"Catalogue entry {resource_code} does not exist."
        )
    return entry


def published_entry_id(db: Session, resource_code: str) -> int | None:
    """Id of an entry that has a published version (for sharing checks made without an actor)."""
    return db.scalar(
        select(CatalogEntry.id).where(
            CatalogEntry.resource_code == resource_code,
            CatalogEntry.published_version.is_not(None),
        )
    )


def sees_all_drafts(ctx: Ctx) -> bool:
    """Region-wide roles (the bureau) see every unit's drafts."""
    role = ctx.actor.role
    return ctx.actor.kind == "system" or (
        role is not None and role in PERMISSIONS["view_entry_drafts"].region
    )


def sees_working_copy(ctx: Ctx, unit_id: int) -> bool:
    return allowed(ctx, "view_entry_drafts", unit_id)


_unit = memo.unit
_unit_id = memo.unit_id


def _item_out(ctx: Ctx, item: Any, element: ElementRef | None) -> ItemOut:
    """A data item as shown, from a stored row or from the input just written."""
    source = element.source_unit_id if element is not None else None
    return ItemOut(
        position=item.position,
        name=item.name,
        data_type=item.data_type,
        length=item.length,
        share_type=ShareType(item.share_type),
        element_code=element.code if element else None,
        element_name=element.name if element else None,
        is_source=item.is_source,
        source_unit_code=_unit(ctx, source).code if source is not None else None,
        description=item.description,
    )


def _chunks(ids: list[int], size: int = 500) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _items_of(ctx: Ctx, entry_ids: list[int]) -> dict[int, list[ItemOut]]:
    out: dict[int, list[ItemOut]] = {i: [] for i in entry_ids}
    for ids in _chunks(entry_ids):
        for row in ctx.db.execute(_ITEMS_OF, {"ids": ids}):
            element = None
            if row.element_code is not None:
                element = ElementRef(row.element_code, row.element_name, row.source_unit_id)
            out[row.entry_id].append(_item_out(ctx, row, element))
    return out


def _history_of(ctx: Ctx, entry_ids: list[int]) -> dict[int, list[EntryEventOut]]:
    out: dict[int, list[EntryEventOut]] = {i: [] for i in entry_ids}
    for ids in _chunks(entry_ids):
        for e in ctx.db.execute(_HISTORY_OF, {"ids": ids}):
            out[e.entry_id].append(
                EntryEventOut(
                    version=e.version, action=e.action, actor=e.actor, note=e.note, at=e.at
                )
            )
    return out


def _history(ctx: Ctx, entry_id: int) -> list[EntryEventOut]:
    return _history_of(ctx, [entry_id])[entry_id]


def _tasks_of(ctx: Ctx, entry_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {i: [] for i in entry_ids}
    for ids in _chunks(entry_ids):
        for task_id, entry_id in ctx.db.execute(_TASKS_OF, {"ids": ids}):
            if entry_id is not None:
                out[entry_id].append(task_id)
    return out


def _entry_outs(
    ctx: Ctx, entries: list[CatalogEntry], *, with_history: bool = False
) -> list[EntryOut]:
    """Working copies of many entries, with a few queries for all of them."""
    ids = [e.id for e in entries]
    items, tasks = _items_of(ctx, ids), _tasks_of(ctx, ids)
    history = _history_of(ctx, ids) if with_history else {}
    return [_compose(ctx, e, items[e.id], tasks[e.id], history.get(e.id, [])) for e in entries]


def _entry_out(ctx: Ctx, entry: CatalogEntry, *, with_history: bool = False) -> EntryOut:
    return _entry_outs(ctx, [entry], with_history=with_history)[0]


def _compose(
    ctx: Ctx,
    entry: CatalogEntry,
    items: list[ItemOut],
    task_ids: list[int],
    history: list[EntryEventOut],
) -> EntryOut:
    unit = _unit(ctx, entry.unit_id)
    return EntryOut(
        resource_code=entry.resource_code,
        classification_code=_classification(entry),
        class_code=entry.class_code,
        subclass_code=entry.subclass_code,
        group_code=entry.group_code,
        detail_code=entry.detail_code,
        sequence_code=entry.sequence_code,
        unit_code=unit.code,
        unit_name=unit.name,
        # 信息资源提供方代码: the provider's unified social credit code where the unit has one
        # (the national text is unconfirmed on this point), else its unit code.
        provider_code=unit.uscc or unit.code,
        name=entry.name,
        abstract=entry.abstract,
        format_code=entry.format_code,
        format_subtype=entry.format_subtype,
        share_type=ShareType(entry.share_type),
        share_conditions=entry.share_conditions,
        not_shared_basis=entry.not_shared_basis,
        share_method=entry.share_method,
        share_method_type=entry.share_method_type,
        open_type=OpenType(entry.open_type),
        open_conditions=entry.open_conditions,
        not_open_reason=entry.not_open_reason,
        not_open_note=entry.not_open_note,
        update_cycle=entry.update_cycle,
        publish_date=entry.publish_date,
        related_codes=json.loads(entry.related_codes),
        is_classified=entry.is_classified,
        extension=json.loads(entry.extension),
        items=items,
        status=EntryStatus(entry.status),
        version=entry.version,
        published_version=entry.published_version,
        submitted_by=entry.submitted_by,
        submitted_at=entry.submitted_at,
        decided_by=entry.decided_by,
        decided_at=entry.decided_at,
        return_reason=entry.return_reason,
        withdraw_reason=entry.withdraw_reason,
        task_ids=task_ids,
        history=history,
    )


def _snapshot(ctx: Ctx, entry: CatalogEntry, number: int) -> EntryOut:
    row = ctx.db.scalar(
        select(EntryVersion).where(EntryVersion.entry_id == entry.id, EntryVersion.number == number)
    )
    if row is None:
        raise NotFound(
            f"目录 {entry.resource_code} 没有第 {number} 版。",
            f"Entry {entry.resource_code} has no version {number}.",
        )
    out = EntryOut.model_validate_json(row.content)
    return out.model_copy(update={"showing_version": number})


def get_entry(ctx: Ctx, resource_code: str, version: int | None = None) -> EntryOut:
    """The working copy for its unit and the bureau; others see the latest published version."""
    require(ctx, "view_catalog")
    entry = _entry(ctx, resource_code)
    own = sees_working_copy(ctx, entry.unit_id)
    if version is not None:
        if not own and (entry.published_version is None or version > entry.published_version):
            raise NotFound(f"目录 {resource_code} 没有第 {version} 版。", "No such version.")
        return _snapshot(ctx, entry, version)
    if own or entry.status in (EntryStatus.PUBLISHED, EntryStatus.WITHDRAWN):
        return _entry_out(ctx, entry, with_history=own)
    if entry.published_version is not None:
        return _snapshot(ctx, entry, entry.published_version)
    raise NotFound(
        f"目录 {resource_code} 不存在。", f"Catalogue entry {resource_code} does not exist."
    )


def get_entries(ctx: Ctx, resource_codes: list[str]) -> dict[str, EntryOut]:
    """``get_entry`` for many codes at once (imports, exports); codes not visible are left out."""
    require(ctx, "view_catalog")
    wanted = list(dict.fromkeys(c.strip() for c in resource_codes if c.strip()))
    entries: list[CatalogEntry] = []
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        entries += ctx.db.scalars(select(CatalogEntry).where(CatalogEntry.resource_code.in_(chunk)))
    live = (EntryStatus.PUBLISHED, EntryStatus.WITHDRAWN)
    own = [e for e in entries if sees_working_copy(ctx, e.unit_id)]
    public = [e for e in entries if e not in own and e.status in live]
    found: dict[str, EntryOut] = {}
    for group, history in ((own, True), (public, False)):
        outs = _entry_outs(ctx, group, with_history=history)
        found.update((e.resource_code, out) for e, out in zip(group, outs, strict=True))
    for e in entries:
        if e.resource_code not in found and e.published_version is not None:
            found[e.resource_code] = _snapshot(ctx, e, e.published_version)
    return found


def list_versions(ctx: Ctx, resource_code: str) -> list[VersionOut]:
    require(ctx, "view_catalog")
    entry = _entry(ctx, resource_code)
    if entry.published_version is None and not sees_working_copy(ctx, entry.unit_id):
        raise NotFound(f"目录 {resource_code} 不存在。", "No such entry.")
    rows = ctx.db.scalars(
        select(EntryVersion).where(EntryVersion.entry_id == entry.id).order_by(EntryVersion.number)
    )
    return [
        VersionOut(number=v.number, published_at=v.published_at, approved_by=v.approved_by)
        for v in rows
    ]


def _comparable(out: EntryOut) -> dict[str, Any]:
    data = out.model_dump(mode="json")
    return {k: v for k, v in data.items() if k not in WORKFLOW_FIELDS}


def diff_entries(before: EntryOut, after: EntryOut) -> tuple[list[FieldChange], ...]:
    """Field-level changes between two states of an entry; data items matched by name."""
    a, b = _comparable(before), _comparable(after)
    fields = [FieldChange(field=k, before=a[k], after=b[k]) for k in a if a[k] != b.get(k)]
    old = {i.name: i.model_dump(mode="json") for i in before.items}
    new = {i.name: i.model_dump(mode="json") for i in after.items}
    added = [FieldChange(field=n, after=new[n]) for n in new if n not in old]
    removed = [FieldChange(field=n, before=old[n]) for n in old if n not in new]
    changed = [
        FieldChange(field=f"{n}.{attr}", before=old[n][attr], after=new[n][attr])
        for n in old
        if n in new
        for attr in old[n]
        if attr != "position" and old[n][attr] != new[n][attr]
    ]
    return fields, added, removed, changed


def diff_versions(
    ctx: Ctx, resource_code: str, from_version: int, to_version: int | None = None
) -> VersionDiff:
    """Compare two published versions, or a version with the working copy (to_version None)."""
    before = get_entry(ctx, resource_code, from_version)
    if to_version is None:
        entry = _entry(ctx, resource_code)
        if not sees_working_copy(ctx, entry.unit_id):
            raise NotFound("无权查看草稿。", "The working copy is not visible to you.")
        after = _entry_out(ctx, entry)
    else:
        after = get_entry(ctx, resource_code, to_version)
    fields, added, removed, changed = diff_entries(before, after)
    return VersionDiff(
        resource_code=resource_code,
        from_version=from_version,
        to_version=to_version if to_version is not None else "working",
        fields=fields,
        items_added=[c.field for c in added],
        items_removed=[c.field for c in removed],
        items_changed=changed,
    )


# ---------------------------------------------------------------- validation against stored data


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
    # unit's index, i.e. every entry of the unit, for each entry an import writes.
    same_name = next(
        (
            code
            for code, unit, status, other_id in ctx.db.execute(_SAME_NAME, {"name": f.name})
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
        related = ctx.db.scalar(_ID_BY_CODE, {"code": code})
        if related is None or related == own_id:
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


# ---------------------------------------------------------------- writing


def _apply_fields(entry: CatalogEntry, f: EntryFields) -> None:
    entry.name = f.name
    entry.abstract = f.abstract
    entry.format_code = f.format_code
    entry.format_subtype = f.format_subtype
    entry.share_type = f.share_type
    entry.share_conditions = f.share_conditions
    entry.not_shared_basis = f.not_shared_basis
    entry.share_method = f.share_method
    entry.share_method_type = f.share_method_type
    entry.open_type = f.open_type
    entry.open_conditions = f.open_conditions
    entry.not_open_reason = f.not_open_reason if f.open_type == OpenType.NOT_OPEN else ""
    entry.not_open_note = f.not_open_note
    entry.update_cycle = f.update_cycle
    entry.related_codes = json.dumps(f.related_codes, ensure_ascii=False)
    entry.is_classified = f.is_classified
    entry.extension = json.dumps(f.extension, ensure_ascii=False, sort_keys=True)


def _write_items(
    ctx: Ctx,
    entry: CatalogEntry,
    items: list[ItemIn],
    elements: list[int | None],
    *,
    new: bool = False,
) -> None:
    if not new:
        ctx.db.execute(delete(DataItem).where(DataItem.entry_id == entry.id))
    if not items:
        return
    ctx.db.execute(
        _ADD_ITEMS,
        [
            {
                "entry_id": entry.id,
                "position": i,
                "name": item.name,
                "data_type": item.data_type.upper(),
                "length": item.length,
                "share_type": item.share_type.value,
                "element_id": element_id,
                "is_source": item.is_source and element_id is not None,
                "description": item.description,
            }
            for i, (item, element_id) in enumerate(zip(items, elements, strict=True), start=1)
        ],
    )


def _link_tasks(ctx: Ctx, entry: CatalogEntry, task_ids: list[int], *, new: bool = False) -> None:
    if not new:
        ctx.db.execute(
            update(CompileTask)
            .where(CompileTask.entry_id == entry.id, CompileTask.id.not_in(task_ids or [0]))
            .values(entry_id=None)
        )
    if task_ids:
        ctx.db.execute(
            update(CompileTask).where(CompileTask.id.in_(task_ids)).values(entry_id=entry.id)
        )


def _log(ctx: Ctx, entry: CatalogEntry, action: str, note: str = "") -> EntryEventOut:
    """Append to the entry's history (Core: nothing reads these rows as ORM objects)."""
    event = EntryEventOut(
        version=entry.version, action=action, actor=ctx.actor.label, note=note, at=utcnow()
    )
    ctx.db.execute(_ADD_EVENT, {"entry_id": entry.id, **event.model_dump()})
    return event


def _flush_unique(ctx: Ctx, resource_code: str) -> None:
    """Flush; a resource code taken meanwhile by someone else becomes a Conflict."""
    try:
        with ctx.db.begin_nested():
            ctx.db.flush()
    except IntegrityError:
        raise Conflict(
            f"资源代码 {resource_code} 已被占用，请更换顺序码或重试。",
            f"Resource code {resource_code} is already taken; change the sequence or retry.",
        ) from None


def _duplicate_code(ctx: Ctx, code: str, own_id: int | None = None) -> None:
    other = ctx.db.scalar(_ID_BY_CODE, {"code": code})
    if other is not None and other != own_id:
        raise Invalid.field(
            "sequence_code",
            f"资源代码 {code} 已存在。",
            f"Resource code {code} already exists.",
        )


def create_entry(ctx: Ctx, data: EntryCreate) -> EntryOut:
    """Compile a new draft entry for a unit (default: the actor's own unit)."""
    unit_id = _resolve_unit(ctx, data.unit_code)
    require(ctx, "create_entry", unit_id, target=f"unit:{data.unit_code or unit_id}")
    elements = _validate(ctx, data, unit_id)
    classification = _classification(data)
    sequence = (
        data.sequence_code.zfill(codes.segment_lengths(ctx).sequence)
        if data.sequence_code
        else _next_sequence(ctx, classification)
    )
    code = resource_code_of(classification, sequence)
    _duplicate_code(ctx, code)
    entry = CatalogEntry(
        unit_id=unit_id,
        class_code=data.class_code,
        subclass_code=data.subclass_code,
        group_code=data.group_code,
        detail_code=data.detail_code,
        sequence_code=sequence,
        resource_code=code,
        status=EntryStatus.DRAFT,
        version=1,
        created_by=ctx.actor.label,
    )
    _apply_fields(entry, data)
    ctx.db.add(entry)
    _flush_unique(ctx, code)
    _write_items(ctx, entry, data.items, elements, new=True)
    _link_tasks(ctx, entry, data.task_ids, new=True)
    created = _log(ctx, entry, "created")
    ctx.db.flush()
    record(
        ctx,
        EntryCreated(
            resource_code=code, unit=unit_id, version=1, name=entry.name, items=len(data.items)
        ),
    )
    out = _created_out(ctx, entry, data, elements, created)
    _reindex(ctx, entry, working=out)
    return out


def _created_out(
    ctx: Ctx,
    entry: CatalogEntry,
    data: EntryCreate,
    elements: list[int | None],
    created: EntryEventOut,
) -> EntryOut:
    """The new entry as ``_entry_out`` would read it back, composed from what was just written
    (bulk compiles create thousands; reading each back is most of their cost)."""
    refs = sources.element_refs(ctx)
    items = [
        _item_out(
            ctx,
            SimpleNamespace(
                position=position,
                name=item.name,
                data_type=item.data_type.upper(),
                length=item.length,
                share_type=item.share_type.value,
                is_source=item.is_source and element_id is not None,
                description=item.description,
            ),
            refs[element_id] if element_id is not None else None,
        )
        for position, (item, element_id) in enumerate(
            zip(data.items, elements, strict=True), start=1
        )
    ]
    return _compose(ctx, entry, items, sorted(set(data.task_ids)), [created])


def _update_if(
    ctx: Ctx, entry: CatalogEntry, allowed_from: tuple[EntryStatus, ...], **values: object
) -> bool:
    """Conditional UPDATE of the entry's row; either way ``entry`` then holds the stored row."""
    return compare_and_set(ctx.db, entry, CatalogEntry.status.in_(allowed_from), **values)


def _lock_draft(ctx: Ctx, entry: CatalogEntry) -> None:
    """Claim the draft for editing: fails if a submit or approval got there first."""
    if not _update_if(ctx, entry, (EntryStatus.DRAFT,), updated_at=utcnow()):
        ctx.db.refresh(entry)
        raise Conflict(
            f"目录当前状态为「{entry.status}」，只有草稿可以修改。",
            f"The entry is '{entry.status}'; only drafts can be edited.",
        )


def update_entry(ctx: Ctx, resource_code: str, data: EntryUpdate) -> EntryOut:
    """Edit a draft; the code of an entry that was ever published cannot change."""
    entry = _entry(ctx, resource_code)
    require(ctx, "update_entry", entry.unit_id, target=resource_code)
    before = _entry_out(ctx, entry)
    _lock_draft(ctx, entry)
    elements = _validate(ctx, data, entry.unit_id, entry)
    classification = _classification(data)
    sequence = (
        data.sequence_code.zfill(codes.segment_lengths(ctx).sequence)
        if (data.sequence_code)
        else None
    )
    if classification == _classification(entry) and sequence in (None, entry.sequence_code):
        code = entry.resource_code
    elif entry.published_version is not None:
        raise Invalid.field(
            "class_code",
            "已发布过的目录不能更改分类或顺序码。",
            "An entry that was published keeps its classification and sequence code.",
        )
    else:
        sequence = sequence or _next_sequence(ctx, classification)
        code = resource_code_of(classification, sequence)
        _duplicate_code(ctx, code, entry.id)
        entry.class_code, entry.subclass_code = data.class_code, data.subclass_code
        entry.group_code, entry.detail_code = data.group_code, data.detail_code
        entry.sequence_code, entry.resource_code = sequence, code
    _apply_fields(entry, data)
    _flush_unique(ctx, code)
    _write_items(ctx, entry, data.items, elements)
    _link_tasks(ctx, entry, data.task_ids)
    ctx.db.flush()
    ctx.db.expire(entry)
    after = _entry_out(ctx, entry)
    fields, added, removed, changed = diff_entries(before, after)
    names = [c.field for c in fields]
    if added or removed or changed:
        names.append("items")
    if before.task_ids != after.task_ids:
        names.append("task_ids")
    _log(ctx, entry, "updated", ", ".join(names))
    record(
        ctx,
        EntryUpdated(
            resource_code=entry.resource_code,
            unit=entry.unit_id,
            version=entry.version,
            fields=names,
        ),
    )
    out = _entry_out(ctx, entry, with_history=True)
    _reindex(ctx, entry, before.resource_code, working=out)
    return out


def _transition(
    ctx: Ctx,
    entry: CatalogEntry,
    allowed_from: tuple[EntryStatus, ...],
    to: EntryStatus,
    **values: object,
) -> None:
    """Move status only if it is still what we read: a racing decision makes this a Conflict."""
    if not _update_if(ctx, entry, allowed_from, status=to, updated_at=utcnow(), **values):
        ctx.db.refresh(entry)
        raise Conflict(
            f"目录当前状态为「{entry.status}」，不能执行此操作。",
            f"The entry is '{entry.status}'; this step is not possible now.",
        )


def _fields_of(out: EntryOut) -> EntryFields:
    """The stored working copy as input again (to re-check rules whose code tables changed)."""
    data = out.model_dump(mode="json")
    return EntryFields.model_validate(data)


def submit_entry(ctx: Ctx, resource_code: str) -> EntryOut:
    """Send a draft to the unit CDO; the rules are checked again against today's code tables."""
    entry = _entry(ctx, resource_code)
    require(ctx, "submit_entry", entry.unit_id, target=resource_code)
    out = _entry_out(ctx, entry)
    _validate(ctx, _fields_of(out), entry.unit_id, entry)
    _transition(
        ctx,
        entry,
        (EntryStatus.DRAFT,),
        EntryStatus.SUBMITTED,
        submitted_by=ctx.actor.label,
        submitted_at=utcnow(),
        return_reason=None,
    )
    _log(ctx, entry, "submitted")
    record(
        ctx,
        EntrySubmitted(resource_code=resource_code, unit=entry.unit_id, version=entry.version),
    )
    return out.model_copy(
        update={
            "status": EntryStatus.SUBMITTED,
            "submitted_by": entry.submitted_by,
            "submitted_at": entry.submitted_at,
            "return_reason": None,
            "history": _history(ctx, entry.id),
        }
    )


def approve_entry(ctx: Ctx, resource_code: str, note: str = "") -> EntryOut:
    """Publish a submitted entry (its unit's CDO); its source claims are checked (一数一源)."""
    entry = _entry(ctx, resource_code)
    require(ctx, "approve_entry", entry.unit_id, target=resource_code)
    if entry.submitted_by == ctx.actor.label and ctx.actor.kind != "system":
        raise deny(
            "approve_entry",
            resource_code,
            "不能审核自己提交的目录。",
            "You cannot approve an entry you submitted.",
        )
    today = utcnow().date()
    _transition(
        ctx,
        entry,
        (EntryStatus.SUBMITTED,),
        EntryStatus.PUBLISHED,
        decided_by=ctx.actor.label,
        decided_at=utcnow(),
        published_version=CatalogEntry.version,
        publish_date=today,
        first_published_on=func.coalesce(CatalogEntry.first_published_on, today),
        withdraw_reason=None,
        withdrawn_at=None,
    )
    _log(ctx, entry, "approved", note)
    sources.claim_sources(ctx, entry.id, entry.unit_id)
    ctx.db.flush()
    out = _entry_out(ctx, entry, with_history=True)
    ctx.db.add(
        EntryVersion(
            entry_id=entry.id,
            number=entry.version,
            approved_by=ctx.actor.label,
            content=out.model_copy(update={"history": []}).model_dump_json(),
        )
    )
    record(
        ctx,
        EntryApproved(
            resource_code=resource_code, unit=entry.unit_id, version=entry.version, note=note
        ),
    )
    _reindex(ctx, entry, working=out)
    # Sharing ends grants the revision no longer supports; the portal closes a publication
    # that is no longer open (subscribers: shuzhi.wiring).
    hooks.publish(ctx, hooks.EntryRepublished(resource_code, entry.unit_id, entry.version))
    return out


def return_entry(ctx: Ctx, resource_code: str, reason: str) -> EntryOut:
    """Send a submission back to its compilers with a reason."""
    entry = _entry(ctx, resource_code)
    require(ctx, "return_entry", entry.unit_id, target=resource_code)
    reason = _reason(reason, "return")
    _transition(
        ctx,
        entry,
        (EntryStatus.SUBMITTED,),
        EntryStatus.DRAFT,
        decided_by=ctx.actor.label,
        decided_at=utcnow(),
        return_reason=reason,
    )
    _log(ctx, entry, "returned", reason)
    record(
        ctx,
        EntryReturned(
            resource_code=resource_code, unit=entry.unit_id, version=entry.version, reason=reason
        ),
    )
    return _entry_out(ctx, entry, with_history=True)


def revise_entry(ctx: Ctx, resource_code: str) -> EntryOut:
    """Open a new draft version of a published (or withdrawn) entry; the old one stays readable."""
    entry = _entry(ctx, resource_code)
    require(ctx, "revise_entry", entry.unit_id, target=resource_code)
    _transition(
        ctx,
        entry,
        (EntryStatus.PUBLISHED, EntryStatus.WITHDRAWN),
        EntryStatus.DRAFT,
        version=CatalogEntry.version + 1,
        submitted_by=None,
        submitted_at=None,
        return_reason=None,
    )
    _log(ctx, entry, "revised")
    record(
        ctx, EntryRevised(resource_code=resource_code, unit=entry.unit_id, version=entry.version)
    )
    hooks.publish(ctx, hooks.EntryRevised(resource_code, entry.unit_id, entry.version))
    _reindex(ctx, entry)
    return _entry_out(ctx, entry, with_history=True)


def withdraw_entry(ctx: Ctx, resource_code: str, reason: str) -> EntryOut:
    """Take a published entry out of the catalogue; it no longer covers its compile tasks."""
    entry = _entry(ctx, resource_code)
    require(ctx, "withdraw_entry", entry.unit_id, target=resource_code)
    reason = _reason(reason, "withdraw")
    _transition(
        ctx,
        entry,
        (EntryStatus.PUBLISHED,),
        EntryStatus.WITHDRAWN,
        withdraw_reason=reason,
        withdrawn_at=utcnow(),
    )
    _log(ctx, entry, "withdrawn", reason)
    record(
        ctx,
        EntryWithdrawn(
            resource_code=resource_code, unit=entry.unit_id, version=entry.version, reason=reason
        ),
    )
    _reindex(ctx, entry)
    # Sharing ends the entry's grants; the portal closes its publication (same transaction).
    hooks.publish(ctx, hooks.EntryWithdrawn(resource_code, entry.unit_id, reason))
    return _entry_out(ctx, entry, with_history=True)


def _reason(reason: str, step: str) -> str:
    reason = reason.strip()
    if len(reason) < 2:
        zh = {"return": "退回时必须写明理由。", "withdraw": "撤销时必须写明理由。"}[step]
        en = {"return": "Give a reason for returning.", "withdraw": "Give a reason to withdraw."}
        raise Invalid.field("reason", zh, en[step])
    return reason


def set_publish_date(ctx: Ctx, resource_code: str, day: date) -> date:
    """Keep the original 发布日期 of a catalogue taken over from an earlier system."""
    entry = _entry(ctx, resource_code)
    require(ctx, "set_publish_date", entry.unit_id, target=resource_code)
    if entry.published_version is None:
        raise Conflict("目录尚未发布。", "The entry has not been published.")
    entry.publish_date = day
    entry.first_published_on = day
    version = ctx.db.scalar(
        select(EntryVersion).where(
            EntryVersion.entry_id == entry.id, EntryVersion.number == entry.published_version
        )
    )
    if version is not None:
        snap = json.loads(version.content)
        snap["publish_date"] = day.isoformat()
        version.content = json.dumps(snap, ensure_ascii=False)
    ctx.db.flush()
    record(
        ctx,
        PublishDateSet(
            resource_code=resource_code,
            unit=entry.unit_id,
            version=entry.version,
            publish_date=day.isoformat(),
        ),
    )
    _reindex(ctx, entry)
    return day


def entry_actions(ctx: Ctx, out: EntryOut) -> list[str]:
    """Which lifecycle steps the actor could take on this entry now (for showing buttons)."""
    unit_id = org.unit_id_for_code(ctx, out.unit_code)
    if out.showing_version is not None or unit_id is None:
        return []
    actions = []
    if out.status == EntryStatus.DRAFT and allowed(ctx, "update_entry", unit_id):
        actions += ["edit", "submit"]
    if out.status == EntryStatus.SUBMITTED and allowed(ctx, "approve_entry", unit_id):
        if out.submitted_by != ctx.actor.label:
            actions.append("approve")
        actions.append("return")
    if out.status in (EntryStatus.PUBLISHED, EntryStatus.WITHDRAWN) and allowed(
        ctx, "revise_entry", unit_id
    ):
        actions.append("revise")
    if out.status == EntryStatus.PUBLISHED and allowed(ctx, "withdraw_entry", unit_id):
        actions.append("withdraw")
    return actions


# ---------------------------------------------------------------- search


SEARCH_KIND = "catalog_entry"
FACETS = (
    "unit",
    "class",
    "subclass",
    "share_type",
    "open_type",
    "update_cycle",
    "status",
    "format",
)


def _public_view(
    ctx: Ctx, entry: CatalogEntry, working: EntryOut | None = None
) -> tuple[EntryOut, int | None]:
    """What other units may read, and the unit the document is limited to (None: everyone)."""
    if entry.status in (EntryStatus.PUBLISHED, EntryStatus.WITHDRAWN):
        return working or _entry_out(ctx, entry), None
    if entry.published_version is not None:
        return _snapshot(ctx, entry, entry.published_version), None
    return working or _entry_out(ctx, entry), entry.unit_id


def _public_views(ctx: Ctx, entries: list[CatalogEntry]) -> list[tuple[EntryOut, int | None]]:
    """``_public_view`` of many entries, their working copies read together."""
    live = (EntryStatus.PUBLISHED, EntryStatus.WITHDRAWN)
    revising = [e for e in entries if e.status not in live and e.published_version is not None]
    rest = [e for e in entries if e not in revising]
    working = dict(zip((e.id for e in rest), _entry_outs(ctx, rest), strict=True))
    views: list[tuple[EntryOut, int | None]] = []
    for e in entries:
        if e.id in working:
            views.append((working[e.id], None if e.status in live else e.unit_id))
        else:
            views.append((_snapshot(ctx, e, e.published_version or 0), None))
    return views


def _search_doc(out: EntryOut, scope: int | None, labels: dict[str, dict[str, str]]) -> SearchDoc:
    subclass = out.class_code + out.subclass_code
    body = [
        out.abstract,
        " ".join(i.name for i in out.items),
        " ".join(i.element_name for i in out.items if i.element_name),
        out.unit_name,
        out.unit_code,
        out.resource_code,
        labels.get(CodeTable.RESOURCE_SUBCLASS, {}).get(subclass, ""),
    ]
    status = EntryStatus.PUBLISHED if out.showing_version is not None else out.status
    return SearchDoc(
        kind=SEARCH_KIND,
        key=out.resource_code,
        title=out.name,
        body="\n".join(b for b in body if b),
        facets={
            "unit": out.unit_code,
            "class": out.class_code,
            "subclass": subclass,
            "share_type": out.share_type.value,
            "open_type": out.open_type.value,
            "update_cycle": out.update_cycle,
            "status": status.value,
            "format": out.format_code,
        },
        scope_unit_id=scope,
    )


def _reindex(
    ctx: Ctx, entry: CatalogEntry, old_code: str | None = None, working: EntryOut | None = None
) -> None:
    """Keep the entry's search document equal to what each viewer may read."""
    if old_code and old_code != entry.resource_code:
        search.remove_documents(ctx, SEARCH_KIND, [old_code])
    deferred = ctx.db.info.get(DEFER_KEY)
    if isinstance(deferred, set):
        deferred.add(entry.id)
        return
    out, scope = _public_view(ctx, entry, working)
    search.index_documents(ctx, [_search_doc(out, scope, codes.code_labels(ctx, "zh-CN"))])


@contextmanager
def deferred_indexing(ctx: Ctx) -> Iterator[None]:
    """Bulk compiles (imports, the demo) index every touched entry once, at the end."""
    if isinstance(ctx.db.info.get(DEFER_KEY), set):
        yield
        return
    touched: set[int] = set()
    ctx.db.info[DEFER_KEY] = touched
    try:
        yield
    finally:
        del ctx.db.info[DEFER_KEY]
    labels = codes.code_labels(ctx, "zh-CN")
    for ids in _chunks(sorted(touched)):
        entries = list(ctx.db.scalars(select(CatalogEntry).where(CatalogEntry.id.in_(ids))))
        search.index_documents(ctx, [_search_doc(*v, labels) for v in _public_views(ctx, entries)])


def reindex_catalog(ctx: Ctx) -> int:
    """Rebuild every entry's search document and the data-element synonyms."""
    require(ctx, "manage_code_tables")
    labels = codes.code_labels(ctx, "zh-CN")
    entries = list(ctx.db.scalars(select(CatalogEntry).order_by(CatalogEntry.id)))
    views = (
        v for i in range(0, len(entries), 500) for v in _public_views(ctx, entries[i : i + 500])
    )
    search.index_documents(ctx, (_search_doc(*v, labels) for v in views))
    sync_synonyms(ctx)
    return len(entries)


def sync_synonyms(ctx: Ctx) -> None:
    """Hand the data elements' names and synonyms to the search index (身份证 ↔ 公民身份号码)."""
    groups = sources.synonym_groups(ctx)
    if groups:
        search.set_synonyms(ctx, groups)
    stored = ctx.db.get(Setting, SYNONYMS_KEY)
    if stored is None:
        ctx.db.add(Setting(key=SYNONYMS_KEY, value=json.dumps(len(groups))))
    else:
        stored.value = json.dumps(len(groups))
    ctx.db.flush()


def _ensure_synonyms(ctx: Ctx) -> None:
    if ctx.db.get(Setting, SYNONYMS_KEY) is None:
        ctx.write(_sync_if_missing)  # a read unit: after its reads


def _sync_if_missing(ctx: Ctx) -> None:
    if ctx.db.get(Setting, SYNONYMS_KEY) is None:
        sync_synonyms(ctx)


def _brief(ctx: Ctx, entry: CatalogEntry, units: dict[int, UnitBrief], items: int) -> EntryBrief:
    unit = _unit(ctx, entry.unit_id)
    name, status = entry.name, EntryStatus(entry.status)
    revising = status in (EntryStatus.DRAFT, EntryStatus.SUBMITTED) and entry.published_version
    if revising and entry.published_version and not sees_working_copy(ctx, entry.unit_id):
        snap = _snapshot(ctx, entry, entry.published_version)
        name, status, items = snap.name, EntryStatus.PUBLISHED, len(snap.items)
    return EntryBrief(
        resource_code=entry.resource_code,
        name=name,
        unit_code=unit.code,
        unit_name=unit.name,
        status=status,
        share_type=ShareType(entry.share_type),
        open_type=OpenType(entry.open_type),
        update_cycle=entry.update_cycle,
        format_code=entry.format_code,
        class_code=entry.class_code,
        version=entry.version,
        published_version=entry.published_version,
        publish_date=entry.publish_date,
        items=items,
    )


def list_entries(
    ctx: Ctx,
    q: str = "",
    *,
    filters: dict[str, list[str]] | None = None,
    limit: int = 20,
    offset: int = 0,
) -> EntryPage:
    """Search the catalogue (Chinese words, codes) with facets; drafts only for their viewers.

    ``filters`` keys are the facet names (unit, class, subclass, share_type, open_type,
    update_cycle, status, format); values are ORed within a facet and ANDed across facets.
    """
    require(ctx, "view_catalog")
    _ensure_synonyms(ctx)
    wanted = {k: v for k, v in (filters or {}).items() if v}
    unknown = set(wanted) - set(FACETS)
    if unknown:
        raise Invalid.field(
            "filters", f"未知的筛选项：{', '.join(sorted(unknown))}。", "Unknown filter."
        )
    drafts_own = allowed(ctx, "view_entry_drafts", ctx.actor.unit_id)
    result = search.search(
        ctx,
        SEARCH_KIND,
        q,
        filters=wanted,
        facet_fields=FACETS,
        limit=max(1, min(limit, search.MAX_LIMIT)),
        offset=max(0, offset),
        viewer_unit_id=ctx.actor.unit_id if drafts_own else None,
        viewer_sees_all=sees_all_drafts(ctx),
        sort="relevance" if q.strip() else "key",
    )
    rows = {
        e.resource_code: e
        for e in ctx.db.scalars(
            select(CatalogEntry).where(CatalogEntry.resource_code.in_(result.keys))
        )
    }
    counts = dict(
        ctx.db.execute(
            select(DataItem.entry_id, func.count())
            .where(DataItem.entry_id.in_([e.id for e in rows.values()]))
            .group_by(DataItem.entry_id)
        ).all()
    )
    units: dict[int, UnitBrief] = {}
    items = [
        _brief(ctx, rows[k], units, counts.get(rows[k].id, 0)) for k in result.keys if k in rows
    ]
    return EntryPage(total=result.total, items=items, facets=result.facets)


def review_queue(ctx: Ctx) -> list[EntryBrief]:
    """Submitted entries the actor may approve (a unit CDO: their own unit's).

    Nothing in the queue is published, so only those who may see their unit's drafts may
    read it: a consumer (an application's API key, a consumer account) is refused, audited,
    although it belongs to a unit."""
    require(ctx, "view_entry_drafts", ctx.actor.unit_id, target="review-queue")
    query = select(CatalogEntry).where(CatalogEntry.status == EntryStatus.SUBMITTED)
    if not sees_all_drafts(ctx):
        query = query.where(CatalogEntry.unit_id == (ctx.actor.unit_id or 0))
    rows = list(ctx.db.scalars(query.order_by(CatalogEntry.submitted_at)))
    counts = dict(
        ctx.db.execute(
            select(DataItem.entry_id, func.count())
            .where(DataItem.entry_id.in_([e.id for e in rows]))
            .group_by(DataItem.entry_id)
        ).all()
    )
    units: dict[int, UnitBrief] = {}
    return [_brief(ctx, e, units, counts.get(e.id, 0)) for e in rows]


# ---------------------------------------------------------------- exports and overview


def export_dcat(ctx: Ctx) -> dict[str, Any]:
    """Every published entry (as last published) as a DCAT 3 JSON-LD catalogue."""
    require(ctx, "export_catalog")
    labels = codes.code_labels(ctx, "zh-CN")
    entries = list(
        ctx.db.scalars(
            select(CatalogEntry)
            .where(
                CatalogEntry.published_version.is_not(None),
                CatalogEntry.status != EntryStatus.WITHDRAWN,
            )
            .order_by(CatalogEntry.resource_code)
        )
    )
    datasets = [dcat.dataset(out, labels) for out, _ in _public_views(ctx, entries)]
    regions = [u for u in org.all_unit_briefs(ctx) if u.kind == "region"]
    title = f"{regions[0].name}政务数据资源目录" if regions else "政务数据资源目录"
    record(ctx, CatalogExported(format="dcat-jsonld", entries=len(datasets)))
    return dcat.catalog(title, datasets)


def catalog_overview(ctx: Ctx) -> CatalogOverview:
    """Entry counts by status (own unit for unit staff) and open source conflicts."""
    require(ctx, "view_catalog")
    query = select(CatalogEntry.status, func.count()).group_by(CatalogEntry.status)
    if not sees_all_drafts(ctx):
        # Own unit's unpublished entries count only for those who may see its drafts.
        own = ctx.actor.unit_id if sees_working_copy(ctx, ctx.actor.unit_id or 0) else 0
        query = query.where(
            (CatalogEntry.published_version.is_not(None)) | (CatalogEntry.unit_id == (own or 0))
        )
    counts = {status: int(n) for status, n in ctx.db.execute(query).all()}
    return CatalogOverview(
        entries=sum(counts.values()),
        published=counts.get(EntryStatus.PUBLISHED, 0),
        submitted=counts.get(EntryStatus.SUBMITTED, 0),
        drafts=counts.get(EntryStatus.DRAFT, 0),
        open_conflicts=sources.open_conflict_count(ctx),
    )


# The rest of the capability's operations, so callers need only ``catalog.service``.
get_segment_lengths = codes.get_segment_lengths
list_code_tables = codes.list_code_tables
code_labels = codes.code_labels
save_code = codes.save_code
set_segment_lengths = codes.set_segment_lengths
list_elements = sources.list_elements
list_conflicts = sources.list_conflicts
resolve_source_conflict = sources.resolve_source_conflict
create_duty = tasks.create_duty
create_matter = tasks.create_matter
create_task = tasks.create_task
list_duties = tasks.list_duties
list_tasks = tasks.list_tasks
uncatalogued_matters = tasks.uncatalogued_matters
compile_rate = tasks.compile_rate
compile_trend = tasks.compile_trend


def save_element(ctx: Ctx, data: ElementIn) -> ElementOut:
    """Add or change a data element and refresh the search synonyms."""
    out = sources.save_element(ctx, data)
    sync_synonyms(ctx)
    return out


def published_cycles(ctx: Ctx, unit_id: int | None = None) -> list[tuple[str, str, int, str]]:
    """For the lake's freshness monitor: (resource code, name, unit id, update-cycle code) of
    every entry as last published (withdrawn ones left out), optionally of one unit."""
    require(ctx, "view_catalog")
    query = select(
        CatalogEntry.id,
        CatalogEntry.resource_code,
        CatalogEntry.name,
        CatalogEntry.unit_id,
        CatalogEntry.update_cycle,
        CatalogEntry.status,
        CatalogEntry.published_version,
    ).where(
        CatalogEntry.published_version.is_not(None),
        CatalogEntry.status != EntryStatus.WITHDRAWN,
    )
    if unit_id is not None:
        query = query.where(CatalogEntry.unit_id == unit_id)
    out: list[tuple[str, str, int, str]] = []
    for entry_id, code, name, unit, cycle, status, published in ctx.db.execute(
        query.order_by(CatalogEntry.resource_code)
    ).all():
        if status != EntryStatus.PUBLISHED:  # under revision: the published text still holds
            content = ctx.db.scalar(
                select(EntryVersion.content).where(
                    EntryVersion.entry_id == entry_id, EntryVersion.number == published
                )
            )
            if content is not None:
                snapshot = json.loads(content)
                name, cycle = snapshot.get("name", name), snapshot.get("update_cycle", cycle)
        out.append((str(code), str(name), int(unit), str(cycle)))
    return out
