"""Connected systems (应接尽接): a unit registers its applications and issues their keys.

Keys use the platform's key scheme (``shuzhi.auth.service``: ``<kind>_<prefix>_<secret>``,
SHA-256 stored, compared in constant time) with the kind ``sza``. A key is shown once,
expires, can be rotated (the old key keeps working for an overlap so the system can switch
without downtime) and revoked. Every change that narrows access bumps the grants revision.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from shuzhi import hooks
from shuzhi.audit.service import record
from shuzhi.auth.permissions import allowed, require, scope_unit
from shuzhi.auth.service import new_token, token_digest
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.db.cas import compare_and_set
from shuzhi.errors import Conflict, Invalid, NotFound
from shuzhi.org import service as org
from shuzhi.sharing.access import APP_KEY_KIND, bump_revision
from shuzhi.sharing.events import (
    AppKeyIssued,
    AppKeyOverlapSet,
    AppKeyRevoked,
    ApplicationRegistered,
    ApplicationRetired,
)
from shuzhi.sharing.models import (
    AppKey,
    Application,
    ApplicationStatus,
    Grant,
    GrantStatus,
)
from shuzhi.sharing.schemas import (
    AppKeyCreated,
    AppKeyIn,
    AppKeyOut,
    ApplicationIn,
    ApplicationOut,
    RotateIn,
    UnitSystems,
)


def _application(ctx: Ctx, code: str) -> Application:
    app = (
        None
        if "\x00" in code
        else ctx.db.scalar(select(Application).where(Application.code == code.strip()))
    )
    if app is None:
        raise NotFound(f"应用系统 {code} 不存在。", f"No application {code}.")
    return app


def application_for(ctx: Ctx, code: str, unit_id: int) -> Application:
    """For requests: an active application of ``unit_id`` (field error otherwise)."""
    app = (
        None
        if "\x00" in code
        else ctx.db.scalar(select(Application).where(Application.code == code.strip()))
    )
    if app is None or app.unit_id != unit_id:
        raise Invalid.field(
            "application_code",
            f"本单位没有代码为 {code} 的应用系统，请先登记。",
            f"Your unit has no application {code}; register it first.",
        )
    if app.status != ApplicationStatus.ACTIVE:
        raise Invalid.field(
            "application_code", "该应用系统已停用。", "This application has been retired."
        )
    return app


def key_status(key: AppKey, now: datetime) -> str:
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at <= now:
        return "expired"
    return "active"


def _key_out(ctx: Ctx, key: AppKey, now: datetime) -> AppKeyOut:
    rotated = ctx.db.get(AppKey, key.rotated_from_id) if key.rotated_from_id else None
    return AppKeyOut(
        prefix=key.prefix,
        label=key.label,
        created_by=key.created_by,
        created_at=key.created_at,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
        status=key_status(key, now),
        rotated_from=rotated.prefix if rotated else None,
    )


def _counts(ctx: Ctx, app_ids: list[int], now: datetime) -> tuple[Counter[int], Counter[int]]:
    keys = Counter[int](
        dict(
            ctx.db.execute(
                select(AppKey.application_id, func.count())
                .where(
                    AppKey.application_id.in_(app_ids),
                    AppKey.revoked_at.is_(None),
                    AppKey.expires_at > now,
                )
                .group_by(AppKey.application_id)
            ).all()
        )
    )
    grants = Counter[int](
        dict(
            ctx.db.execute(
                select(Grant.application_id, func.count())
                .where(
                    Grant.application_id.in_(app_ids),
                    Grant.status == GrantStatus.ACTIVE,
                    Grant.expires_at > now,
                )
                .group_by(Grant.application_id)
            ).all()
        )
    )
    return keys, grants


def _app_out(
    ctx: Ctx, app: Application, keys: int, grants: int, with_keys: bool = False
) -> ApplicationOut:
    unit = org.unit_brief(ctx, app.unit_id)
    now = utcnow()
    key_rows: list[AppKey] = (
        list(
            ctx.db.scalars(
                select(AppKey).where(AppKey.application_id == app.id).order_by(AppKey.id.desc())
            )
        )
        if with_keys
        else []
    )
    return ApplicationOut(
        code=app.code,
        name=app.name,
        description=app.description,
        contact=app.contact,
        unit_code=unit.code if unit else "",
        unit_name=unit.name if unit else "",
        status=ApplicationStatus(app.status),
        created_by=app.created_by,
        created_at=app.created_at,
        active_keys=keys,
        active_grants=grants,
        keys=[_key_out(ctx, k, now) for k in key_rows],
    )


def register_application(ctx: Ctx, data: ApplicationIn) -> ApplicationOut:
    """Register a system of a unit (your own, or any unit for the executive)."""
    unit_code = data.unit_code
    if unit_code:
        unit_id = org.unit_id_for_code(ctx, unit_code)
        if unit_id is None:
            raise Invalid.field(
                "unit_code", f"单位 {unit_code} 不存在。", f"Unit {unit_code} does not exist."
            )
    elif ctx.actor.unit_id is not None:
        unit_id = ctx.actor.unit_id
    else:
        raise Invalid.field("unit_code", "请指定所属单位。", "Name the unit.")
    require(ctx, "register_application", unit_id, target=data.code)
    if ctx.db.scalar(select(Application.id).where(Application.code == data.code)):
        raise Invalid.field(
            "code", f"应用代码 {data.code} 已被使用。", f"Application code {data.code} is taken."
        )
    app = Application(
        unit_id=unit_id,
        code=data.code,
        name=data.name,
        description=data.description,
        contact=data.contact,
        status=ApplicationStatus.ACTIVE,
        created_by=ctx.actor.label,
    )
    ctx.db.add(app)
    ctx.db.flush()
    record(ctx, ApplicationRegistered(code=app.code, unit=unit_id, name=app.name))
    return _app_out(ctx, app, 0, 0)


def list_applications(ctx: Ctx, unit_code: str | None = None) -> list[ApplicationOut]:
    """Applications of the actor's unit (the whole region for region roles)."""
    scope = scope_unit(ctx, "view_applications")
    query = select(Application)
    if unit_code:
        unit_id = org.unit_id_for_code(ctx, unit_code)
        if unit_id is None:
            raise NotFound(f"单位 {unit_code} 不存在。", f"Unit {unit_code} does not exist.")
        require(ctx, "view_applications", unit_id, target=unit_code)
        query = query.where(Application.unit_id == unit_id)
    elif scope is not None:
        query = query.where(Application.unit_id == scope)
    apps = list(ctx.db.scalars(query.order_by(Application.unit_id, Application.code)))
    keys, grants = _counts(ctx, [a.id for a in apps], utcnow())
    return [_app_out(ctx, a, keys[a.id], grants[a.id]) for a in apps]


