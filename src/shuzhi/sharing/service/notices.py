"""Sharing: request history and console notifications."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import and_, exists, func, select

from shuzhi.audit.service import record
from shuzhi.auth import service as auth
from shuzhi.auth.permissions import require
from shuzhi.context import Ctx, Role
from shuzhi.errors import Invalid, NotFound
from shuzhi.sharing import outbox
from shuzhi.sharing.events import NoticeAddressSet
from shuzhi.sharing.models import (
    Channel,
    NoticeAddress,
    Notification,
    NotificationRead,
    OutboxMessage,
    OutboxState,
    RequestEvent,
    ShareRequest,
)
from shuzhi.sharing.notify import Outgoing, queue
from shuzhi.sharing.schemas import (
    NoticeAddressIn,
    NoticeAddressOut,
    NotificationOut,
    OutboxOut,
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
    outbox.enqueue(
        ctx.db,
        ctx.database,
        kind=kind,
        unit_code=unit_code,
        roles=roles,
        zh=zh,
        en=en,
        link=link,
        addresses=_mail_addresses(ctx, unit_id, roles),
    )


def _mail_addresses(ctx: Ctx, unit_id: int | None, roles: Sequence[str]) -> list[tuple[str, str]]:
    """(username, address) of everyone the notice concerns who gave an address and did not
    turn notice e-mail off."""
    settings = ctx.settings
    if not (settings.smtp_host and settings.mail_from):
        return []
    usernames = auth.accounts_holding(ctx, unit_id, roles)
    if not usernames:
        return []
    rows = ctx.db.execute(
        select(NoticeAddress.username, NoticeAddress.email)
        .where(
            NoticeAddress.username.in_(usernames),
            NoticeAddress.email != "",
            NoticeAddress.mail_off.is_(False),
        )
        .order_by(NoticeAddress.username)
    ).all()
    return [(u, e) for u, e in rows]


def post_notice(
    ctx: Ctx, kind: str, unit_id: int | None, roles: Sequence[str], zh: str, en: str, link: str
) -> None:
    """A notice from another capability (a cockpit alert): shown in the console of everyone
    holding ``roles`` in ``unit_id`` (None: the region) and sent by mail and webhook.
    Not an operation of its own: the caller's operation was authorised already."""
    _notify(ctx, kind, unit_id, roles, zh, en, link)


def _valid_address(raw: str) -> str:
    address = raw.strip()
    if not address:
        return ""
    local, _, domain = address.rpartition("@")
    if (
        address.count("@") != 1
        or not local
        or "." not in domain.strip(".")
        or any(c.isspace() or c in '<>,;"()[]' for c in address)
        or len(address) > 254
    ):
        raise Invalid.field(
            "email",
            f"“{address}”不是有效的电子邮箱地址。",
            f"{address!r} is not a valid e-mail address.",
        )
    return f"{local}@{domain.lower()}"


def _address_out(ctx: Ctx, username: str) -> NoticeAddressOut:
    row = ctx.db.get(NoticeAddress, username)
    return NoticeAddressOut(
        username=username,
        email=row.email if row else "",
        mail_off=row.mail_off if row else False,
    )


def get_notice_address(ctx: Ctx) -> NoticeAddressOut:
    """Where the actor's own notices are mailed."""
    require(ctx, "manage_own_notices")
    return _address_out(ctx, ctx.actor.name)


def set_notice_address(
    ctx: Ctx, data: NoticeAddressIn, username: str | None = None
) -> NoticeAddressOut:
    """Set where an account's notices are mailed and whether to mail them: one's own
    (anyone signed in), or another account's (who manages accounts)."""
    own = username is None or username == ctx.actor.name
    if own:
        require(ctx, "manage_own_notices")
        username = ctx.actor.name
    else:
        require(ctx, "manage_users", target=f"account:{username}")
    assert username is not None
    if not own and username not in auth.accounts_holding(ctx, None, [r.value for r in Role]):
        raise NotFound(f"账号 {username} 不存在。", f"No account {username}.")
    email = _valid_address(data.email)
    row = ctx.db.get(NoticeAddress, username)
    if row is None:
        row = NoticeAddress(username=username)
        ctx.db.add(row)
    row.email, row.mail_off = email, data.mail_off
    ctx.db.flush()
    record(ctx, NoticeAddressSet(username=username, email=email, mail_off=data.mail_off))
    return _address_out(ctx, username)


def list_notice_outbox(
    ctx: Ctx, state: OutboxState | None = None, limit: int = 100
) -> list[OutboxOut]:
    """Outgoing notices, newest first (failed ones are what the bureau must look at)."""
    require(ctx, "view_notice_outbox")
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if state is not None:
        query = query.where(OutboxMessage.state == state)
    out = []
    for m in ctx.db.scalars(query.limit(max(1, min(limit, 500)))):
        shown = m.username or "" if m.channel == Channel.EMAIL else urlsplit(m.recipient).netloc
        out.append(
            OutboxOut(
                id=m.id,
                channel=m.channel,
                kind=m.kind,
                recipient=shown,
                state=m.state,
                attempts=m.attempts,
                last_error=m.last_error,
                created_at=m.created_at,
                next_attempt_at=m.next_attempt_at if m.state == OutboxState.PENDING else None,
                sent_at=m.sent_at,
            )
        )
    return out


def outbox_counts(ctx: Ctx) -> dict[str, int]:
    """How many outgoing notices are in each state (for the bureau's console)."""
    require(ctx, "view_notice_outbox")
    rows = ctx.db.execute(
        select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
    ).all()
    counts = {s.value: 0 for s in OutboxState}
    counts.update({str(s): int(n) for s, n in rows})
    return counts


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
