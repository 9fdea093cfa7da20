"""Jurisdictions' sharing rules: the decision deadline, the default rate limit and the
working-day calendar (national days, overlaid by a region's own).

A jurisdiction is ``national`` or the code of a region unit; a unit's jurisdiction is the
region at the top of its tree. Without rows of its own a region follows the national
calendar and the national defaults (10 working days).

A year counts as seeded only once declared complete (``sharing_calendar_year``), nationally
or for the jurisdiction. A deadline counted over a year that is not seeded is provisional:
that year's entered days still count, every other Monday–Friday is a working day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import delete, extract, func, select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.context import Ctx
from shuzhi.db.cas import affected
from shuzhi.errors import Invalid, NotFound
from shuzhi.org import service as org
from shuzhi.org.schemas import UnitKind
from shuzhi.sharing.calendar import (
    DEFAULT_DECISION_DAYS,
    DEFAULT_RATE_LIMIT,
    NATIONAL,
    WorkCalendar,
    statutory_holiday_days,
)
from shuzhi.sharing.events import CalendarDayRemoved, CalendarDaySet, PolicySet
from shuzhi.sharing.models import (
    CalendarDay,
    CalendarYear,
    DayKind,
    Policy,
    RequestStatus,
    ShareRequest,
)
from shuzhi.sharing.schemas import (
    CalendarDayIn,
    CalendarDayOut,
    CalendarOut,
    PolicyIn,
    PolicyOut,
)

_CAL_CACHE = "sharing.calendars"
_JUR_CACHE = "sharing.jurisdictions"
_YEAR_CACHE = "sharing.calendar_years"


def jurisdiction_of(ctx: Ctx, unit_id: int) -> str:
    """The code of the region at the top of the unit's tree (``national`` if there is none)."""
    cache: dict[int, str] = ctx.db.info.setdefault(_JUR_CACHE, {})
    if unit_id in cache:
        return cache[unit_id]
    brief = org.unit_brief(ctx, unit_id)
    found = NATIONAL
    code = brief.code if brief else None
    seen: set[str] = set()
    while code is not None and code not in seen:
        seen.add(code)
        unit = org.get_unit(ctx, code)
        if unit.kind == UnitKind.REGION:
            found = unit.code
        code = unit.parent_code
    cache[unit_id] = found
    return found


def _known(ctx: Ctx, jurisdiction: str) -> str:
    if jurisdiction == NATIONAL:
        return jurisdiction
    unit_id = None if "\x00" in jurisdiction else org.unit_id_for_code(ctx, jurisdiction)
    brief = org.unit_brief(ctx, unit_id) if unit_id is not None else None
    if brief is None or brief.kind != UnitKind.REGION:
        raise NotFound(
            f"管辖区域 {jurisdiction} 不存在（应为 national 或区域单位代码）。",
            f"No jurisdiction {jurisdiction} (use 'national' or a region unit code).",
        )
    return jurisdiction


def known_jurisdiction(ctx: Ctx, jurisdiction: str) -> str:
    """``jurisdiction`` if it is ``national`` or a region's code, else NotFound."""
    return _known(ctx, jurisdiction)


def work_calendar(ctx: Ctx, jurisdiction: str) -> WorkCalendar:
    """National exceptions overlaid by the jurisdiction's own (read once per unit of work)."""
    cache: dict[str, WorkCalendar] = ctx.db.info.setdefault(_CAL_CACHE, {})
    if jurisdiction not in cache:
        rows = ctx.db.execute(
            select(CalendarDay.jurisdiction, CalendarDay.day, CalendarDay.kind).where(
                CalendarDay.jurisdiction.in_({NATIONAL, jurisdiction})
            )
        ).all()
        ordered = sorted(rows, key=lambda r: r[0] != NATIONAL)  # local rows last: they win
        cache[jurisdiction] = WorkCalendar.from_days((r[1], r[2]) for r in ordered)
    return cache[jurisdiction]


