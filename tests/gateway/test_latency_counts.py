"""The statistics' latency percentiles come from the counts per latency step the meter's
writer keeps with each batch (``gateway_call_latency``): they must equal nearest-rank
percentiles over the calls themselves, shown to 10 µs, for every viewer's share of the
calls, and survive the migration that builds the counts from calls already stored."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from alembic import command

from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.db.migrate import alembic_config, is_current, upgrade
from shuzhi.gateway import stats
from shuzhi.gateway.meter import CallRecord, write_calls
from tests.conftest import acting, actor

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAYS = (NOW.date() - timedelta(days=1), NOW.date())
UNIT = 7


def _records(count: int, seed: int) -> list[CallRecord]:
    rng = random.Random(seed)
    out = []
    for n in range(count):
        at = NOW - timedelta(days=rng.randrange(2), minutes=rng.randrange(600))
        latency = rng.choice(
            [
                rng.randrange(100, 5_000),  # lookups
                rng.randrange(10_000, 3_000_000),  # exports
                1_235,  # halfway between two steps of 10 µs
                rng.randrange(0, 20),
            ]
        )
        out.append(
            CallRecord(
                f"lat{seed}-{n:06d}",
                at,
                "lookup",
                rng.choice(["R/1", "R/2"]),
                rng.choice([None, UNIT, 8]),  # no consumer: refused before the key was known
                rng.choice([None, UNIT, 9]),
                3,
                "APP",
                4,
                5,
                (),
                b"k" * 32,
                1,
                latency,
                200,
                "ok",
                "10.0.0.7",
            )
        )
    return out


def _nearest_rank(latencies: list[int], q: float) -> float | None:
    """The percentile of the calls' own latencies, shown as the statistics show it (in
    milliseconds, to the nearest 10 µs, halves up)."""
    if not latencies:
        return None
    value = sorted(latencies)[max(1, math.ceil(q * len(latencies))) - 1]
    return round((value + 5) // 10 * 10 / 1000, 2)


def _expected(records: list[CallRecord], unit: int | None, resource: str | None) -> dict[str, Any]:
    mine = [
        r
        for r in records
        if (unit is None or unit in (r.consumer_unit_id, r.provider_unit_id))
        and (resource is None or r.resource_code == resource)
    ]
    on = {d: [r.latency_us for r in mine if r.at.date() == d] for d in DAYS}
    every = [r.latency_us for r in mine]
    return {
        "days": {d: (_nearest_rank(on[d], 0.5), _nearest_rank(on[d], 0.99)) for d in DAYS},
        "all": (_nearest_rank(every, 0.5), _nearest_rank(every, 0.99)),
        "calls": len(mine),
    }


def _shown(database: Database, unit: int | None, resource: str | None) -> dict[str, Any]:
    viewer = SYSTEM if unit is None else actor(Role.DATA_LIAISON, unit)
    with acting(database, viewer) as ctx:
        found = stats.call_stats(ctx, 2, NOW.date(), resource)
    days: dict[date, tuple[float | None, float | None]] = {
        d.day: (d.p50_ms, d.p99_ms) for d in found.days
    }
    return {"days": days, "all": (found.p50_ms, found.p99_ms), "calls": found.calls}


VIEWS = [(None, None), (UNIT, None), (None, "R/2"), (UNIT, "R/1")]


def test_percentiles_are_the_calls_own(database: Database) -> None:
    upgrade(database)
    records = _records(1_500, seed=1)
    for start in range(0, len(records), 200):  # several batches: counts add up across them
        write_calls(database, records[start : start + 200])
    for unit, resource in VIEWS:
        assert _shown(database, unit, resource) == _expected(records, unit, resource)


def test_counts_are_built_from_stored_calls_by_the_migration(database: Database) -> None:
    upgrade(database)
    records = _records(600, seed=2)
    write_calls(database, records)
    before = {view: _shown(database, *view) for view in VIEWS}
    config = alembic_config(database)
    command.downgrade(config, "gateway_0005")  # back to the index by latency
    assert not is_current(database)
    command.upgrade(config, "heads")  # the counts made again from the calls
    assert {view: _shown(database, *view) for view in VIEWS} == before
    assert before[(None, None)] == _expected(records, None, None)
