"""JSON API of the market's books: the annual disclosure (/api/v1/market/disclosures) and an
organisation's data assets (/api/v1/market/books/{uscc})."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from shuzhi.documents import pdf
from shuzhi.market import service
from shuzhi.market.books_schemas import (
    AssetIn,
    AssetOut,
    BalanceSheetOut,
    CostItemIn,
    CostItemOut,
    CostRecordIn,
    DisclosureOut,
    ReductionIn,
    ReductionOut,
    ReductionRecordIn,
)
from shuzhi.web.deps import CtxDep

router = APIRouter(prefix="/api/v1/market", tags=["market"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(data: bytes, media_type: str, name: str) -> Response:
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/disclosures/{year}")
def disclosure(ctx: CtxDep, year: int) -> DisclosureOut:
    return service.get_disclosure(ctx, year)


@router.post("/disclosures/{year}/publication")
def publish(ctx: CtxDep, year: int) -> DisclosureOut:
    return service.publish_disclosure(ctx, year)


@router.get("/disclosures/{year}/export.xlsx")
def disclosure_xlsx(ctx: CtxDep, year: int) -> Response:
    data = service.export_disclosure(ctx, year, "xlsx")
    return download(data, XLSX, f"disclosure-{year}.xlsx")


@router.get("/disclosures/{year}/export.pdf")
def disclosure_pdf(ctx: CtxDep, year: int) -> Response:
    data = service.export_disclosure(ctx, year, "pdf")
    return download(data, pdf.MEDIA_TYPE, f"disclosure-{year}.pdf")


@router.post("/books/{uscc}/assets")
def declare(ctx: CtxDep, uscc: str, data: AssetIn) -> AssetOut:
    return service.declare_data_asset(ctx, uscc, data)


@router.post("/books/{uscc}/costs", status_code=201)
def cost(ctx: CtxDep, uscc: str, data: CostRecordIn) -> CostItemOut:
    item = CostItemIn.model_validate(data.model_dump(exclude={"resource_code"}))
    return service.record_cost_item(ctx, uscc, data.resource_code, item)


@router.post("/books/{uscc}/reductions", status_code=201)
def reduction(ctx: CtxDep, uscc: str, data: ReductionRecordIn) -> ReductionOut:
    booking = ReductionIn.model_validate(data.model_dump(exclude={"resource_code"}))
    return service.record_asset_reduction(ctx, uscc, data.resource_code, booking)


@router.get("/books/{uscc}/{year}")
def books(ctx: CtxDep, uscc: str, year: int) -> BalanceSheetOut:
    return service.balance_sheet(ctx, uscc, year)


@router.get("/books/{uscc}/{year}/export.xlsx")
def books_xlsx(ctx: CtxDep, uscc: str, year: int) -> Response:
    data = service.export_balance_sheet(ctx, uscc, year)
    return download(data, XLSX, f"data-assets-{uscc}-{year}.xlsx")