def seeded_years(ctx: Ctx, jurisdiction: str) -> frozenset[int]:
    """Years declared complete nationally or for the jurisdiction (read once per unit of work)."""
    cache: dict[str, frozenset[int]] = ctx.db.info.setdefault(_YEAR_CACHE, {})
    if jurisdiction not in cache:
        cache[jurisdiction] = frozenset(
            ctx.db.scalars(
                select(CalendarYear.year).where(
                    CalendarYear.jurisdiction.in_({NATIONAL, jurisdiction})
                )
            )
        )
    return cache[jurisdiction]


def forget_calendars(ctx: Ctx) -> None:
    """Drop this unit of work's cached calendars (after an edit)."""
    ctx.db.info.pop(_CAL_CACHE, None)
    ctx.db.info.pop(_YEAR_CACHE, None)


@dataclass(frozen=True)
class Deadline:
    due_on: date
    unseeded_years: tuple[int, ...]  # years counted over that are not declared complete

    @property
    def provisional(self) -> bool:
        return bool(self.unseeded_years)


def count_deadline(ctx: Ctx, jurisdiction: str, start: date, days: int) -> Deadline:
    """The ``days``-th working day after ``start``, and which counted years are not seeded."""
    due = work_calendar(ctx, jurisdiction).add_working_days(start, days)
    seeded = seeded_years(ctx, jurisdiction)
    first = (start + timedelta(days=1)).year
    return Deadline(due, tuple(y for y in range(first, due.year + 1) if y not in seeded))


def policy_for(ctx: Ctx, jurisdiction: str) -> PolicyOut:
    """The jurisdiction's rules, else the national row, else the national defaults."""
    for code in (jurisdiction, NATIONAL):
        row = ctx.db.get(Policy, code)
        if row is not None:
            return PolicyOut(
                jurisdiction=jurisdiction,
                decision_working_days=row.decision_working_days,
                rate_limit_per_minute=row.rate_limit_per_minute,
                national_default=code != jurisdiction,
            )
    return PolicyOut(
        jurisdiction=jurisdiction,
        decision_working_days=DEFAULT_DECISION_DAYS,
        rate_limit_per_minute=DEFAULT_RATE_LIMIT,
        national_default=True,
    )


def jurisdictions(ctx: Ctx) -> list[str]:
    """``national`` and every region unit's code."""
    require(ctx, "view_sharing_calendar")
    return [NATIONAL] + [u.code for u in org.all_unit_briefs(ctx) if u.kind == UnitKind.REGION]


def get_calendar(ctx: Ctx, jurisdiction: str, year: int) -> CalendarOut:
    """One year of a jurisdiction's calendar exceptions, with its working-day count."""
    require(ctx, "view_sharing_calendar")
    jurisdiction = _known(ctx, jurisdiction)
    if not 2000 <= year <= 2100:
        raise Invalid.field("year", "年份应在 2000–2100 之间。", "Year must be 2000–2100.")
    rows = ctx.db.scalars(
        select(CalendarDay)
        .where(
            CalendarDay.jurisdiction.in_({NATIONAL, jurisdiction}),
            extract("year", CalendarDay.day) == year,
        )
        .order_by(CalendarDay.day, CalendarDay.jurisdiction != NATIONAL)
    )
    days: dict[date, CalendarDayOut] = {}
    for r in rows:  # a local row replaces the national row of the same day
        days[r.day] = CalendarDayOut(
            day=r.day, kind=DayKind(r.kind), name=r.name, jurisdiction=r.jurisdiction
        )
    calendar = work_calendar(ctx, jurisdiction)
    marked = ctx.db.scalar(
        select(CalendarYear.jurisdiction)
        .where(CalendarYear.jurisdiction.in_({NATIONAL, jurisdiction}), CalendarYear.year == year)
        .order_by(CalendarYear.jurisdiction != NATIONAL)
    )
    return CalendarOut(
        jurisdiction=jurisdiction,
        year=year,
        days=list(days.values()),
        working_days=calendar.working_days(date(year, 1, 1), date(year, 12, 31)),
        seeded=marked is not None,
        seeded_by=marked,
        holidays=sum(1 for d in days.values() if d.kind == DayKind.HOLIDAY),
        statutory_holidays=statutory_holiday_days(year),
        provisional_requests=_provisional_requests(ctx, jurisdiction, year),
        policy=policy_for(ctx, jurisdiction),
    )


