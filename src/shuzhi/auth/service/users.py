"""Auth: staff accounts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from shuzhi.audit.service import record
from shuzhi.auth.events import (
    UserCreated,
)
from shuzhi.auth.models import User
from shuzhi.auth.passwords import (
    check_strength,
    hash_password,
)
from shuzhi.auth.permissions import require
from shuzhi.auth.schemas import (
    UserCreate,
    UserOut,
)
from shuzhi.auth.service.common import UNIT_SCOPED
from shuzhi.context import Ctx, Role
from shuzhi.errors import (
    ErrorCollector,
)
from shuzhi.org import service as org


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


def accounts_holding(ctx: Ctx, unit_id: int | None, roles: Sequence[str]) -> list[str]:
    """Usernames of the active accounts holding one of ``roles`` (in ``unit_id``; any unit
    when None) — whom a notice concerns. A lookup for other services, not an operation."""
    query = select(User.username).where(User.active.is_(True), User.role.in_(list(roles)))
    if unit_id is not None:
        query = query.where(User.unit_id == unit_id)
    return list(ctx.db.scalars(query.order_by(User.username)))
