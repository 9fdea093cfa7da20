"""Accounts, login failures and API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from shuzhi.context import Role
from shuzhi.db.base import Base, StrEnumType, utcnow


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(StrEnumType(Role, 40))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    locale: Mapped[str] = mapped_column(String(10), default="zh-CN")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on logout and password change: every older session cookie stops working.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    # Set by an administrator's reset: the next login must choose a new password first.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    password_changed_at: Mapped[datetime | None]
    # TOTP second factor: the secret sealed under the credentials key; enabled once confirmed.
    totp_secret_sealed: Mapped[str | None] = mapped_column(Text)
    totp_enabled_at: Mapped[datetime | None]
    # The last time step a code was accepted for: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class LoginFailure(Base):
    """One failed login (wrong password or code), counted per account and per address.

    Throttled attempts are refused without a check and leave no row here.
    """

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_user_at", "username", "at"),
        Index("ix_login_failure_client_at", "client", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """A system's credential; only a SHA-256 of the secret part is stored."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(StrEnumType(Role, 40))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
