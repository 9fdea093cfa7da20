"""Console pages of the lake capability: datasets overview and freshness, a dataset's page
with its upload form, and a version's page (rows, schema check, profile, classification,
quality)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shuzhi.lake import service
from shuzhi.lake.readers import FileSource
from shuzhi.lake.schemas import FreshnessState
from shuzhi.quality import service as quality
from shuzhi.security import evidence
from shuzhi.security.categories import CATEGORY_INFO
from shuzhi.web.deps import CtxDep
from shuzhi.web.forms import FormDep, attempt
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _page(request: Request, ctx: CtxDep, code: str, errors: list[dict[str, str]]) -> Response:
    overview = service.dataset_overview(ctx, code)
    # Quality control builds on the lake; the page shows the dataset's rules and their editor.
    return render(
        request,
        "datasets/dataset.html",
        d=overview,
        errors=errors,
        status=422 if errors else 200,
        rules=quality.rule_sheet(ctx, code),
        rule_form={},
        editing=None,
    )


@router.get("/datasets")
def datasets(
    request: Request, ctx: CtxDep, overdue: bool = False, state: FreshnessState | None = None
) -> Response:
    report = service.freshness_report(ctx, overdue_only=overdue, state=state)
    return render(request, "datasets/index.html", report=report, overdue=overdue, state=state)


@router.post("/datasets/{code:path}/upload")
def upload(
    request: Request, ctx: CtxDep, code: str, file: Annotated[UploadFile, File()]
) -> Response:
    def load() -> int:
        with service.staged_upload(ctx, file.filename or "", file.file) as path:
            return service.ingest(ctx, code, FileSource(path)).version.number

    number, errors = attempt(ctx, load)
    if number is None:
        return _page(request, ctx, code, errors)
    return _see(f"/datasets/{code}/versions/{number}")


@router.post("/datasets/{code:path}/versions/{number}/accept")
def accept(ctx: CtxDep, code: str, number: int, form: FormDep) -> Response:
    service.accept_drift(ctx, code, number, form.get("note", ""))
    return _see(f"/datasets/{code}/versions/{number}")


@router.post("/datasets/{code:path}/versions/{number}/reject")
def reject(request: Request, ctx: CtxDep, code: str, number: int, form: FormDep) -> Response:
    done, errors = attempt(
        ctx, lambda: service.reject_drift(ctx, code, number, form.get("note", ""))
    )
    if done is None:
        return _version(request, ctx, code, number, errors)
    return _see(f"/datasets/{code}/versions/{number}")


@router.post("/datasets/{code:path}/classification")
def override(request: Request, ctx: CtxDep, code: str, form: FormDep) -> Response:
    done, errors = attempt(
        ctx,
        lambda: service.override_classification(
            ctx, code, form.get("column", ""), form.get("category", ""), form.get("note", "")
        ),
    )
    if done is None:
        return _page(request, ctx, code, errors)
    return _see(f"/datasets/{code}/versions/{done.number}")


def _version(
    request: Request, ctx: CtxDep, code: str, number: int, errors: list[dict[str, str]]
) -> Response:
    detail = service.version_detail(ctx, code, number)
    # Quality control builds on the lake; the page shows its findings beside the version.
    return render(
        request,
        "datasets/version.html",
        v=detail.version,
        detail=detail,
        quality_results=quality.version_results(ctx, code, number),
        quality_issues=quality.list_quality_issues(ctx, resource_code=code),
        categories=list(CATEGORY_INFO.values()),
        describe_evidence=lambda text: evidence.describe(text, ctx.locale),
        outcome_text=lambda text: quality.outcome_text(text, ctx.locale),
        errors=errors,
        status=422 if errors else 200,
    )


@router.get("/datasets/{code:path}/versions/{number}")
def version_page(request: Request, ctx: CtxDep, code: str, number: int) -> Response:
    return _version(request, ctx, code, number, [])


@router.get("/datasets/{code:path}")
def dataset_page(request: Request, ctx: CtxDep, code: str) -> Response:
    return _page(request, ctx, code, [])
