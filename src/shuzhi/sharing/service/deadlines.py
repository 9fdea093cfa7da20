"""Sharing: decision deadlines — the provider's one extension (check period), and provisional
deadlines counted again once the calendar year they fell in is declared complete."""

from __future__ import annotations

from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import Conflict, Invalid
from shuzhi.sharing.calendar import NATIONAL, local_day, statutory_holiday_days
from shuzhi.sharing.calendar_service import (
    count_deadline,
    forget_calendars,
    get_calendar,
    known_jurisdiction,
)
from shuzhi.sharing.events import CalendarYearMarked, DeadlineExtended, DeadlineRecounted
from shuzhi.sharing.models import CalendarYear, ShareRequest
from shuzhi.sharing.schemas import CalendarOut, ExtensionIn, RequestOut
from shuzhi.sharing.service.common import (
    STAFF_ROLES,
    S,
    _request,
    _request_out,
)
from shuzhi.sharing.service.notices import _link, _log, _notify
from shuzhi.sharing.service.transitions import _as_platform, _transition
from shuzhi.validation import required_reason


def extend_share_request(ctx: Ctx, request_id: int, data: ExtensionIn) -> RequestOut:
    """The provider extends a pending request's deadline once, by the configured number of
    working days (``SHUZHI_SHARING_EXTENSION_DAYS``), giving the reason."""
    req = _request(ctx, request_id)
    require(ctx, "extend_share_request", req.provider_unit_id, target=f"share_request:{request_id}")
    reason = required_reason(data.reason, "延长审批期限", "Extending the deadline")
    days = ctx.settings.sharing_extension_days
    if days < 1:
        raise Conflict(
            "本平台未开放延长审批期限（SHUZHI_SHARING_EXTENSION_DAYS 为 0）。",
            "Deadline extensions are switched off (SHUZHI_SHARING_EXTENSION_DAYS is 0).",
        )
    if req.original_due_on is not None:
        raise Conflict(
            f"该申请的审批期限已延长过一次（原期限 {req.original_due_on}），不能再次延长。",
            f"The deadline was already extended once (from {req.original_due_on}).",
        )
    if req.due_on is None or req.status != S.PENDING or local_day(utcnow()) > req.due_on:
        raise Conflict(
            "只有尚未超期的待审批申请才能延长审批期限。",
            "Only a pending request whose deadline has not passed can be extended.",
        )
    original = req.due_on
    deadline = count_deadline(ctx, req.jurisdiction, original, days)
    due = deadline.due_on
    _transition(
        ctx,
        req,
        (S.PENDING,),
        S.PENDING,
        due_on=due,
        original_due_on=original,
        extension_days=days,
        extension_reason=reason,
        extended_by=ctx.actor.label,
        extended_at=utcnow(),
        due_provisional=req.due_provisional or deadline.provisional,
    )
    _log(ctx, req, "deadline_extended", f"{original} → {due}：{reason}")
    record(
        ctx,
        DeadlineExtended(
            request_id=req.id,
            unit=req.provider_unit_id,
            original_due_on=original.isoformat(),
            due_on=due.isoformat(),
            working_days=days,
            reason=reason,
        ),
    )
    _notify(
        ctx,
        "deadline_extended",
        req.consumer_unit_id,
        STAFF_ROLES,
        f"共享申请 #{req.id}（{req.entry_name}）的审批期限由 {original} 延长至 {due}：{reason}",
        f"The deadline of share request #{req.id} ({req.resource_code}) was extended from"
        f" {original} to {due}: {reason}",
        _link(req),
        request_id=req.id,
    )
    return _request_out(ctx, req, with_history=True)


def set_calendar_year(ctx: Ctx, jurisdiction: str, year: int, complete: bool) -> CalendarOut:
    """Declare a year of a calendar complete (all holidays and adjusted working days entered)
    or take the declaration back. Declaring it counts provisional deadlines again."""
    require(ctx, "manage_sharing_calendar", target=jurisdiction)
    jurisdiction = known_jurisdiction(ctx, jurisdiction)
    if not 2000 <= year <= 2100:
        raise Invalid.field("year", "年份应在 2000–2100 之间。", "Year must be 2000–2100.")
    before = get_calendar(ctx, jurisdiction, year)
    row = ctx.db.get(CalendarYear, (jurisdiction, year))
    if complete:
        least = statutory_holiday_days(year)
        if before.holidays < least:
            raise Invalid.field(
                "year",
                f"{year} 年只录入了 {before.holidays} 天节假日，少于法定的 {least} 天："
                "请先录入全部法定节假日和调休上班日，再确认完整。",
                f"{year} holds only {before.holidays} holiday days, fewer than the {least}"
                " statutory ones: enter every public holiday and adjusted working day first.",
            )
        if row is None:
            ctx.db.add(
                CalendarYear(jurisdiction=jurisdiction, year=year, marked_by=ctx.actor.label)
            )
    elif row is not None:
        ctx.db.delete(row)
    ctx.db.flush()
    forget_calendars(ctx)
    record(
        ctx,
        CalendarYearMarked(
            jurisdiction=jurisdiction, year=year, complete=complete, holidays=before.holidays
        ),
    )
    if complete:
        with _as_platform(ctx):
            _recount(ctx, jurisdiction, year)
    return get_calendar(ctx, jurisdiction, year)


def _recount(ctx: Ctx, jurisdiction: str, year: int) -> None:
    """Count again the provisional deadlines of pending requests that the year touches."""
    query = select(ShareRequest).where(
        ShareRequest.status == S.PENDING, ShareRequest.due_provisional.is_(True)
    )
    if jurisdiction != NATIONAL:
        query = query.where(ShareRequest.jurisdiction == jurisdiction)
    for req in ctx.db.scalars(query.order_by(ShareRequest.id)).all():
        assert req.due_on is not None and req.decision_days is not None
        start = local_day(req.requested_at)
        if not start.year <= year <= req.due_on.year:
            continue
        previous = req.due_on
        deadline = count_deadline(ctx, req.jurisdiction, start, req.decision_days)
        due, provisional = deadline.due_on, deadline.provisional
        if req.extension_days:
            req.original_due_on = due
            extended = count_deadline(ctx, req.jurisdiction, due, req.extension_days)
            due, provisional = extended.due_on, provisional or extended.provisional
        req.due_on, req.due_provisional = due, provisional
        ctx.db.flush()
        _log(ctx, req, "deadline_recounted", f"{previous} → {due}")
        record(
            ctx,
            DeadlineRecounted(
                request_id=req.id,
                unit=req.provider_unit_id,
                previous_due_on=previous.isoformat(),
                due_on=due.isoformat(),
                still_provisional=provisional,
            ),
        )
