"""JSON API of the sandbox (/api/v1/sandbox): grants with column roles, queries, the
provider's view. An analyst calls with its application's key (``Authorization: Bearer
sza_…``) or from a console session of its unit (or with a platform API key)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import Request

from shuzhi.auth import service as auth
from shuzhi.context import ANONYMOUS, Actor, Ctx, Role, unit_of_work
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.sandbox import service
from shuzhi.sandbox.schemas import (
    BudgetOut,
    QueryIn,
    QueryOut,
    QueryRecordOut,
    SandboxDecisionIn,
    SandboxGrantOut,
    SandboxRequestIn,
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
    return service.run_query(caller.ctx, data, application=caller.application)


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
