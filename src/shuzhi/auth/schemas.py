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
