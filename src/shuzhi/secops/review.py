"""Periodic grant review (授权定期复核): every active grant older than the review age
(``SHUZHI_GRANT_REVIEW_DAYS``, or that long after its last confirmed review began) needs its
provider unit to confirm it is still needed; one not confirmed within the grace period
(``SHUZHI_GRANT_REVIEW_GRACE_DAYS``) is suspended by a containment, which the bureau lifts
the ordinary way (``response.lift_containment``).

Grants are read through ``sharing.access`` and suspended through ``response.contain`` (the
same path as a one-click containment): this module never writes sharing's tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require, scope_unit
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.db.cas import compare_and_set
from shuzhi.errors import Conflict, Invalid, NotFound
from shuzhi.secops import review_events as events
from shuzhi.secops.review_models import GrantReview, ReviewStatus
from shuzhi.secops.schemas import ContainmentIn
from shuzhi.secops.service.response import contain
from shuzhi.sharing import access
from shuzhi.validation import required_reason

STATUSES = tuple(s.value for s in ReviewStatus)


class GrantReviewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    grant_id: int
    provider_unit_id: int
    consumer_unit_id: int
    application_id: int
    resource_code: str
    entry_name: str
    purpose: str
    grant_started_at: datetime
    status: str
    requested_at: datetime
    due_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    note: str
    containment_id: int | None


class ConfirmIn(BaseModel):
    note: str = ""


@dataclass(frozen=True)
class SweepResult:
    requested: int = 0
    lapsed: int = 0
    ended: int = 0


def _out(r: GrantReview) -> GrantReviewOut:
    out = GrantReviewOut.model_validate(r)
    out.status = r.status.value
    return out


def _in_force(ctx: Ctx, grant_id: int) -> bool:
    try:
        grant = access.grant_row(ctx.db, grant_id)
    except NotFound:
        return False
    return grant.status == "active" and grant.suspended_at is None  # GrantStatus.ACTIVE


def sweep_grant_reviews(ctx: Ctx, now: datetime | None = None) -> SweepResult:
    """One pass of the review (the evaluator runs it; so may the security officer): end the
    reviews of grants that ended, suspend the grants whose review lapsed, and open reviews
    for grants that reached the review age."""
    require(ctx, "evaluate_secops")
    days = ctx.settings.grant_review_days
    if days <= 0:
        return SweepResult()
    now = now or utcnow()
    ended = lapsed = requested = 0
    pending = list(
        ctx.db.scalars(
            select(GrantReview)
            .where(GrantReview.status == ReviewStatus.PENDING)
            .order_by(GrantReview.id)
        )
    )
    for r in pending:
        if not _in_force(ctx, r.grant_id):
            if compare_and_set(
                ctx.db,
                r,
                GrantReview.status == ReviewStatus.PENDING,
                status=ReviewStatus.ENDED,
                open_key=None,
                decided_at=now,
            ):
                ended += 1
                record(ctx, _event(events.GrantReviewEnded, r))
        elif r.due_at <= now:
            held = contain(
                ctx,
                ContainmentIn(
                    kind="grant",
                    id=r.grant_id,
                    reason=(
                        f"授权定期复核逾期未确认（复核 {r.id}） / the periodic grant review"
                        f" {r.id} was not confirmed in time"
                    ),
                ),
            )
            if compare_and_set(
                ctx.db,
                r,
                GrantReview.status == ReviewStatus.PENDING,
                status=ReviewStatus.SUSPENDED,
                open_key=None,
                decided_at=now,
                containment_id=held.id,
            ):
                lapsed += 1
                record(ctx, _event(events.GrantReviewLapsed, r, containment_id=held.id))
    cutoff = now - timedelta(days=days)
    open_grants = set(
        ctx.db.scalars(
            select(GrantReview.grant_id).where(GrantReview.status == ReviewStatus.PENDING)
        )
    )
    recently = set(
        ctx.db.scalars(
            select(GrantReview.grant_id).where(
                # the cadence runs from each review's start, however fast it was confirmed
                GrantReview.status == ReviewStatus.CONFIRMED,
                GrantReview.requested_at > cutoff,
            )
        )
    )
    grace = timedelta(days=ctx.settings.grant_review_grace_days)
    for grant in access.grants_in_force_since(ctx.db, cutoff):
        if grant.id in open_grants or grant.id in recently:
            continue
        r = GrantReview(
            grant_id=grant.id,
            provider_unit_id=grant.provider_unit_id,
            consumer_unit_id=grant.consumer_unit_id,
            application_id=grant.application_id,
            resource_code=grant.resource_code,
            entry_name=grant.entry_name,
            purpose=grant.purpose,
            grant_started_at=grant.starts_at,
            status=ReviewStatus.PENDING,
            open_key=f"grant:{grant.id}",
            requested_at=now,
            due_at=now + grace,
            note="",
        )
        ctx.db.add(r)
        ctx.db.flush()
        requested += 1
        record(ctx, _event(events.GrantReviewRequested, r, due=r.due_at.isoformat()))
    return SweepResult(requested, lapsed, ended)


def _event(kind: type[events._ReviewEvent], r: GrantReview, **extra: object) -> events._ReviewEvent:
    return kind(review_id=r.id, unit=r.provider_unit_id, grant_id=r.grant_id, **extra)


def list_grant_reviews(ctx: Ctx, status: str | None = "pending") -> list[GrantReviewOut]:
    """The review queue (pending by default), oldest due first; a unit's staff see their
    unit's grants as provider."""
    unit = scope_unit(ctx, "view_grant_reviews")
    if status is not None and status not in STATUSES:
        raise Invalid.field(
            "status",
            f"状态只能是 {'、'.join(STATUSES)} 之一。",
            f"The status is one of {', '.join(STATUSES)}.",
        )
    query = select(GrantReview).order_by(GrantReview.due_at, GrantReview.id).limit(500)
    if status is not None:
        query = query.where(GrantReview.status == status)
    if unit is not None:
        query = query.where(GrantReview.provider_unit_id == unit)
    return [_out(r) for r in ctx.db.scalars(query)]


