"""Minors in a dataset, from the values of its birth-date and resident-ID columns.

PIPL Art. 28 makes all personal information of a minor under 14 sensitive personal
information, whatever the kind. A register of children (names, birth dates, guardians) has no
column that is sensitive by itself, so the dataset's grade must come from the people it is
about: the ages at grading time of the birth dates a column holds (or that its resident IDs
carry). A dataset is about minors when a large share of those dates make a person under 14;
one child in an adult register is not enough to call the whole dataset a children's register.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from shuzhi.security.categories import Category
from shuzhi.standards.dates import has_time, parse_date
from shuzhi.standards.resident_id import parse_resident_id
from shuzhi.standards.text import normalize

MINOR_AGE = 14  # PIPL Art. 28 (不满十四周岁未成年人)
MIN_SHARE = 0.3  # share of dated values under 14 that makes a dataset a minors' dataset
MIN_COUNT = 3  # and at least this many minors


@dataclass(frozen=True)
class MinorsFinding:
    column: str
    minors: int  # values whose birth date makes the person under 14 on ``today``
    dated: int  # values with a birth date at all
    today: date

    @property
    def share(self) -> float:
        return self.minors / self.dated if self.dated else 0.0

    def reason(self) -> str:
        return (
            f"minors under {MINOR_AGE} (PIPL Art. 28): {round(100 * self.share)}% of"
            f" {self.dated} birth dates in column {self.column!r} on {self.today.isoformat()}"
        )


def _birth(value: str, category: Category) -> date | None:
    if category is Category.RESIDENT_ID:
        parsed = parse_resident_id(value)
        return parsed.birth_date if parsed is not None else None
    text = normalize(value)
    return None if has_time(text) else parse_date(text)


def _is_minor(born: date, today: date) -> bool:
    """Under 14 on ``today``: the 14th birthday has not come yet."""
    try:
        birthday = born.replace(year=born.year + MINOR_AGE)
    except ValueError:  # born on 29 February: the birthday falls on 1 March
        birthday = date(born.year + MINOR_AGE, 3, 1)
    return born <= today < birthday


def find_minors(
    samples: Mapping[str, Sequence[str | None]],
    categories: Mapping[str, Category],
    today: date | None = None,
    *,
    min_share: float = MIN_SHARE,
    min_count: int = MIN_COUNT,
) -> MinorsFinding | None:
    """The birth-date or resident-ID column showing the largest share of minors, if that share
    reaches ``min_share`` with at least ``min_count`` minors (a sample: up to 1,000 rows)."""
    today = today or date.today()
    best: MinorsFinding | None = None
    for name, values in samples.items():
        category = categories.get(name)
        if category not in (Category.BIRTH_DATE, Category.RESIDENT_ID):
            continue
        dated = minors = 0
        for value in values:
            born = _birth(value, category) if value else None
            if born is None or born > today:
                continue
            dated += 1
            minors += _is_minor(born, today)
        found = MinorsFinding(name, minors, dated, today)
        enough = minors and minors >= min_count and found.share >= min_share
        if enough and (best is None or found.share > best.share):
            best = found
    return best
