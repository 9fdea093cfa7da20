"""Accounts I/O shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shuzhi.context import Role


class UserCreate(BaseModel):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    display_name: str = Field(min_length=1, max_length=100)
    password: str = Field(max_length=200)
    role: Role
    unit_code: str | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: str
    unit_code: str | None = None
    unit_name: str | None = None
    active: bool
    last_login_at: datetime | None
    must_change_password: bool = False
    second_factor: bool = False


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=200)
    new_password: str = Field(max_length=1000)


class PasswordReset(BaseModel):
    new_password: str | None = Field(
        default=None,
        max_length=1000,
        description="Omit to have a temporary password generated (returned once).",
    )
    require_change: bool = Field(
        default=True, description="The holder must choose a new password at the next login."
    )
    remove_second_factor: bool = Field(
        default=False, description="Also remove the account's second factor (a lost phone)."
    )


class PasswordResetOut(BaseModel):
    username: str
    temporary_password: str | None = Field(
        description="The generated password, shown only once (None when one was given)."
    )
    require_change: bool


class TotpStart(BaseModel):
    password: str = Field(max_length=200)


class TotpEnrolment(BaseModel):
    secret: str = Field(description="Base32 secret for the authenticator app; shown once.")
    otpauth_uri: str


class TotpConfirm(BaseModel):
    code: str = Field(max_length=20)


class TotpDisable(BaseModel):
    password: str = Field(max_length=200)
    code: str = Field(max_length=20)


class AccountSecurity(BaseModel):
    username: str
    display_name: str
    password_changed_at: datetime | None
    second_factor_allowed: bool
    second_factor_enabled: bool
    second_factor_pending: bool


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: Role = Role.CONSUMER
    unit_code: str | None = None
    expires_in_days: int | None = Field(default=365, ge=1, le=3650)


class ApiKeyOut(BaseModel):
    prefix: str
    name: str
    role: str
    unit_code: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    status: str


class ApiKeyCreated(ApiKeyOut):
    token: str = Field(description="The full key. It is shown only once; store it safely.")
