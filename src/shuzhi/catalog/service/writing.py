"""Catalogue entries: create, edit, submit, approve, publish, revise, withdraw."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from shuzhi import hooks
from shuzhi.audit.service import record
from shuzhi.auth.permissions import allowed, deny, require
from shuzhi.catalog import codes, sources
from shuzhi.catalog.events import (
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
    CompileTask,
    DataItem,
    EntryStatus,
    EntryVersion,
    OpenType,
)
from shuzhi.catalog.rules import check_share_basis
from shuzhi.catalog.schemas import (
    EntryCreate,
    EntryDefaults,
    EntryEventOut,
    EntryFields,
    EntryOut,
    EntryUpdate,
    ItemIn,
)
from shuzhi.catalog.service.checks import _next_sequence, _resolve_unit, _validate
from shuzhi.catalog.service.common import _ADD_EVENT, _ADD_ITEMS, _STATE_BY_CODE
from shuzhi.catalog.service.reading import (
    _classification,
    _compose,
    _entry,
    _entry_out,
    _history,
    _item_out,
    diff_entries,
    resource_code_of,
)
from shuzhi.catalog.service.search import _reindex
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.db.cas import compare_and_set
from shuzhi.errors import Conflict, ErrorCollector, Invalid
from shuzhi.org import service as org
from shuzhi.validation import required_reason, text_key


def _apply_fields(entry: CatalogEntry, f: EntryFields) -> None:
    entry.name = f.name
    entry.name_key = text_key(f.name)
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
    entry.related_codes = f.related_codes
    entry.is_classified = f.is_classified
    entry.extension = f.extension


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
            f"资源代码 {resource_code} 不可用，请更换顺序码或重试。",
            f"Resource code {resource_code} is not available; change the sequence or retry.",
        ) from None


def _duplicate_code(ctx: Ctx, code: str, own_id: int | None = None) -> None:
    """Refuse a code held by another entry. The text never says whether that entry exists:
    it may be another unit's draft, which the caller may not know of."""
    other = ctx.db.execute(_STATE_BY_CODE, {"code": code}).first()
    if other is not None and other.id != own_id:
        raise Invalid.field(
            "sequence_code",
            f"资源代码 {code} 不可用，请更换顺序码。",
            f"Resource code {code} is not available; choose another sequence code.",
        )


def new_entry_defaults(ctx: Ctx) -> EntryDefaults:
    """The classification a new entry of the actor's unit starts with.

    目 stands for the compiling department (standards §1.2), so it is the code the unit's live
    entries use most; a unit without entries gets the first code no other unit uses.
    """
    require(ctx, "create_entry", ctx.actor.unit_id, target=f"unit:{ctx.actor.unit_id}")
    unit_id = _resolve_unit(ctx, None)
    unit = org.unit_brief(ctx, unit_id)
    rows = ctx.db.execute(
        select(
            CatalogEntry.unit_id,
            CatalogEntry.class_code,
            CatalogEntry.subclass_code,
            CatalogEntry.group_code,
            func.count(),
            func.max(CatalogEntry.id),
        )
        .where(CatalogEntry.status != EntryStatus.WITHDRAWN)
        .group_by(
            CatalogEntry.unit_id,
            CatalogEntry.class_code,
            CatalogEntry.subclass_code,
            CatalogEntry.group_code,
        )
    ).all()
    own = [r for r in rows if r.unit_id == unit_id]
    code = unit.code if unit else ""
    if own:
        counts: dict[str, int] = {}
        for r in own:
            counts[r.group_code] = counts.get(r.group_code, 0) + r[4]
        group = max(counts, key=lambda g: (counts[g], g))
        latest = max(own, key=lambda r: r[5])
        return EntryDefaults(
            unit_code=code,
            class_code=latest.class_code,
            subclass_code=latest.subclass_code,
            group_code=group,
        )
    width = codes.segment_lengths(ctx).group
    taken = {r.group_code for r in rows}
    number = 1
    while str(number).zfill(width) in taken:
        number += 1
    return EntryDefaults(
        unit_code=code, class_code="", subclass_code="", group_code=str(number).zfill(width)
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
    # Entries submitted before the basis rule existed are held to it when published.
    basis = ErrorCollector()
    check_share_basis(entry.share_type, entry.not_shared_basis, basis)
    basis.raise_if_any()
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
            content=out.model_copy(update={"history": []}).model_dump(mode="json"),
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
    reason = required_reason(reason, "退回目录", "Returning an entry")
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
    reason = required_reason(reason, "撤销目录", "Withdrawing an entry")
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
        version.content = {**version.content, "publish_date": day.isoformat()}
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
