"""Auth: the TOTP second factor (enrol, confirm, disable)."""

from __future__ import annotations

from shuzhi.audit.service import record
from shuzhi.auth import totp
from shuzhi.auth.events import (
    SecondFactorDisabled,
    SecondFactorEnabled,
    SecondFactorEnrolmentStarted,
)
from shuzhi.auth.models import User
from shuzhi.auth.permissions import allowed
from shuzhi.auth.schemas import (
    AccountSecurity,
    TotpConfirm,
    TotpDisable,
    TotpEnrolment,
    TotpStart,
)
from shuzhi.auth.service.common import _clear_totp, _totp_step
from shuzhi.auth.service.logins import _key, _refuse
from shuzhi.auth.service.passwords import _confirm_password, _own_account
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import (
    Conflict,
    Invalid,
    Unauthenticated,
)


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
            shown=user.username,
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
