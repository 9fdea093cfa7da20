"""Calendar dates as they appear in exports: ISO, slashes, dots, compact and 年月日 forms."""

from __future__ import annotations

import re
from datetime import date

from shuzhi.standards.text import normalize

_SEPARATED = re.compile(
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*(?:[-/.月]\s*(?P<d>\d{1,2})\s*日?|月)?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_COMPACT = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")
_TIME = re.compile(r"[ T]\d{1,2}:\d{2}")


def parse_date(value: str) -> date | None:
    """The date written in ``value``; a year-month value (出生年月) gives the 1st of the month."""
    text = normalize(value)
    m = _SEPARATED.match(text) or _COMPACT.match(text)
    if m is None:
        return None
    day = m.group("d")
    try:
        return date(int(m.group("y")), int(m.group("m")), int(day) if day else 1)
    except ValueError:
        return None


_YEAR_MONTH = re.compile(r"^(?P<y>\d{4})\s*(?:[-/.年]\s*(?P<m>\d{1,2})\s*月?|(?P<mm>\d{2}))$")


def parse_year_month(value: str) -> tuple[int, int] | None:
    """(year, month) of a value that gives only those (出生年月: 1985-03, 1985年3月, 198503)."""
    m = _YEAR_MONTH.match(normalize(value))
    if m is None:
        return None
    month = int(m.group("m") or m.group("mm"))
    return (int(m.group("y")), month) if 1 <= month <= 12 else None


def has_time(value: str) -> bool:
    """True when a time of day follows the date (a timestamp rather than a date)."""
    return _TIME.search(value) is not None and not value.rstrip().endswith(("00:00:00", "00:00"))


def is_birth_date(value: str, today: date | None = None) -> bool:
    """A date in the plausible range of living or recorded persons (1890 to today)."""
    born = parse_date(value)
    return born is not None and born.year >= 1890 and born <= (today or date.today())
