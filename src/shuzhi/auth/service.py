"""Accounts, logins and API keys.

Passwords are argon2id hashes. API keys look like ``sz_<prefix>_<secret>``; the prefix finds
the row and a SHA-256 of the whole key is compared in constant time (the secret has 256 bits,
so a slow hash would add nothing but latency on every gateway call).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, NoReturn

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select, update

from shuzhi.audit.service import record
from shuzhi.auth import throttle, totp
from shuzhi.auth.events import (
    ApiKeyCreated,
    ApiKeyRevoked,
    LoggedOut,
    LoginFailed,
    LoginSucceeded,
    PasswordChanged,
    PasswordReset,
    SecondFactorDisabled,
    SecondFactorEnabled,
    SecondFactorEnrolmentStarted,
    UserCreated,
)
from shuzhi.auth.models import ApiKey, User
from shuzhi.auth.passwords import (
    check_strength,
    dummy_hash,
    generate_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from shuzhi.auth.permissions import allowed, deny, require
from shuzhi.auth.schemas import (
    AccountSecurity,
    ApiKeyCreate,
    ApiKeyOut,
    PasswordChange,
    PasswordResetOut,
    TotpConfirm,
    TotpDisable,
    TotpEnrolment,
    TotpStart,
    UserCreate,
    UserOut,
)
from shuzhi.auth.schemas import ApiKeyCreated as ApiKeyCreatedOut
from shuzhi.auth.schemas import PasswordReset as PasswordResetIn
from shuzhi.context import Actor, Ctx, Role
from shuzhi.db.base import utcnow
from shuzhi.errors import (
    Conflict,
    ErrorCollector,
    Invalid,
    NotFound,
    TooManyRequests,
    Unauthenticated,
)
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
        must_change_password=user.must_change_password,
        second_factor=user.totp_enabled_at is not None,
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
    check_strength(data.password, errors, username=data.username, display_name=data.display_name)
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


# ---------------------------------------------------------------- logins

LOGIN_STEP_SECONDS = 300  # time to enter the second-factor code or the new password
DEVICE_SECONDS = 180 * 86400  # a browser stays "known" for an account this long
WRONG_LOGIN = ("用户名或密码错误。", "Wrong username or password.")


class LoginStepExpired(Unauthenticated):
    """The second step of a login came too late, or after the account's sessions ended."""


@dataclass(frozen=True)
class PendingLogin:
    """The password was right; the login still needs a second-factor code or a new password.

    ``token`` (signed, valid ``LOGIN_STEP_SECONDS``) is handed back with that input to
    ``continue_login``; it dies with the account's sessions (password change, logout).
    """

    stage: Literal["second_factor", "new_password"]
    token: str
    username: str


