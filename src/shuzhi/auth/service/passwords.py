"""Auth: changing and resetting passwords."""

from __future__ import annotations

from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth import throttle
from shuzhi.auth.events import (
    PasswordChanged,
    PasswordReset,
)
from shuzhi.auth.models import User
from shuzhi.auth.passwords import (
    check_strength,
    generate_password,
    hash_password,
    verify_password,
)
from shuzhi.auth.permissions import deny, require
from shuzhi.auth.schemas import (
    PasswordChange,
    PasswordResetOut,
)
from shuzhi.auth.schemas import PasswordReset as PasswordResetIn
from shuzhi.auth.service.common import _clear_totp, _set_password
from shuzhi.auth.service.logins import _gate, _key, _refuse
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import (
    ErrorCollector,
    NotFound,
)


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
    _gate(ctx, key, shown=user.username)
    if not verify_password(ctx.settings, user.password_hash, password):
        _refuse(
            ctx,
            key,
            "bad current password",
            ("当前密码不正确。", "The current password is not correct."),
            shown=user.username,
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
