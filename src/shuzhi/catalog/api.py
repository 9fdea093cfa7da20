"""JSON API of the catalog capability (/api/v1/catalog).

Resource codes contain a slash (``分类码/顺序码``), so entry routes take the code as a path
and the longer routes (versions, diff, lifecycle steps) are declared first.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from shuzhi.catalog import service
from shuzhi.catalog.models import ConflictStatus
from shuzhi.catalog.schemas import (
    AbbreviationsIn,
    AbbreviationsOut,
    CatalogOverview,
    CodeIn,
    CodeOut,
    CompileRate,
    ConflictOut,
    ConflictResolve,
    DutyIn,
    DutyOut,
    ElementIn,
    ElementOut,
    EntryBrief,
    EntryCreate,
    EntryOut,
    EntryPage,
    EntryUpdate,
    MatterIn,
    MatterOut,
    Note,
    Reason,
    SegmentLengths,
    TaskIn,
    TaskOut,
    TrendPoint,
    VersionDiff,
    VersionOut,
)
from shuzhi.web.deps import CtxDep

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog"])
Many = Annotated[list[str] | None, Query()]


@router.get("/entries")
def list_entries(
    ctx: CtxDep,
    q: str = "",
    unit: Many = None,
    share_type: Many = None,
    open_type: Many = None,
    status: Many = None,
    update_cycle: Many = None,
    format: Many = None,
    subclass: Many = None,
    limit: int = 20,
    offset: int = 0,
    class_: Annotated[list[str] | None, Query(alias="class")] = None,
) -> EntryPage:
    filters = {
        "unit": unit,
        "share_type": share_type,
        "open_type": open_type,
        "status": status,
        "update_cycle": update_cycle,
        "format": format,
        "subclass": subclass,
        "class": class_,
    }
    return service.list_entries(
        ctx, q, filters={k: v for k, v in filters.items() if v}, limit=limit, offset=offset
    )


@router.post("/entries", status_code=201)
def create_entry(ctx: CtxDep, data: EntryCreate) -> EntryOut:
    return service.create_entry(ctx, data)


@router.get("/review-queue")
def review_queue(ctx: CtxDep) -> list[EntryBrief]:
    return service.review_queue(ctx)


@router.get("/entries/{resource_code:path}/versions/{number}")
def get_version(ctx: CtxDep, resource_code: str, number: int) -> EntryOut:
    return service.get_entry(ctx, resource_code, number)


@router.get("/entries/{resource_code:path}/versions")
def list_versions(ctx: CtxDep, resource_code: str) -> list[VersionOut]:
    return service.list_versions(ctx, resource_code)


@router.get("/entries/{resource_code:path}/diff")
def diff_versions(
    ctx: CtxDep, resource_code: str, from_version: int, to_version: int | None = None
) -> VersionDiff:
    """Changes from a published version to another one, or to the working copy."""
    return service.diff_versions(ctx, resource_code, from_version, to_version)


@router.post("/entries/{resource_code:path}/submit")
def submit_entry(ctx: CtxDep, resource_code: str) -> EntryOut:
    return service.submit_entry(ctx, resource_code)


@router.post("/entries/{resource_code:path}/approve")
def approve_entry(ctx: CtxDep, resource_code: str, data: Note | None = None) -> EntryOut:
    return service.approve_entry(ctx, resource_code, data.note if data else "")


@router.post("/entries/{resource_code:path}/return")
def return_entry(ctx: CtxDep, resource_code: str, data: Reason) -> EntryOut:
    return service.return_entry(ctx, resource_code, data.reason)


@router.post("/entries/{resource_code:path}/revise")
def revise_entry(ctx: CtxDep, resource_code: str) -> EntryOut:
    return service.revise_entry(ctx, resource_code)


@router.post("/entries/{resource_code:path}/withdraw")
def withdraw_entry(ctx: CtxDep, resource_code: str, data: Reason) -> EntryOut:
    return service.withdraw_entry(ctx, resource_code, data.reason)


@router.get("/entries/{resource_code:path}")
def get_entry(ctx: CtxDep, resource_code: str) -> EntryOut:
    return service.get_entry(ctx, resource_code)


@router.put("/entries/{resource_code:path}")
def update_entry(ctx: CtxDep, resource_code: str, data: EntryUpdate) -> EntryOut:
    return service.update_entry(ctx, resource_code, data)


@router.get("/overview")
def overview(ctx: CtxDep) -> CatalogOverview:
    return service.catalog_overview(ctx)


@router.get("/compile-rate")
def compile_rate(ctx: CtxDep) -> CompileRate:
    """Tasks, done tasks and rate per unit and for the region (rate null: no tasks)."""
    return service.compile_rate(ctx)


@router.get("/compile-rate/trend")
def compile_trend(ctx: CtxDep, days: int = 90, unit: str | None = None) -> list[TrendPoint]:
    return service.compile_trend(ctx, days, unit)


@router.get("/tasks")
def list_tasks(
    ctx: CtxDep, unit: str | None = None, open_only: bool = False, limit: int = 200, offset: int = 0
) -> list[TaskOut]:
    return service.list_tasks(ctx, unit, open_only=open_only, limit=limit, offset=offset)


@router.post("/tasks", status_code=201)
def create_task(ctx: CtxDep, data: TaskIn) -> TaskOut:
    return service.create_task(ctx, data)


@router.get("/duties")
def list_duties(ctx: CtxDep, unit: str) -> list[DutyOut]:
    return service.list_duties(ctx, unit)


@router.post("/duties", status_code=201)
def create_duty(ctx: CtxDep, data: DutyIn) -> DutyOut:
    return service.create_duty(ctx, data)


@router.post("/matters", status_code=201)
def create_matter(ctx: CtxDep, data: MatterIn) -> MatterOut:
    return service.create_matter(ctx, data)


@router.get("/uncatalogued")
def uncatalogued_matters(ctx: CtxDep, unit: str | None = None) -> list[MatterOut]:
    """Matters with a compile task that no published entry covers yet."""
    return service.uncatalogued_matters(ctx, unit)


@router.get("/elements")
def list_elements(ctx: CtxDep) -> list[ElementOut]:
    return service.list_elements(ctx)


@router.put("/elements/{code}")
def save_element(ctx: CtxDep, code: str, data: ElementIn) -> ElementOut:
    return service.save_element(ctx, data.model_copy(update={"code": code}))


@router.get("/conflicts")
def list_conflicts(ctx: CtxDep, status: ConflictStatus | None = None) -> list[ConflictOut]:
    return service.list_conflicts(ctx, status)


@router.post("/conflicts/{conflict_id}/resolve")
def resolve_source_conflict(ctx: CtxDep, conflict_id: int, data: ConflictResolve) -> ConflictOut:
    return service.resolve_source_conflict(ctx, conflict_id, data)


@router.get("/code-tables")
def list_code_tables(ctx: CtxDep) -> dict[str, list[CodeOut]]:
    return service.list_code_tables(ctx)


@router.put("/code-tables/{table}/{code}")
def save_code(ctx: CtxDep, table: str, code: str, data: CodeIn) -> CodeOut:
    return service.save_code(ctx, table, code, data)


@router.get("/abbreviations")
def list_abbreviations(ctx: CtxDep) -> AbbreviationsOut:
    return service.list_abbreviations(ctx)


@router.put("/abbreviations")
def save_abbreviations(ctx: CtxDep, data: AbbreviationsIn) -> AbbreviationsOut:
    return service.save_abbreviations(ctx, data)


@router.delete("/abbreviations")
def reset_abbreviations(ctx: CtxDep) -> AbbreviationsOut:
    return service.reset_abbreviations(ctx)


@router.get("/segment-lengths")
def get_segment_lengths(ctx: CtxDep) -> SegmentLengths:
    return service.get_segment_lengths(ctx)


@router.put("/segment-lengths")
def set_segment_lengths(ctx: CtxDep, data: SegmentLengths) -> SegmentLengths:
    return service.set_segment_lengths(ctx, data)


@router.get(
    "/dcat.jsonld",
    response_class=JSONResponse,
    responses={200: {"content": {"application/ld+json": {}}, "description": "DCAT 3 catalogue"}},
)
def export_dcat(ctx: CtxDep) -> JSONResponse:
    body: dict[str, Any] = service.export_dcat(ctx)
    return JSONResponse(body, media_type="application/ld+json")
