"""The cockpit's figures, gathered from the other capabilities' services (never their tables).

One pass reads each source once for every unit, so the region view, the unit ranking and a
unit's own view cost the same handful of grouped reads. Rates are ``None`` when their base
is zero (a unit with no compile tasks has no compile rate, not 0 % and not a division error).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from shuzhi.catalog import service as catalog
from shuzhi.catalog.models import ConflictStatus
from shuzhi.cockpit.schemas import Figures
from shuzhi.context import Ctx
from shuzhi.gateway import service as gateway
from shuzhi.lake import service as lake
from shuzhi.org import service as org
from shuzhi.org.models import FilingStatus
from shuzhi.org.schemas import UnitBrief
from shuzhi.portal import service as portal
from shuzhi.quality import service as quality
from shuzhi.sharing import service as sharing

CALL_DAYS = 30
WAITING_STATES = ("pending", "escalated", "appealed")


def rate(part: int | float, whole: int | float) -> float | None:
    """``part / whole`` rounded, or None without a base (never a division by zero)."""
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class ScenarioCounts:
    registered: int = 0
    delivered: int = 0
    in_progress: int = 0
    overdue: int = 0
    at_risk: int = 0


def open_data_figures(ctx: Ctx) -> dict[int, tuple[int, int]]:
    """Open entries and downloads per unit, from the open-data portal's figures."""
    return {u.unit_id: (u.open_entries, u.downloads) for u in portal.portal_figures(ctx).units}


def _score(f: Figures) -> float | None:
    """Mean of the unit's rates (compile, fresh, quality, classification, scenarios), 0..100."""
    loaded = f.fresh + f.overdue + f.never_loaded
    parts = [
        f.compile_rate,
        rate(f.fresh, loaded),
        f.quality_score / 100 if f.quality_score is not None else None,
        f.classification_coverage,
        min(1.0, (f.scenarios_delivered + 0.5 * f.scenarios_in_progress) / f.scenario_target)
        if f.scenario_target
        else None,
    ]
    known = [p for p in parts if p is not None]
    return round(100 * sum(known) / len(known), 1) if known else None


