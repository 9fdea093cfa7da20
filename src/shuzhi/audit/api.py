"""JSON API of the audit log (/api/v1/audit)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query
from starlette.responses import Response

from shuzhi.audit import service
from shuzhi.audit.schemas import AuditFilter, AuditPage, VerifyReport
from shuzhi.web.deps import CtxDep

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get("/entries")
def entries(
    ctx: CtxDep,
    action: str | None = Query(None, max_length=80),
    actor: str | None = Query(None, max_length=200),
    target_type: str | None = Query(None, max_length=60),
    target_id: str | None = Query(None, max_length=200),
    since: datetime | None = None,
    until: datetime | None = None,
    unit_id: int | None = None,
    target: str | None = Query(None, max_length=200),
    outcome: str | None = Query(None, max_length=20),
    q: str | None = Query(None, max_length=200),
    limit: int = Query(50, ge=1, le=service.MAX_PAGE),
    offset: int = Query(0, ge=0),
    before: int | None = Query(None, ge=1, description="entries older than this seq"),
    after: int | None = Query(None, ge=0, description="entries newer than this seq"),
) -> AuditPage:
    return service.view_audit(
        ctx,
        filters=AuditFilter(
            since=since,
            until=until,
            actor=actor,
            unit_id=unit_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            target=target,
            outcome=outcome,
            q=q,
        ),
        limit=limit,
        offset=offset,
        before=before,
        after=after,
    )


@router.get("/export")
def export(
    ctx: CtxDep,
    file_format: Literal["csv", "xlsx"] = Query("csv", alias="format"),
    action: str | None = Query(None, max_length=80),
    actor: str | None = Query(None, max_length=200),
    since: datetime | None = None,
    until: datetime | None = None,
    unit_id: int | None = None,
    target: str | None = Query(None, max_length=200),
    outcome: str | None = Query(None, max_length=20),
    q: str | None = Query(None, max_length=200),
) -> Response:
    """The filtered entries as a spreadsheet file (unit columns give unit ids only)."""
    filters = AuditFilter(
        since=since,
        until=until,
        actor=actor,
        unit_id=unit_id,
        action=action,
        target=target,
        outcome=outcome,
        q=q,
    )
    data = service.export_audit(ctx, filters, file_format, {})
    return Response(data, media_type=MEDIA[file_format])


@router.post("/verify")
def verify(ctx: CtxDep) -> VerifyReport:
    return service.verify_audit(ctx)
