"""Console pages of the monthly security report (page and PDF) and of the periodic grant
review queue (the provider unit confirms its grants)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shuzhi.auth.permissions import allowed, require
from shuzhi.context import Ctx
from shuzhi.documents import pdf
from shuzhi.org import service as org
from shuzhi.org.schemas import UnitBrief
from shuzhi.secops import reports, review
from shuzhi.validation import parse
from shuzhi.web.deps import CtxDep
from shuzhi.web.forms import FormDep, attempt
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)


def _units(ctx: Ctx) -> list[UnitBrief]:
    """The units whose report the viewer may read (a unit's CDO: its own)."""
    return [u for u in org.all_unit_briefs(ctx) if allowed(ctx, "view_security_report", u.id)]


@router.get("/secops/reports")
def report_page(request: Request, ctx: CtxDep, unit: str = "", month: str = "") -> Response:
    units = _units(ctx)
    if not units:
        require(ctx, "view_security_report")  # refused (and audited) for everyone else
    own = next((u.code for u in units if u.id == ctx.actor.unit_id), None)
    code = unit or own or (units[0].code if units else "")
    month = month or reports.last_month()
    rep = reports.monthly_report(ctx, code, month)
    return render(request, "secops/report.html", rep=rep, units=units, local=reports.local_time)


@router.get("/secops/reports/{unit}/{month}.pdf")
def report_pdf(ctx: CtxDep, unit: str, month: str) -> Response:
    data = reports.report_pdf(ctx, unit, month)
    return Response(
        data,
        media_type=pdf.MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="security-report-{unit}-{month}.pdf"'
        },
    )


def _queue(
    request: Request,
    ctx: Ctx,
    status: str,
    errors: list[dict[str, str]] | None = None,
    failed: int | None = None,
) -> Response:
    shown = status if status in review.STATUSES else "pending"
    return render(
        request,
        "secops/grant_reviews.html",
        reviews=review.list_grant_reviews(ctx, shown),
        shown=shown,
        statuses=review.STATUSES,
        can_confirm=allowed(ctx, "confirm_grant_review", ctx.actor.unit_id),
        days=ctx.settings.grant_review_days,
        grace=ctx.settings.grant_review_grace_days,
        errors=errors or [],
        failed=failed,
    )


@router.get("/secops/grant-reviews")
def grant_reviews_page(request: Request, ctx: CtxDep, status: str = "pending") -> Response:
    return _queue(request, ctx, status)


@router.post("/secops/grant-reviews/{review_id}/confirm")
def confirm(request: Request, ctx: CtxDep, review_id: int, form: FormDep) -> Response:
    done, errors = attempt(
        ctx, lambda: review.confirm_grant_review(ctx, review_id, parse(review.ConfirmIn, form))
    )
    if done is None:
        return _queue(request, ctx, "pending", errors, review_id)
    return RedirectResponse("/secops/grant-reviews", status_code=303)
