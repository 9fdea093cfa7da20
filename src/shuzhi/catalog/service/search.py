"""Catalogue search: indexing entries and querying with facets."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import allowed, require
from shuzhi.catalog import abbreviations, codes, sources
from shuzhi.catalog.events import SettingChanged
from shuzhi.catalog.models import (
    CatalogEntry,
    CodeTable,
    DataItem,
    EntryStatus,
    Setting,
)
from shuzhi.catalog.schemas import (
    AbbreviationsIn,
    AbbreviationsOut,
    EntryBrief,
    EntryOut,
    EntryPage,
)
from shuzhi.catalog.service.common import DEFER_KEY, SYNONYMS_KEY
from shuzhi.catalog.service.reading import (
    _chunks,
    _compose,
    _entry_out,
    _entry_outs,
    _shows_snapshot,
    _snapshot,
    sees_all_drafts,
)
from shuzhi.context import Ctx
from shuzhi.errors import ErrorCollector, Invalid
from shuzhi.search import service as search
from shuzhi.search.service import SearchDoc

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
    ensure_synonyms(ctx)


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
    ensure_synonyms(ctx)


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


def _stored_abbreviations(ctx: Ctx) -> list[list[str]] | None:
    stored = ctx.db.get(Setting, abbreviations.SETTING_KEY)
    if stored is None:
        return None
    groups: list[list[str]] = json.loads(stored.value)
    return groups


def _abbreviation_groups(ctx: Ctx) -> list[list[str]]:
    stored = _stored_abbreviations(ctx)
    return [list(g) for g in abbreviations.SHIPPED] if stored is None else stored


# Stored with the synced marker: a release shipping another list syncs again on first search.
_SHIPPED_DIGEST = hashlib.sha256(
    json.dumps(abbreviations.SHIPPED, ensure_ascii=False).encode()
).hexdigest()[:16]


def sync_synonyms(ctx: Ctx) -> None:
    """Hand the search index its synonyms: the data elements' names and synonyms
    (身份证 ↔ 公民身份号码) and the bureau's abbreviations (社保 ↔ 社会保险)."""
    groups = sources.synonym_groups(ctx) + _abbreviation_groups(ctx)
    merged = search.replace_synonyms(ctx, groups)
    value = json.dumps({"groups": merged, "shipped": _SHIPPED_DIGEST})
    stored = ctx.db.get(Setting, SYNONYMS_KEY)
    if stored is None:
        ctx.db.add(Setting(key=SYNONYMS_KEY, value=value))
    else:
        stored.value = value
    ctx.db.flush()


def _synced(ctx: Ctx) -> bool:
    stored = ctx.db.get(Setting, SYNONYMS_KEY)
    if stored is None:
        return False
    value = json.loads(stored.value)
    return isinstance(value, dict) and value.get("shipped") == _SHIPPED_DIGEST


def ensure_synonyms(ctx: Ctx) -> None:
    """Sync the search synonyms once (a fresh or upgraded database) in a unit that writes.

    Writes that index documents call this, so a database holding anything searchable has
    its synonyms. A read never writes for it: searches must answer while another
    connection holds the write lock, so until the next indexing write a read searches
    with the synonyms already stored.
    """
    if not ctx.reading and not _synced(ctx):
        sync_synonyms(ctx)


def _suggestion_candidates(ctx: Ctx) -> list[str]:
    return [g[0] for g in _abbreviation_groups(ctx) if g]


def search_words(ctx: Ctx, kind: str = SEARCH_KIND, n: int = 3) -> list[str]:
    """Words for a search box to suggest: abbreviations that find the most published
    documents of ``kind`` (the catalogue's, or the portal's public open datasets)."""
    if kind == SEARCH_KIND:
        require(ctx, "view_catalog")
    ensure_synonyms(ctx)
    return search.suggest(ctx, kind, _suggestion_candidates(ctx), n)


def list_abbreviations(ctx: Ctx) -> AbbreviationsOut:
    """The abbreviation groups search expands (社保 ↔ 社会保险): the bureau's, else shipped."""
    require(ctx, "view_code_tables", target=abbreviations.SETTING_KEY)
    stored = _stored_abbreviations(ctx)
    groups = [list(g) for g in abbreviations.SHIPPED] if stored is None else stored
    return AbbreviationsOut(groups=groups, customised=stored is not None)


def _save_abbreviations(ctx: Ctx, groups: list[list[str]] | None) -> AbbreviationsOut:
    before = {tuple(g) for g in _abbreviation_groups(ctx)}
    stored = ctx.db.get(Setting, abbreviations.SETTING_KEY)
    if groups is None:
        if stored is not None:
            ctx.db.delete(stored)
        after = {tuple(g) for g in abbreviations.SHIPPED}
    else:
        text = json.dumps(groups, ensure_ascii=False)
        if stored is None:
            ctx.db.add(Setting(key=abbreviations.SETTING_KEY, value=text))
        else:
            stored.value = text
        after = {tuple(g) for g in groups}
    ctx.db.flush()
    sync_synonyms(ctx)
    change: dict[str, object] = {
        "added": ["、".join(g) for g in sorted(after - before)],
        "removed": ["、".join(g) for g in sorted(before - after)],
        "reset": groups is None,
    }
    record(ctx, SettingChanged(key=abbreviations.SETTING_KEY, value=change))
    return list_abbreviations(ctx)


def save_abbreviations(ctx: Ctx, data: AbbreviationsIn) -> AbbreviationsOut:
    """Replace the whole abbreviation list; search uses it at once (catalogue and portal)."""
    require(ctx, "manage_code_tables", target=abbreviations.SETTING_KEY)
    errors = ErrorCollector()
    for where, zh, en in abbreviations.check_groups(data.groups):
        errors.add(where, zh, en)
    errors.raise_if_any()
    return _save_abbreviations(ctx, abbreviations.clean(data.groups))


def reset_abbreviations(ctx: Ctx) -> AbbreviationsOut:
    """Go back to the list shipped with the product (the bureau's changes are dropped)."""
    require(ctx, "manage_code_tables", target=abbreviations.SETTING_KEY)
    return _save_abbreviations(ctx, None)


def _brief(ctx: Ctx, entry: CatalogEntry, items: int) -> EntryBrief:
    """The entry in brief as the caller is shown it: every field, the version and the status
    from one source, its working copy or (``_shows_snapshot``) its last published version."""
    if _shows_snapshot(ctx, entry):
        shown = _snapshot(ctx, entry, entry.published_version or 0)
        items = len(shown.items)
    else:
        shown = _compose(ctx, entry, [], [], [])
    fields = shown.model_dump(include=set(EntryBrief.model_fields) - {"items"})
    return EntryBrief.model_validate({**fields, "items": items})


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
    ensure_synonyms(ctx)
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
    items = [_brief(ctx, rows[k], counts.get(rows[k].id, 0)) for k in result.keys if k in rows]
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
    return [_brief(ctx, e, counts.get(e.id, 0)) for e in rows]