def get_application(ctx: Ctx, code: str) -> ApplicationOut:
    app = _application(ctx, code)
    require(ctx, "view_applications", app.unit_id, target=code)
    keys, grants = _counts(ctx, [app.id], utcnow())
    return _app_out(ctx, app, keys[app.id], grants[app.id], with_keys=True)


@dataclass(frozen=True)
class ApplicationPage:
    application: ApplicationOut
    can_keys: bool
    can_revoke: bool
    can_retire: bool


def application_page(ctx: Ctx, code: str) -> ApplicationPage:
    """An application with its keys and what the actor may do with them."""
    out = get_application(ctx, code)
    unit_id = _application(ctx, code).unit_id
    active = out.status == ApplicationStatus.ACTIVE
    return ApplicationPage(
        application=out,
        can_keys=active and allowed(ctx, "create_app_key", unit_id),
        can_revoke=allowed(ctx, "revoke_app_key", unit_id),
        can_retire=active and allowed(ctx, "retire_application", unit_id),
    )


def connected_systems(ctx: Ctx) -> list[UnitSystems]:
    """The registry (应接尽接): per unit, systems registered and systems actually connected."""
    scope = scope_unit(ctx, "view_applications")
    apps = list(ctx.db.scalars(select(Application).where(Application.status == "active")))
    keys, grants = _counts(ctx, [a.id for a in apps], utcnow())
    per_unit: dict[int, list[Application]] = {}
    for a in apps:
        per_unit.setdefault(a.unit_id, []).append(a)
    out = []
    for unit in org.all_unit_briefs(ctx):
        if scope is not None and unit.id != scope:
            continue
        mine = per_unit.get(unit.id, [])
        if not mine and unit.kind == "region":
            continue
        out.append(
            UnitSystems(
                unit_code=unit.code,
                unit_name=unit.name,
                applications=len(mine),
                connected=sum(1 for a in mine if keys[a.id] and grants[a.id]),
            )
        )
    return out