def gather(
    ctx: Ctx, today: date, target: int, scenarios: dict[int, ScenarioCounts]
) -> tuple[Figures, dict[int, Figures]]:
    """(region figures, figures per unit id) as far as the actor may see them."""
    units = org.all_unit_briefs(ctx)
    region = next((u for u in units if u.kind == "region"), None)

    compile_rate = catalog.compile_rate(ctx)
    tasks = {r.unit_code: (r.tasks, r.done) for r in compile_rate.units}
    uncatalogued = Counter(m.unit_code for m in catalog.uncatalogued_matters(ctx))
    conflicts: Counter[str] = Counter()
    open_conflicts = catalog.list_conflicts(ctx, ConflictStatus.OPEN)
    for c in open_conflicts:
        conflicts.update({c.claimant_unit_code, c.source_unit_code})
    published = Counter(unit for _, _, unit, _ in catalog.published_cycles(ctx))
    datasets = lake.dataset_figures(ctx)
    fresh = {f.unit_code: f for f in lake.freshness_report(ctx).units}
    board = quality.quality_scores(ctx)
    scores = {s.unit_code: s for s in board.units}
    requests: dict[int, Counter[str]] = {}
    late: Counter[int] = Counter()
    request_rows = sharing.request_figures(ctx, today)
    for consumer, provider, status, overdue, n in request_rows:
        for u in {consumer, provider}:
            requests.setdefault(u, Counter())[status] += n
        if overdue:
            late[provider] += n
    grants: Counter[int] = Counter()
    grant_rows = sharing.active_grant_figures(ctx)
    for consumer, provider, n in grant_rows:
        for u in {consumer, provider}:
            grants[u] += n
    days, calls = gateway.call_totals(ctx, today - timedelta(days=CALL_DAYS - 1), today)
    filings = Counter(
        a.unit_code for a in org.list_appointments(ctx, status=FilingStatus.SUBMITTED)
    )
    opened = open_data_figures(ctx)

    def one(u: UnitBrief) -> Figures:
        n_tasks, n_done = tasks.get(u.code, (0, 0))
        n_sets, records, graded = datasets.get(u.id, (0, 0, 0))
        fr = fresh.get(u.code)
        entries, overdue, never = (fr.entries, fr.overdue, fr.never_loaded) if fr else (0, 0, 0)
        score = scores.get(u.code)
        sc = scenarios.get(u.id, ScenarioCounts())
        unit_calls, unit_rows = calls.get(u.id, (0, 0))
        expected = max(published.get(u.id, 0), n_sets)
        figures = Figures(
            unit_code=u.code,
            unit_name=u.name,
            compile_tasks=n_tasks,
            compile_done=n_done,
            compile_rate=rate(n_done, n_tasks),
            uncatalogued_matters=uncatalogued.get(u.code, 0),
            source_conflicts=conflicts.get(u.code, 0),
            entries_published=published.get(u.id, 0),
            datasets=n_sets,
            records=records,
            fresh=entries - overdue - never,
            overdue=overdue,
            never_loaded=never,
            quality_score=score.score if score else None,
            open_issues=score.open_issues if score else 0,
            classified=graded,
            classification_coverage=rate(graded, expected),
            requests_by_state=dict(sorted(requests.get(u.id, Counter()).items())),
            overdue_decisions=late.get(u.id, 0),
            active_grants=grants.get(u.id, 0),
            calls_30d=unit_calls,
            rows_30d=unit_rows,
            calls_per_day=round(unit_calls / CALL_DAYS, 1),
            filings_pending=filings.get(u.code, 0),
            scenario_target=target if u.kind != "region" else 0,
            scenarios=sc.registered,
            scenarios_delivered=sc.delivered,
            scenarios_in_progress=sc.in_progress,
            scenarios_overdue=sc.overdue,
            scenarios_at_risk=sc.at_risk,
            open_entries=opened.get(u.id, (0, 0))[0],
            downloads=opened.get(u.id, (0, 0))[1],
            score=None,
        )
        return figures.model_copy(update={"score": _score(figures)})

    per_unit = {u.id: one(u) for u in units}
    members = [f for u, f in zip(units, per_unit.values(), strict=True) if u.kind != "region"]
    every = list(per_unit.values())
    total_calls = sum(c for _, c, _ in days)
    scored = [e.score for e in board.entries]
    states: Counter[str] = Counter()
    # Requests and grants join two units: count each once for the region.
    for _, _, status, _, n in request_rows:
        states[status] += n
    region_sc = ScenarioCounts(
        *(sum(getattr(s, k) for s in scenarios.values()) for k in ScenarioCounts.__annotations__)
    )
    region_figures = Figures(
        unit_code=region.code if region else "region",
        unit_name=region.name if region else "",
        compile_tasks=compile_rate.region.tasks,
        compile_done=compile_rate.region.done,
        compile_rate=rate(compile_rate.region.done, compile_rate.region.tasks),
        uncatalogued_matters=sum(uncatalogued.values()),
        source_conflicts=len(open_conflicts),
        entries_published=sum(published.values()),
        datasets=sum(f.datasets for f in every),
        records=sum(f.records for f in every),
        fresh=sum(f.fresh for f in every),
        overdue=sum(f.overdue for f in every),
        never_loaded=sum(f.never_loaded for f in every),
        quality_score=round(sum(scored) / len(scored), 1) if scored else None,
        open_issues=sum(f.open_issues for f in every),
        classified=sum(f.classified for f in every),
        classification_coverage=rate(
            sum(f.classified for f in every),
            sum(max(f.entries_published, f.datasets) for f in every),
        ),
        requests_by_state=dict(sorted(states.items())),
        overdue_decisions=sum(late.values()),
        active_grants=sum(n for _, _, n in grant_rows),
        calls_30d=total_calls,
        rows_30d=sum(r for _, _, r in days),
        calls_per_day=round(total_calls / CALL_DAYS, 1),
        filings_pending=sum(filings.values()),
        scenario_target=target * len(members),
        scenarios=region_sc.registered,
        scenarios_delivered=region_sc.delivered,
        scenarios_in_progress=region_sc.in_progress,
        scenarios_overdue=region_sc.overdue,
        scenarios_at_risk=region_sc.at_risk,
        open_entries=sum(o for o, _ in opened.values()),
        downloads=sum(d for _, d in opened.values()),
        score=None,
    )
    region_figures = region_figures.model_copy(update={"score": _score(region_figures)})
    return region_figures, per_unit
