"""Sharing: figures for the cockpit."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, case, func, or_, select

from shuzhi.auth.permissions import scope_unit
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.sharing.calendar import local_day
from shuzhi.sharing.models import (
    Grant,
    GrantStatus,
    ShareRequest,
)
from shuzhi.sharing.service.common import S


def request_figures(ctx: Ctx, today: date | None = None) -> list[tuple[int, int, str, bool, int]]:
    """For the cockpit: (consumer unit, provider unit, status, decision overdue, count) of
    the requests the actor may see; overdue = escalated, or waiting past its due date.
    Read-only: unlike the queues, it does not apply deadlines first."""
    scope = scope_unit(ctx, "view_share_requests")
    day = today or local_day(utcnow())
    late = or_(
        ShareRequest.status == S.ESCALATED,
        and_(ShareRequest.status == S.PENDING, ShareRequest.due_on < day),
    )
    overdue = case((late, True), else_=False)
    query = select(
        ShareRequest.consumer_unit_id,
        ShareRequest.provider_unit_id,
        ShareRequest.status,
        overdue,
        func.count(),
    ).group_by(
        ShareRequest.consumer_unit_id, ShareRequest.provider_unit_id, ShareRequest.status, overdue
    )
    if scope is not None:
        query = query.where(
            or_(ShareRequest.consumer_unit_id == scope, ShareRequest.provider_unit_id == scope)
        )
    return [(int(c), int(p), str(s), bool(o), int(n)) for c, p, s, o, n in ctx.db.execute(query)]


def active_grant_figures(ctx: Ctx, now: datetime | None = None) -> list[tuple[int, int, int]]:
    """For the cockpit: (consumer unit, provider unit, count) of grants in force now."""
    scope = scope_unit(ctx, "view_grants")
    query = (
        select(Grant.consumer_unit_id, Grant.provider_unit_id, func.count())
        .where(Grant.status == GrantStatus.ACTIVE, Grant.expires_at > (now or utcnow()))
        .group_by(Grant.consumer_unit_id, Grant.provider_unit_id)
    )
    if scope is not None:
        query = query.where(or_(Grant.consumer_unit_id == scope, Grant.provider_unit_id == scope))
    return [(int(c), int(p), int(n)) for c, p, n in ctx.db.execute(query)]
