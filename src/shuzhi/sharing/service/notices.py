"""Sharing: request history and console notifications."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, exists, func, select

from shuzhi.auth.permissions import require
from shuzhi.context import Ctx, Role
from shuzhi.sharing.models import (
    Notification,
    NotificationRead,
    RequestEvent,
    ShareRequest,
)
from shuzhi.sharing.notify import Outgoing, queue
from shuzhi.sharing.schemas import (
    NotificationOut,
)
from shuzhi.sharing.service.common import MAX_ID, _unit_name


def _log(ctx: Ctx, req: ShareRequest, action: str, note: str = "") -> None:
    ctx.db.add(RequestEvent(request_id=req.id, action=action, actor=ctx.actor.label, note=note))


def _notify(
    ctx: Ctx,
    kind: str,
    unit_id: int | None,
    roles: Sequence[str],
    zh: str,
    en: str,
    link: str,
    *,
    request_id: int | None = None,
    grant_id: int | None = None,
) -> None:
    ctx.db.add(
        Notification(
            unit_id=unit_id,
            roles="," + ",".join(roles) + ",",
            kind=kind,
            request_id=request_id,
            grant_id=grant_id,
            message_zh=zh,
            message_en=en,
            link=link,
        )
    )
    unit_code = _unit_name(ctx, unit_id)[0] if unit_id is not None else None
    queue(ctx.db, ctx.database, Outgoing(kind, unit_code, tuple(roles), zh, en, link))


def _audience(ctx: Ctx) -> Any:
    role = ctx.actor.role
    if role is None:
        return Notification.id.is_(None)
    unit = (
        Notification.unit_id.is_(None)
        if role in (Role.CDO, Role.CDO_EXECUTIVE, Role.AUDITOR)
        else Notification.unit_id == (ctx.actor.unit_id or 0)
    )
    return and_(unit, Notification.roles.like(f"%,{role.value},%"))


def _unread(ctx: Ctx) -> Any:
    return ~exists().where(
        NotificationRead.notification_id == Notification.id,
        NotificationRead.reader == ctx.actor.label,
    )


def list_notifications(ctx: Ctx, limit: int = 50) -> list[NotificationOut]:
    """The actor's console notifications, newest first."""
    require(ctx, "view_notifications")
    read_ids = select(NotificationRead.notification_id).where(
        NotificationRead.reader == ctx.actor.label
    )
    rows = ctx.db.execute(
        select(Notification, Notification.id.in_(read_ids))
        .where(_audience(ctx))
        .order_by(Notification.id.desc())
        .limit(max(1, min(limit, 200)))
    ).all()
    return [
        NotificationOut(
            id=n.id,
            kind=n.kind,
            message=n.message_en if ctx.locale.startswith("en") else n.message_zh,
            link=n.link,
            created_at=n.created_at,
            read=bool(read),
        )
        for n, read in rows
    ]


def unread_count(ctx: Ctx) -> int:
    """For the console badge (0 for anyone without notifications)."""
    if not ctx.actor.is_authenticated or ctx.actor.role is None:
        return 0
    require(ctx, "view_notifications")
    return (
        ctx.db.scalar(
            select(func.count()).select_from(Notification).where(_audience(ctx), _unread(ctx))
        )
        or 0
    )


def mark_notifications_read(ctx: Ctx, ids: Sequence[int] | None = None) -> int:
    """Mark the given notifications (default: all of the actor's) read; returns how many."""
    require(ctx, "view_notifications")
    query = select(Notification.id).where(_audience(ctx), _unread(ctx))
    if ids is not None:
        query = query.where(Notification.id.in_([i for i in ids if 0 < i <= MAX_ID]))
    found = list(ctx.db.scalars(query))
    for nid in found:
        ctx.db.add(NotificationRead(notification_id=nid, reader=ctx.actor.label))
    ctx.db.flush()
    return len(found)


def _link(req: ShareRequest) -> str:
    return f"/sharing/requests/{req.id}"
