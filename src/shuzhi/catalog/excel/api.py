"""JSON API of the compile template: POST /api/v1/catalog/import, GET .../export.xlsx."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from shuzhi.catalog.excel import exporting
from shuzhi.catalog.excel import service as excel_service
from shuzhi.catalog.excel.service import MAX_FILE_BYTES, ImportReport
from shuzhi.web.deps import CtxDep

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UnitParam = Annotated[str | None, Query(description="unit code; default: your own unit")]


@router.post(
    "/import",
    responses={422: {"model": ImportReport, "description": "refused; nothing was imported"}},
)
async def import_workbook(
    ctx: CtxDep, file: Annotated[UploadFile, File()], unit: UnitParam = None
) -> JSONResponse:
    """Import a compile-template workbook, all or nothing; the report lists every problem."""
    content = await file.read(MAX_FILE_BYTES + 1)
    # Parsing a workbook blocks: it runs in the thread pool, never on the event loop.
    report = await run_in_threadpool(
        excel_service.import_workbook, ctx, content, unit, filename=file.filename or ""
    )
    return JSONResponse(report.model_dump(mode="json"), status_code=200 if report.ok else 422)


@router.get(
    "/export.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "compile-template workbook"}},
)
def export_workbook(ctx: CtxDep, unit: UnitParam = None) -> Response:
    return Response(
        exporting.export_workbook(ctx, unit),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="catalog.xlsx"'},
    )
