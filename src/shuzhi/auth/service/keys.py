"""Auth: API keys (issued once, stored as digests, revoked)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update

from shuzhi.audit.service import record
from shuzhi.auth.events import (
    ApiKeyCreated,
    ApiKeyRevoked,
)
from shuzhi.auth.models import ApiKey
from shuzhi.auth.permissions import require
from shuzhi.auth.schemas import (
    ApiKeyCreate,
    ApiKeyOut,
)
from shuzhi.auth.schemas import ApiKeyCreated as ApiKeyCreatedOut
from shuzhi.auth.service.common import KEY_PREFIX, LAST_USED_GRANULARITY
from shuzhi.auth.service.users import _resolve_role_unit
from shuzhi.context import Actor, Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import (
    Conflict,
    ErrorCollector,
    NotFound,
    Unauthenticated,
)
from shuzhi.org import service as org


def token_digest(token: str) -> str:
    """What is stored of a key: SHA-256 of the whole token (its secret has 256 bits)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token(kind: str = KEY_PREFIX) -> tuple[str, str]:
    """A fresh ``<kind>_<prefix>_<secret>`` token and its lookup prefix (shown only once)."""
    prefix = secrets.token_hex(6)
    return prefix, f"{kind}_{prefix}_{secrets.token_urlsafe(32)}"


def token_prefix(token: str, kind: str = KEY_PREFIX) -> str | None:
    """The lookup prefix of a well-formed token of ``kind``, or None when it is malformed."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != kind or not parts[1] or not parts[2]:
        return None
    return parts[1]


def token_matches(stored_digest: str, token: str) -> bool:
    return hmac.compare_digest(stored_digest, token_digest(token))


def _key_status(key: ApiKey, now: datetime) -> str:
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "active"


def _key_out(ctx: Ctx, key: ApiKey) -> ApiKeyOut:
    unit = org.unit_brief(ctx, key.unit_id) if key.unit_id else None
    return ApiKeyOut(
        prefix=key.prefix,
        name=key.name,
        role=key.role,
        unit_code=unit.code if unit else None,
        created_by=key.created_by,
        created_at=key.created_at,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
        last_used_at=key.last_used_at,
        status=_key_status(key, utcnow()),
    )


def create_api_key(ctx: Ctx, data: ApiKeyCreate) -> ApiKeyCreatedOut:
    """Issue a key; the full token is returned once and never stored."""
    require(ctx, "manage_api_keys")
    errors = ErrorCollector()
    unit_id = _resolve_role_unit(ctx, data.role, data.unit_code, errors)
    errors.raise_if_any()
    prefix, token = new_token()
    expires = utcnow() + timedelta(days=data.expires_in_days) if data.expires_in_days else None
    key = ApiKey(
        prefix=prefix,
        key_hash=token_digest(token),
        name=data.name,
        role=data.role,
        unit_id=unit_id,
        created_by=ctx.actor.label,
        expires_at=expires,
    )
    ctx.db.add(key)
    ctx.db.flush()
    record(
        ctx,
        ApiKeyCreated(
            prefix=prefix,
            name=data.name,
            role=data.role,
            unit_code=data.unit_code,
            expires_at=expires.isoformat() if expires else None,
        ),
    )
    return ApiKeyCreatedOut(**_key_out(ctx, key).model_dump(), token=token)


def list_api_keys(ctx: Ctx) -> list[ApiKeyOut]:
    require(ctx, "manage_api_keys")
    return [_key_out(ctx, k) for k in ctx.db.scalars(select(ApiKey).order_by(ApiKey.created_at))]


def revoke_api_key(ctx: Ctx, prefix: str) -> ApiKeyOut:
    require(ctx, "manage_api_keys", target=prefix)
    key = ctx.db.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None:
        raise NotFound("API 密钥不存在。", "No API key with this prefix.")
    if key.revoked_at is not None:
        raise Conflict("该 API 密钥已被吊销。", "This API key is already revoked.")
    key.revoked_at = utcnow()
    record(ctx, ApiKeyRevoked(prefix=prefix))
    return _key_out(ctx, key)


def actor_for_api_key(ctx: Ctx, token: str) -> Actor:
    """Authenticate a bearer token; the reason for a refusal is stated (expired, revoked…)."""
    prefix = token_prefix(token)
    if prefix is None:
        raise Unauthenticated("API 密钥格式不正确。", "The API key is malformed.")
    key = ctx.db.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None or not token_matches(key.key_hash, token):
        raise Unauthenticated("API 密钥无效。", "The API key is not valid.")
    now = utcnow()
    status = _key_status(key, now)
    if status == "revoked":
        raise Unauthenticated("API 密钥已被吊销。", "The API key has been revoked.")
    if status == "expired":
        raise Unauthenticated("API 密钥已过期。", "The API key has expired.")
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_GRANULARITY:
        key_id = key.id
        ctx.write(
            lambda c: c.db.execute(
                update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now)
            )
        )
    return Actor(kind="api_key", id=key.id, name=key.prefix, role=key.role, unit_id=key.unit_id)
