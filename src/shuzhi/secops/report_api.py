"""JSON API of the monthly security report and the periodic grant review
(/api/v1/secops/reports, /api/v1/secops/grant-reviews)."""

from __future__ import annotations

from fastapi import APIRouter

from shuzhi.secops import reports, review
from shuzhi.web.deps import CtxDep

router = APIRouter(prefix="/api/v1/secops", tags=["secops"])


@router.get("/reports/{unit_code}/{month}")
def monthly_report(ctx: CtxDep, unit_code: str, month: str) -> reports.MonthlyReport:
    return reports.monthly_report(ctx, unit_code, month, file_format="json")


@router.get("/grant-reviews")
def list_grant_reviews(ctx: CtxDep, status: str = "pending") -> list[review.GrantReviewOut]:
    return review.list_grant_reviews(ctx, None if status == "all" else status)


@router.get("/grant-reviews/{review_id}")
def get_grant_review(ctx: CtxDep, review_id: int) -> review.GrantReviewOut:
    return review.get_grant_review(ctx, review_id)


@router.post("/grant-reviews/{review_id}/confirm")
def confirm_grant_review(
    ctx: CtxDep, review_id: int, data: review.ConfirmIn
) -> review.GrantReviewOut:
    return review.confirm_grant_review(ctx, review_id, data)
