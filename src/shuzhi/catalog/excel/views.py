"""Console pages of the compile template: the import page (upload, report) and the export link."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from shuzhi.auth.permissions import allowed
from shuzhi.catalog.excel import exporting
from shuzhi.catalog.excel import service as excel_service
from shuzhi.catalog.excel.service import MAX_FILE_BYTES
from shuzhi.web.deps import CtxDep
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/catalog/import")
def import_page(request: Request, ctx: CtxDep) -> Response:
    return render(
        request,
        "catalog/import.html",
        report=None,
        can_import=allowed(ctx, "import_workbook", ctx.actor.unit_id),
        can_export=allowed(ctx, "export_workbook", ctx.actor.unit_id),
    )


@router.post("/catalog/import")
async def import_upload(
    request: Request,
    ctx: CtxDep,
    file: Annotated[UploadFile, File()],
    unit: Annotated[str, Form()] = "",
) -> Response:
    content = await file.read(MAX_FILE_BYTES + 1)
    # Parsing a workbook blocks: it runs in the thread pool, never on the event loop.
    report = await run_in_threadpool(
        excel_service.import_workbook, ctx, content, unit or None, filename=file.filename or ""
    )
    return render(
        request,
        "catalog/import.html",
        status=200 if report.ok else 422,
        report=report,
        can_import=True,
        can_export=allowed(ctx, "export_workbook", ctx.actor.unit_id),
    )


@router.get("/catalog/export.xlsx")
def export_download(ctx: CtxDep, unit: str | None = None) -> Response:
    return Response(
        exporting.export_workbook(ctx, unit),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="catalog.xlsx"'},
    )
