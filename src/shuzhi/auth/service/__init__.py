"""Accounts, logins and API keys.

Passwords are argon2id hashes. API keys look like ``sz_<prefix>_<secret>``; the prefix finds
the row and a SHA-256 of the whole key is compared in constant time (the secret has 256 bits,
so a slow hash would add nothing but latency on every gateway call).
"""

from __future__ import annotations

from shuzhi.auth.service.common import KEY_PREFIX, LAST_USED_GRANULARITY, UNIT_SCOPED
from shuzhi.auth.service.keys import (
    actor_for_api_key,
    create_api_key,
    list_api_keys,
    new_token,
    revoke_api_key,
    token_digest,
    token_matches,
    token_prefix,
)
from shuzhi.auth.service.logins import (
    DEVICE_SECONDS,
    LOGIN_STEP_SECONDS,
    WRONG_LOGIN,
    LoginStepExpired,
    PendingLogin,
    actor_for_session,
    actor_for_user,
    audit_name,
    authenticate,
    continue_login,
    device_token,
    login,
    logout,
    session_epoch,
)
from shuzhi.auth.service.passwords import change_password, reset_password
from shuzhi.auth.service.totp import account_security, confirm_totp, disable_totp, start_totp
from shuzhi.auth.service.users import accounts_holding, create_user, list_users

__all__ = [
    "DEVICE_SECONDS",
    "KEY_PREFIX",
    "LAST_USED_GRANULARITY",
    "LOGIN_STEP_SECONDS",
    "UNIT_SCOPED",
    "WRONG_LOGIN",
    "LoginStepExpired",
    "PendingLogin",
    "account_security",
    "accounts_holding",
    "actor_for_api_key",
    "actor_for_session",
    "actor_for_user",
    "audit_name",
    "authenticate",
    "change_password",
    "confirm_totp",
    "continue_login",
    "create_api_key",
    "create_user",
    "device_token",
    "disable_totp",
    "list_api_keys",
    "list_users",
    "login",
    "logout",
    "new_token",
    "reset_password",
    "revoke_api_key",
    "session_epoch",
    "start_totp",
    "token_digest",
    "token_matches",
    "token_prefix",
]
