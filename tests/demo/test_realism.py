"""The demo district reads like a real one: varied abstracts written from per-domain
vocabularies, and cockpit trends with working-day rhythm, seasons and compile batches."""

from __future__ import annotations

import random
import statistics
from collections import Counter
from datetime import date, timedelta
from itertools import pairwise

from sqlalchemy import select

from shuzhi.cockpit.models import Snapshot
from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.demo import catalog as demo_catalog
from tests.conftest import acting


def _full_size_tasks() -> list[demo_catalog._Task]:
    """Every task name the full demo catalogue can have, unit by unit (no database)."""
    tasks: list[demo_catalog._Task] = []
    for code, _, kind in demo_catalog._units():
        matters = (
            demo_catalog.STREET
            if kind == "street"
            else list(dict.fromkeys([*demo_catalog.MATTERS.get(code, []), *demo_catalog.GENERIC]))
        )
        for matter in matters:
            for kind_name in demo_catalog.KINDS:
                tasks.append(demo_catalog._Task(len(tasks) + 1, code, matter + kind_name))
    return tasks


def _abstracts(n: int = demo_catalog.PUBLISHED) -> list[tuple[str, str]]:
    """(entry name, abstract) of ``n`` entries drawn like the demo draws them."""
    rng = random.Random(2026)
    tasks = rng.sample(_full_size_tasks(), n)
    index = {code: i for code, i, _ in demo_catalog._units()}
    out = []
    for task in tasks:
        entry = demo_catalog._entry(rng, task, index[task.unit], None)
        out.append((entry.name, entry.abstract))
    return out


def _skeleton(name: str, abstract: str) -> str:
    """An abstract with its entry's own words taken out: what is left is the template."""
    matter = next((name[: -len(k)] for k in demo_catalog.KINDS if name.endswith(k)), name)
    return abstract.replace(name, "◇").replace(matter, "◇")


def test_abstracts_are_varied_not_one_formula() -> None:
    pairs = _abstracts()
    texts = [a for _, a in pairs]
    assert len(set(texts)) / len(texts) >= 0.9
    templates = Counter(_skeleton(n, a) for n, a in pairs)
    assert templates.most_common(1)[0][1] <= 5  # no wording used for more than a handful
    assert len(templates) >= 0.9 * len(pairs)
    # Each names the system the data comes from, in varied words.
    assert all("系统" in a or "平台" in a for a in texts)
    openings = Counter(a[:4] for a in texts)
    assert openings.most_common(1)[0][1] < 0.25 * len(texts)
    assert all(2 <= len(a) <= 1000 for a in texts)
    assert _abstracts(50) == _abstracts(50)  # deterministic


def test_domains_use_their_own_vocabulary() -> None:
    by_unit: dict[str, list[str]] = {}
    for task in _full_size_tasks():
        entry = demo_catalog._entry(random.Random(1), task, 1, None)
        by_unit.setdefault(task.unit, []).append(entry.abstract)
    assert any("公安" in a or "交通管理" in a or "出入境" in a for a in by_unit["GAJ"])
    assert not any("公安" in a for a in by_unit["WJW"])
    assert any("健康" in a or "医疗" in a or "接种" in a for a in by_unit["WJW"])
    assert any("网格" in a or "社区" in a or "街道" in a for a in by_unit["JD-CX"])


def _region_series(database: Database, metric: str) -> list[tuple[date, float]]:
    with acting(database, SYSTEM) as ctx:
        rows = ctx.db.execute(
            select(Snapshot.day, Snapshot.value)
            .where(Snapshot.metric == metric, Snapshot.unit_id.is_(None))
            .order_by(Snapshot.day)
        ).all()
    return [(d, float(v)) for d, v in rows]


def _r_squared(values: list[float]) -> float:
    xs = list(range(len(values)))
    mx, my = statistics.fmean(xs), statistics.fmean(values)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, values, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    ss_tot = sum((y - my) ** 2 for y in values)
    if ss_tot == 0:
        return 1.0
    slope = sxy / sxx
    ss_res = sum((y - (my + slope * (x - mx))) ** 2 for x, y in zip(xs, values, strict=True))
    return 1 - ss_res / ss_tot


def test_cockpit_trends_have_batches_weekends_and_seasons(demo_database: Database) -> None:
    series = _region_series(demo_database, "datasets")
    assert len(series) >= 300
    values = [v for _, v in series]
    # Not a straight line, and not noise: it only grows, mostly in steps.
    assert _r_squared(values) < 0.985
    rises = [b - a for a, b in pairwise(values)]
    assert all(r >= 0 for r in rises)
    big = [r for r in rises if r > 0 and r >= 0.05 * (values[-1] - values[0])]
    assert 4 <= len(big) <= 40  # compile batches
    # Weekends: nothing is loaded, the counts stand still.
    weekend = [r for (d, _), r in zip(series[1:], rises, strict=True) if d.weekday() >= 5]
    assert weekend and all(r == 0 for r in weekend)
    # Seasons: most growth comes outside the Spring Festival and summer lulls.
    by_month: Counter[int] = Counter()
    for (d, _), r in zip(series[1:], rises, strict=True):
        by_month[d.month] += round(r)
    assert by_month[2] + by_month[8] < 0.15 * sum(by_month.values())
    # A backlog rises after batches and is worked down: it goes both ways.
    backlog = [v for _, v in _region_series(demo_database, "open_issues")]
    ups = sum(1 for a, b in pairwise(backlog) if b > a)
    downs = sum(1 for a, b in pairwise(backlog) if b < a)
    assert ups >= 3 and downs >= 20 and _r_squared(backlog) < 0.95


def test_history_is_deterministic() -> None:
    from shuzhi.demo import cockpit as demo_cockpit

    today = date(2026, 12, 5)
    first = demo_cockpit.batch_days(today)
    assert first == demo_cockpit.batch_days(today)
    assert all(today - timedelta(days=365) < d <= today for d, _ in first)
