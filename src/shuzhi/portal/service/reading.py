"""Portal: public reading (search, unit and dataset pages, listings)."""

from __future__ import annotations

import time

from sqlalchemy import select

from shuzhi.catalog import codes as catalog_codes
from shuzhi.catalog import service as catalog
from shuzhi.catalog.schemas import EntryOut
from shuzhi.context import Ctx
from shuzhi.errors import (
    Invalid,
    NotFound,
)
from shuzhi.lake import service as lake
from shuzhi.lake.manifest import Version
from shuzhi.org import service as org
from shuzhi.portal.models import (
    Publication,
    PublicationStatus,
    UsageKind,
)
from shuzhi.portal.schemas import (
    OpenBrief,
    OpenColumn,
    OpenDataset,
    OpenPage,
    Preview,
    UnitFigures,
)
from shuzhi.portal.service.common import (
    FACETS,
    MAX_PAGE,
    PREVIEW_ROWS,
    SEARCH_KIND,
    _open,
    masked_batches,
)
from shuzhi.portal.service.guard import _open_columns, _personal, confirmed
from shuzhi.portal.service.usage import _unit_figures, count_use
from shuzhi.search import service as search


def _dataset(ctx: Ctx, p: Publication) -> tuple[OpenDataset, Version | None]:
    """The dataset as served, and its current version while the guard holds for it.

    Every path that serves values (page preview, downloads) reads the version from here. When
    the guard does not hold (a new personal column, a column now of another category) the
    dataset is described as it was checked when (re)published, marked unavailable.
    """
    current = lake.current_version(ctx, p.resource_code)
    if current is None or not confirmed(_personal(current[0].classification), p.deidentified_json):
        return _stored(p, available=False), None
    out, version = current
    entry = EntryOut.model_validate(p.entry_json)
    found = OpenDataset(
        resource_code=p.resource_code,
        unit_id=p.unit_id,
        status=PublicationStatus(p.status),
        entry=entry,
        columns=_open_columns(entry, out.columns, p.deidentified_json),
        record_count=version.row_count,
        version=out.number,
        data_available=True,
        opened_at=p.opened_at,
        modified_at=p.republished_at or p.opened_at,
    )
    return found, version


def _stored(p: Publication, available: bool) -> OpenDataset:
    """The dataset as checked when it was opened or last republished (kept with it)."""
    return OpenDataset(
        resource_code=p.resource_code,
        unit_id=p.unit_id,
        status=PublicationStatus(p.status),
        entry=EntryOut.model_validate(p.entry_json),
        columns=[OpenColumn.model_validate(c) for c in p.columns_json or []],
        record_count=p.record_count,
        version=p.checked_version,
        data_available=available,
        opened_at=p.opened_at,
        modified_at=p.republished_at or p.opened_at,
    )


def _listed(ctx: Ctx, p: Publication) -> OpenDataset:
    """An open dataset for listings: the version checked when it was opened or republished.

    Listings (CKAN, DCAT) read only the publication; the dataset page and downloads read
    the current version, and a newer one is listed once the provider republishes.
    """
    if p.columns_json is None:
        return _dataset(ctx, p)[0]
    return _stored(p, available=True)  # the guard held when it was (re)published


def get_open_dataset(ctx: Ctx, resource_code: str) -> OpenDataset:
    """An open dataset's metadata and schema (anyone); counts a view."""
    return dataset_page(ctx, resource_code)[0]


def dataset_page(ctx: Ctx, resource_code: str) -> tuple[OpenDataset, Preview | None]:
    """A dataset page: metadata, schema and, for unconditional data, a masked preview."""
    p = _open(ctx, resource_code)
    found, version = _dataset(ctx, p)
    count_use(ctx, p, UsageKind.VIEW)
    if found.conditional or version is None:
        return found, None
    rows = [
        [None if v is None else str(v) for v in row]
        for batch in masked_batches(ctx, p, version, limit=PREVIEW_ROWS)
        for row in zip(*(c.to_pylist() for c in batch.columns), strict=True)
    ]
    return found, Preview(columns=[c.name for c in version.columns], rows=rows)


def _brief(p: Publication, entry: EntryOut) -> OpenBrief:
    return OpenBrief(
        resource_code=p.resource_code,
        name=entry.name,
        abstract=entry.abstract,
        unit_code=entry.unit_code,
        unit_name=entry.unit_name,
        open_type=p.open_type,
        update_cycle=entry.update_cycle,
        record_count=p.record_count,
        opened_at=p.opened_at,
    )


