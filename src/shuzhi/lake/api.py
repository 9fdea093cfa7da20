"""JSON API of the lake capability (/api/v1/datasets).

Resource codes contain a slash, so routes take the code as a path and the longer routes are
declared before the shorter ones.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from shuzhi.lake import service
from shuzhi.lake.readers import FileSource
from shuzhi.lake.schemas import (
    FreshnessReport,
    FreshnessState,
    IngestOut,
    OverrideIn,
    ReviewIn,
    SampleRows,
    SourceIn,
    SourceOut,
    VersionBrief,
    VersionOut,
)
from shuzhi.web.deps import CtxDep

router = APIRouter(prefix="/api/v1", tags=["datasets"])


@router.get("/freshness")
def freshness(
    ctx: CtxDep, overdue_only: bool = False, state: FreshnessState | None = None
) -> FreshnessReport:
    return service.freshness_report(ctx, overdue_only=overdue_only, state=state)


@router.post("/datasets/{code:path}/uploads", status_code=201)
def upload(
    ctx: CtxDep,
    code: str,
    file: Annotated[UploadFile, File()],
    max_reject_ratio: Annotated[float, Form(ge=0, le=1)] = 0.01,
) -> IngestOut:
    with service.staged_upload(ctx, file.filename or "", file.file) as path:
        return service.ingest(ctx, code, FileSource(path), service.IngestOptions(max_reject_ratio))


@router.post("/datasets/{code:path}/sources", status_code=201)
def define_source(ctx: CtxDep, code: str, data: SourceIn) -> SourceOut:
    return service.define_source(ctx, code, data)


@router.get("/datasets/{code:path}/sources")
def list_sources(ctx: CtxDep, code: str) -> list[SourceOut]:
    return service.list_sources(ctx, code)


@router.put("/datasets/{code:path}/columns/{column}/classification")
def override(ctx: CtxDep, code: str, column: str, data: OverrideIn) -> VersionOut:
    return service.override_classification(ctx, code, column, data.category, data.note)


@router.post("/datasets/{code:path}/versions/{number}/accept")
def accept(ctx: CtxDep, code: str, number: int, data: ReviewIn) -> VersionOut:
    return service.accept_drift(ctx, code, number, data.note)


@router.post("/datasets/{code:path}/versions/{number}/reject")
def reject(ctx: CtxDep, code: str, number: int, data: ReviewIn) -> VersionOut:
    return service.reject_drift(ctx, code, number, data.note)


@router.get("/datasets/{code:path}/versions/{number}/rows")
def rows(ctx: CtxDep, code: str, number: int, limit: int = 20) -> SampleRows:
    return service.sample_rows(ctx, code, number, limit)


@router.get("/datasets/{code:path}/versions/latest")
def latest(ctx: CtxDep, code: str) -> VersionOut:
    return service.get_dataset_version(ctx, code)


@router.get("/datasets/{code:path}/versions/{number}")
def version(ctx: CtxDep, code: str, number: int) -> VersionOut:
    return service.get_dataset_version(ctx, code, number)


@router.get("/datasets/{code:path}/versions")
def versions(ctx: CtxDep, code: str) -> list[VersionBrief]:
    return service.list_dataset_versions(ctx, code)