def get_grant_review(ctx: Ctx, review_id: int) -> GrantReviewOut:
    r = ctx.db.get(GrantReview, review_id)
    if r is None:
        raise NotFound("授权复核不存在。", "No such grant review.")
    require(ctx, "view_grant_reviews", r.provider_unit_id, target=str(review_id))
    return _out(r)


def confirm_grant_review(ctx: Ctx, review_id: int, data: ConfirmIn) -> GrantReviewOut:
    """The provider unit confirms the grant is still needed (with why): the grant is not
    reviewed again for the review age."""
    r = ctx.db.get(GrantReview, review_id)
    if r is None:
        raise NotFound("授权复核不存在。", "No such grant review.")
    require(ctx, "confirm_grant_review", r.provider_unit_id, target=str(review_id))
    note = required_reason(data.note, "复核确认", "A confirmation", field="note")
    if not _in_force(ctx, r.grant_id) and r.status is ReviewStatus.PENDING:
        raise Conflict(
            "该授权已终止或被暂停，无需确认。",
            "The grant is no longer in force; there is nothing to confirm.",
        )
    if not compare_and_set(
        ctx.db,
        r,
        GrantReview.status == ReviewStatus.PENDING,
        status=ReviewStatus.CONFIRMED,
        open_key=None,
        decided_by=ctx.actor.label,
        decided_at=utcnow(),
        note=note,
    ):
        raise Conflict(
            "该复核已处理（已确认、已逾期暂停或已结束）。",
            "The review was settled already (confirmed, lapsed or ended).",
        )
    record(ctx, _event(events.GrantReviewConfirmed, r, note=note))
    return _out(r)
