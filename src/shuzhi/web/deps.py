"""Request → Ctx: who is calling (session cookie or bearer API key) and CSRF checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from starlette.requests import Request

from shuzhi.auth import service as auth
from shuzhi.context import ANONYMOUS, Actor, Ctx, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.errors import Forbidden
from shuzhi.web.i18n import locale_of
from shuzhi.web.session import CSRF_FIELD, CSRF_HEADER, csrf_matches, read_session

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SESSIONLESS_PREFIXES = ("/api/3/action/", "/api/action/")


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _authenticate(ctx: Ctx, request: Request) -> Actor:
    token = bearer_token(request)
    if token is not None:
        return auth.actor_for_api_key(ctx, token)
    session = read_session(ctx.settings, request)
    if session is None:
        return ANONYMOUS
    return auth.actor_for_session(ctx, *session) or ANONYMOUS


def reads_only(request: Request) -> bool:
    """Safe methods and CKAN actions (read-only by definition) run in a read unit of work."""
    return request.method in SAFE_METHODS or request.url.path.startswith(SESSIONLESS_PREFIXES)


def get_ctx(request: Request) -> Iterator[Ctx]:
    """One unit of work per request, committed before the response is sent."""
    database: Database = request.app.state.database
    with unit_of_work(
        database,
        ANONYMOUS,
        locale=locale_of(request, database.settings.default_locale),
        client=client_of(request),
        read=reads_only(request),
    ) as ctx:
        ctx.actor = _authenticate(ctx, request)
        request.state.actor = ctx.actor
        yield ctx


CtxDep = Annotated[Ctx, Depends(get_ctx, scope="function")]


async def csrf_protect(request: Request) -> None:
    """Every state-changing request made with a session cookie must carry the CSRF token."""
    if request.method in SAFE_METHODS or bearer_token(request) is not None:
        return
    if request.url.path.startswith(SESSIONLESS_PREFIXES):
        return  # CKAN actions read public data and never act on a session cookie
    submitted = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if submitted is None and (
        content_type.startswith("application/x-www-form-urlencoded")
        or content_type.startswith("multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    if not csrf_matches(request.app.state.settings, request, submitted):
        raise Forbidden(
            "表单已过期或来源不可信（CSRF 校验失败），请刷新页面后重试。",
            "The form expired or did not come from this site (CSRF check failed);"
            " reload the page and try again.",
            operation="csrf",
        )
