"""Accounts, logins and API keys.

Passwords are argon2id hashes. API keys look like ``sz_<prefix>_<secret>``; the prefix finds
the row and a SHA-256 of the whole key is compared in constant time (the secret has 256 bits,
so a slow hash would add nothing but latency on every gateway call).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from shuzhi.audit.service import record
from shuzhi.auth.events import (
    ApiKeyCreated,
    ApiKeyRevoked,
    LoggedOut,
    LoginFailed,
    LoginSucceeded,
    PasswordChanged,
    UserCreated,
)
from shuzhi.auth.models import ApiKey, LoginFailure, User
from shuzhi.auth.passwords import check_strength, hash_password, verify_password
from shuzhi.auth.permissions import require
from shuzhi.auth.schemas import ApiKeyCreate, ApiKeyOut, UserCreate, UserOut
from shuzhi.auth.schemas import ApiKeyCreated as ApiKeyCreatedOut
from shuzhi.context import Actor, Ctx, Role
from shuzhi.db.base import utcnow
from shuzhi.errors import Conflict, ErrorCollector, NotFound, TooManyRequests, Unauthenticated
from shuzhi.org import service as org

UNIT_SCOPED = {Role.UNIT_CDO, Role.DATA_LIAISON, Role.CONSUMER, Role.OPERATOR}
KEY_PREFIX = "sz"
# A used key's last_used_at is refreshed at most this often, to keep writes off the hot path.
LAST_USED_GRANULARITY = timedelta(minutes=5)


# ---------------------------------------------------------------- users


def _user_out(ctx: Ctx, user: User) -> UserOut:
    unit = org.unit_brief(ctx, user.unit_id) if user.unit_id else None
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        unit_code=unit.code if unit else None,
        unit_name=unit.name if unit else None,
        active=user.active,
        last_login_at=user.last_login_at,
    )


def _resolve_role_unit(
    ctx: Ctx, role: Role, unit_code: str | None, errors: ErrorCollector
) -> int | None:
    if not unit_code:
        if role in UNIT_SCOPED:
            errors.add("unit_code", "该角色必须指定所属单位。", "This role needs a unit.")
        return None
    unit_id = org.unit_id_for_code(ctx, unit_code)
    if unit_id is None:
        errors.add(
            "unit_code", f"单位代码 {unit_code} 不存在。", f"Unit code {unit_code} does not exist."
        )
    return unit_id


def create_user(ctx: Ctx, data: UserCreate) -> UserOut:
    """Create a staff account (the executive manages accounts)."""
    require(ctx, "manage_users")
    errors = ErrorCollector()
    check_strength(data.password, errors)
    unit_id = _resolve_role_unit(ctx, data.role, data.unit_code, errors)
    if ctx.db.scalar(select(User.id).where(func.lower(User.username) == data.username.lower())):
        errors.add("username", "用户名已存在。", "This username is taken.")
    errors.raise_if_any()
    user = User(
        username=data.username,
        display_name=data.display_name,
        password_hash=hash_password(ctx.settings, data.password),
        role=data.role,
        unit_id=unit_id,
        locale=ctx.settings.default_locale,
        active=True,
        session_epoch=0,
    )
    ctx.db.add(user)
    ctx.db.flush()
    record(ctx, UserCreated(username=user.username, role=user.role, unit_code=data.unit_code))
    return _user_out(ctx, user)


def list_users(ctx: Ctx) -> list[UserOut]:
    require(ctx, "view_users")
    return [_user_out(ctx, u) for u in ctx.db.scalars(select(User).order_by(User.username))]


def _throttled(ctx: Ctx, username: str) -> bool:
    since = utcnow() - timedelta(seconds=ctx.settings.login_lockout_seconds)
    failures = (
        ctx.db.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.username == username, LoginFailure.at >= since)
        )
        or 0
    )
    return failures >= ctx.settings.login_max_failures


def _failed(username: str, client: str | None, reason: str) -> Unauthenticated:
    err = Unauthenticated("用户名或密码错误。", "Wrong username or password.")

    def remember(ctx: Ctx) -> None:
        ctx.db.add(LoginFailure(username=username, client=client))
        record(ctx, LoginFailed(username=username, client=client, reason=reason), outcome="failed")

    err.after_rollback = remember
    return err


def login(ctx: Ctx, username: str, password: str) -> Actor:
    """Check a password; repeated failures lock the username for a while."""
    username = username.strip().lower()
    if _throttled(ctx, username):
        err = TooManyRequests(
            "登录失败次数过多，请稍后再试。",
            "Too many failed logins; try again later.",
            retry_after=ctx.settings.login_lockout_seconds,
        )
        err.after_rollback = _failed(username, ctx.client, "throttled").after_rollback
        raise err
    user = ctx.db.scalar(select(User).where(func.lower(User.username) == username))
    if user is None or not verify_password(ctx.settings, user.password_hash, password):
        raise _failed(username, ctx.client, "bad credentials")
    if not user.active:
        raise _failed(username, ctx.client, "inactive")
    user.last_login_at = utcnow()
    ctx.db.execute(delete(LoginFailure).where(LoginFailure.username == username))
    actor = actor_for_user(user)
    ctx.actor = actor
    record(ctx, LoginSucceeded(username=user.username, client=ctx.client))
    return actor


def actor_for_user(user: User) -> Actor:
    return Actor(
        kind="user", id=user.id, name=user.username, role=Role(user.role), unit_id=user.unit_id
    )


def session_epoch(ctx: Ctx, user_id: int) -> int:
    return ctx.db.scalar(select(User.session_epoch).where(User.id == user_id)) or 0


def actor_for_session(ctx: Ctx, user_id: int, epoch: int) -> Actor | None:
    """The actor behind a session cookie, or None when the session was ended."""
    user = ctx.db.get(User, user_id)
    if user is None or not user.active or user.session_epoch != epoch:
        return None
    return actor_for_user(user)


def logout(ctx: Ctx) -> None:
    """End every session of the current user."""
    if ctx.actor.kind != "user" or ctx.actor.id is None:
        return
    ctx.db.execute(
        update(User).where(User.id == ctx.actor.id).values(session_epoch=User.session_epoch + 1)
    )
    record(ctx, LoggedOut(username=ctx.actor.name))


def change_password(ctx: Ctx, username: str, new_password: str) -> None:
    """Set a password (own account, or any account for the executive); ends old sessions."""
    if ctx.actor.kind != "user" or ctx.actor.name != username:
        require(ctx, "manage_users", target=username)
    user = ctx.db.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("用户不存在。", "No such user.")
    errors = ErrorCollector()
    check_strength(new_password, errors)
    errors.raise_if_any()
    user.password_hash = hash_password(ctx.settings, new_password)
    user.session_epoch += 1
    record(ctx, PasswordChanged(username=username))


# ---------------------------------------------------------------- API keys


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
    return Actor(
        kind="api_key", id=key.id, name=key.prefix, role=Role(key.role), unit_id=key.unit_id
    )
