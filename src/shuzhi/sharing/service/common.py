"""Sharing service: shared helpers for requests and grants (reading, outputs)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from shuzhi.auth.permissions import RULES, allowed, require
from shuzhi.context import Ctx, Role
from shuzhi.db.base import row_fields, utcnow
from shuzhi.errors import NotFound
from shuzhi.org import service as org
from shuzhi.security.categories import Category
from shuzhi.security.masking import MaskLevel
from shuzhi.sharing import filters
from shuzhi.sharing.calendar import local_day
from shuzhi.sharing.calendar_service import work_calendar
from shuzhi.sharing.models import (
    Application,
    Grant,
    GrantStatus,
    RequestEvent,
    RequestStatus,
    ShareRequest,
)
from shuzhi.sharing.schemas import (
    ColumnMaskOut,
    ConditionOut,
    GrantOut,
    RequestEventOut,
    RequestOut,
)

S = RequestStatus


WAITING = (S.PENDING, S.ESCALATED)


STAFF_ROLES = (Role.UNIT_CDO, Role.DATA_LIAISON)


EXEC_ROLES = (Role.CDO_EXECUTIVE, Role.CDO)


# Identifier categories usable for keyed lookups, best first.
KEY_CATEGORIES = (Category.RESIDENT_ID, Category.USCC, Category.ORG_CODE)


def _unit_name(ctx: Ctx, unit_id: int) -> tuple[str, str]:
    cache: dict[int, tuple[str, str]] = ctx.db.info.setdefault("sharing.units", {})
    if unit_id not in cache:
        brief = org.unit_brief(ctx, unit_id)
        cache[unit_id] = (brief.code, brief.name) if brief else ("", "")
    return cache[unit_id]


def _app_names(ctx: Ctx, app_id: int) -> tuple[str, str]:
    cache: dict[int, tuple[str, str]] = ctx.db.info.setdefault("sharing.apps", {})
    if app_id not in cache:
        app = ctx.db.get(Application, app_id)
        cache[app_id] = (app.code, app.name) if app else ("", "")
    return cache[app_id]


def _conditions(data: list[dict[str, Any]]) -> list[ConditionOut]:
    out = []
    for f, raw in zip(filters.decode(data), data, strict=True):
        out.append(
            ConditionOut(column=f.column, op=f.op, value=raw.get("value"), text=filters.describe(f))
        )
    return out


def _request_out(
    ctx: Ctx, req: ShareRequest, with_history: bool = False, now: datetime | None = None
) -> RequestOut:
    consumer, provider = (
        _unit_name(ctx, req.consumer_unit_id),
        _unit_name(ctx, req.provider_unit_id),
    )
    app_code, app_name = _app_names(ctx, req.application_id)
    today = local_day(now or utcnow())
    left: int | None = None
    overdue = False
    if req.status in WAITING and req.due_on is not None:
        overdue = req.status == S.ESCALATED or today > req.due_on
        calendar = work_calendar(ctx, req.jurisdiction)
        left = 0 if overdue else calendar.working_days(today + timedelta(days=1), req.due_on)
    history = []
    if with_history:
        history = [
            RequestEventOut(action=e.action, actor=e.actor, note=e.note, at=e.at)
            for e in ctx.db.scalars(
                select(RequestEvent)
                .where(RequestEvent.request_id == req.id)
                .order_by(RequestEvent.id)
            )
        ]
    return RequestOut.model_validate(
        {
            **row_fields(req, RequestOut),
            "consumer_unit_code": consumer[0],
            "consumer_unit_name": consumer[1],
            "provider_unit_code": provider[0],
            "provider_unit_name": provider[1],
            "application_code": app_code,
            "application_name": app_name,
            "row_filter": _conditions(req.row_filter),
            "working_days_left": left,
            "overdue": overdue,
            "history": history,
        }
    )


def grant_status(grant: Grant, now: datetime) -> str:
    if grant.status == GrantStatus.ACTIVE and grant.expires_at <= now:
        return "expired"
    return grant.status


def _grant_out(ctx: Ctx, grant: Grant) -> GrantOut:
    consumer = _unit_name(ctx, grant.consumer_unit_id)
    provider = _unit_name(ctx, grant.provider_unit_id)
    app_code, app_name = _app_names(ctx, grant.application_id)
    return GrantOut.model_validate(
        {
            **row_fields(grant, GrantOut),
            "application_code": app_code,
            "application_name": app_name,
            "consumer_unit_code": consumer[0],
            "consumer_unit_name": consumer[1],
            "provider_unit_code": provider[0],
            "provider_unit_name": provider[1],
            "row_filter": _conditions(grant.row_filter),
            "masking": [
                ColumnMaskOut(column=c, category=m["category"], level=MaskLevel(m["level"]))
                for c, m in grant.masking.items()
            ],
            "status": grant_status(grant, utcnow()),
        }
    )


MAX_ID = 2**31 - 1  # ids beyond a 32-bit integer exist on no backend: not found, not an error


def _request(ctx: Ctx, request_id: int) -> ShareRequest:
    req = ctx.db.get(ShareRequest, request_id) if 0 < request_id <= MAX_ID else None
    if req is None:
        raise NotFound("共享申请不存在。", "No such share request.")
    return req


def _grant(ctx: Ctx, grant_id: int) -> Grant:
    grant = ctx.db.get(Grant, grant_id) if 0 < grant_id <= MAX_ID else None
    if grant is None:
        raise NotFound("授权不存在。", "No such grant.")
    return grant


def _require_either(ctx: Ctx, operation: str, consumer: int, provider: int, target: str) -> None:
    """Staff of either party (and region roles) may read a request or grant."""
    if not allowed(ctx, operation, provider):
        require(ctx, operation, consumer, target=target)


def _is_region_actor(ctx: Ctx, operation: str) -> bool:
    role = ctx.actor.role
    return ctx.actor.kind == "system" or (role is not None and role in RULES[operation].region)
