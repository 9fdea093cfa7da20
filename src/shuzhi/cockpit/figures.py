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
from shuzhi.catalog.schemas import CompileRate, ConflictStatus
from shuzhi.cockpit.schemas import Figures
from shuzhi.context import Ctx
from shuzhi.gateway import stats as gateway
from shuzhi.lake import service as lake
from shuzhi.lake.schemas import UnitFreshness
from shuzhi.org import service as org
from shuzhi.org.schemas import FilingStatus, UnitBrief
from shuzhi.portal import service as portal
from shuzhi.quality import service as quality
from shuzhi.quality.schemas import UnitScore
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


@dataclass(frozen=True)
class _Sources:
    """Every source read once, keyed by unit code or id as each service reports it."""

    compile_rate: CompileRate
    tasks: dict[str, tuple[int, int]]
    uncatalogued: Counter[str]
    open_conflicts: int
    conflicts: Counter[str]
    published: Counter[int]
    datasets: dict[int, tuple[int, int, int]]
    fresh: dict[str, UnitFreshness]
    scored_entries: list[float]
    scores: dict[str, UnitScore]
    request_rows: list[tuple[int, int, str, bool, int]]
    requests: dict[int, Counter[str]]
    late: Counter[int]
    grant_rows: list[tuple[int, int, int]]
    grants: Counter[int]
    days: list[tuple[date, int, int]]
    calls: dict[int, tuple[int, int]]
    filings: Counter[str]
    opened: dict[int, tuple[int, int]]


def _read_sources(ctx: Ctx, today: date) -> _Sources:
    compile_rate = catalog.compile_rate(ctx)
    conflicts: Counter[str] = Counter()
    open_conflicts = catalog.list_conflicts(ctx, ConflictStatus.OPEN)
    for c in open_conflicts:
        conflicts.update({c.claimant_unit_code, c.source_unit_code})
    board = quality.quality_scores(ctx)
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
    return _Sources(
        compile_rate=compile_rate,
        tasks={r.unit_code: (r.tasks, r.done) for r in compile_rate.units},
        uncatalogued=Counter(m.unit_code for m in catalog.uncatalogued_matters(ctx)),
        open_conflicts=len(open_conflicts),
        conflicts=conflicts,
        published=Counter(unit for _, _, unit, _ in catalog.published_cycles(ctx)),
        datasets=lake.dataset_figures(ctx),
        fresh={f.unit_code: f for f in lake.freshness_report(ctx).units},
        scored_entries=[e.score for e in board.entries if e.score is not None],
        scores={s.unit_code: s for s in board.units},
        request_rows=request_rows,
        requests=requests,
        late=late,
        grant_rows=grant_rows,
        grants=grants,
        days=days,
        calls=calls,
        filings=Counter(
            a.unit_code for a in org.list_appointments(ctx, status=FilingStatus.SUBMITTED)
        ),
        opened=open_data_figures(ctx),
    )


def _unit_figures(src: _Sources, u: UnitBrief, target: int, sc: ScenarioCounts) -> Figures:
    n_tasks, n_done = src.tasks.get(u.code, (0, 0))
    n_sets, records, graded = src.datasets.get(u.id, (0, 0, 0))
    fr = src.fresh.get(u.code)
    entries, overdue, never = (fr.entries, fr.overdue, fr.never_loaded) if fr else (0, 0, 0)
    score = src.scores.get(u.code)
    unit_calls, unit_rows = src.calls.get(u.id, (0, 0))
    expected = max(src.published.get(u.id, 0), n_sets)
    figures = Figures(
        unit_code=u.code,
        unit_name=u.name,
        compile_tasks=n_tasks,
        compile_done=n_done,
        compile_rate=rate(n_done, n_tasks),
        uncatalogued_matters=src.uncatalogued.get(u.code, 0),
        source_conflicts=src.conflicts.get(u.code, 0),
        entries_published=src.published.get(u.id, 0),
        datasets=n_sets,
        records=records,
        fresh=entries - overdue - never,
        overdue=overdue,
        never_loaded=never,
        quality_score=score.score if score else None,
        open_issues=score.open_issues if score else 0,
        classified=graded,
        classification_coverage=rate(graded, expected),
        requests_by_state=dict(sorted(src.requests.get(u.id, Counter()).items())),
        overdue_decisions=src.late.get(u.id, 0),
        active_grants=src.grants.get(u.id, 0),
        calls_30d=unit_calls,
        rows_30d=unit_rows,
        calls_per_day=round(unit_calls / CALL_DAYS, 1),
        filings_pending=src.filings.get(u.code, 0),
        scenario_target=target if u.kind != "region" else 0,
        scenarios=sc.registered,
        scenarios_delivered=sc.delivered,
        scenarios_in_progress=sc.in_progress,
        scenarios_overdue=sc.overdue,
        scenarios_at_risk=sc.at_risk,
        open_entries=src.opened.get(u.id, (0, 0))[0],
        downloads=src.opened.get(u.id, (0, 0))[1],
        score=None,
    )
    return figures.model_copy(update={"score": _score(figures)})


def _region_figures(
    src: _Sources,
    region: UnitBrief | None,
    every: list[Figures],
    target: int,
    sc: ScenarioCounts,
) -> Figures:
    """The region's figures: sums of the units', except what joins two units (requests and
    grants are counted once) and the quality score (the mean over entries)."""
    total_calls = sum(c for _, c, _ in src.days)
    states: Counter[str] = Counter()
    for _, _, status, _, n in src.request_rows:
        states[status] += n
    scored = src.scored_entries
    figures = Figures(
        unit_code=region.code if region else "region",
        unit_name=region.name if region else "",
        compile_tasks=src.compile_rate.region.tasks,
        compile_done=src.compile_rate.region.done,
        compile_rate=rate(src.compile_rate.region.done, src.compile_rate.region.tasks),
        uncatalogued_matters=sum(src.uncatalogued.values()),
        source_conflicts=src.open_conflicts,
        entries_published=sum(src.published.values()),
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
        overdue_decisions=sum(src.late.values()),
        active_grants=sum(n for _, _, n in src.grant_rows),
        calls_30d=total_calls,
        rows_30d=sum(r for _, _, r in src.days),
        calls_per_day=round(total_calls / CALL_DAYS, 1),
        filings_pending=sum(src.filings.values()),
        scenario_target=target,
        scenarios=sc.registered,
        scenarios_delivered=sc.delivered,
        scenarios_in_progress=sc.in_progress,
        scenarios_overdue=sc.overdue,
        scenarios_at_risk=sc.at_risk,
        open_entries=sum(o for o, _ in src.opened.values()),
        downloads=sum(d for _, d in src.opened.values()),
        score=None,
    )
    return figures.model_copy(update={"score": _score(figures)})


def gather(
    ctx: Ctx, today: date, target: int, scenarios: dict[int, ScenarioCounts]
) -> tuple[Figures, dict[int, Figures]]:
    """(region figures, figures per unit id) as far as the actor may see them."""
    units = org.all_unit_briefs(ctx)
    region = next((u for u in units if u.kind == "region"), None)
    src = _read_sources(ctx, today)
    per_unit = {
        u.id: _unit_figures(src, u, target, scenarios.get(u.id, ScenarioCounts())) for u in units
    }
    members = sum(1 for u in units if u.kind != "region")
    region_sc = ScenarioCounts(
        *(sum(getattr(s, k) for s in scenarios.values()) for k in ScenarioCounts.__annotations__)
    )
    every = list(per_unit.values())
    return _region_figures(src, region, every, target * members, region_sc), per_unit
