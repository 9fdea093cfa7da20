"""JSON API of the sandbox (/api/v1/sandbox): grants with column roles, queries, the
provider's view. An analyst calls with its application's key (``Authorization: Bearer
sza_…``) or from a console session of its unit (or with a platform API key)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from starlette.requests import Request

from shuzhi.auth import service as auth
from shuzhi.context import ANONYMOUS, Actor, Ctx, Role, unit_of_work
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.sandbox import releases, service
from shuzhi.sandbox.schemas import (
    BudgetOut,
    QueryIn,
    QueryOut,
    QueryRecordOut,
    ReleaseDecisionIn,
    ReleaseIn,
    ReleaseOut,
    SandboxDecisionIn,
    SandboxGrantOut,
    SandboxRequestIn,
    TemplateIn,
    TemplateOut,
    TemplateRunIn,
    TemplateRunOut,
)
from shuzhi.sharing import access
from shuzhi.sharing.grants import AppPrincipal
from shuzhi.sharing.schemas import RequestOut
from shuzhi.web.deps import CtxDep, bearer_token, client_of, reads_only
from shuzhi.web.i18n import locale_of
from shuzhi.web.session import read_session

router = APIRouter(prefix="/api/v1/sandbox", tags=["sandbox"])


@dataclass
class Caller:
    ctx: Ctx
    application: AppPrincipal | None


def get_caller(request: Request) -> Iterator[Caller]:
    """Like ``web.deps.get_ctx``, but an application key is accepted too: the application
    acts as a consumer of its own unit."""
    database: Database = request.app.state.database
    with unit_of_work(
        database,
        ANONYMOUS,
        locale=locale_of(request, database.settings.default_locale),
        client=client_of(request),
        read=reads_only(request),
    ) as ctx:
        token = bearer_token(request)
        application = None
        if token is not None and token.startswith(access.APP_KEY_KIND + "_"):
            application = access.authenticate_application(ctx.db, token, utcnow())
            ctx.actor = Actor(
                kind="api_key",
                id=application.key_id,
                name=f"app:{application.application_code}",
                role=Role.CONSUMER,
                unit_id=application.unit_id,
            )
        elif token is not None:
            ctx.actor = auth.actor_for_api_key(ctx, token)
        else:
            session = read_session(ctx.settings, request)
            if session is not None:
                ctx.actor = auth.actor_for_session(ctx, *session) or ANONYMOUS
        request.state.actor = ctx.actor
        yield Caller(ctx, application)


CallerDep = Annotated[Caller, Depends(get_caller, scope="function")]


@router.post("/queries", response_model=QueryOut)
def run_query(data: QueryIn, caller: CallerDep) -> QueryOut:
    """Run an aggregate query; refusals are 403/422 problem+json naming the rule."""
    return releases.answer_query(caller.ctx, data, application=caller.application)


@router.get("/grants", response_model=list[SandboxGrantOut])
def list_grants(caller: CallerDep) -> list[SandboxGrantOut]:
    """The caller's sandbox grants: schemas and column roles (no sample rows)."""
    return service.list_sandbox_grants(caller.ctx, application=caller.application)


@router.get("/budget", response_model=list[BudgetOut])
def budget(caller: CallerDep) -> list[BudgetOut]:
    """What is left of each differentially private grant's ε and δ budget for the caller."""
    return service.sandbox_budget(caller.ctx, application=caller.application)


@router.get("/queries", response_model=list[QueryRecordOut])
def list_queries(
    ctx: CtxDep, unit_code: str | None = None, limit: int = 100
) -> list[QueryRecordOut]:
    """Every query run on a provider unit's data (default: your unit)."""
    return service.list_queries(ctx, unit_code, limit)


@router.post("/requests", response_model=RequestOut, status_code=201)
def request_sandbox(data: SandboxRequestIn, ctx: CtxDep) -> RequestOut:
    """File a share request with the sandbox delivery mode and its column roles."""
    return service.request_sandbox(ctx, data)


@router.post("/requests/{request_id}/decision", response_model=RequestOut)
def decide_sandbox(request_id: int, data: SandboxDecisionIn, ctx: CtxDep) -> RequestOut:
    """The provider decides; partly_approve may narrow the terms."""
    return service.decide_sandbox(ctx, request_id, data)


@router.post("/releases", response_model=ReleaseOut, status_code=201)
def request_release(data: ReleaseIn, caller: CallerDep) -> ReleaseOut:
    """Ask to take an answered query's figures out of the sandbox (providers review)."""
    return releases.request_release(caller.ctx, data, application=caller.application)


@router.get("/releases", response_model=list[ReleaseOut])
def list_releases(
    ctx: CtxDep, unit_code: str | None = None, status: str | None = None, limit: int = 100
) -> list[ReleaseOut]:
    """Releases asked by a unit or awaiting its review (default: your unit)."""
    return releases.list_releases(ctx, unit_code, status, limit)


@router.post("/releases/{release_id}/decision", response_model=ReleaseOut)
def decide_release(release_id: int, data: ReleaseDecisionIn, ctx: CtxDep) -> ReleaseOut:
    """A provider unit's CDO approves or refuses (with a reason) its part of a release."""
    return releases.decide_release(ctx, release_id, data)


@router.get("/releases/{release_id}/file")
def release_file(
    release_id: int,
    caller: CallerDep,
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv",
) -> Response:
    """An approved release as CSV or XLSX (404 before approval)."""
    content, media, name = releases.release_file(
        caller.ctx, release_id, format, application=caller.application
    )
    return Response(
        content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.post("/templates", response_model=TemplateOut, status_code=201)
def create_template(data: TemplateIn, ctx: CtxDep) -> TemplateOut:
    """A provider unit's CDO pre-approves a parameterised query."""
    return releases.create_template(ctx, data)


@router.get("/templates", response_model=list[TemplateOut])
def list_templates(caller: CallerDep) -> list[TemplateOut]:
    """The active query templates."""
    return releases.list_templates(caller.ctx)


@router.post("/templates/{template_id}/run", response_model=TemplateRunOut)
def run_template(template_id: int, data: TemplateRunIn, caller: CallerDep) -> TemplateRunOut:
    """Run a template with allowed values: answered and released without review."""
    return releases.run_template(caller.ctx, template_id, data, application=caller.application)
