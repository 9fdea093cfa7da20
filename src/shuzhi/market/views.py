"""Console pages of the data market: one overview of parties, agreements, products and
registrations with the main decisions as buttons, and a page per registration record."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shuzhi.auth.permissions import allowed
from shuzhi.market import service
from shuzhi.market.agreement_views import router as agreement_router
from shuzhi.market.schemas import COMPLIANCE_ITEMS, ComplianceReview, PartyIn
from shuzhi.market.trade_views import router as trade_router
from shuzhi.validation import parse
from shuzhi.web.deps import CtxDep
from shuzhi.web.forms import FormDep, attempt
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)


def _overview(
    request: Request,
    ctx: CtxDep,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "market/console.html",
        status=status,
        parties=service.list_market_parties(ctx),
        agreements=service.list_agreements(ctx),
        products=service.list_products(ctx),
        registrations=service.list_registrations(ctx),
        may_decide=allowed(ctx, "decide_market_party"),
        may_approve=allowed(ctx, "approve_agreement"),
        may_review=allowed(ctx, "review_product_compliance"),
        items=COMPLIANCE_ITEMS,
        errors=errors or [],
        form=form or {},
    )


@router.get("/market")
def overview(request: Request, ctx: CtxDep) -> Response:
    return _overview(request, ctx)


@router.post("/market/parties")
def apply(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    data = {k: v for k, v in form.items() if v.strip()}
    if "merchant_classes" in data:
        data["merchant_classes"] = [c.strip() for c in data["merchant_classes"].split(",")]  # type: ignore[assignment]
    _, errors = attempt(ctx, lambda: service.apply_market_party(ctx, parse(PartyIn, data)))
    if errors:
        return _overview(request, ctx, status=422, errors=errors, form=form)
    return RedirectResponse("/market", status_code=303)


@router.post("/market/parties/{party_id}/decision")
def decide(ctx: CtxDep, party_id: int, form: FormDep) -> Response:
    service.decide_market_party(ctx, party_id, form.get("approve") == "1", form.get("reason", ""))
    return RedirectResponse("/market", status_code=303)


@router.post("/market/products/{product_id}/submission")
def submit(ctx: CtxDep, product_id: int) -> Response:
    service.submit_product(ctx, product_id)
    return RedirectResponse("/market", status_code=303)


@router.post("/market/products/{product_id}/compliance")
def review(ctx: CtxDep, product_id: int, form: FormDep) -> Response:
    data = {
        item: {"passed": form.get(f"{item}.passed") == "1", "note": form.get(f"{item}.note", "")}
        for item in COMPLIANCE_ITEMS
    }
    service.review_product_compliance(ctx, product_id, parse(ComplianceReview, data))
    return RedirectResponse("/market", status_code=303)


@router.get("/market/registrations/{number}")
def registration(request: Request, ctx: CtxDep, number: str) -> Response:
    return render(
        request,
        "market/registration.html",
        r=service.get_registration(ctx, number),
        may_decide=allowed(ctx, "confirm_registration"),
    )


@router.post("/market/registrations/{number}/confirmation")
def confirm(ctx: CtxDep, number: str) -> Response:
    service.confirm_registration(ctx, number)
    return RedirectResponse(f"/market/registrations/{number}", status_code=303)


@router.post("/market/registrations/{number}/objections/{objection_id}")
def resolve(ctx: CtxDep, number: str, objection_id: int, form: FormDep) -> Response:
    service.resolve_objection(
        ctx, number, objection_id, form.get("upheld") == "1", form.get("resolution", "")
    )
    return RedirectResponse(f"/market/registrations/{number}", status_code=303)


# Building, registering and trading products: /market/trade (shuzhi.market.trade_views).
router.include_router(trade_router)
# Drafting agreements and their steps: /market/agreements (shuzhi.market.agreement_views).
router.include_router(agreement_router)
