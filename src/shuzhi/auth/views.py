"""Console pages for logging in and out, language, accounts and API keys."""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shuzhi.auth import service
from shuzhi.auth.schemas import ApiKeyCreate, UserCreate
from shuzhi.context import Role
from shuzhi.errors import ShuzhiError
from shuzhi.org import service as org
from shuzhi.validation import parse
from shuzhi.web.deps import CtxDep
from shuzhi.web.forms import FormDep, attempt
from shuzhi.web.i18n import LOCALE_COOKIE, LOCALES
from shuzhi.web.session import clear_session, write_session
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only same-site paths may follow a login (no open redirects)."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", next=_safe_next(next), username="", message=None)


@router.post("/login")
def login(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    username = form.get("username", "")
    target = _safe_next(form.get("next"))
    try:
        actor = service.login(ctx, username, form.get("password", ""))
    except ShuzhiError as err:
        ctx.fail(err)
        return render(
            request,
            "login.html",
            status=err.status,
            next=target,
            username=username,
            message=err.message,
        )
    response = RedirectResponse(target, status_code=303)
    assert actor.id is not None
    write_session(ctx.settings, response, actor.id, service.session_epoch(ctx, actor.id))
    return response


@router.post("/logout")
def logout(ctx: CtxDep) -> Response:
    service.logout(ctx)
    response = RedirectResponse("/login", status_code=303)
    clear_session(response)
    return response


@router.get("/lang/{locale}")
def switch_language(locale: str, next: str = "/") -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    if locale in LOCALES:
        response.set_cookie(LOCALE_COOKIE, locale, max_age=365 * 86400, samesite="lax")
    return response


def _users_page(
    request: Request, ctx: CtxDep, form: dict[str, str], errors: list[dict[str, str]]
) -> Response:
    return render(
        request,
        "auth/users.html",
        status=422 if errors else 200,
        users=service.list_users(ctx),
        roles=list(Role),
        units=org.all_unit_briefs(ctx),
        form=form,
        errors=errors,
    )


@router.get("/auth/users")
def users_page(request: Request, ctx: CtxDep) -> Response:
    return _users_page(request, ctx, {}, [])


@router.post("/auth/users")
def create_user(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    data = {**form, "unit_code": form.get("unit_code") or None}
    user, errors = attempt(ctx, lambda: service.create_user(ctx, parse(UserCreate, data)))
    if user is None:
        return _users_page(request, ctx, form, errors)
    return RedirectResponse("/auth/users", status_code=303)


def _keys_page(
    request: Request,
    ctx: CtxDep,
    created: object = None,
    errors: list[dict[str, str]] | None = None,
) -> Response:
    return render(
        request,
        "auth/api_keys.html",
        status=422 if errors else 200,
        keys=service.list_api_keys(ctx),
        roles=list(Role),
        units=org.all_unit_briefs(ctx),
        created=created,
        errors=errors or [],
    )


@router.get("/auth/api-keys")
def api_keys_page(request: Request, ctx: CtxDep) -> Response:
    return _keys_page(request, ctx)


@router.post("/auth/api-keys")
def create_api_key(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    data = {**form, "unit_code": form.get("unit_code") or None}
    created, errors = attempt(ctx, lambda: service.create_api_key(ctx, parse(ApiKeyCreate, data)))
    # The new key is shown on this response only; it is never stored or shown again.
    return _keys_page(request, ctx, created, errors)


@router.post("/auth/api-keys/{prefix}/revoke")
def revoke_api_key(ctx: CtxDep, prefix: str) -> Response:
    service.revoke_api_key(ctx, prefix)
    return RedirectResponse("/auth/api-keys", status_code=303)
