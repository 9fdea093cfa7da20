"""JSON API of the audit log (/api/v1/audit)."""

from __future__ import annotations

from typing import Annotated, Literal

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


AuditFilterQuery = Annotated[AuditFilter, Query()]


@router.get("/entries")
def entries(
    ctx: CtxDep,
    filters: AuditFilterQuery,
    limit: int = Query(50, ge=1, le=service.MAX_PAGE),
    offset: int = Query(0, ge=0),
    before: int | None = Query(None, ge=1, description="entries older than this seq"),
    after: int | None = Query(None, ge=0, description="entries newer than this seq"),
) -> AuditPage:
    return service.view_audit(
        ctx, filters=filters, limit=limit, offset=offset, before=before, after=after
    )


@router.get("/export")
def export(
    ctx: CtxDep,
    filters: AuditFilterQuery,
    file_format: Literal["csv", "xlsx"] = Query("csv", alias="format"),
) -> Response:
    """The filtered entries as a spreadsheet file (unit columns give unit ids only)."""
    data = service.export_audit(ctx, filters, file_format, {})
    return Response(data, media_type=MEDIA[file_format])


@router.post("/verify")
def verify(
    ctx: CtxDep,
    full: bool = Query(
        False,
        description="read every entry; by default the check starts after the newest signed"
        " checkpoint (`from_checkpoint` in the answer), which is quick at any volume",
    ),
) -> VerifyReport:
    return service.verify_audit(ctx, full=full)
