"""Portal: data leaving the portal (downloads and previews)."""

from __future__ import annotations

from shuzhi.audit.service import record
from shuzhi.context import Ctx
from shuzhi.errors import (
    Conflict,
)
from shuzhi.portal.events import (
    OpenDataDownloaded,
)
from shuzhi.portal.models import (
    UsageKind,
)
from shuzhi.portal.service.applications import authorised_applicant
from shuzhi.portal.service.common import DataRelease, _open
from shuzhi.portal.service.reading import _dataset
from shuzhi.portal.service.usage import count_use


def release(ctx: Ctx, resource_code: str, fmt: str, token: str | None = None) -> DataRelease:
    """Check that data may leave (open, guard still holds, key for conditional) and audit it."""
    p = _open(ctx, resource_code)
    dataset, version = _dataset(ctx, p)
    applicant: int | None = None
    if dataset.conditional:
        applicant = authorised_applicant(ctx, token, p.resource_code)
    if version is None:
        raise Conflict(
            "该数据集的新版本待提供单位复核，暂不能下载。",
            "A newer version of this dataset awaits the provider's review; try again later.",
        )
    count_use(ctx, p, UsageKind.DOWNLOAD if fmt != "api" else UsageKind.API)
    record(
        ctx, OpenDataDownloaded(p.resource_code, p.unit_id, fmt, dataset.version or 0, applicant)
    )
    return DataRelease(
        p.resource_code,
        dataset.entry.name,
        version,
        dict(p.deidentified_json),
        dataset.conditional,
    )
