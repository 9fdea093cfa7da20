"""Portal service: shared helpers of the open-data operations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
from sqlalchemy import select

from shuzhi.context import Ctx
from shuzhi.errors import (
    NotFound,
)
from shuzhi.lake import service as lake
from shuzhi.lake.manifest import Version
from shuzhi.portal.models import (
    Publication,
    PublicationStatus,
)
from shuzhi.search import service as search
from shuzhi.security.categories import CATEGORY_INFO, Category
from shuzhi.security.masking import MaskLevel

SEARCH_KIND = "open_dataset"


FACETS = ("unit", "class", "open_type", "update_cycle", "format")


APPLICANT_KEY_KIND = "szo"  # open-data applicant keys; never taken for staff or system keys


AGREEMENT_VERSION = "2026-1"


DECISION_DAYS = 10  # the provider answers within ten days (Guizhou's rule, the common one)


KEY_DAYS = 365


PREVIEW_ROWS = 20


MAX_PAGE = search.MAX_LIMIT


APPLICANT_KINDS = ("person", "company", "research")


def _public_level(category: str) -> MaskLevel:
    """How a confirmed personal column is served: its default masking, pseudonyms partial."""
    try:
        level = CATEGORY_INFO[Category(category)].default_level
    except ValueError:
        return MaskLevel.REDACT
    if level in (MaskLevel.NONE, MaskLevel.PSEUDONYM):
        return MaskLevel.PARTIAL
    return level


def _publication(ctx: Ctx, resource_code: str) -> Publication:
    code = resource_code.strip() if isinstance(resource_code, str) else ""
    p = (
        ctx.db.scalar(select(Publication).where(Publication.resource_code == code))
        if code and "\x00" not in code
        else None
    )
    if p is None:
        raise NotFound(f"开放目录 {code[:64]} 不存在。", f"Open dataset {code[:64]} not found.")
    return p


def _open(ctx: Ctx, resource_code: str) -> Publication:
    p = _publication(ctx, resource_code)
    if p.status != PublicationStatus.OPEN:
        raise NotFound(
            f"开放目录 {p.resource_code} 不存在。", f"Open dataset {p.resource_code} not found."
        )
    return p


@dataclass(frozen=True)
class DataRelease:
    """Everything a download needs once the request's transaction is over."""

    resource_code: str
    name: str
    version: Version
    masks: dict[str, str]  # column → category served de-identified
    conditional: bool  # read only with an approved applicant's key


def masked_batches(
    ctx: Ctx, p: Publication | DataRelease, version: Version, limit: int | None = None
) -> Iterator[pa.RecordBatch]:
    """Record batches of the version with confirmed personal columns masked."""
    from shuzhi.portal.data import mask_batches

    masks = p.masks if isinstance(p, DataRelease) else p.deidentified_json
    engine = lake.query_engine(ctx)
    return mask_batches(
        engine.scan(version, limit=limit),
        {c: (cat, _public_level(cat)) for c, cat in masks.items()},
    )
