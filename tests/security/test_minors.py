"""Children's personal information (under 14) is sensitive (PIPL Art. 28): found from the
values of birth-date and resident-ID columns, it grades the dataset as sensitive."""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from shuzhi.cli import app
from shuzhi.security.categories import Category
from shuzhi.security.classifier import classify_table
from shuzhi.security.grading import NationalLevel, grade_dataset
from shuzhi.security.minors import MINOR_AGE, find_minors
from shuzhi.standards.identifiers import ric_check_char
from tests.security.synthetic import mobile, person_name

TODAY = dt.date(2026, 12, 5)


def _born(rng: random.Random, lo_age: int, hi_age: int, today: dt.date = TODAY) -> dt.date:
    oldest = today.replace(year=today.year - hi_age - 1) + dt.timedelta(days=1)
    youngest = today.replace(year=today.year - lo_age)
    return oldest + dt.timedelta(days=rng.randrange((youngest - oldest).days + 1))


def _id(born: dt.date, serial: int) -> str:
    first17 = f"330106{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + ric_check_char(first17)


def children(n: int = 60, seed: int = 14) -> dict[str, list[str | None]]:
    """A kindergarten and primary-school register: children 3–12, their guardians."""
    rng = random.Random(seed)
    born = [_born(rng, 3, 12, dt.date.today()) for _ in range(n)]
    return {
        "幼儿姓名": [person_name(rng) for _ in range(n)],
        "出生日期": [b.isoformat() for b in born],
        "监护人姓名": [person_name(rng) for _ in range(n)],
        "监护人电话": [mobile(rng) for _ in range(n)],
    }


def _categories(columns: dict[str, list[str | None]]) -> dict[str, Category]:
    return {c.name: c.category for c in classify_table(columns)}


def test_a_childrens_register_is_sensitive_personal_information() -> None:
    columns = children()
    categories = _categories(columns)
    assert categories["出生日期"] is Category.BIRTH_DATE
    finding = find_minors(columns, categories)
    assert finding is not None and finding.column == "出生日期"
    assert finding.share == 1.0 and finding.minors == 60
    grade = grade_dataset(categories.values(), 60, minors=finding)
    assert grade.level is NationalLevel.GENERAL_4 and grade.sensitive_personal
    assert any("under 14" in r and "出生日期" in r for r in grade.reasons), grade.reasons


def test_resident_ids_of_children_reveal_minors() -> None:
    rng = random.Random(3)
    ids = [_id(_born(rng, 0, 13, TODAY), i) for i in range(40)]
    finding = find_minors({"证件号": list(ids)}, {"证件号": Category.RESIDENT_ID}, TODAY)
    assert finding is not None and finding.minors == 40


def test_adults_and_a_few_children_are_not_a_minors_dataset() -> None:
    rng = random.Random(5)
    born = [_born(rng, 20, 80) for _ in range(95)] + [_born(rng, 2, 10) for _ in range(5)]
    values: list[str | None] = [b.isoformat() for b in born]
    found = find_minors({"出生日期": values}, {"出生日期": Category.BIRTH_DATE}, TODAY)
    assert found is None
    # Other columns are never read for birth dates (an event date is not a birth date).
    assert find_minors({"办理日期": values}, {"办理日期": Category.NONE}, TODAY) is None


@given(st.lists(st.integers(0, 90), min_size=1, max_size=60), st.randoms())
def test_minors_are_counted_by_age_at_grading_time(ages: list[int], rng: random.Random) -> None:
    born = [_born(rng, a, a) for a in ages]
    values: list[str | None] = [b.isoformat() for b in born]
    values += [None, "不详"]
    found = find_minors(
        {"csrq": values}, {"csrq": Category.BIRTH_DATE}, TODAY, min_share=0.0, min_count=1
    )
    under = sum(a < MINOR_AGE for a in ages)
    if under == 0:
        assert found is None
    else:
        assert found is not None
        assert (found.minors, found.dated) == (under, len(ages))


def test_cli_classify_shows_the_minors_reason(tmp_path: Path) -> None:
    columns = children()
    path = tmp_path / "幼儿.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(list(columns))
        writer.writerows(zip(*columns.values(), strict=True))
    result = CliRunner().invoke(app, ["classify", str(path)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "一般数据4级" in result.output
    assert "under 14" in result.output