def _signer(ctx: Ctx, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(ctx.settings.secret_key, salt=f"shuzhi auth {salt}")


def _key(username: str) -> str:
    """The name failures are counted under: as typed, trimmed, lower-cased, column width."""
    return username.strip().lower()[: throttle.USERNAME_CHARS]


def _gate(ctx: Ctx, key: str, trusted_device: bool = False) -> None:
    """Serialise and throttle an attempt; a throttled one is refused before any check.

    The refusal is audited but not counted, so it never extends the wait.
    """
    throttle.serialise(ctx, key, ctx.client)
    wait = throttle.wait_seconds(ctx, key, ctx.client, trusted_device=trusted_device)
    if wait is None:
        return
    err = TooManyRequests(
        f"登录失败次数过多，请 {wait} 秒后再试。",
        f"Too many failed logins; try again in {wait} seconds.",
        retry_after=wait,
    )
    client = ctx.client

    def audit(c: Ctx) -> None:
        record(c, LoginFailed(username=key, client=client, reason="throttled"), outcome="failed")

    err.after_rollback = audit
    raise err


def _refuse(ctx: Ctx, key: str, reason: str, message: tuple[str, str] = WRONG_LOGIN) -> NoReturn:
    """Count and audit a failed check, committed at once (while the attempt's locks are held,
    so a concurrent attempt on another worker counts it), then refuse."""
    throttle.record_failure(ctx, key, ctx.client)
    record(ctx, LoginFailed(username=key, client=ctx.client, reason=reason), outcome="failed")
    ctx.db.commit()
    raise Unauthenticated(*message)


def _check_password(ctx: Ctx, user: User | None, password: str) -> bool:
    """Verify, spending the same argon2 work whether or not the account exists."""
    stored = user.password_hash if user is not None else dummy_hash(ctx.settings)
    ok = verify_password(ctx.settings, stored, password)
    return ok and user is not None


def _trusted_device(ctx: Ctx, device_token: str | None, key: str) -> bool:
    if not device_token:
        return False
    try:
        data = _signer(ctx, "device").loads(device_token, max_age=DEVICE_SECONDS)
    except BadSignature:
        return False
    return isinstance(data, dict) and data.get("u") == key


def device_token(ctx: Ctx, actor: Actor) -> str:
    """Marks a browser as having logged in to the account (exempt from the account-wide limit)."""
    return _signer(ctx, "device").dumps({"u": _key(actor.name)})


def _step(ctx: Ctx, user: User, stage: Literal["second_factor", "new_password"]) -> PendingLogin:
    token = _signer(ctx, "login step").dumps(
        {"u": user.id, "e": user.session_epoch, "s": stage, "n": secrets.token_hex(8)}
    )
    return PendingLogin(stage=stage, token=token, username=user.username)


def _complete(ctx: Ctx, user: User, *, after_second_factor: bool) -> Actor | PendingLogin:
    if after_second_factor is False and user.totp_enabled_at is not None:
        return _step(ctx, user, "second_factor")
    if user.must_change_password:
        return _step(ctx, user, "new_password")
    user.last_login_at = utcnow()
    throttle.forget_failures(ctx, _key(user.username), ctx.client)
    actor = actor_for_user(user)
    ctx.actor = actor
    record(
        ctx,
        LoginSucceeded(
            username=user.username,
            client=ctx.client,
            second_factor=user.totp_enabled_at is not None,
        ),
    )
    return actor


def authenticate(
    ctx: Ctx, username: str, password: str, *, device_token: str | None = None
) -> Actor | PendingLogin:
    """Check a password; the login may then need a second-factor code or a new password.

    Failures are counted per account and address, per address and per account (see
    ``auth.throttle``); unknown usernames cost the same argon2 work as known ones.
    """
    name = username.strip().lower()
    key = _key(username)
    _gate(ctx, key, _trusted_device(ctx, device_token, key))
    user = None
    if len(name) <= throttle.USERNAME_CHARS:
        user = ctx.db.scalar(select(User).where(func.lower(User.username) == name))
    if not _check_password(ctx, user, password) or user is None:
        _refuse(ctx, key, "bad credentials")
    if not user.active:
        _refuse(ctx, key, "inactive")
    if needs_rehash(ctx.settings, user.password_hash):
        user.password_hash = hash_password(ctx.settings, password)
    return _complete(ctx, user, after_second_factor=False)


def login(ctx: Ctx, username: str, password: str) -> Actor:
    """A password-only login (in-process callers); a further step is refused."""
    outcome = authenticate(ctx, username, password)
    if isinstance(outcome, PendingLogin):
        raise Unauthenticated(
            "该账号须在控制台完成登录（双因素认证或设置新密码）。",
            "This account must finish logging in at the console (second factor or new password).",
        )
    return outcome


def continue_login(
    ctx: Ctx,
    token: str,
    *,
    code: str = "",
    new_password: str = "",
    device_token: str | None = None,
) -> Actor | PendingLogin:
    """The second step of a login: a second-factor code, or the new password it must set."""
    expired = LoginStepExpired(
        "登录已过期，请重新输入用户名和密码。",
        "The login expired; enter your username and password again.",
    )
    try:
        data = _signer(ctx, "login step").loads(token, max_age=LOGIN_STEP_SECONDS)
        user_id, epoch, stage = int(data["u"]), int(data["e"]), str(data["s"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise expired from None
    user = ctx.db.get(User, user_id)
    if user is None or not user.active or user.session_epoch != epoch:
        raise expired
    key = _key(user.username)
    if stage == "second_factor":
        _gate(ctx, key, _trusted_device(ctx, device_token, key))
        step = _totp_step(ctx, user, code)
        if step is None:
            _refuse(
                ctx,
                key,
                "bad second factor",
                ("验证码不正确。", "The verification code is not correct."),
            )
        user.totp_last_step = step
        return _complete(ctx, user, after_second_factor=True)
    if stage != "new_password" or not user.must_change_password:
        raise expired
    throttle.serialise(ctx, key, ctx.client)
    _set_password(ctx, user, new_password, field="new_password")
    # failures are forgotten before the audit log's head is taken (lock order: failures, head)
    throttle.forget_failures(ctx, key, ctx.client)
    record(ctx, PasswordChanged(username=user.username))
    return _complete(ctx, user, after_second_factor=True)


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


# ---------------------------------------------------------------- passwords


def _set_password(ctx: Ctx, user: User, password: str, *, field: str = "password") -> None:
    """Check the policy and store a new password; every session of the account ends."""
    errors = ErrorCollector()
    check_strength(password, errors, field, username=user.username, display_name=user.display_name)
    if not errors.errors and verify_password(ctx.settings, user.password_hash, password):
        errors.add(
            field,
            "新密码不能与当前密码相同。",
            "The new password must differ from the current one.",
        )
    errors.raise_if_any()
    user.password_hash = hash_password(ctx.settings, password)
    user.password_changed_at = utcnow()
    user.must_change_password = False
    user.session_epoch += 1


def _own_account(ctx: Ctx, operation: str, username: str | None) -> User:
    """The account an own-account operation acts on: the user's own (the CLI names it)."""
    require(ctx, operation, target=username or ctx.actor.name)
    if ctx.actor.kind == "system" and username:
        name = username
    elif ctx.actor.kind == "user" and username in (None, ctx.actor.name):
        name = ctx.actor.name
    else:
        raise deny(
            operation,
            username or ctx.actor.name,
            "只能修改自己账号的设置。",
            "Only your own account's settings can be changed this way.",
        )
    user = ctx.db.scalar(select(User).where(User.username == name))
    if user is None or not user.active:
        raise NotFound("用户不存在。", "No such user.")
    return user


def _confirm_password(ctx: Ctx, user: User, password: str) -> None:
    """Re-check the current password (throttled and counted like a login)."""
    key = _key(user.username)
    _gate(ctx, key)
    if not verify_password(ctx.settings, user.password_hash, password):
        _refuse(
            ctx,
            key,
            "bad current password",
            ("当前密码不正确。", "The current password is not correct."),
        )


def change_password(ctx: Ctx, data: PasswordChange, *, username: str | None = None) -> None:
    """Change one's own password, knowing the current one; the account's other sessions end."""
    user = _own_account(ctx, "change_own_password", username)
    _confirm_password(ctx, user, data.current_password)
    _set_password(ctx, user, data.new_password, field="new_password")
    record(ctx, PasswordChanged(username=user.username))


def reset_password(ctx: Ctx, username: str, data: PasswordResetIn) -> PasswordResetOut:
    """Set another account's password (the account manager); every session of it ends.

    Without a new password a temporary one is generated and returned (shown once). By
    default its holder must choose a new password at the next login.
    """
    require(ctx, "reset_password", target=username)
    user = ctx.db.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("用户不存在。", "No such user.")
    generated = data.new_password is None
    password = generate_password() if data.new_password is None else data.new_password
    if not generated:
        errors = ErrorCollector()
        check_strength(
            password,
            errors,
            "new_password",
            username=user.username,
            display_name=user.display_name,
        )
        errors.raise_if_any()
    user.password_hash = hash_password(ctx.settings, password)
    user.password_changed_at = utcnow()
    user.must_change_password = data.require_change
    user.session_epoch += 1
    removed = data.remove_second_factor and user.totp_secret_sealed is not None
    if data.remove_second_factor:
        _clear_totp(user)
    throttle.forget_account(ctx, _key(user.username))
    record(
        ctx,
        PasswordReset(
            username=user.username,
            require_change=data.require_change,
            second_factor_removed=removed,
        ),
    )
    return PasswordResetOut(
        username=user.username,
        temporary_password=password if generated else None,
        require_change=data.require_change,
    )


# ---------------------------------------------------------------- second factor (TOTP)


def _clear_totp(user: User) -> None:
    user.totp_secret_sealed = None
    user.totp_enabled_at = None
    user.totp_last_step = None


def _totp_step(ctx: Ctx, user: User, code: str) -> int | None:
    if user.totp_secret_sealed is None:
        return None
    secret = totp.unseal(user.totp_secret_sealed, ctx.settings.credentials_key)
    return totp.matching_step(secret, code, time.time(), user.totp_last_step)


def start_totp(ctx: Ctx, data: TotpStart, *, username: str | None = None) -> TotpEnrolment:
    """Begin enrolling a second factor: a new secret, shown once, enabled by ``confirm_totp``."""
    user = _own_account(ctx, "manage_own_totp", username)
    if user.totp_enabled_at is not None:
        raise Conflict("双因素认证已启用。", "The second factor is already enabled.")
    _confirm_password(ctx, user, data.password)
    secret = totp.new_secret()
    user.totp_secret_sealed = totp.seal(secret, ctx.settings.credentials_key)
    user.totp_last_step = None
    record(ctx, SecondFactorEnrolmentStarted(username=user.username))
    return TotpEnrolment(secret=secret, otpauth_uri=totp.provisioning_uri(secret, user.username))


def confirm_totp(ctx: Ctx, data: TotpConfirm, *, username: str | None = None) -> None:
    """Enable the second factor with a code from the app; the account's other sessions end."""
    user = _own_account(ctx, "manage_own_totp", username)
    if user.totp_enabled_at is not None or user.totp_secret_sealed is None:
        raise Conflict(
            "没有待确认的双因素认证，请先开始启用。",
            "There is no second factor waiting for confirmation; start enrolling first.",
        )
    step = _totp_step(ctx, user, data.code)
    if step is None:
        raise Invalid.field(
            "code",
            "验证码不正确，请核对手机时间后重试。",
            "The code is not correct; check the phone's clock and try again.",
        )
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    user.session_epoch += 1
    record(ctx, SecondFactorEnabled(username=user.username))


def disable_totp(ctx: Ctx, data: TotpDisable, *, username: str | None = None) -> None:
    """Turn the second factor off, with the password and a current code."""
    user = _own_account(ctx, "manage_own_totp", username)
    if user.totp_enabled_at is None:
        raise Conflict("双因素认证未启用。", "The second factor is not enabled.")
    _confirm_password(ctx, user, data.password)
    if _totp_step(ctx, user, data.code) is None:
        # counted like a login: a stolen session and password must not guess their way past
        _refuse(
            ctx,
            _key(user.username),
            "bad second factor",
            ("验证码不正确。", "The verification code is not correct."),
        )
    _clear_totp(user)
    record(ctx, SecondFactorDisabled(username=user.username))


def account_security(ctx: Ctx) -> AccountSecurity:
    """The signed-in user's own account: second factor state, forced change, last change."""
    if ctx.actor.kind != "user" or ctx.actor.id is None:
        raise Unauthenticated()
    user = ctx.db.get(User, ctx.actor.id)
    if user is None:
        raise Unauthenticated()
    return AccountSecurity(
        username=user.username,
        display_name=user.display_name,
        password_changed_at=user.password_changed_at,
        second_factor_allowed=allowed(ctx, "manage_own_totp"),
        second_factor_enabled=user.totp_enabled_at is not None,
        second_factor_pending=user.totp_enabled_at is None and user.totp_secret_sealed is not None,
    )


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
