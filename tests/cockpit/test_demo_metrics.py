"""Every cockpit figure checked against the capability that owns it, on the demo district
(one copy per module of the session's demo district, with its small catalogue)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from shuzhi.assess import service as assess
from shuzhi.catalog import service as catalog
from shuzhi.catalog.models import ConflictStatus
from shuzhi.cockpit import service
from shuzhi.cockpit.schemas import CockpitSummary
from shuzhi.context import Actor, Role
from shuzhi.db.engine import Database
from shuzhi.gateway import stats as gateway
from shuzhi.lake import service as lake
from shuzhi.lake.schemas import FreshnessState
from shuzhi.org import service as org
from shuzhi.portal import service as portal
from shuzhi.quality import service as quality
from shuzhi.quality.models import IssueStatus
from shuzhi.sharing import service as sharing
from tests.conftest import BACKENDS, acting, copy_demo

CDO = Actor(kind="user", id=1, name="cdo", role=Role.CDO, unit_id=None)


@pytest.fixture(scope="module", params=BACKENDS)
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """The figures are only read: one copy of the session's demo district per module."""
    directory = tmp_path_factory.mktemp("cockpit-demo")
    database = Database(copy_demo(request, request.param, directory))
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def cdo(demo: Database) -> Actor:
    with acting(demo, CDO) as ctx:
        region = org.unit_id_for_code(ctx, "QC")
    return Actor(kind="user", id=1, name="cdo", role=Role.CDO, unit_id=region)


@pytest.fixture(scope="module")
def summary(demo: Database, cdo: Actor) -> CockpitSummary:
    with acting(demo, cdo) as ctx:
        return service.cockpit_summary(ctx, days=365)


def test_catalogue_figures(demo: Database, cdo: Actor, summary: CockpitSummary) -> None:
    f = summary.figures
    with acting(demo, cdo) as ctx:
        rate = catalog.compile_rate(ctx)
        matters = catalog.uncatalogued_matters(ctx)
        conflicts = catalog.list_conflicts(ctx, ConflictStatus.OPEN)
    assert (f.compile_tasks, f.compile_done) == (rate.region.tasks, rate.region.done)
    assert f.compile_rate == rate.region.rate
    assert f.uncatalogued_matters == len(matters)
    assert f.source_conflicts == len(conflicts)
    by_unit = {r.unit_code: r for r in rate.units}
    for r in summary.ranking:
        assert r.compile_rate == by_unit[r.unit_code].rate


def test_lake_and_quality_figures(demo: Database, cdo: Actor, summary: CockpitSummary) -> None:
    f = summary.figures
    with acting(demo, cdo) as ctx:
        report = lake.freshness_report(ctx)
        current = [lake.current_version(ctx, r.resource_code) for r in report.rows]
        board = quality.quality_scores(ctx)
        issues = quality.list_quality_issues(ctx)
    loaded = [c[0] for c in current if c is not None]
    states = Counter(r.state for r in report.rows)
    assert f.datasets == len(loaded) > 0
    assert f.records == sum(v.row_count for v in loaded)
    assert f.overdue == states[FreshnessState.OVERDUE] >= 1
    assert f.never_loaded == states[FreshnessState.NEVER_LOADED]
    assert f.fresh == states[FreshnessState.FRESH]
    scores = [e.score for e in board.entries if e.score is not None]  # datasets with rules
    assert f.quality_score == round(sum(scores) / len(scores), 1)
    live = [i for i in issues if i.status in (IssueStatus.OPEN, IssueStatus.FIXED)]
    assert f.open_issues == len(live)
    assert f.classified == sum(1 for v in loaded if v.grade is not None)


def test_sharing_gateway_and_org_figures(
    demo: Database, cdo: Actor, summary: CockpitSummary
) -> None:
    f = summary.figures
    with acting(demo, cdo) as ctx:
        requests = sharing.list_share_requests(ctx, limit=1000)
        grants = sharing.list_grants(ctx)
        stats = gateway.call_stats(ctx, 30)
        overview = org.org_overview(ctx)
        opened = portal.portal_figures(ctx)
    assert f.requests_by_state == dict(sorted(Counter(r.status.value for r in requests).items()))
    assert f.overdue_decisions == sum(1 for r in requests if r.overdue or r.status == "escalated")
    assert f.active_grants == sum(1 for g in grants if g.status == "active")
    assert (f.calls_30d, f.rows_30d) == (stats.calls, stats.rows) and f.calls_30d > 0
    assert f.filings_pending == overview.filings_pending
    assert (f.open_entries, f.downloads) == (opened.open_entries, opened.downloads)
    calls = next(t for t in summary.trends if t.metric == "calls").points
    assert sum(p.value or 0 for p in calls[-30:]) == stats.calls


def test_scenarios_indicators_and_a_year_of_history(summary: CockpitSummary) -> None:
    states = {s.status.value for s in summary.scenarios}
    assert states == {"planned", "in_progress", "delivered", "cancelled"}
    assert any(s.overdue for s in summary.scenarios) and any(s.at_risk for s in summary.scenarios)
    assert summary.figures.scenarios == sum(1 for s in summary.scenarios if s.status != "cancelled")
    levels = [i.level.value for i in summary.indicators]
    assert levels.count("alarm") == 1  # the full catalogue adds three more, all ok
    assert [a.level.value for a in summary.alerts] == ["alarm"]
    for trend in summary.trends:
        assert len(trend.points) == 365
    datasets = next(t for t in summary.trends if t.metric == "datasets").points
    assert datasets[0].value is not None and datasets[-1].value == summary.figures.datasets


def test_unit_view_matches_its_ranking_row(demo: Database, summary: CockpitSummary) -> None:
    row = next(r for r in summary.ranking if r.unit_code == "RSJ")
    with acting(demo, CDO) as ctx:
        unit_id = org.unit_id_for_code(ctx, "RSJ")
    rsj = Actor(kind="user", id=2, name="rsj.cdo", role=Role.UNIT_CDO, unit_id=unit_id)
    with acting(demo, rsj) as ctx:
        own = service.cockpit_summary(ctx, days=365)
    assert own.figures == row
    assert all(s.unit_code == "RSJ" for s in own.scenarios)
    assert all(i.unit_code == "RSJ" for i in own.indicators)


def test_the_comparison_shows_each_units_assessed_level_and_trend(
    demo: Database, cdo: Actor, summary: CockpitSummary
) -> None:
    with acting(demo, cdo) as ctx:
        levels = assess.assessed_levels(ctx)
        mzj = service.cockpit_summary(ctx, unit_code="MZJ", days=30)
    assert summary.assessed == levels and len(levels) > 40
    # Last year's closed round against the one before it: the eight departments of both.
    moved = [a for a in levels if a.trend is not None]
    up, down = (sum(1 for a in moved if a.trend == t) for t in ("up", "down"))
    assert len(moved) == 8 and up and down
    comparison = next(a for a in summary.answers if a.key == "comparison")
    assert f"较上轮提升 {up} 个单位、下降 {down} 个" in comparison.zh
    assert f"{up} units up and {down} down" in comparison.en
    best = levels[0]
    assert f"最高 {best.unit_name} {best.level} 级" in comparison.zh
    # One unit's view: its own level and the round before.
    (own,) = mzj.assessed
    assert own == next(a for a in levels if a.unit_code == "MZJ")
    said = next(a for a in mzj.answers if a.key == "comparison").zh
    assert f"自评估 {own.level} 级" in said and f"上轮 {own.previous_level} 级" in said
