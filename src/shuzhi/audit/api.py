"""JSON API of the audit log (/api/v1/audit)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from shuzhi.audit import service
from shuzhi.audit.schemas import AuditPage, VerifyReport
from shuzhi.web.deps import CtxDep

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("/entries")
def entries(
    ctx: CtxDep,
    action: str | None = None,
    actor: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    limit: int = Query(50, ge=1, le=service.MAX_PAGE),
    offset: int = Query(0, ge=0),
) -> AuditPage:
    return service.view_audit(
        ctx,
        action=action,
        actor=actor,
        target_type=target_type,
        target_id=target_id,
        limit=limit,
        offset=offset,
    )


@router.post("/verify")
def verify(ctx: CtxDep) -> VerifyReport:
    return service.verify_audit(ctx)
