"""Console page of the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from shuzhi.audit import service
from shuzhi.audit.schemas import VerifyReport
from shuzhi.auth.permissions import allowed
from shuzhi.web.deps import CtxDep
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE = 50


def _page(request: Request, ctx: CtxDep, offset: int, report: VerifyReport | None) -> Response:
    return render(
        request,
        "audit/log.html",
        page=service.view_audit(ctx, limit=PAGE, offset=offset),
        offset=offset,
        limit=PAGE,
        report=report,
        can_verify=allowed(ctx, "verify_audit"),
    )


@router.get("/audit")
def audit_page(request: Request, ctx: CtxDep, offset: int = Query(0, ge=0)) -> Response:
    return _page(request, ctx, offset, None)


@router.post("/audit/verify")
def verify(request: Request, ctx: CtxDep) -> Response:
    report = service.verify_audit(ctx)
    return _page(request, ctx, 0, report)
