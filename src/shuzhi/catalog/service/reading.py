"""Catalogue entries: reading one entry, its versions and lists."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuzhi.auth.permissions import RULES as PERMISSIONS
from shuzhi.auth.permissions import allowed, require
from shuzhi.catalog import memo
from shuzhi.catalog.models import (
    CatalogEntry,
    EntryStatus,
    EntryVersion,
    ShareType,
)
from shuzhi.catalog.schemas import (
    EntryEventOut,
    EntryFields,
    EntryOut,
    FieldChange,
    ItemOut,
    VersionDiff,
    VersionOut,
)
from shuzhi.catalog.service.common import (
    _BY_CODE,
    _HISTORY_OF,
    _ITEMS_OF,
    _TASKS_OF,
    WORKFLOW_FIELDS,
)
from shuzhi.catalog.sources import ElementRef
from shuzhi.context import Ctx
from shuzhi.db.base import row_fields
from shuzhi.errors import NotFound


def resource_code_of(classification: str, sequence: str) -> str:
    """The rendered resource code: ``分类码/顺序码``."""
    return f"{classification}/{sequence}"


def _classification(f: EntryFields | CatalogEntry) -> str:
    return f.class_code + f.subclass_code + f.group_code + f.detail_code


def _not_found(resource_code: str) -> NotFound:
    """The one answer for a code the caller cannot see, whether or not an entry holds it."""
    return NotFound(
        f"目录 {resource_code} 不存在。", f"Catalogue entry {resource_code} does not exist."
    )


def _no_version(resource_code: str, number: int) -> NotFound:
    return NotFound(
        f"目录 {resource_code} 没有第 {number} 版。",
        f"Entry {resource_code} has no version {number}.",
    )


def _entry(ctx: Ctx, resource_code: str) -> CatalogEntry:
    """The entry for reading or writing, if the caller may know it exists (``shown_status``);
    otherwise the same NotFound as for a code nobody holds."""
    require(ctx, "view_catalog", target=resource_code)
    entry = ctx.db.scalar(_BY_CODE, {"code": resource_code.strip()})
    if entry is None or shown_status(ctx, entry) is None:
        raise _not_found(resource_code)
    return entry


def published_entry_id(db: Session, resource_code: str) -> int | None:
    """Id of an entry that has a published version (for sharing checks made without an actor)."""
    return db.scalar(
        select(CatalogEntry.id).where(
            CatalogEntry.resource_code == resource_code,
            CatalogEntry.published_version.is_not(None),
        )
    )


def is_withdrawn(db: Session, resource_code: str) -> bool:
    """Whether the entry was withdrawn from the catalogue (its data may no longer be used by
    processes that run without an actor's reading rights, such as a base library's run)."""
    status = db.scalar(
        select(CatalogEntry.status).where(CatalogEntry.resource_code == resource_code)
    )
    return status == EntryStatus.WITHDRAWN


def sees_all_drafts(ctx: Ctx) -> bool:
    """Region-wide roles (the bureau) see every unit's drafts."""
    role = ctx.actor.role
    return ctx.actor.kind == "system" or (
        role is not None and role in PERMISSIONS["view_entry_drafts"].region
    )


def sees_working_copy(ctx: Ctx, unit_id: int) -> bool:
    return allowed(ctx, "view_entry_drafts", unit_id)


class _Stated(Protocol):
    """An entry row, or the columns of one that ``shown_status`` reads."""

    @property
    def unit_id(self) -> int: ...

    @property
    def status(self) -> str: ...

    @property
    def published_version(self) -> int | None: ...


def shown_status(ctx: Ctx, entry: _Stated) -> EntryStatus | None:
    """The status the caller is shown, None when the caller may not know the entry exists.

    Who sees the unit's working copy sees its working status. Anyone else knows only what
    was published: an entry under revision (draft or submitted again) reads as published,
    a withdrawn one as withdrawn, and one never published does not exist for them.
    """
    if sees_working_copy(ctx, entry.unit_id):
        return EntryStatus(entry.status)
    if entry.published_version is None:
        return None
    if entry.status == EntryStatus.WITHDRAWN:
        return EntryStatus.WITHDRAWN
    return EntryStatus.PUBLISHED


def _shows_snapshot(ctx: Ctx, entry: CatalogEntry) -> bool:
    """Whether the caller reads the entry's last published version instead of its working
    copy: every field, the version and the status then come from that snapshot."""
    return shown_status(ctx, entry) not in (None, entry.status)


_unit = memo.unit


_unit_id = memo.unit_id


def _item_out(ctx: Ctx, item: Any, element: ElementRef | None) -> ItemOut:
    """A data item as shown, from a stored row or from the input just written."""
    source = element.source_unit_id if element is not None else None
    source_unit = _unit(ctx, source) if source is not None else None
    return ItemOut(
        position=item.position,
        name=item.name,
        data_type=item.data_type,
        length=item.length,
        share_type=ShareType(item.share_type),
        element_code=element.code if element else None,
        element_name=element.name if element else None,
        is_source=item.is_source,
        source_unit_code=source_unit.code if source_unit else None,
        source_unit_name=source_unit.name if source_unit else None,
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
    return EntryOut.model_validate(
        {
            **row_fields(entry, EntryOut),
            "classification_code": _classification(entry),
            "unit_code": unit.code,
            "unit_name": unit.name,
            # 信息资源提供方代码: the provider's unified social credit code where the unit has
            # one (the national text is unconfirmed on this point), else its unit code.
            "provider_code": unit.uscc or unit.code,
            "items": items,
            "task_ids": task_ids,
            "history": history,
        }
    )


def _snapshot(ctx: Ctx, entry: CatalogEntry, number: int) -> EntryOut:
    row = ctx.db.scalar(
        select(EntryVersion).where(EntryVersion.entry_id == entry.id, EntryVersion.number == number)
    )
    if row is None:
        raise _no_version(entry.resource_code, number)
    out = EntryOut.model_validate(row.content)
    return out.model_copy(update={"showing_version": number})


def get_entry(ctx: Ctx, resource_code: str, version: int | None = None) -> EntryOut:
    """The working copy for its unit and the bureau; others see the latest published version."""
    entry = _entry(ctx, resource_code)
    own = sees_working_copy(ctx, entry.unit_id)
    if version is not None:
        if not own and version > (entry.published_version or 0):
            raise _no_version(entry.resource_code, version)
        return _snapshot(ctx, entry, version)
    if _shows_snapshot(ctx, entry):
        return _snapshot(ctx, entry, entry.published_version or 0)
    return _entry_out(ctx, entry, with_history=own)


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
    entry = _entry(ctx, resource_code)
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
