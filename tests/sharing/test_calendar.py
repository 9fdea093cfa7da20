"""Working days: weekends, holidays and adjusted working days; deadlines per jurisdiction."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.sharing import calendar_service as calendar
from shuzhi.sharing.calendar import NATIONAL, WorkCalendar, end_of_day, local_day
from shuzhi.sharing.models import DayKind
from shuzhi.sharing.schemas import CalendarDayIn, PolicyIn
from tests.conftest import acting
from tests.factories import seed_org

days = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))
exceptions = st.lists(
    st.tuples(days, st.sampled_from([DayKind.HOLIDAY, DayKind.WORKDAY])), max_size=40
)


@settings(deadline=None)  # a loaded machine is slow, not wrong
@given(exceptions, days, st.integers(1, 40))
def test_the_nth_working_day_is_a_working_day_n_working_days_later(
    rows: list[tuple[date, str]], start: date, n: int
) -> None:
    cal = WorkCalendar.from_days(rows)
    due = cal.add_working_days(start, n)
    assert due > start and cal.is_working(due)
    assert cal.working_days(start + timedelta(days=1), due) == n
    assert cal.add_working_days(start, n + 1) > due


@given(days, days)
def test_counting_splits(a: date, b: date) -> None:
    cal = WorkCalendar()
    first, last = min(a, b), max(a, b)
    mid = first + (last - first) / 2
    assert cal.working_days(first, last) == cal.working_days(first, mid) + cal.working_days(
        mid + timedelta(days=1), last
    )


def test_china_standard_time() -> None:
    assert local_day(datetime(2026, 9, 30, 16, 30, tzinfo=UTC)) == date(2026, 10, 1)
    assert end_of_day(date(2026, 10, 1)) == datetime(2026, 10, 1, 16, 0, tzinfo=UTC)


def test_seeded_national_calendar(database: Database) -> None:
    seed_org(database)
    with acting(database, SYSTEM) as ctx:
        cal = calendar.work_calendar(ctx, NATIONAL)
        year = calendar.get_calendar(ctx, NATIONAL, 2026)
    assert not cal.is_working(date(2026, 2, 17))  # 春节
    assert cal.is_working(date(2026, 2, 28))  # Saturday worked (调休)
    assert not cal.is_working(date(2026, 10, 5))
    assert cal.is_working(date(2026, 10, 10))
    # 2027 is not seeded (its arrangement is not entered): New Year's Day is not assumed
    assert cal.is_working(date(2027, 1, 1)) and not calendar.seeded_years(ctx, NATIONAL) & {2027}
    # 10 working days from the eve of the National Day holiday skip the whole week
    assert cal.add_working_days(date(2026, 9, 30), 10) == date(2026, 10, 20)
    assert year.seeded and year.working_days == 248  # 261 weekdays - 19 holidays + 6 调休


def test_a_region_overrides_the_national_calendar_and_policy(database: Database) -> None:
    seed_org(database)
    with acting(database, SYSTEM) as ctx:
        assert calendar.jurisdiction_of(ctx, _unit(ctx, "A")) == "R"
        calendar.set_calendar_day(
            ctx, "R", CalendarDayIn(day=date(2026, 10, 10), kind=DayKind.HOLIDAY, name="地方调整")
        )
        calendar.set_sharing_policy(
            ctx, "R", PolicyIn(decision_working_days=5, rate_limit_per_minute=100)
        )
    with acting(database, SYSTEM) as ctx:
        local = calendar.work_calendar(ctx, "R")
        national = calendar.work_calendar(ctx, NATIONAL)
        assert not local.is_working(date(2026, 10, 10)) and national.is_working(date(2026, 10, 10))
        assert calendar.policy_for(ctx, "R").decision_working_days == 5
        assert calendar.policy_for(ctx, "X").decision_working_days == 10
        calendar.remove_calendar_day(ctx, "R", date(2026, 10, 10))
    with acting(database, SYSTEM) as ctx:
        assert calendar.work_calendar(ctx, "R").is_working(date(2026, 10, 10))


def _unit(ctx, code: str) -> int:  # type: ignore[no-untyped-def]
    from shuzhi.org import service as org

    unit_id = org.unit_id_for_code(ctx, code)
    assert unit_id is not None
    return unit_id


def test_2027_holds_no_partial_arrangement_and_is_not_seeded(database: Database) -> None:
    with acting(database, SYSTEM) as ctx:
        y2026 = calendar.get_calendar(ctx, "national", 2026)
        y2027 = calendar.get_calendar(ctx, "national", 2027)
    # a lone New Year's Day made 2027 look seeded while Spring Festival was missing
    assert y2027.days == [] and not y2027.seeded
    assert y2027.statutory_holidays == 13
    assert y2026.seeded and y2026.seeded_by == "national" and y2026.holidays >= 13
