"""Console pages of the market's books: the annual disclosure (printable, with its PDF and
XLSX) and an organisation's data assets for the balance sheet."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shuzhi.auth.permissions import allowed
from shuzhi.db.base import utcnow
from shuzhi.errors import NotFound
from shuzhi.market import service
from shuzhi.market.books_schemas import AssetIn, CostItemIn, ReductionIn
from shuzhi.validation import parse
from shuzhi.web.deps import CtxDep
from shuzhi.web.forms import FormDep, attempt
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/market/disclosure")
def disclosure_latest() -> Response:
    """The disclosure that falls due next: last year's."""
    return RedirectResponse(f"/market/disclosure/{utcnow().year - 1}", status_code=303)


@router.get("/market/disclosure/{year}")
def disclosure(request: Request, ctx: CtxDep, year: int) -> Response:
    this_year = utcnow().year
    try:
        found, missing = service.get_disclosure(ctx, year), ""
    except NotFound as err:
        found, missing = None, err.message.get(ctx.locale)
    return render(
        request,
        "market/disclosure.html",
        status=200 if found else 404,
        d=found,
        year=year,
        missing=missing,
        years=[y for y in (year - 1, year + 1) if y <= this_year],
        status_of=service.disclosure_status(ctx, year),
        may_publish=allowed(ctx, "publish_disclosure"),
    )


@router.post("/market/disclosure/{year}/publication")
def publish(ctx: CtxDep, year: int, form: FormDep) -> Response:
    service.publish_disclosure(ctx, year)
    return RedirectResponse(f"/market/disclosure/{year}", status_code=303)


def _books(
    request: Request,
    ctx: CtxDep,
    org: str,
    year: int,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    return render(
        request,
        "market/books.html",
        status=status,
        b=service.balance_sheet(ctx, org, year),
        org=org,
        year=year,
        may_record=allowed(ctx, "record_cost_item"),
        errors=errors or [],
        form=form or {},
    )


def _org(ctx: CtxDep, org: str) -> str:
    code = org.strip() or service.uscc_of_unit(ctx, ctx.actor.unit_id)
    if not code:
        raise NotFound(
            "请指定机构的统一社会信用代码（org）。",
            "Name the organisation by its unified social credit code (org).",
        )
    return code


@router.get("/market/books")
def books(request: Request, ctx: CtxDep, org: str = "", year: int = 0) -> Response:
    return _books(request, ctx, _org(ctx, org), year or utcnow().year)


@router.post("/market/books/assets")
def declare(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    org, year = _org(ctx, form.get("org", "")), int(form.get("year") or utcnow().year)
    data = {k: v for k, v in form.items() if v.strip() and k not in ("org", "year")}
    _, errors = attempt(ctx, lambda: service.declare_data_asset(ctx, org, parse(AssetIn, data)))
    if errors:
        return _books(request, ctx, org, year, status=422, errors=errors, form=form)
    return RedirectResponse(f"/market/books?org={org}&year={year}", status_code=303)


@router.post("/market/books/costs")
def cost(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    org, year = _org(ctx, form.get("org", "")), int(form.get("year") or utcnow().year)
    data = {k: v for k, v in form.items() if k not in ("org", "year", "resource_code")}
    code = form.get("resource_code", "")
    _, errors = attempt(
        ctx, lambda: service.record_cost_item(ctx, org, code, parse(CostItemIn, data))
    )
    if errors:
        return _books(request, ctx, org, year, status=422, errors=errors, form=form)
    return RedirectResponse(f"/market/books?org={org}&year={year}", status_code=303)


@router.post("/market/books/reductions")
def reduction(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    given = form.get("year", "").strip()
    org, year = _org(ctx, form.get("org", "")), int(given) if given.isdigit() else utcnow().year
    data = {k: v for k, v in form.items() if k not in ("org", "year", "resource_code")}
    code = form.get("resource_code", "")
    _, errors = attempt(
        ctx, lambda: service.record_asset_reduction(ctx, org, code, parse(ReductionIn, data))
    )
    if errors:
        return _books(request, ctx, org, year, status=422, errors=errors, form=form)
    return RedirectResponse(f"/market/books?org={org}&year={year}", status_code=303)
