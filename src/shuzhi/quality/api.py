"""JSON API of the quality capability (/api/v1/quality)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from shuzhi.quality import service
from shuzhi.quality.models import IssueStatus
from shuzhi.quality.schemas import IssueNote, IssueOut, ResultOut, RuleIn, RuleOut, ScoreBoard
from shuzhi.web.deps import CtxDep

router = APIRouter(prefix="/api/v1/quality", tags=["quality"])


@router.get("/issues")
def issues(ctx: CtxDep, status: IssueStatus | None = None) -> list[IssueOut]:
    return service.list_quality_issues(ctx, status=status)


@router.post("/issues/{issue_id}/fixed")
def fixed(ctx: CtxDep, issue_id: int, data: IssueNote) -> IssueOut:
    return service.mark_issue_fixed(ctx, issue_id, data.note)


@router.post("/issues/{issue_id}/verified")
def verified(ctx: CtxDep, issue_id: int, data: IssueNote) -> IssueOut:
    return service.verify_issue(ctx, issue_id, data.note)


@router.get("/scores")
def scores(ctx: CtxDep) -> ScoreBoard:
    return service.quality_scores(ctx)


@router.get("/datasets/{code:path}/versions/{number}/results")
def results(ctx: CtxDep, code: str, number: int) -> list[ResultOut]:
    return service.version_results(ctx, code, number)


@router.post("/datasets/{code:path}/rules", status_code=201)
def define_rule(ctx: CtxDep, code: str, data: RuleIn) -> RuleOut:
    return service.define_quality_rule(ctx, code, data)


@router.get("/datasets/{code:path}/rules")
def rules(ctx: CtxDep, code: str) -> list[RuleOut]:
    return service.list_quality_rules(ctx, code)


@router.put("/rules/{rule_id}")
def update_rule(ctx: CtxDep, rule_id: int, data: RuleIn) -> RuleOut:
    return service.update_quality_rule(ctx, rule_id, data)


@router.delete("/rules/{rule_id}", status_code=204)
def delete_rule(ctx: CtxDep, rule_id: int) -> Response:
    service.delete_quality_rule(ctx, rule_id)
    return Response(status_code=204)
