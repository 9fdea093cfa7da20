"""Deadlines a bureau can trust: only complete calendar years count as seeded, a deadline
counted over a year that is not is provisional (and said so), and the provider may extend a
deadline once with a reason (check period)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from shuzhi.audit import service as audit
from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden, Invalid
from shuzhi.sharing import calendar_service as calendar
from shuzhi.sharing import service
from shuzhi.sharing.calendar import local_day
from shuzhi.sharing.models import DayKind
from shuzhi.sharing.schemas import CalendarDayIn, ExtensionIn, PolicyIn
from tests.conftest import acting
from tests.factories import Org, seed_org
from tests.sharing.helpers import application, provider_cdo, request, shared_entry

REASON = "需会同法制部门核实共享依据，延期答复"


def _audit(database: Database, action: str) -> list[dict[str, object]]:
    with acting(database, SYSTEM) as ctx:
        page = audit.view_audit(ctx, limit=500)
    return [e.details for e in page.items if e.action == action]


def _unseed_ahead(database: Database) -> None:
    """Make the deadline of any request filed today fall in a year that is not seeded."""
    year = local_day(utcnow()).year
    with acting(database, SYSTEM) as ctx:
        for y in (year, year + 1):
            service.set_calendar_year(ctx, "national", y, False)


def _filed(database: Database, seeded: Org, days: int = 10):  # type: ignore[no-untyped-def]
    with acting(database, SYSTEM) as ctx:
        calendar.set_sharing_policy(
            ctx, "national", PolicyIn(decision_working_days=days, rate_limit_per_minute=600)
        )
    entry = shared_entry(database, "conditional")
    return request(database, seeded.actor(Role.DATA_LIAISON), entry, application(database))


def test_deadline_in_an_unseeded_year_is_provisional_and_the_bureau_is_warned(
    database: Database,
) -> None:
    seeded = seed_org(database)
    _unseed_ahead(database)
    out = _filed(database, seeded)
    assert out.due_on is not None and out.due_provisional
    # the documented fallback: Monday to Friday (no holiday of the year is entered)
    start, day, left = local_day(out.requested_at), local_day(out.requested_at), 10
    with acting(database, SYSTEM) as ctx:
        entered = calendar.work_calendar(ctx, out.jurisdiction)
    while left:
        day += timedelta(days=1)
        if entered.is_working(day):
            left -= 1
    assert out.due_on == day and start < out.due_on
    assert "deadline_provisional" in [h.action for h in out.history]
    submitted = _audit(database, "sharing.request_submitted")[-1]
    assert submitted["unseeded_years"] == sorted(
        {y for y in range(start.year, out.due_on.year + 1)}
        & {local_day(utcnow()).year, local_day(utcnow()).year + 1}
    )
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        notes = [n for n in service.list_notifications(ctx) if n.kind == "deadline_provisional"]
        page = calendar.get_calendar(ctx, "national", out.due_on.year)
        region = calendar.get_calendar(ctx, out.jurisdiction, out.due_on.year)
    assert len(notes) == 1 and f"#{out.id}" in notes[0].message
    assert not page.seeded and page.provisional_requests == 1
    assert region.provisional_requests == 1


def test_declaring_a_year_complete_needs_its_holidays_and_recounts_deadlines(
    database: Database,
) -> None:
    seeded = seed_org(database)
    _unseed_ahead(database)
    out = _filed(database, seeded, days=20)
    assert out.due_on is not None and out.due_provisional
    start = local_day(out.requested_at)
    years = sorted({start.year, out.due_on.year, (start + timedelta(days=1)).year})
    with acting(database, SYSTEM) as ctx:
        holidays = {y: calendar.get_calendar(ctx, "national", y).holidays for y in years}
    target = out.due_on.year
    if holidays[target] >= 13:  # the current year still holds its seeded days: clear them
        with acting(database, SYSTEM) as ctx:
            for d in calendar.get_calendar(ctx, "national", target).days:
                calendar.remove_calendar_day(ctx, "national", d.day)
    # too few holidays entered: refused, with a bilingual reason
    with pytest.raises(Invalid) as refused, acting(database, SYSTEM) as ctx:
        service.set_calendar_year(ctx, "national", target, True)
    message = refused.value.errors[0].message
    assert "13" in message.zh and "13" in message.en
    # enter 13 weekday holidays of the deadline's year, before the deadline where possible
    first = max(date(target, 1, 1), start + timedelta(days=1))
    weekdays = [
        first + timedelta(days=i)
        for i in range(366)
        if (first + timedelta(days=i)).weekday() < 5 and (first + timedelta(days=i)).year == target
    ][:13]
    with acting(database, SYSTEM) as ctx:
        for off in weekdays:
            calendar.set_calendar_day(
                ctx, "national", CalendarDayIn(day=off, kind=DayKind.HOLIDAY, name="测试假日")
            )
    with acting(database, SYSTEM) as ctx:
        for y in years:
            if not calendar.get_calendar(ctx, "national", y).seeded:
                marked = service.set_calendar_year(ctx, "national", y, True)
                assert marked.seeded
    with acting(database, provider_cdo(seeded)) as ctx:
        again = service.get_share_request(ctx, out.id)
    with acting(database, SYSTEM) as ctx:
        expected = calendar.work_calendar(ctx, out.jurisdiction).add_working_days(start, 20)
    assert again.due_on == expected and not again.due_provisional
    assert again.due_on is not None and again.due_on > out.due_on  # the holidays now count
    assert "deadline_recounted" in [h.action for h in again.history]
    assert _audit(database, "sharing.calendar_year_marked")
    assert _audit(database, "sharing.deadline_recounted")[-1]["due_on"] == expected.isoformat()


def test_provider_extends_the_deadline_once_with_a_reason(database: Database) -> None:
    seeded = seed_org(database)
    out = _filed(database, seeded)
    assert out.due_on is not None
    cdo = provider_cdo(seeded)
    # the requester's unit cannot extend; a reason is needed
    with pytest.raises(Forbidden), acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        service.extend_share_request(ctx, out.id, ExtensionIn(reason=REASON))
    with pytest.raises(Invalid) as short, acting(database, cdo) as ctx:
        service.extend_share_request(ctx, out.id, ExtensionIn(reason=" 再等等 "))
    assert short.value.errors[0].field == "reason"
    with acting(database, cdo) as ctx:
        extended = service.extend_share_request(ctx, out.id, ExtensionIn(reason=REASON))
        days = ctx.settings.sharing_extension_days
        expected = calendar.work_calendar(ctx, out.jurisdiction).add_working_days(out.due_on, days)
    assert days == 5
    assert extended.original_due_on == out.due_on and extended.due_on == expected
    assert extended.extension_reason == REASON and extended.extended_by == "user:b.unit_cdo"
    assert extended.status == "pending" and "deadline_extended" in [
        h.action for h in extended.history
    ]
    (event,) = _audit(database, "sharing.deadline_extended")
    assert event["due_on"] == expected.isoformat() and event["reason"] == REASON
    # once only
    with pytest.raises(Conflict), acting(database, cdo) as ctx:
        service.extend_share_request(ctx, out.id, ExtensionIn(reason=REASON))
    # the extended deadline is the one that escalates: the day after the original, not yet
    after_original = utcnow() + timedelta(days=(out.due_on - local_day(utcnow())).days + 1)
    with acting(database, SYSTEM) as ctx:
        assert service.escalate_overdue(ctx, after_original) == []
    # and the requester sees it
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        seen = service.get_share_request(ctx, out.id)
        notes = [n.kind for n in service.list_notifications(ctx)]
    assert seen.due_on == expected and "deadline_extended" in notes


def test_no_extension_when_switched_off_or_overdue(database: Database) -> None:
    seeded = seed_org(database)
    out = _filed(database, seeded)
    assert out.due_on is not None
    cdo = provider_cdo(seeded)
    with pytest.raises(Conflict) as off, acting(database, cdo) as ctx:
        ctx.settings = ctx.settings.with_overrides(sharing_extension_days=0)
        service.extend_share_request(ctx, out.id, ExtensionIn(reason=REASON))
    assert "SHUZHI_SHARING_EXTENSION_DAYS" in off.value.message.en
    with acting(database, SYSTEM) as ctx:
        service.escalate_overdue(ctx, utcnow() + timedelta(days=60))
    with pytest.raises(Conflict), acting(database, cdo) as ctx:
        service.extend_share_request(ctx, out.id, ExtensionIn(reason=REASON))
