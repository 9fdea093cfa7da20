"""Audit events of the accounts capability."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shuzhi.audit.events import AuditEvent


@dataclass(frozen=True)
class _UserEvent(AuditEvent):
    target_type: ClassVar[str] = "user"
    target_fields: ClassVar[tuple[str, ...]] = ("username",)
    username: str


@dataclass(frozen=True)
class LoginSucceeded(_UserEvent):
    action: ClassVar[str] = "auth.login"
    client: str | None
    second_factor: bool = False


@dataclass(frozen=True)
class LoginFailed(_UserEvent):
    action: ClassVar[str] = "auth.login_failed"
    client: str | None
    reason: str


@dataclass(frozen=True)
class LoggedOut(_UserEvent):
    action: ClassVar[str] = "auth.logout"


@dataclass(frozen=True)
class UserCreated(_UserEvent):
    action: ClassVar[str] = "auth.user_created"
    role: str
    unit_code: str | None


@dataclass(frozen=True)
class PasswordChanged(_UserEvent):
    action: ClassVar[str] = "auth.password_changed"


@dataclass(frozen=True)
class PasswordReset(_UserEvent):
    action: ClassVar[str] = "auth.password_reset"
    require_change: bool
    second_factor_removed: bool


@dataclass(frozen=True)
class SecondFactorEnrolmentStarted(_UserEvent):
    action: ClassVar[str] = "auth.second_factor_enrolment_started"


@dataclass(frozen=True)
class SecondFactorEnabled(_UserEvent):
    action: ClassVar[str] = "auth.second_factor_enabled"


@dataclass(frozen=True)
class SecondFactorDisabled(_UserEvent):
    action: ClassVar[str] = "auth.second_factor_disabled"


@dataclass(frozen=True)
class _KeyEvent(AuditEvent):
    target_type: ClassVar[str] = "api_key"
    target_fields: ClassVar[tuple[str, ...]] = ("prefix",)
    prefix: str


@dataclass(frozen=True)
class ApiKeyCreated(_KeyEvent):
    action: ClassVar[str] = "auth.api_key_created"
    name: str
    role: str
    unit_code: str | None
    expires_at: str | None


@dataclass(frozen=True)
class ApiKeyRevoked(_KeyEvent):
    action: ClassVar[str] = "auth.api_key_revoked"
