"""JSON API of the base libraries (/api/v1/masterdata): a library's definition and run
history, golden records by entity ID or key.

Both routes answer an unknown library, an unknown entity and one the caller may not read
with the same 404; a lookup key that is not a valid resident ID or USCC is a 422.
"""

from __future__ import annotations

from fastapi import APIRouter, Query

from shuzhi.masterdata import service
from shuzhi.masterdata.models import ReviewStatus
from shuzhi.masterdata.schemas import EntityOut, LibraryOut, ReviewDecisionIn, ReviewPairOut, RunOut
from shuzhi.web.deps import CtxDep

router = APIRouter(prefix="/api/v1/masterdata", tags=["masterdata"])


@router.get("/{library}")
def library_definition(ctx: CtxDep, library: str) -> LibraryOut:
    return service.get_masterdata_library(ctx, library)


@router.get("/{library}/runs")
def runs(ctx: CtxDep, library: str) -> list[RunOut]:
    return service.list_masterdata_runs(ctx, library)


@router.get("/{library}/entities/{entity_id}")
def entity(ctx: CtxDep, library: str, entity_id: str) -> EntityOut:
    return service.view_masterdata_entity(ctx, library, entity_id)


@router.get("/{library}/lookup")
def lookup(
    ctx: CtxDep,
    library: str,
    resident_id: str | None = Query(default=None, max_length=40),
    uscc: str | None = Query(default=None, max_length=40),
) -> EntityOut:
    return service.lookup_masterdata_entity(ctx, library, resident_id=resident_id, uscc=uscc)


@router.get("/{library}/review")
def review_queue(
    ctx: CtxDep, library: str, status: ReviewStatus = ReviewStatus.OPEN
) -> list[ReviewPairOut]:
    return service.list_masterdata_review(ctx, library, status)


@router.get("/{library}/review/{pair_id}")
def review_pair(ctx: CtxDep, library: str, pair_id: int) -> ReviewPairOut:
    return service.view_masterdata_review_pair(ctx, library, pair_id)


@router.post("/{library}/review/{pair_id}")
def decide_review_pair(
    ctx: CtxDep, library: str, pair_id: int, data: ReviewDecisionIn
) -> ReviewPairOut:
    return service.decide_masterdata_review_pair(ctx, library, pair_id, data)
