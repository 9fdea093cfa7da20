"""Auth: logging in (throttled, second factor, forced password change), sessions, logging out."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal, NoReturn

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select, update

from shuzhi.audit.service import record
from shuzhi.auth import throttle
from shuzhi.auth.events import (
    LoggedOut,
    LoginFailed,
    LoginSucceeded,
    PasswordChanged,
)
from shuzhi.auth.models import User
from shuzhi.auth.passwords import hash_password, needs_rehash, verify_login
from shuzhi.auth.service.common import _set_password, _totp_step
from shuzhi.context import Actor, Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import (
    TooManyRequests,
    Unauthenticated,
)
from shuzhi.security import digests

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


UNKNOWN_NAME_PREFIX = "digest:"  # never in a username (nor an e-mail: it has no "@")


def audit_name(ctx: Ctx, account: str | None, typed: str) -> str:
    """How a failed attempt names its account in the audit log.

    The account's own name when one was found (``account``); otherwise the text typed may be
    anything, a password typed into the wrong box included, so only a keyed digest of it is
    recorded (``digest:<hex>``, ``security.digests``, as the access log and security
    operations' subjects show values): repeated attempts with the same unknown name can
    still be correlated, and the text cannot be read back without the application secret.
    """
    if account is not None:
        return account
    key = digests.digest_key(ctx.settings.secret_key)
    return f"{UNKNOWN_NAME_PREFIX}{digests.digest(typed.strip().lower(), key)}"


def _gate(ctx: Ctx, key: str, trusted_device: bool = False, *, shown: str) -> None:
    """Serialise and throttle an attempt; a throttled one is refused before any check.

    The refusal is audited (naming the account as ``shown``, see ``audit_name``) but not
    counted, so it never extends the wait.
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
        event = LoginFailed(username=shown, client=client, reason="throttled")
        record(c, event, outcome="failed")

    err.after_rollback = audit
    raise err


def _refuse(
    ctx: Ctx, key: str, reason: str, message: tuple[str, str] = WRONG_LOGIN, *, shown: str
) -> NoReturn:
    """Count and audit a failed check, committed at once (while the attempt's locks are held,
    so a concurrent attempt on another worker counts it), then refuse.

    The failure is counted under ``key`` and audited under ``shown`` (see ``audit_name``).
    """
    throttle.record_failure(ctx, key, ctx.client)
    record(ctx, LoginFailed(username=shown, client=ctx.client, reason=reason), outcome="failed")
    ctx.db.commit()
    raise Unauthenticated(*message)


def _check_password(ctx: Ctx, user: User | None, password: str) -> bool:
    """Verify, spending at least the current costs' argon2 work whether or not the account
    exists and whatever costs its hash was made with (``passwords.verify_login``)."""
    stored = user.password_hash if user is not None else None
    return verify_login(ctx.settings, stored, password)


def _find_user(ctx: Ctx, name: str) -> User | None:
    """The account ``name`` (trimmed, lower-cased) names; longer input names none."""
    if len(name) > throttle.USERNAME_CHARS:
        return None
    found: User | None = ctx.db.scalar(select(User).where(func.lower(User.username) == name))
    return found


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
    ``auth.throttle``); unknown usernames cost the same argon2 work as known ones. The audit
    log names a failure's account only when it exists (``audit_name``).
    """
    name = username.strip().lower()
    key = _key(username)
    user = _find_user(ctx, name)
    shown = audit_name(ctx, user.username if user is not None else None, name)
    _gate(ctx, key, _trusted_device(ctx, device_token, key), shown=shown)
    if not _check_password(ctx, user, password) or user is None:
        _refuse(ctx, key, "bad credentials", shown=shown)
    if not user.active:
        _refuse(ctx, key, "inactive", shown=shown)
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
        _gate(ctx, key, _trusted_device(ctx, device_token, key), shown=user.username)
        step = _totp_step(ctx, user, code)
        if step is None:
            _refuse(
                ctx,
                key,
                "bad second factor",
                ("验证码不正确。", "The verification code is not correct."),
                shown=user.username,
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
    return Actor(kind="user", id=user.id, name=user.username, role=user.role, unit_id=user.unit_id)


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
