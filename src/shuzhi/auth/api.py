"""JSON API for accounts and API keys (/api/v1/auth)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from shuzhi.auth import service
from shuzhi.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, UserCreate, UserOut
from shuzhi.errors import Unauthenticated
from shuzhi.web.deps import CtxDep

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


@router.get("/api-keys")
def list_api_keys(ctx: CtxDep) -> list[ApiKeyOut]:
    return service.list_api_keys(ctx)


@router.post("/api-keys", status_code=201)
def create_api_key(ctx: CtxDep, data: ApiKeyCreate) -> ApiKeyCreated:
    return service.create_api_key(ctx, data)


@router.delete("/api-keys/{prefix}")
def revoke_api_key(ctx: CtxDep, prefix: str) -> ApiKeyOut:
    return service.revoke_api_key(ctx, prefix)
