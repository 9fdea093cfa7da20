"""Auth service: what the account operations share."""

from __future__ import annotations

import time
from datetime import timedelta

from shuzhi.auth import totp
from shuzhi.auth.models import User
from shuzhi.auth.passwords import (
    check_strength,
    hash_password,
    verify_password,
)
from shuzhi.context import Ctx, Role
from shuzhi.db.base import utcnow
from shuzhi.errors import (
    ErrorCollector,
)

UNIT_SCOPED = {Role.UNIT_CDO, Role.DATA_LIAISON, Role.CONSUMER, Role.OPERATOR}


KEY_PREFIX = "sz"


# A used key's last_used_at is refreshed at most this often, to keep writes off the hot path.
LAST_USED_GRANULARITY = timedelta(minutes=5)


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


def _clear_totp(user: User) -> None:
    user.totp_secret_sealed = None
    user.totp_enabled_at = None
    user.totp_last_step = None


def _totp_step(ctx: Ctx, user: User, code: str) -> int | None:
    if user.totp_secret_sealed is None:
        return None
    secret = totp.unseal(user.totp_secret_sealed, ctx.settings.credentials_key)
    return totp.matching_step(secret, code, time.time(), user.totp_last_step)
