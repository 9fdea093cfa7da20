"""JSON API of IT projects and their data gate (/api/v1/catalog/projects)."""

from __future__ import annotations

from fastapi import APIRouter

from shuzhi.catalog.projects import service
from shuzhi.catalog.projects.models import GateStage
from shuzhi.catalog.projects.schemas import (
    GateResult,
    ProjectCreate,
    ProjectDecision,
    ProjectOut,
    ProjectUpdate,
)
from shuzhi.web.deps import CtxDep

router = APIRouter(prefix="/api/v1/catalog/projects", tags=["catalog"])


@router.get("")
def list_projects(ctx: CtxDep, unit: str | None = None) -> list[ProjectOut]:
    return service.list_projects(ctx, unit)


@router.post("", status_code=201)
def create_project(ctx: CtxDep, data: ProjectCreate) -> ProjectOut:
    return service.create_project(ctx, data)


@router.get("/{code}")
def get_project(ctx: CtxDep, code: str) -> ProjectOut:
    return service.get_project(ctx, code)


@router.put("/{code}")
def update_project(ctx: CtxDep, code: str, data: ProjectUpdate) -> ProjectOut:
    return service.update_project(ctx, code, data)


@router.post("/{code}/gate")
def check_project_gate(ctx: CtxDep, code: str, stage: GateStage) -> GateResult:
    """Run the data gate for a stage now; the result is kept as evidence."""
    return service.check_project_gate(ctx, code, stage)


@router.post("/{code}/approve")
def approve_project(ctx: CtxDep, code: str, data: ProjectDecision | None = None) -> ProjectOut:
    return service.approve_project(ctx, code, data or ProjectDecision())


@router.post("/{code}/accept")
def accept_project(ctx: CtxDep, code: str, data: ProjectDecision | None = None) -> ProjectOut:
    return service.accept_project(ctx, code, data or ProjectDecision())
