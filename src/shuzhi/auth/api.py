"""JSON API for accounts and API keys (/api/v1/auth)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from shuzhi.auth import service
from shuzhi.auth.schemas import (
    AccountSecurity,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    PasswordChange,
    PasswordReset,
    PasswordResetOut,
    TotpConfirm,
    TotpDisable,
    TotpEnrolment,
    TotpStart,
    UserCreate,
    UserOut,
)
from shuzhi.errors import Unauthenticated
from shuzhi.web.deps import CtxDep
from shuzhi.web.session import SESSION_COOKIE, write_session

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class Me(BaseModel):
    kind: str
    name: str
    role: str | None
    unit_id: int | None


@router.get("/me")
def me(ctx: CtxDep) -> Me:
    if not ctx.actor.is_authenticated:
        raise Unauthenticated()
    return Me(
        kind=ctx.actor.kind,
        name=ctx.actor.name,
        role=str(ctx.actor.role) if ctx.actor.role else None,
        unit_id=ctx.actor.unit_id,
    )


@router.get("/users")
def list_users(ctx: CtxDep) -> list[UserOut]:
    return service.list_users(ctx)


@router.post("/users", status_code=201)
def create_user(ctx: CtxDep, data: UserCreate) -> UserOut:
    return service.create_user(ctx, data)


@router.post("/users/{username}/reset-password")
def reset_password(ctx: CtxDep, username: str, data: PasswordReset) -> PasswordResetOut:
    """Reset an account's password; a generated temporary password is returned once."""
    return service.reset_password(ctx, username, data)


def _no_content(ctx: CtxDep, request: Request) -> Response:
    """204; a caller on a session cookie gets a fresh one (its account's sessions were ended)."""
    response = Response(status_code=204)
    if request.cookies.get(SESSION_COOKIE) and ctx.actor.kind == "user" and ctx.actor.id:
        epoch = service.session_epoch(ctx, ctx.actor.id)
        write_session(ctx.settings, response, ctx.actor.id, epoch)
    return response


@router.get("/account")
def account(ctx: CtxDep) -> AccountSecurity:
    return service.account_security(ctx)


@router.post("/account/password", status_code=204)
def change_password(ctx: CtxDep, request: Request, data: PasswordChange) -> Response:
    """Change one's own password (the current one is needed); other sessions end."""
    service.change_password(ctx, data)
    return _no_content(ctx, request)


@router.post("/account/totp", status_code=201)
def start_totp(ctx: CtxDep, data: TotpStart) -> TotpEnrolment:
    """Begin enrolling a TOTP second factor; the secret is returned once."""
    return service.start_totp(ctx, data)


@router.post("/account/totp/confirm", status_code=204)
def confirm_totp(ctx: CtxDep, request: Request, data: TotpConfirm) -> Response:
    service.confirm_totp(ctx, data)
    return _no_content(ctx, request)


@router.post("/account/totp/disable", status_code=204)
def disable_totp(ctx: CtxDep, request: Request, data: TotpDisable) -> Response:
    service.disable_totp(ctx, data)
    return _no_content(ctx, request)


@router.get("/api-keys")
def list_api_keys(ctx: CtxDep) -> list[ApiKeyOut]:
    return service.list_api_keys(ctx)


@router.post("/api-keys", status_code=201)
def create_api_key(ctx: CtxDep, data: ApiKeyCreate) -> ApiKeyCreated:
    return service.create_api_key(ctx, data)


@router.delete("/api-keys/{prefix}")
def revoke_api_key(ctx: CtxDep, prefix: str) -> ApiKeyOut:
    return service.revoke_api_key(ctx, prefix)
