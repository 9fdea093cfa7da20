"""Console pages of IT projects: list with each project's gate result, form, detail."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shuzhi.auth.permissions import allowed
from shuzhi.catalog.projects import service
from shuzhi.catalog.projects.models import GateStage
from shuzhi.catalog.projects.schemas import (
    ProjectCreate,
    ProjectDecision,
    ProjectUpdate,
    datasets_from_lines,
    datasets_to_lines,
)
from shuzhi.org import service as org
from shuzhi.validation import parse
from shuzhi.web.deps import CtxDep
from shuzhi.web.forms import FormDep, attempt
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _filled(form: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in form.items() if v.strip()}


def _input(form: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {k: v for k, v in form.items() if k != "datasets"}
    data["datasets"] = datasets_from_lines(form.get("datasets", ""))
    if not data.get("budget"):
        data.pop("budget", None)
    return data


@router.get("/catalog/projects")
def projects_page(request: Request, ctx: CtxDep) -> Response:
    return render(
        request,
        "catalog/projects.html",
        projects=service.list_projects(ctx),
        can_create=allowed(ctx, "create_project", ctx.actor.unit_id),
    )


def _form(
    request: Request,
    ctx: CtxDep,
    form: dict[str, str],
    errors: list[dict[str, str]],
    code: str | None = None,
) -> Response:
    return render(
        request,
        "catalog/project_form.html",
        status=422 if errors else 200,
        code=code,
        form=form,
        errors=errors,
        units=org.all_unit_briefs(ctx)
        if ctx.actor.kind == "system" or ctx.actor.role == "cdo_executive"
        else [],
    )


@router.get("/catalog/projects/new")
def new_project_page(request: Request, ctx: CtxDep) -> Response:
    return _form(request, ctx, {}, [])


@router.post("/catalog/projects/new")
def create_project(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    out, errors = attempt(
        ctx, lambda: service.create_project(ctx, parse(ProjectCreate, _input(form)))
    )
    if out is None:
        return _form(request, ctx, form, errors)
    return _see(f"/catalog/projects/{out.code}")


@router.get("/catalog/projects/{code}/edit")
def edit_project_page(request: Request, ctx: CtxDep, code: str) -> Response:
    project = service.get_project(ctx, code)
    form = {
        "name": project.name,
        "budget": str(project.budget),
        "description": project.description,
        "datasets": datasets_to_lines(project.datasets),
    }
    return _form(request, ctx, form, [], code)


@router.post("/catalog/projects/{code}/edit")
def update_project(request: Request, ctx: CtxDep, code: str, form: FormDep) -> Response:
    out, errors = attempt(
        ctx, lambda: service.update_project(ctx, code, parse(ProjectUpdate, _input(form)))
    )
    if out is None:
        return _form(request, ctx, form, errors, code)
    return _see(f"/catalog/projects/{code}")


@router.get("/catalog/projects/{code}")
def project_page(request: Request, ctx: CtxDep, code: str) -> Response:
    project = service.get_project(ctx, code)
    unit_id = org.unit_id_for_code(ctx, project.unit_code)
    return render(
        request,
        "catalog/project.html",
        project=project,
        can_edit=project.status != "accepted" and allowed(ctx, "update_project", unit_id),
        can_check=allowed(ctx, "check_project_gate", unit_id),
        can_approve=project.status == "proposed" and allowed(ctx, "approve_project", unit_id),
        can_accept=project.status == "approved" and allowed(ctx, "accept_project", unit_id),
    )


@router.post("/catalog/projects/{code}/gate")
def check_gate(ctx: CtxDep, code: str, form: FormDep) -> Response:
    service.check_project_gate(ctx, code, GateStage(form.get("stage", GateStage.APPROVAL)))
    return _see(f"/catalog/projects/{code}")


@router.post("/catalog/projects/{code}/approve")
def approve(ctx: CtxDep, code: str, form: FormDep) -> Response:
    service.approve_project(ctx, code, parse(ProjectDecision, _filled(form)))
    return _see(f"/catalog/projects/{code}")


@router.post("/catalog/projects/{code}/accept")
def accept(ctx: CtxDep, code: str, form: FormDep) -> Response:
    service.accept_project(ctx, code, parse(ProjectDecision, _filled(form)))
    return _see(f"/catalog/projects/{code}")
