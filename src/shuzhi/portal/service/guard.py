"""Portal: the publication guard (what may be opened, and with which release)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from shuzhi import hooks
from shuzhi.audit.service import record
from shuzhi.auth.permissions import require, scope_unit
from shuzhi.catalog import service as catalog
from shuzhi.catalog.schemas import EntryOut, EntryStatus, OpenType
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import (
    Conflict,
    FieldError,
    Invalid,
    Message,
    NotFound,
)
from shuzhi.lake import service as lake
from shuzhi.lake.schemas import ColumnClassification, ColumnOut, VersionOut
from shuzhi.org import service as org
from shuzhi.portal.events import (
    DatasetClosed,
    DatasetOpened,
    DatasetRepublished,
)
from shuzhi.portal.models import (
    Publication,
    PublicationStatus,
)
from shuzhi.portal.schemas import (
    Candidate,
    OpenColumn,
    PublicationOut,
)
from shuzhi.portal.service.common import SEARCH_KIND, _publication
from shuzhi.search import service as search
from shuzhi.validation import required_reason


def _personal(classification: list[ColumnClassification]) -> dict[str, str]:
    """Columns holding personal information per the classification: {column: category}."""
    return {c.name: c.category for c in classification if c.personal or c.sensitive}


def confirmed(personal: dict[str, str], deidentified: dict[str, str]) -> bool:
    """The guard on data leaving: every personal column of the version is one the provider
    confirmed, under the same category (a new personal column, or a column now holding
    another kind of personal data, needs the provider to confirm again by republishing)."""
    return all(deidentified.get(name) == category for name, category in personal.items())


def _published_entry(ctx: Ctx, resource_code: str) -> EntryOut:
    """The entry as last published (never a unit's working copy)."""
    out = catalog.get_entry(ctx, resource_code)
    if out.status is EntryStatus.WITHDRAWN:
        raise Conflict(
            f"目录 {resource_code} 已撤销，不能开放。",
            f"Entry {resource_code} has been withdrawn from the catalogue; it cannot be opened.",
        )
    if out.status not in (EntryStatus.PUBLISHED,) and out.published_version is not None:
        out = catalog.get_entry(ctx, resource_code, out.published_version)
    elif out.status is not EntryStatus.PUBLISHED:
        raise Conflict(
            f"目录 {resource_code} 尚未发布，不能开放。",
            f"Entry {resource_code} is not published in the catalogue; it cannot be opened.",
        )
    return out


@dataclass(frozen=True)
class _Checked:
    entry: EntryOut
    unit_id: int
    version: VersionOut
    personal: dict[str, str]


def _check(ctx: Ctx, resource_code: str, confirm_deidentified: bool, operation: str) -> _Checked:
    # Roles that may never open are refused as this operation, before the catalogue is read.
    require(ctx, operation, target=resource_code)
    entry = _published_entry(ctx, resource_code)
    unit_id = org.unit_id_for_code(ctx, entry.unit_code)
    if unit_id is None:
        raise NotFound("提供单位不存在。", "The providing unit does not exist.")
    require(ctx, operation, unit_id, resource_code)
    if entry.open_type is OpenType.NOT_OPEN:
        raise Conflict(
            "该目录的开放属性为“不予开放”，不能开放。请先在目录中修改开放属性并重新发布。",
            "The entry's open type is 'not open'; change it in the catalogue and publish first.",
        )
    current = lake.current_version(ctx, resource_code)
    if current is None:
        raise Conflict(
            "该目录尚未归集数据，没有可开放的数据版本。",
            "No data has been loaded for this entry; there is no version to open.",
        )
    out, _version = current
    personal = _personal(out.classification)
    if personal and not confirm_deidentified:
        raise Invalid(
            "最新数据版本含个人信息，须由提供单位确认以脱敏版本开放。",
            "The latest version holds personal information; the provider must confirm "
            "that it is opened de-identified.",
            errors=[
                _field_error(
                    "confirm_deidentified",
                    f"含个人信息的列：{'、'.join(sorted(personal))}",
                    f"Columns with personal information: {', '.join(sorted(personal))}",
                )
            ],
        )
    return _Checked(entry, unit_id, out, personal)


def _field_error(name: str, zh: str, en: str) -> FieldError:
    return FieldError(name, Message(zh, en))


def _search_doc(p: Publication, entry: EntryOut) -> search.SearchDoc:
    body = [
        entry.abstract,
        " ".join(i.name for i in entry.items),
        entry.unit_name,
        entry.resource_code,
    ]
    return search.SearchDoc(
        kind=SEARCH_KIND,
        key=p.resource_code,
        title=entry.name,
        body="\n".join(b for b in body if b),
        facets={
            "unit": entry.unit_code,
            "class": entry.class_code,
            "open_type": entry.open_type.value,
            "update_cycle": entry.update_cycle,
            "format": entry.format_code,
        },
    )


def _publication_out(p: Publication) -> PublicationOut:
    entry = EntryOut.model_validate(p.entry_json)
    return PublicationOut(
        resource_code=p.resource_code,
        name=entry.name,
        unit_code=entry.unit_code,
        status=PublicationStatus(p.status),
        open_type=p.open_type,
        checked_version=p.checked_version,
        deidentified=p.deidentified_json,
        record_count=p.record_count,
        opened_by=p.opened_by,
        opened_at=p.opened_at,
        closed_at=p.closed_at,
        close_reason=p.close_reason or "",
    )


def _open_columns(
    entry: EntryOut, columns: list[ColumnOut], hidden: dict[str, str]
) -> list[OpenColumn]:
    described = {i.name: i.description or i.name for i in entry.items}
    return [
        OpenColumn(
            name=c.name,
            type=c.type,
            description=described.get(c.name, ""),
            deidentified=c.name in hidden,
        )
        for c in columns
    ]


def _store(ctx: Ctx, p: Publication, checked: _Checked) -> None:
    version = checked.version
    p.unit_id = checked.unit_id
    p.status = PublicationStatus.OPEN
    p.open_type = checked.entry.open_type
    p.entry_json = checked.entry.model_dump(mode="json")
    p.checked_version = version.number
    p.deidentified_json = checked.personal
    p.record_count = version.row_count
    columns = _open_columns(checked.entry, version.columns, checked.personal)
    p.columns_json = [c.model_dump() for c in columns]
    p.closed_at = None
    p.close_reason = ""
    ctx.db.flush()
    search.index_documents(ctx, [_search_doc(p, checked.entry)])
    catalog.ensure_synonyms(ctx)


def open_dataset(
    ctx: Ctx, resource_code: str, confirm_deidentified: bool = False
) -> PublicationOut:
    """Open a published entry and its current data to the public (the guard decides)."""
    code = resource_code.strip()
    checked = _check(ctx, code, confirm_deidentified, "open_dataset")
    p = ctx.db.scalar(select(Publication).where(Publication.resource_code == code))
    if p is not None and p.status == PublicationStatus.SUSPENDED:
        raise Conflict(
            "该开放目录已被安全处置暂停，解除处置后自动恢复。",
            "The open dataset is suspended by a security containment; lifting it restores it.",
        )
    if p is not None and p.status == PublicationStatus.OPEN:
        raise Conflict(
            "该目录已开放；内容有变化时请使用“重新发布”。",
            "The entry is already open; republish it to show changes.",
        )
    if p is None:
        p = Publication(resource_code=code, opened_by=ctx.actor.label, entry_json={})
        ctx.db.add(p)
    else:
        p.opened_by, p.opened_at = ctx.actor.label, utcnow()
    _store(ctx, p, checked)
    record(
        ctx,
        DatasetOpened(
            code,
            checked.unit_id,
            checked.entry.open_type.value,
            checked.version.number,
            sorted(checked.personal),
        ),
    )
    hooks.publish(ctx, hooks.PublicationChanged(code, checked.unit_id, "open"))
    return _publication_out(p)


def republish_dataset(
    ctx: Ctx, resource_code: str, confirm_deidentified: bool = False
) -> PublicationOut:
    """Show the entry's latest published text and current data version (guard checked again)."""
    p = _publication(ctx, resource_code)
    checked = _check(ctx, p.resource_code, confirm_deidentified, "republish_dataset")
    if p.status != PublicationStatus.OPEN:
        raise Conflict("该目录未开放，请先开放。", "The entry is not open; open it first.")
    _store(ctx, p, checked)
    p.republished_at = utcnow()
    record(
        ctx,
        DatasetRepublished(
            p.resource_code,
            checked.unit_id,
            checked.entry.open_type.value,
            checked.version.number,
            sorted(checked.personal),
        ),
    )
    return _publication_out(p)


def close_dataset(ctx: Ctx, resource_code: str, reason: str) -> PublicationOut:
    """Take an open dataset off the portal; the reason is kept and audited."""
    p = _publication(ctx, resource_code)
    require(ctx, "close_dataset", p.unit_id, p.resource_code)
    reason = required_reason(reason, "关闭开放", "Closing an open dataset")
    if p.status != PublicationStatus.OPEN:
        raise Conflict("该目录未开放。", "The entry is not open.")
    _close(ctx, p, reason.strip())
    return _publication_out(p)


def _close(ctx: Ctx, p: Publication, reason: str) -> None:
    p.status, p.closed_at, p.close_reason = PublicationStatus.CLOSED, utcnow(), reason
    search.remove_documents(ctx, SEARCH_KIND, [p.resource_code])
    record(ctx, DatasetClosed(p.resource_code, p.unit_id, reason))
    hooks.publish(ctx, hooks.PublicationChanged(p.resource_code, p.unit_id, "closed"))


def _open_publication(ctx: Ctx, resource_code: str) -> Publication | None:
    """The publication while open or suspended (either closes when its entry stops being
    open)."""
    return ctx.db.scalar(
        select(Publication).where(
            Publication.resource_code == resource_code,
            Publication.status.in_([PublicationStatus.OPEN, PublicationStatus.SUSPENDED]),
        )
    )


def publication_unit(ctx: Ctx, publication_id: int) -> int:
    """The unit owning a publication (``NotFound`` otherwise): for security operations."""
    p = ctx.db.get(Publication, publication_id)
    if p is None:
        raise NotFound("开放目录不存在。", "No such open dataset.")
    return p.unit_id


def suspend_publication(ctx: Ctx, publication_id: int) -> str:
    """Take an open dataset off the portal until ``resume_publication`` (a containment; the
    caller authorises and audits). A closed one is a Conflict. Returns its resource code."""
    p = ctx.db.get(Publication, publication_id)
    if p is None:
        raise NotFound("开放目录不存在。", "No such open dataset.")
    if p.status == PublicationStatus.SUSPENDED:
        raise Conflict("该开放目录已处于暂停状态。", "It is already suspended.")
    if p.status != PublicationStatus.OPEN:
        raise Conflict(
            "该开放目录已关闭，无需也无法暂停。",
            "The open dataset is already closed; there is nothing to suspend.",
        )
    p.status = PublicationStatus.SUSPENDED
    ctx.db.flush()
    search.remove_documents(ctx, SEARCH_KIND, [p.resource_code])
    return p.resource_code


def resume_publication(ctx: Ctx, publication_id: int) -> bool:
    """Undo ``suspend_publication``; False when the publication was closed meanwhile (its
    entry withdrawn or no longer open), which stays closed."""
    p = ctx.db.get(Publication, publication_id)
    if p is None or p.status != PublicationStatus.SUSPENDED:
        return False
    p.status = PublicationStatus.OPEN
    ctx.db.flush()
    search.index_documents(ctx, [_search_doc(p, EntryOut.model_validate(p.entry_json))])
    return True


def entry_withdrawn(ctx: Ctx, resource_code: str, reason: str) -> bool:
    """Close the publication of an entry taken out of the catalogue (called by the catalogue
    in the withdrawing transaction); True if one was open."""
    p = _open_publication(ctx, resource_code)
    if p is None:
        return False
    _close(ctx, p, f"目录已撤销：{reason}")
    return True


# Open types from the most to the least open.
_OPENNESS = (OpenType.UNCONDITIONAL, OpenType.CONDITIONAL, OpenType.NOT_OPEN)

_STRICTER_REASON = {
    OpenType.CONDITIONAL: "目录修订后开放属性收紧为“有条件开放”，须由提供单位按新条件重新开放",
    OpenType.NOT_OPEN: "目录修订后开放属性为“不予开放”",
}


def entry_republished(ctx: Ctx, resource_code: str) -> bool:
    """Close the publication when a newly published revision makes the entry's open type
    stricter (unconditional → conditional, or → not open): data never stays out under terms
    looser than the catalogue's, and the provider opens it again under the new ones. Other
    revisions leave the text it was opened with until the provider republishes."""
    p = _open_publication(ctx, resource_code)
    if p is None:
        return False
    revised = catalog.get_entry(ctx, resource_code).open_type
    if _OPENNESS.index(revised) <= _OPENNESS.index(OpenType(p.open_type)):
        return False
    _close(ctx, p, _STRICTER_REASON[revised])
    return True


def on_entry_withdrawn(ctx: Ctx, event: hooks.EntryWithdrawn) -> None:
    """Subscriber: a withdrawn entry's publication closes."""
    entry_withdrawn(ctx, event.resource_code, event.reason)


def on_entry_republished(ctx: Ctx, event: hooks.EntryRepublished) -> None:
    """Subscriber: a revision that makes the entry's open type stricter closes its
    publication."""
    entry_republished(ctx, event.resource_code)


def list_publications(ctx: Ctx) -> list[PublicationOut]:
    """Open and closed publications the actor may manage (own unit for unit staff)."""
    unit = scope_unit(ctx, "view_publications")
    query = select(Publication).order_by(Publication.resource_code)
    if unit is not None:
        query = query.where(Publication.unit_id == unit)
    return [_publication_out(p) for p in ctx.db.scalars(query)]


def open_candidates(ctx: Ctx, limit: int = 200) -> list[Candidate]:
    """Published entries of the actor's unit whose open type allows opening, guard findings."""
    unit = scope_unit(ctx, "view_publications")
    filters = {"status": ["published"], "open_type": ["unconditional", "conditional"]}
    if unit is not None:
        brief = org.unit_brief(ctx, unit)
        filters["unit"] = [brief.code if brief else ""]
    page = catalog.list_entries(ctx, filters=filters, limit=limit)
    states = dict(
        ctx.db.execute(
            select(Publication.resource_code, Publication.status).where(
                Publication.resource_code.in_([e.resource_code for e in page.items])
            )
        ).all()
    )
    out = []
    for e in page.items:
        current = lake.current_version(ctx, e.resource_code)
        personal = sorted(_personal(current[0].classification)) if current else []
        state = states.get(e.resource_code)
        out.append(
            Candidate(
                resource_code=e.resource_code,
                name=e.name,
                open_type=e.open_type.value,
                has_data=current is not None,
                personal_columns=personal,
                publication=PublicationStatus(state) if state else None,
            )
        )
    return out