def _provisional_requests(ctx: Ctx, jurisdiction: str, year: int) -> int:
    """Waiting requests whose provisional deadline falls in ``year`` (any jurisdiction's
    when looking at the national calendar)."""
    query = select(func.count(ShareRequest.id)).where(
        ShareRequest.due_provisional.is_(True),
        ShareRequest.status.in_([RequestStatus.PENDING, RequestStatus.ESCALATED]),
        ShareRequest.due_on >= date(year, 1, 1),
        ShareRequest.due_on <= date(year, 12, 31),
    )
    if jurisdiction != NATIONAL:
        query = query.where(ShareRequest.jurisdiction == jurisdiction)
    return ctx.db.scalar(query) or 0


def set_calendar_day(ctx: Ctx, jurisdiction: str, data: CalendarDayIn) -> CalendarDayOut:
    """Record a holiday or an adjusted working day (replacing that day's entry, if any)."""
    require(ctx, "manage_sharing_calendar", target=jurisdiction)
    jurisdiction = _known(ctx, jurisdiction)
    weekend = data.day.weekday() >= 5
    if data.kind == DayKind.WORKDAY and not weekend:
        raise Invalid.field(
            "kind",
            "调休上班日应是周六或周日。",
            "An adjusted working day must fall on a Saturday or Sunday.",
        )
    row = ctx.db.scalar(
        select(CalendarDay).where(
            CalendarDay.jurisdiction == jurisdiction, CalendarDay.day == data.day
        )
    )
    if row is None:
        row = CalendarDay(jurisdiction=jurisdiction, day=data.day)
        ctx.db.add(row)
    row.kind, row.name, row.updated_by = data.kind, data.name, ctx.actor.label
    ctx.db.flush()
    forget_calendars(ctx)
    record(
        ctx,
        CalendarDaySet(
            jurisdiction=jurisdiction, day=data.day.isoformat(), kind=data.kind, name=data.name
        ),
    )
    return CalendarDayOut(
        day=row.day, kind=DayKind(row.kind), name=row.name, jurisdiction=jurisdiction
    )


def remove_calendar_day(ctx: Ctx, jurisdiction: str, day: date) -> None:
    """Drop an exception: the day is again an ordinary weekday or weekend day."""
    require(ctx, "manage_sharing_calendar", target=jurisdiction)
    jurisdiction = _known(ctx, jurisdiction)
    result = ctx.db.execute(
        delete(CalendarDay).where(CalendarDay.jurisdiction == jurisdiction, CalendarDay.day == day)
    )
    if affected(result) != 1:
        raise NotFound(
            f"{jurisdiction} 的日历中没有 {day} 的记录。",
            f"{jurisdiction}'s calendar has no entry for {day}.",
        )
    forget_calendars(ctx)
    record(ctx, CalendarDayRemoved(jurisdiction=jurisdiction, day=day.isoformat()))


def set_sharing_policy(ctx: Ctx, jurisdiction: str, data: PolicyIn) -> PolicyOut:
    """Set a jurisdiction's decision deadline and default rate limit (new requests only)."""
    require(ctx, "manage_sharing_calendar", target=jurisdiction)
    jurisdiction = _known(ctx, jurisdiction)
    row = ctx.db.get(Policy, jurisdiction)
    if row is None:
        row = Policy(jurisdiction=jurisdiction)
        ctx.db.add(row)
    row.decision_working_days = data.decision_working_days
    row.rate_limit_per_minute = data.rate_limit_per_minute
    row.updated_by = ctx.actor.label
    ctx.db.flush()
    record(
        ctx,
        PolicySet(
            jurisdiction=jurisdiction,
            decision_working_days=data.decision_working_days,
            rate_limit_per_minute=data.rate_limit_per_minute,
        ),
    )
    return policy_for(ctx, jurisdiction)
