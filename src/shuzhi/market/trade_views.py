"""Console page of building, registering and trading products (/market/trade): an operator
describes a product and files its first registration; a buyer applies for a listed product,
takes its delivery key (or downloads the product's output as a file) and evaluates; the
seller signs and files the transaction."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shuzhi.auth.permissions import allowed
from shuzhi.errors import Invalid
from shuzhi.market import service
from shuzhi.market.models import AgreementStatus, PartyStatus, ProductStatus
from shuzhi.market.schemas import ProductIn, RegistrationIn
from shuzhi.market.trade_schemas import DeliveryKey, EvaluationIn, PurchaseIn, SignIn
from shuzhi.validation import parse
from shuzhi.web.deps import CtxDep
from shuzhi.web.forms import FormDep, attempt
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE = "/market/trade"


def yuan_to_cents(text: str) -> int | str:
    """Yuan as typed (``200000`` or ``1,200.50``) in fen; left as text when it is not a
    number, so that validation reports it."""
    try:
        value = float(text.replace(",", "").replace("¥", "").strip())
    except ValueError:
        return text
    if not math.isfinite(value):
        return text
    return round(value * 100)


def _page(
    request: Request,
    ctx: CtxDep,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, str] | None = None,
    key: DeliveryKey | None = None,
) -> Response:
    operator = allowed(ctx, "create_product")
    products = service.list_products(ctx) if allowed(ctx, "view_products") else []
    registered = {r.product_id for r in service.list_registrations(ctx)} if products else set()
    own_parties = (
        [p for p in service.list_market_parties(ctx) if p.status == PartyStatus.APPROVED]
        if operator
        else []
    )
    return render(
        request,
        "market/trade.html",
        status=status,
        operator=operator,
        agreements=[a for a in service.list_agreements(ctx) if a.status == AgreementStatus.ACTIVE]
        if operator
        else [],
        to_register=[
            p for p in products if p.status == ProductStatus.COMPLIANT and p.id not in registered
        ]
        if operator
        else [],
        listing=service.list_listed_products(ctx),
        buyer=own_parties[0] if own_parties else None,
        contracts=service.list_contracts(ctx),
        revenue=service.market_revenue(ctx),
        unit=ctx.actor.unit_id,
        unit_code=own_parties[0].unit_code if own_parties else "",
        errors=errors or [],
        form=form or {},
        key=key,
    )


@router.get(PAGE)
def trade(request: Request, ctx: CtxDep) -> Response:
    return _page(request, ctx)


def _done(request: Request, ctx: CtxDep, errors: list[dict[str, str]], form: dict[str, str]):  # type: ignore[no-untyped-def]
    if errors:
        return _page(request, ctx, status=422, errors=errors, form=form)
    return RedirectResponse(PAGE, status_code=303)


@router.post(f"{PAGE}/products")
def create_product(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    data: dict[str, Any] = {k: v for k, v in form.items() if v.strip()}
    data["inputs"] = [c.strip() for c in form.get("inputs", "").split(",") if c.strip()]
    data["price_cents"] = yuan_to_cents(form.get("price", ""))
    data.pop("price", None)
    _, errors = attempt(ctx, lambda: service.create_product(ctx, parse(ProductIn, data)))
    return _done(request, ctx, errors, form)  # type: ignore[no-any-return]


@router.post(f"{PAGE}/products/{{product_id}}/registration")
def register(request: Request, ctx: CtxDep, product_id: int, form: FormDep) -> Response:
    data = {
        "basic": {
            k: form.get(k, "")
            for k in ("introduction", "data_type", "industry", "region", "source", "coverage")
        }
        | {"scale": form.get("scale", "")},
        "storage": {"location": form.get("location", ""), "method": form.get("method", "")},
        "documents": {
            "description": form.get("description", ""),
            "commitment": form.get("commitment") == "1",
            "commitment_signatory": form.get("signatory", ""),
        },
    }
    _, errors = attempt(
        ctx, lambda: service.register_product(ctx, product_id, parse(RegistrationIn, data))
    )
    return _done(request, ctx, errors, form)  # type: ignore[no-any-return]


@router.post(f"{PAGE}/contracts")
def apply(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    data = {
        "registration_number": form.get("registration_number", ""),
        "buyer_party_id": form.get("buyer_party_id", ""),
        "purpose": form.get("purpose", ""),
    }
    _, errors = attempt(ctx, lambda: service.apply_purchase(ctx, parse(PurchaseIn, data)))
    return _done(request, ctx, errors, form)  # type: ignore[no-any-return]


@router.post(f"{PAGE}/contracts/{{contract_id}}/signature")
def sign(request: Request, ctx: CtxDep, contract_id: int, form: FormDep) -> Response:
    data = {"price_cents": yuan_to_cents(form.get("price", "")), "ends_on": form.get("ends_on", "")}
    _, errors = attempt(ctx, lambda: service.sign_contract(ctx, contract_id, parse(SignIn, data)))
    return _done(request, ctx, errors, form)  # type: ignore[no-any-return]


@router.post(f"{PAGE}/contracts/{{contract_id}}/key")
def key(request: Request, ctx: CtxDep, contract_id: int) -> Response:
    """The key is shown on this answer only (never stored, never shown again)."""
    created = service.create_delivery_key(ctx, contract_id)
    return _page(request, ctx, key=created)


@router.get(f"{PAGE}/contracts/{{contract_id}}/file.csv")
def product_file(ctx: CtxDep, contract_id: int) -> Response:
    """The buyer of a file contract downloads the product's output (formula-safe CSV)."""
    content, name = service.download_product_file(ctx, contract_id)
    return Response(
        content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post(f"{PAGE}/contracts/{{contract_id}}/filing")
def file(ctx: CtxDep, contract_id: int) -> Response:
    service.file_transaction(ctx, contract_id)
    return RedirectResponse(PAGE, status_code=303)


@router.post(f"{PAGE}/contracts/{{contract_id}}/evaluation")
def evaluate(request: Request, ctx: CtxDep, contract_id: int, form: FormDep) -> Response:
    data = {"rating": form.get("rating", ""), "comment": form.get("comment", "")}
    try:
        parsed = parse(EvaluationIn, data)
    except Invalid as err:
        ctx.fail(err)
        errors = [{"field": e.field, "message": e.message.get(ctx.locale)} for e in err.errors]
        return _page(request, ctx, status=422, errors=errors, form=form)
    service.evaluate_contract(ctx, contract_id, parsed)
    return RedirectResponse(PAGE, status_code=303)
