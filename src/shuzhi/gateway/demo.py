"""Demo step: a month of historical calls on the demo's grants, so statistics have content.

Run after the sharing demo step (it needs grants). Deterministic for a given ``now`` and
idempotent: calls are written once, marked by their ``demo-`` call ids, through the same
writer as live calls (so each has its audit entry).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from shuzhi.context import SYSTEM, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.gateway.meter import CallRecord, write_calls
from shuzhi.gateway.models import ApiCall, Endpoint, Outcome
from shuzhi.org import service as org
from shuzhi.sharing import service as sharing
from shuzhi.sharing.schemas import GrantOut

SEED = 5_2026
DAYS = 30
PER_GRANT_PER_DAY = 24  # on a working day; a few thousand calls for a handful of grants
DEMO_PREFIX = "demo-"
# outcome, HTTP status, weight
MIX = [
    (Outcome.OK, 200, 90),
    (Outcome.NOT_FOUND, 404, 6),
    (Outcome.INVALID, 422, 2),
    (Outcome.RATE_LIMITED, 429, 1),
    (Outcome.UNAUTHENTICATED, 401, 1),
]


def seed_demo_calls(database: Database, now: datetime | None = None) -> int:
    """Write the historical calls once; returns how many were written (0 when present)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    with unit_of_work(database, SYSTEM) as ctx:
        if ctx.db.scalar(select(ApiCall.id).where(ApiCall.call_id.like(f"{DEMO_PREFIX}%"))):
            return 0
        grants = sorted(sharing.list_grants(ctx), key=lambda g: g.id)
        units = {
            code: org.unit_id_for_code(ctx, code)
            for g in grants
            for code in (g.consumer_unit_code, g.provider_unit_code)
        }
    records = plan_calls(grants, units, now)
    if records:
        write_calls(database, records)
    return len(records)


def plan_calls(
    grants: Sequence[GrantOut], units: Mapping[str, int | None], now: datetime
) -> list[CallRecord]:
    """The month of calls for these grants, the same every time for the same ``now``."""
    rng = random.Random(SEED)
    digest = b"demo" * 8
    records: list[CallRecord] = []
    start = (now - timedelta(days=DAYS - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    for day in range(DAYS):
        date = start + timedelta(days=day)
        weight = 1.0 if date.weekday() < 5 else 0.25
        for g in grants:
            endpoints = [Endpoint.LOOKUP] * 6 + [Endpoint.RECORDS] * 3
            if "bulk" in g.delivery:
                endpoints.append(Endpoint.EXPORT)
            for _ in range(int(PER_GRANT_PER_DAY * weight * rng.uniform(0.6, 1.4))):
                at = date + timedelta(seconds=rng.randint(8 * 3600, 18 * 3600))
                if at >= now:
                    continue
                endpoint = rng.choice(endpoints)
                outcome, status, _w = rng.choices(MIX, weights=[m[2] for m in MIX])[0]
                served = outcome is Outcome.OK
                rows = 0
                if served:
                    rows = {Endpoint.LOOKUP: 1, Endpoint.RECORDS: rng.randint(1, 100)}.get(
                        endpoint, rng.randint(500, 5000)
                    )
                base_ms = {Endpoint.LOOKUP: 3.0, Endpoint.RECORDS: 40.0}.get(endpoint, 900.0)
                latency = base_ms * math.exp(rng.gauss(0, 0.5))
                known = outcome is not Outcome.UNAUTHENTICATED
                records.append(
                    CallRecord(
                        call_id=f"{DEMO_PREFIX}{len(records):08d}",
                        at=at,
                        endpoint=endpoint,
                        resource_code=g.resource_code,
                        consumer_unit_id=units[g.consumer_unit_code] if known else None,
                        provider_unit_id=units[g.provider_unit_code] if known else None,
                        application_id=None,
                        application_code=g.application_code if known else None,
                        key_id=None,
                        grant_id=g.id if known else None,
                        filters=(),
                        digest_key=digest,
                        rows=rows,
                        latency_us=int(latency * 1000),
                        status=status,
                        outcome=outcome,
                        client="10.20.0." + str(rng.randint(2, 250)),
                    )
                )
    records.sort(key=lambda r: r.at)
    return records
