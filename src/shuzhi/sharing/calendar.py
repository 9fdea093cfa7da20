"""Working days: Monday to Friday, minus public holidays, plus adjusted working days (调休).

Pure functions over a set of exceptions; the exceptions are data (``sharing_calendar_day``),
seeded with the State Council's arrangements and editable per jurisdiction. Days are counted
in China Standard Time (UTC+8, no daylight saving), whatever the server's zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone

from shuzhi.sharing.models import DayKind

CHINA_TZ = timezone(timedelta(hours=8), "CST")
NATIONAL = "national"
# The national rules when a jurisdiction has set none of its own.
DEFAULT_DECISION_DAYS = 10
DEFAULT_RATE_LIMIT = 600
# Far enough for any deadline; guards the loops against a calendar with no working days.
MAX_SCAN_DAYS = 3660


def statutory_holiday_days(year: int) -> int:
    """Days off a year's public holidays give by statute (全国年节及纪念日放假办法): 13 since
    2025 (New Year 1, Spring Festival 4, Qingming 1, Labour Day 2, Dragon Boat 1, Mid-Autumn 1,
    National Day 3), 11 from 2008, 10 before. A complete year holds at least this many."""
    if year >= 2025:
        return 13
    return 11 if year >= 2008 else 10


def local_day(moment: datetime) -> date:
    """The calendar day in China of an aware timestamp."""
    return moment.astimezone(CHINA_TZ).date()


def end_of_day(day: date) -> datetime:
    """The first instant after ``day`` in China, in UTC (when a deadline on ``day`` passes)."""
    return datetime.combine(day + timedelta(days=1), time(0), CHINA_TZ).astimezone(UTC)


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def from_days(cls, days: Iterable[tuple[date, str]]) -> WorkCalendar:
        """Build from (day, kind) pairs; a later pair for the same day wins (local rows last)."""
        kinds: dict[date, str] = {}
        for day, kind in days:
            kinds[day] = kind
        return cls(
            holidays=frozenset(d for d, k in kinds.items() if k == DayKind.HOLIDAY),
            workdays=frozenset(d for d, k in kinds.items() if k == DayKind.WORKDAY),
        )

    def is_working(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself is not counted)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        day, found = start, 0
        for _ in range(MAX_SCAN_DAYS):
            day += timedelta(days=1)
            if self.is_working(day):
                found += 1
                if found == n:
                    return day
        raise ValueError("the calendar has too few working days")

    def working_days(self, first: date, last: date) -> int:
        """How many working days lie in ``first``..``last`` inclusive (0 if ``last < first``)."""
        if last < first:
            return 0
        span = min((last - first).days + 1, MAX_SCAN_DAYS)
        return sum(1 for i in range(span) if self.is_working(first + timedelta(days=i)))
