"""Lake: what the console's dataset pages show."""

from __future__ import annotations

from sqlalchemy import select

from shuzhi.auth.permissions import allowed, require
from shuzhi.context import Ctx
from shuzhi.lake.models import Dataset
from shuzhi.lake.schemas import (
    DatasetOverview,
    VersionDetail,
)
from shuzhi.lake.service.ingest import entry_facts
from shuzhi.lake.service.pulls import list_sources
from shuzhi.lake.service.reading import (
    _dataset,
    get_dataset_version,
    list_dataset_versions,
    sample_rows,
)
from shuzhi.org import service as org


def dataset_overview(ctx: Ctx, resource_code: str) -> DatasetOverview:
    """An entry's dataset page: its versions and sources (empty before the first load)."""
    unit_id, name, cycle, _items = entry_facts(ctx, resource_code)
    require(ctx, "view_datasets", unit_id, resource_code)
    dataset = ctx.db.scalar(select(Dataset).where(Dataset.resource_code == resource_code))
    brief = org.unit_brief(ctx, unit_id)
    return DatasetOverview(
        resource_code=resource_code,
        name=name,
        unit_code=brief.code if brief else "",
        update_cycle=cycle,
        versions=list_dataset_versions(ctx, resource_code) if dataset else [],
        sources=list_sources(ctx, resource_code) if dataset else [],
        can_upload=allowed(ctx, "ingest", unit_id),
    )


def version_detail(ctx: Ctx, resource_code: str, number: int) -> VersionDetail:
    """A version page: what was found and a few masked rows (the page adds quality control's
    results and issues)."""
    version = get_dataset_version(ctx, resource_code, number)
    dataset = _dataset(ctx, resource_code)
    rows = (
        sample_rows(ctx, resource_code, number)
        if allowed(ctx, "view_dataset_rows", dataset.unit_id)
        else None
    )
    return VersionDetail(
        version=version,
        rows=rows,
        can_review=allowed(ctx, "accept_drift", dataset.unit_id),
        can_override=allowed(ctx, "override_classification", dataset.unit_id),
    )
