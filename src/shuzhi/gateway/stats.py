"""Statistics of the gateway's calls, for the console, the API and the cockpit."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select

from shuzhi.auth.permissions import allowed, require, scope_unit
from shuzhi.catalog import service as catalog
from shuzhi.context import Ctx
from shuzhi.errors import Invalid
from shuzhi.gateway.models import LATENCY_STEP_US, ApiCall, CallLatency, Outcome
from shuzhi.gateway.schemas import CallStats, DayStats, RecentCall, TopItem
from shuzhi.org import service as org

MAX_STATS_DAYS = 366
TOP = 10


Steps = list[tuple[int, int]]  # (latency step, calls), in step order


def _percentile(steps: Steps, q: float) -> float | None:
    """Nearest-rank percentile in milliseconds over calls counted per latency step."""
    n = sum(calls for _, calls in steps)
    if n == 0:
        return None
    rank = max(1, math.ceil(q * n))  # 1 … n: some step reaches it
    seen = 0
    for step, calls in steps:
        seen += calls
        if seen >= rank:
            return round(step * LATENCY_STEP_US / 1000, 2)
    raise AssertionError("a rank beyond the calls counted")


def _latencies(ctx: Ctx, where: list[Any]) -> dict[date, Steps]:
    """Calls per latency step on each day of the period, read from ``CallLatency``."""
    rows = ctx.db.execute(
        select(CallLatency.day, CallLatency.step, func.sum(CallLatency.calls))
        .where(*where)
        .group_by(CallLatency.day, CallLatency.step)
        .order_by(CallLatency.day, CallLatency.step)
    )
    by_day: dict[date, Steps] = {}
    for day, step, calls in rows:
        by_day.setdefault(day, []).append((int(step), int(calls)))
    return by_day


def _merged(by_day: dict[date, Steps]) -> Steps:
    total: Counter[int] = Counter()
    for steps in by_day.values():
        for step, calls in steps:
            total[step] += calls
    return sorted(total.items())


def _top(ctx: Ctx, where: list[Any], column: Any, label: Callable[[Any], str]) -> list[TopItem]:
    calls = func.count().label("calls")
    rows = ctx.db.execute(
        select(column, calls, func.coalesce(func.sum(ApiCall.rows), 0))
        .where(*where, column.is_not(None))
        .group_by(column)
        .order_by(calls.desc(), column)
        .limit(TOP)
    ).all()
    return [TopItem(key=str(k), label=label(k), calls=c, rows=int(r)) for k, c, r in rows]


def _entry_names(ctx: Ctx, codes: set[str]) -> dict[str, str]:
    """Catalogue names of resource codes, as far as the viewer may read the catalogue."""
    if not codes or not allowed(ctx, "view_catalog"):
        return {}
    return {code: e.name for code, e in catalog.get_entries(ctx, sorted(codes)).items()}


def _day_series(
    ctx: Ctx, where: list[Any], latencies: dict[date, Steps], since: date, days: int
) -> list[DayStats]:
    """One entry per day of the period, days without calls included, with its latency."""
    failed = func.sum(case((ApiCall.outcome != Outcome.OK.value, 1), else_=0))
    per_day = ctx.db.execute(
        select(ApiCall.day, func.count(), func.coalesce(func.sum(ApiCall.rows), 0), failed)
        .where(*where)
        .group_by(ApiCall.day)
    ).all()
    counted = {d: (int(c), int(r), int(e or 0)) for d, c, r, e in per_day}
    series = []
    for i in range(days):
        day = since + timedelta(days=i)
        n, rows, errors = counted.get(day, (0, 0, 0))
        steps = latencies.get(day, [])
        series.append(
            DayStats(
                day=day,
                calls=n,
                rows=rows,
                errors=errors,
                p50_ms=_percentile(steps, 0.5),
                p99_ms=_percentile(steps, 0.99),
            )
        )
    return series


def _recent(calls: list[ApiCall], names: dict[str, str]) -> list[RecentCall]:
    return [
        RecentCall(
            at=c.at,
            endpoint=c.endpoint,
            resource_code=c.resource_code,
            resource_name=names.get(c.resource_code),
            application_code=c.application_code,
            rows=c.rows,
            status=c.status,
            outcome=c.outcome,
            latency_ms=round(c.latency_us / 1000, 2),
        )
        for c in calls
    ]


def _period(
    ctx: Ctx, days: int, until: date | None, resource_code: str | None
) -> tuple[date, date, list[Any], list[Any]]:
    """The checked period and the conditions selecting the viewer's calls in it, in the call
    log and in the counts per latency step."""
    unit = scope_unit(ctx, "view_call_stats")
    if not 1 <= days <= MAX_STATS_DAYS:
        raise Invalid.field(
            "days", f"天数应在 1 到 {MAX_STATS_DAYS} 之间。", f"days is 1 to {MAX_STATS_DAYS}."
        )
    until = until or datetime.now(UTC).date()
    since = until - timedelta(days=days - 1)
    where: list[Any] = [ApiCall.day >= since, ApiCall.day <= until]
    latency: list[Any] = [CallLatency.day >= since, CallLatency.day <= until]
    if unit is not None:
        where.append(or_(ApiCall.consumer_unit_id == unit, ApiCall.provider_unit_id == unit))
        latency.append(
            or_(CallLatency.consumer_unit_id == unit, CallLatency.provider_unit_id == unit)
        )
    if resource_code:
        where.append(ApiCall.resource_code == resource_code)
        latency.append(CallLatency.resource_code == resource_code)
    return since, until, where, latency


def call_stats(
    ctx: Ctx, days: int = 30, until: date | None = None, resource_code: str | None = None
) -> CallStats:
    """Daily calls, rows, errors and latency, and the top consumers, entries and systems."""
    since, until, where, on_latency = _period(ctx, days, until, resource_code)
    latencies = _latencies(ctx, on_latency)
    series = _day_series(ctx, where, latencies, since, days)
    overall = _merged(latencies)
    total = sum(d.calls for d in series)
    outcomes = dict(
        ctx.db.execute(
            select(ApiCall.outcome, func.count()).where(*where).group_by(ApiCall.outcome)
        ).all()
    )

    def unit_name(unit_id: Any) -> str:
        brief = org.unit_brief(ctx, int(unit_id))
        return brief.name if brief else str(unit_id)

    recent = list(
        ctx.db.scalars(select(ApiCall).where(*where).order_by(ApiCall.id.desc()).limit(20))
    )
    top_entries = _top(ctx, where, ApiCall.resource_code, str)
    names = _entry_names(ctx, {i.key for i in top_entries} | {c.resource_code for c in recent})
    return CallStats(
        since=since,
        until=until,
        calls=total,
        rows=sum(d.rows for d in series),
        errors=sum(d.errors for d in series),
        p50_ms=_percentile(overall, 0.5),
        p99_ms=_percentile(overall, 0.99),
        days=series,
        outcomes={str(k): int(v) for k, v in outcomes.items()},
        top_consumers=_top(ctx, where, ApiCall.consumer_unit_id, unit_name),
        top_entries=[i.model_copy(update={"label": names.get(i.key, i.key)}) for i in top_entries],
        top_applications=_top(ctx, where, ApiCall.application_code, str),
        recent=_recent(recent, names),
    )


def call_totals(
    ctx: Ctx, since: date, until: date, unit_id: int | None = None
) -> tuple[list[tuple[date, int, int]], dict[int, tuple[int, int]]]:
    """For the cockpit: calls and rows per day (days without calls left out), and per unit
    (as consumer or provider) over the period, of one unit if given. Two grouped reads."""
    unit = scope_unit(ctx, "view_call_stats")
    if unit_id is not None:
        require(ctx, "view_call_stats", unit_id)
        unit = unit_id
    where: list[Any] = [ApiCall.day >= since, ApiCall.day <= until]
    if unit is not None:
        where.append(or_(ApiCall.consumer_unit_id == unit, ApiCall.provider_unit_id == unit))
    rows = func.coalesce(func.sum(ApiCall.rows), 0)
    days = [
        (d, int(c), int(r))
        for d, c, r in ctx.db.execute(
            select(ApiCall.day, func.count(), rows).where(*where).group_by(ApiCall.day)
        )
    ]
    units: dict[int, tuple[int, int]] = {}
    pairs = ctx.db.execute(
        select(ApiCall.consumer_unit_id, ApiCall.provider_unit_id, func.count(), rows)
        .where(*where)
        .group_by(ApiCall.consumer_unit_id, ApiCall.provider_unit_id)
    )
    for consumer, provider, n, r in pairs:
        for u in {consumer, provider}:
            if u is not None:
                calls, delivered = units.get(u, (0, 0))
                units[u] = (calls + int(n), delivered + int(r))
    return sorted(days), units
