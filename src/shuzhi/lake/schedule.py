"""Schedules of stored source definitions: intervals or five-field cron expressions (UTC).

Accepted: ``every 30m`` / ``every 6h`` / ``every 1d``, ``@hourly`` / ``@daily`` / ``@weekly``
/ ``@monthly``, or ``minute hour day-of-month month day-of-week`` with ``*``, lists
(``1,15``), ranges (``1-5``) and steps (``*/10``); day-of-week 0 or 7 is Sunday.
Shuzhi does not run a scheduler itself: cron or a systemd timer calls ``shuzhi ingest --due``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from shuzhi.errors import Invalid

_ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
}
_INTERVAL = re.compile(r"^every\s+(\d{1,5})\s*([mhd])$")
_UNITS = {"m": 60, "h": 3600, "d": 86400}
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
MAX_SEARCH_DAYS = 366 * 5


@dataclass(frozen=True)
class Schedule:
    interval: timedelta | None
    fields: tuple[frozenset[int], ...] = ()

    def next_after(self, moment: datetime) -> datetime | None:
        """The first run strictly after ``moment`` (None when a cron never matches)."""
        if self.interval is not None:
            return moment + self.interval
        minutes, hours, days, months, weekdays = self.fields
        t = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = moment + timedelta(days=MAX_SEARCH_DAYS)
        while t <= limit:
            weekday = (t.weekday() + 1) % 7  # cron: Sunday = 0
            if t.month not in months or t.day not in days or weekday not in weekdays:
                t = (t + timedelta(days=1)).replace(hour=0, minute=0)
                continue
            if t.hour not in hours:
                t = (t + timedelta(hours=1)).replace(minute=0)
                continue
            if t.minute not in minutes:
                t += timedelta(minutes=1)
                continue
            return t
        return None


def _bad(text: str) -> Invalid:
    return Invalid.field(
        "schedule",
        f"无法识别的计划 {text!r}：可写 every 30m、@daily 或五段式 cron（如 0 2 * * *）。",
        f"Unrecognised schedule {text!r}: use 'every 30m', '@daily' or a five-field cron"
        " expression such as '0 2 * * *'.",
    )


def _field(part: str, low: int, high: int, text: str) -> frozenset[int]:
    values: set[int] = set()
    for piece in part.split(","):
        base, _, step_text = piece.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise _bad(text)
        if base == "*":
            start, end = low, high
        elif re.fullmatch(r"\d+-\d+", base):
            start, end = (int(x) for x in base.split("-"))
        elif base.isdigit():
            start = end = int(base)
            if step is not None:
                end = high
        else:
            raise _bad(text)
        if not low <= start <= end <= high:
            raise _bad(text)
        values.update(range(start, end + 1, step or 1))
    return frozenset(values)


def parse_schedule(text: str) -> Schedule:
    """Parse a schedule, raising ``Invalid`` (zh/en) on anything unrecognised."""
    cleaned = " ".join(text.strip().lower().split())
    found = _INTERVAL.match(cleaned)
    if found:
        amount = int(found.group(1))
        if amount == 0:
            raise _bad(text)
        return Schedule(timedelta(seconds=amount * _UNITS[found.group(2)]))
    cleaned = _ALIASES.get(cleaned, cleaned)
    parts = cleaned.split(" ")
    if len(parts) != 5:
        raise _bad(text)
    fields = [_field(p, lo, hi, text) for p, (lo, hi) in zip(parts, _BOUNDS, strict=True)]
    weekdays = frozenset(0 if d == 7 else d for d in fields[4])
    return Schedule(None, (fields[0], fields[1], fields[2], fields[3], weekdays))
