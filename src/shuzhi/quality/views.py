"""Console page of the quality capability: issues per unit, with fix and verify steps."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shuzhi.quality import service
from shuzhi.quality.models import IssueStatus
from shuzhi.web.deps import CtxDep
from shuzhi.web.forms import FormDep
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/quality")
def issues_page(request: Request, ctx: CtxDep, status: IssueStatus | None = None) -> Response:
    issues = service.list_quality_issues(ctx, status=status)
    board = service.quality_scores(ctx)
    return render(request, "quality/issues.html", issues=issues, board=board, status_filter=status)


@router.post("/quality/issues/{issue_id}/fixed")
def fixed(ctx: CtxDep, issue_id: int, form: FormDep) -> Response:
    service.mark_issue_fixed(ctx, issue_id, form.get("note", ""))
    return RedirectResponse("/quality", status_code=303)


@router.post("/quality/issues/{issue_id}/verified")
def verified(ctx: CtxDep, issue_id: int, form: FormDep) -> Response:
    service.verify_issue(ctx, issue_id, form.get("note", ""))
    return RedirectResponse("/quality", status_code=303)