def search_words(ctx: Ctx) -> list[str]:
    """Words the portal's search boxes suggest: ones that find open datasets."""
    return catalog.search_words(ctx, SEARCH_KIND)


def search_open(
    ctx: Ctx,
    q: str = "",
    *,
    filters: dict[str, list[str]] | None = None,
    limit: int = 20,
    offset: int = 0,
    sort: str = "relevance",
) -> OpenPage:
    """Chinese search over open datasets with facets (the catalogue's search, own documents)."""
    wanted = {k: v for k, v in (filters or {}).items() if v}
    unknown = set(wanted) - set(FACETS)
    if unknown:
        raise Invalid.field(
            "filters",
            f"未知的筛选项：{', '.join(sorted(unknown))[:100]}。",
            f"Unknown filter: {', '.join(sorted(unknown))[:100]}.",
        )
    if limit < 0 or limit > MAX_PAGE:
        raise Invalid.field(
            "rows", f"每页最多 {MAX_PAGE} 条。", f"At most {MAX_PAGE} results per page."
        )
    if offset < 0 or offset > search.MAX_OFFSET:
        raise Invalid.field(
            "start",
            f"起始位置须在 0 到 {search.MAX_OFFSET} 之间。",
            f"The start must be between 0 and {search.MAX_OFFSET}.",
        )
    catalog.ensure_synonyms(ctx)  # abbreviations (社保 ↔ 社会保险) apply here too
    result = search.search(
        ctx,
        SEARCH_KIND,
        q,
        filters=wanted,
        facet_fields=FACETS,
        limit=max(1, limit),
        offset=offset,
        sort=sort if q.strip() or sort == "key" else "key",
    )
    keys = result.keys if limit > 0 else []
    rows = {
        p.resource_code: p
        for p in ctx.db.scalars(
            select(Publication).where(
                Publication.resource_code.in_(keys),
                Publication.status == PublicationStatus.OPEN,
            )
        )
    }
    items = [
        _brief(rows[k], EntryOut.model_validate(rows[k].entry_json)) for k in keys if k in rows
    ]
    return OpenPage(total=result.total, items=items, facets=result.facets, labels=labels(ctx))


_LABELS: dict[tuple[int, str], tuple[float, dict[str, dict[str, str]]]] = {}


LABELS_SECONDS = 60.0


def labels(ctx: Ctx) -> dict[str, dict[str, str]]:
    """Code labels for public pages (update cycles, classes) and unit names under "unit".

    Kept per process for a minute: public pages are read far more often than codes change.
    """
    key = (id(ctx.database), ctx.locale)
    now = time.monotonic()
    cached = _LABELS.get(key)
    if cached is not None and now - cached[0] < LABELS_SECONDS:
        return cached[1]
    found = dict(catalog_codes.code_labels(ctx, ctx.locale))
    found["unit"] = {u.code: u.name for u in org.all_unit_briefs(ctx)}
    _LABELS[key] = (now, found)
    return found


def list_open_codes(ctx: Ctx) -> list[str]:
    """Every open dataset's resource code, sorted (CKAN package_list, the sitemap)."""
    return list(
        ctx.db.scalars(
            select(Publication.resource_code)
            .where(Publication.status == PublicationStatus.OPEN)
            .order_by(Publication.resource_code)
        )
    )


def open_datasets(ctx: Ctx, codes: list[str] | None = None) -> list[OpenDataset]:
    """Open datasets (all, or the given codes) for DCAT and CKAN listings; no view counted."""
    query = select(Publication).where(Publication.status == PublicationStatus.OPEN)
    if codes is not None:
        query = query.where(Publication.resource_code.in_(codes))
    return [_listed(ctx, p) for p in ctx.db.scalars(query.order_by(Publication.resource_code))]


def open_units(ctx: Ctx) -> list[UnitFigures]:
    """Units with open datasets, with their counts (the portal's unit list)."""
    return [u for u in _unit_figures(ctx) if u.open_entries]


def open_unit(ctx: Ctx, unit_code: str) -> UnitFigures:
    for u in _unit_figures(ctx):
        if u.unit_code == unit_code and u.open_entries:
            return u
    raise NotFound("该单位没有开放数据。", "This unit has no open data.")
