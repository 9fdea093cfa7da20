"""JSON API of push-backs (反哺基层) under /api/v1/masterdata: definitions and their delivery
status, refresh and retirement for the library's unit; the delivered records (masked per the
street's grant) and reports of wrong values for the street."""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from shuzhi.masterdata import pushback, pushback_delivery, pushback_reports
from shuzhi.masterdata.pushback_schemas import (
    PushbackIn,
    PushbackOut,
    RecordsOut,
    ReportIn,
    ReportOut,
)
from shuzhi.web.deps import CtxDep

router = APIRouter(prefix="/api/v1/masterdata", tags=["masterdata"])


class RetireIn(BaseModel):
    reason: str = Field(max_length=2000)


@router.get("/pushbacks/delivered")
def delivered(ctx: CtxDep) -> list[PushbackOut]:
    """Push-backs delivered to your unit (every one for the bureau's readers)."""
    return pushback.delivered_pushbacks(ctx)


@router.get("/{library}/pushbacks")
def pushbacks(ctx: CtxDep, library: str) -> list[PushbackOut]:
    return pushback.list_masterdata_pushbacks(ctx, library)


@router.post("/{library}/pushbacks", status_code=201)
def define(ctx: CtxDep, library: str, data: PushbackIn) -> PushbackOut:
    return pushback.define_masterdata_pushback(ctx, library, data)


@router.post("/{library}/pushbacks/refresh")
def refresh_all(ctx: CtxDep, library: str) -> list[PushbackOut]:
    return pushback_delivery.refresh_masterdata_pushbacks(ctx, library)


@router.get("/{library}/pushbacks/{pushback_id}")
def one(ctx: CtxDep, library: str, pushback_id: int) -> PushbackOut:
    return pushback.get_masterdata_pushback(ctx, library, pushback_id)


@router.post("/{library}/pushbacks/{pushback_id}/refresh")
def refresh(ctx: CtxDep, library: str, pushback_id: int) -> list[PushbackOut]:
    return pushback_delivery.refresh_masterdata_pushbacks(ctx, library, pushback_id)


@router.post("/{library}/pushbacks/{pushback_id}/retire")
def retire(ctx: CtxDep, library: str, pushback_id: int, data: RetireIn) -> PushbackOut:
    return pushback.retire_masterdata_pushback(ctx, library, pushback_id, data.reason)


@router.get("/{library}/pushbacks/{pushback_id}/records")
def records(
    ctx: CtxDep,
    library: str,
    pushback_id: int,
    after: str | None = Query(default=None, max_length=40),
    limit: int = Query(default=100, ge=1, le=500),
) -> RecordsOut:
    return pushback_reports.read_masterdata_pushback(ctx, library, pushback_id, after, limit)


@router.get("/{library}/pushbacks/{pushback_id}/reports")
def reports(ctx: CtxDep, library: str, pushback_id: int) -> list[ReportOut]:
    return pushback_reports.list_masterdata_reports(ctx, library, pushback_id)


@router.post("/{library}/pushbacks/{pushback_id}/reports", status_code=201)
def report(ctx: CtxDep, library: str, pushback_id: int, data: ReportIn) -> ReportOut:
    return pushback_reports.report_masterdata_record(ctx, library, pushback_id, data)