def retire_application(ctx: Ctx, code: str, reason: str) -> ApplicationOut:
    """Stop a system: its keys stop working at once (its grants stay for the record)."""
    app = _application(ctx, code)
    require(ctx, "retire_application", app.unit_id, target=code)
    active = Application.status == ApplicationStatus.ACTIVE
    if not compare_and_set(
        ctx.db, app, active, status=ApplicationStatus.RETIRED, retired_at=utcnow()
    ):
        raise Conflict("该应用系统已停用。", "The application is already retired.")
    bump_revision(ctx.db)
    record(ctx, ApplicationRetired(code=code, unit=app.unit_id, reason=reason.strip()))
    return get_application(ctx, code)


def _issue(
    ctx: Ctx, app: Application, data: AppKeyIn, rotated_from: AppKey | None
) -> AppKeyCreated:
    prefix, token = new_token(APP_KEY_KIND)
    now = utcnow()
    key = AppKey(
        application_id=app.id,
        prefix=prefix,
        key_hash=token_digest(token),
        label=data.label,
        created_by=ctx.actor.label,
        created_at=now,
        expires_at=now + timedelta(days=data.expires_in_days),
        rotated_from_id=rotated_from.id if rotated_from else None,
    )
    ctx.db.add(key)
    ctx.db.flush()
    record(
        ctx,
        AppKeyIssued(
            code=app.code,
            unit=app.unit_id,
            prefix=prefix,
            expires_at=key.expires_at.isoformat(),
            rotated_from=rotated_from.prefix if rotated_from else None,
        ),
    )
    return AppKeyCreated(
        **_key_out(ctx, key, now).model_dump(), application_code=app.code, token=token
    )


def create_app_key(ctx: Ctx, code: str, data: AppKeyIn) -> AppKeyCreated:
    """Issue a key for an application; the token is returned once and never stored."""
    app = _application(ctx, code)
    require(ctx, "create_app_key", app.unit_id, target=code)
    if app.status != ApplicationStatus.ACTIVE:
        raise Conflict("该应用系统已停用，不能签发密钥。", "The application is retired.")
    return _issue(ctx, app, data, None)


def _key(ctx: Ctx, app: Application, prefix: str) -> AppKey:
    key = (
        None
        if "\x00" in prefix
        else ctx.db.scalar(
            select(AppKey).where(AppKey.prefix == prefix.strip(), AppKey.application_id == app.id)
        )
    )
    if key is None:
        raise NotFound("应用密钥不存在。", "No such application key.")
    return key


def rotate_app_key(ctx: Ctx, code: str, prefix: str, data: RotateIn) -> AppKeyCreated:
    """A new key now; the old one keeps working for ``overlap_hours``, then stops."""
    app = _application(ctx, code)
    require(ctx, "rotate_app_key", app.unit_id, target=code)
    if app.status != ApplicationStatus.ACTIVE:
        raise Conflict("该应用系统已停用，不能签发密钥。", "The application is retired.")
    old = _key(ctx, app, prefix)
    now = utcnow()
    until = min(old.expires_at, now + timedelta(hours=data.overlap_hours))
    working = (AppKey.revoked_at.is_(None), AppKey.expires_at > now)
    if not compare_and_set(ctx.db, old, *working, expires_at=until):
        raise Conflict(
            "该密钥已失效（过期或吊销），请直接签发新密钥。",
            "That key no longer works (expired or revoked); issue a new key instead.",
        )
    bump_revision(ctx.db)
    record(
        ctx,
        AppKeyOverlapSet(
            code=app.code, unit=app.unit_id, prefix=old.prefix, expires_at=until.isoformat()
        ),
    )
    return _issue(ctx, app, AppKeyIn(label=old.label, expires_in_days=data.expires_in_days), old)


def revoke_app_key(ctx: Ctx, code: str, prefix: str) -> AppKeyOut:
    app = _application(ctx, code)
    require(ctx, "revoke_app_key", app.unit_id, target=code)
    key = _key(ctx, app, prefix)
    if not compare_and_set(
        ctx.db, key, AppKey.revoked_at.is_(None), revoked_at=utcnow(), revoked_by=ctx.actor.label
    ):
        raise Conflict("该密钥已被吊销。", "The key is already revoked.")
    bump_revision(ctx.db)
    record(ctx, AppKeyRevoked(code=app.code, unit=app.unit_id, prefix=key.prefix))
    hooks.publish(ctx, hooks.AppKeyRevoked(app.code, key.prefix))
    return _key_out(ctx, key, utcnow())
