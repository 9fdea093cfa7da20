"""Catalogue exports and the overview figures."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.catalog import codes, dcat, sources, tasks
from shuzhi.catalog.events import (
    CatalogExported,
)
from shuzhi.catalog.models import (
    CatalogEntry,
    EntryStatus,
    EntryVersion,
)
from shuzhi.catalog.schemas import (
    CatalogOverview,
    ElementIn,
    ElementOut,
)
from shuzhi.catalog.service.reading import shown_status
from shuzhi.catalog.service.search import _public_views, sync_synonyms
from shuzhi.context import Ctx
from shuzhi.org import service as org


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
    """Entry counts by the status the actor is shown (``shown_status``: working status for
    the entries whose drafts they may see, else what was published) and open conflicts."""
    require(ctx, "view_catalog")
    query = select(
        CatalogEntry.unit_id, CatalogEntry.status, CatalogEntry.published_version, func.count()
    ).group_by(CatalogEntry.unit_id, CatalogEntry.status, CatalogEntry.published_version)
    counts: Counter[EntryStatus] = Counter()
    for row in ctx.db.execute(query):
        status = shown_status(ctx, row)
        if status is not None:
            counts[status] += int(row[3])
    return CatalogOverview(
        entries=sum(counts.values()),
        published=counts[EntryStatus.PUBLISHED],
        submitted=counts[EntryStatus.SUBMITTED],
        drafts=counts[EntryStatus.DRAFT],
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
            snapshot = ctx.db.scalar(
                select(EntryVersion.content).where(
                    EntryVersion.entry_id == entry_id, EntryVersion.number == published
                )
            )
            if snapshot is not None:
                name, cycle = snapshot.get("name", name), snapshot.get("update_cycle", cycle)
        out.append((str(code), str(name), int(unit), str(cycle)))
    return out
