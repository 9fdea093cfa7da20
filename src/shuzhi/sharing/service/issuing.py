"""Sharing: issuing the grant an approval decides (columns, masking, key column, start)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shuzhi import hooks
from shuzhi.audit.service import record
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.db.cas import compare_and_set
from shuzhi.errors import Conflict
from shuzhi.security.categories import Category
from shuzhi.security.masking import MaskLevel, strictest
from shuzhi.sharing import filters
from shuzhi.sharing.access import active_key, bump_revision
from shuzhi.sharing.events import (
    GrantIssued,
    GrantSuperseded,
)
from shuzhi.sharing.models import (
    Grant,
    GrantedMask,
    GrantStatus,
    RequestKind,
    ShareRequest,
)
from shuzhi.sharing.service.common import KEY_CATEGORIES, _app_names
from shuzhi.sharing.terms import (
    Columns,
    Terms,
    default_level,
)


def _grant_masking(cols: Columns, terms: Terms) -> dict[str, GrantedMask]:
    """Each granted column's category and masking level (the default, or stricter)."""
    masking: dict[str, GrantedMask] = {}
    for k in terms.columns:
        category = cols.categories.get(k, Category.NONE.value)
        level = strictest(default_level(category), terms.masking.get(k, MaskLevel.NONE))
        masking[cols.names[k]] = {"category": category, "level": level.value}
    return masking


def _key_column(cols: Columns, terms: Terms) -> str | None:
    """The granted column keyed lookups use: the best identifier category granted."""
    return next(
        (
            cols.names[k]
            for cat in KEY_CATEGORIES
            for k in terms.columns
            if cols.categories.get(k) == cat.value
        ),
        None,
    )


def _grant_start(ctx: Ctx, req: ShareRequest, now: datetime) -> datetime:
    """Now, or for a renewal the end of the grant it renews (which must still be active)."""
    if req.kind != RequestKind.RENEWAL:
        return now
    renewed = ctx.db.get(Grant, req.renews_grant_id or 0)
    if renewed is None or renewed.status != GrantStatus.ACTIVE:
        raise Conflict(
            "被续期的授权已被撤销或替换，不能续期。",
            "The grant being renewed was revoked or replaced; it cannot be renewed.",
        )
    return max(renewed.expires_at, now)


def _issue_grant(ctx: Ctx, req: ShareRequest, cols: Columns, terms: Terms) -> Grant:
    """Create the grant of an approved request, replacing the application's previous one."""
    now = utcnow()
    key = active_key(req.application_id, req.resource_code)
    previous = ctx.db.scalar(select(Grant).where(Grant.active_key == key))
    start = _grant_start(ctx, req, now)
    if previous is not None and not compare_and_set(
        ctx.db,
        previous,
        Grant.status == GrantStatus.ACTIVE,
        status=GrantStatus.SUPERSEDED,
        active_key=None,
        updated_at=now,
    ):
        raise Conflict("授权状态已变化，请刷新后重试。", "The grant changed; reload and retry.")
    masking = _grant_masking(cols, terms)
    grant = Grant(
        request_id=req.id,
        application_id=req.application_id,
        consumer_unit_id=req.consumer_unit_id,
        provider_unit_id=req.provider_unit_id,
        resource_code=req.resource_code,
        entry_id=req.entry_id,
        entry_name=req.entry_name,
        columns=[cols.names[k] for k in terms.columns],
        row_filter=filters.encode(terms.row_filter),
        masking=masking,
        key_column=_key_column(cols, terms),
        delivery=[d.value for d in terms.delivery],
        purpose=req.purpose,
        starts_at=now,
        expires_at=start + timedelta(days=terms.duration_days),
        rate_limit_per_minute=terms.rate_limit,
        status=GrantStatus.ACTIVE,
        active_key=key,
        replaces_grant_id=previous.id if previous else None,
    )
    ctx.db.add(grant)
    try:
        ctx.db.flush()
    except IntegrityError:
        raise Conflict(
            "该应用对此目录的授权正被同时处理，请刷新后重试。",
            "Another decision for this application and entry was made at the same time;"
            " reload and retry.",
        ) from None
    bump_revision(ctx.db)
    if previous is not None:
        record(
            ctx, GrantSuperseded(grant_id=previous.id, unit=req.provider_unit_id, by_grant=grant.id)
        )
    record(
        ctx,
        GrantIssued(
            grant_id=grant.id,
            unit=req.provider_unit_id,
            request_id=req.id,
            resource_code=req.resource_code,
            application=_app_names(ctx, req.application_id)[0],
            consumer_unit=req.consumer_unit_id,
            columns=list(grant.columns),
            masking={c: m["level"] for c, m in masking.items()},
            row_filter=[filters.describe(f) for f in terms.row_filter],
            delivery=list(grant.delivery),
            expires_at=grant.expires_at.isoformat(),
            replaces_grant=previous.id if previous else None,
        ),
    )
    hooks.publish(
        ctx,
        hooks.GrantIssued(grant.id, req.resource_code, req.provider_unit_id, req.consumer_unit_id),
    )
    return grant
