"""The cockpit (驾驶舱): the three daily questions answered for the region or one unit.

1. How is aggregation going (catalogue, datasets, freshness, quality, classification)?
2. What do the comparisons show (the unit ranking, trends over 7/30/365 days)?
3. How far along are the application scenarios (against each unit's annual target)?

Figures come from the other capabilities' services (``figures.gather``). Trends come from
daily snapshots of those figures that the cockpit keeps (``take_snapshot``, run daily by
``shuzhi cockpit evaluate``): most sources keep only their present state, so a snapshot is
the only honest way to know last month's overdue count. Calls and rows per day come from
the gateway's dated call records instead. A snapshot holds figures, never data.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import delete, insert, select

from shuzhi.assess import service as assess
from shuzhi.assess.schemas import AssessedLevel
from shuzhi.audit.service import record
from shuzhi.auth.permissions import require, scope_unit
from shuzhi.cockpit import figures as sources
from shuzhi.cockpit import indicators, scenarios
from shuzhi.cockpit.charts import PERCENT_METRICS, percent_axis
from shuzhi.cockpit.events import CockpitExported, CockpitViewed, SnapshotTaken
from shuzhi.cockpit.models import Snapshot
from shuzhi.cockpit.schemas import (
    TREND_WINDOWS,
    Answer,
    CockpitSummary,
    Figures,
    ScenarioOut,
    Trend,
    TrendPoint,
)
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import Invalid
from shuzhi.gateway import stats as gateway
from shuzhi.market import service as market
from shuzhi.masterdata import service as masterdata
from shuzhi.masterdata.schemas import MasterdataFiguresOut
from shuzhi.org import service as org
from shuzhi.sandbox import releases as sandbox
from shuzhi.secops import service as secops
from shuzhi.security.cells import csv_writer, seal_workbook

# Figures kept in the daily snapshot (and so available as trends).
SNAPSHOT_METRICS = (
    "compile_rate",
    "datasets",
    "records",
    "overdue",
    "never_loaded",
    "quality_score",
    "open_issues",
    "classification_coverage",
    "overdue_decisions",
    "active_grants",
    "scenarios_delivered",
    "open_entries",
    "downloads",
    "score",
)
HISTORY_ON_PAGE = 14  # indicator readings shown beside each indicator
# Trends shown on the cockpit; "calls" and "rows" are read from the gateway's call records.
TREND_METRICS = (
    "compile_rate",
    "datasets",
    "overdue",
    "quality_score",
    "open_issues",
    "overdue_decisions",
    "calls",
    "rows",
)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _quality(f: Figures, no_rules: str) -> str:
    """The quality score, or that none of the loaded datasets has quality rules."""
    return no_rules if f.quality_score is None and f.datasets else _num(f.quality_score)


def _scope(ctx: Ctx, unit_code: str | None, operation: str = "view_cockpit") -> int | None:
    """The unit the view is limited to (None: the region); refuses another unit's view."""
    own = scope_unit(ctx, operation)
    if unit_code:
        unit_id = scenarios.unit_of(ctx, unit_code, "unit")
        require(ctx, operation, unit_id, target=f"cockpit:{unit_code}")
        return unit_id
    return own


def _days(days: int) -> int:
    if days not in TREND_WINDOWS:
        raise Invalid.field(
            "days", "趋势区间只能是 7、30 或 365 天。", "Trends cover 7, 30 or 365 days."
        )
    return days


def _figures(
    ctx: Ctx, today: date, unit_id: int | None
) -> tuple[Figures, dict[int, Figures], list[ScenarioOut]]:
    units = {u.code: u.id for u in org.all_unit_briefs(ctx)}
    listed = scenarios.list_scenarios(ctx, year=today.year, today=today)
    counts = scenarios.scenario_counts(listed, units)
    region, per_unit = sources.gather(ctx, today, ctx.settings.scenario_annual_target, counts)
    mine = [s for s in listed if unit_id is None or units.get(s.unit_code) == unit_id]
    return region, per_unit, mine


def _trends(ctx: Ctx, unit_id: int | None, today: date, days: int, current: Figures) -> list[Trend]:
    since = today - timedelta(days=days - 1)
    query = select(Snapshot.metric, Snapshot.day, Snapshot.value).where(
        Snapshot.day >= since,
        Snapshot.day <= today,
        Snapshot.metric.in_(TREND_METRICS),
        Snapshot.unit_id.is_(None) if unit_id is None else Snapshot.unit_id == unit_id,
    )
    found: dict[str, dict[date, float]] = {m: {} for m in TREND_METRICS}
    for metric, day, value in ctx.db.execute(query):
        found[metric][day] = value
    for metric in TREND_METRICS:  # today is always the live figure
        live = getattr(current, metric, None)
        if live is not None:
            found[metric][today] = float(live)
    per_day, _ = gateway.call_totals(ctx, since, today, unit_id)
    calls = {d: (c, r) for d, c, r in per_day}
    axis = [since + timedelta(days=i) for i in range(days)]
    out = []
    for metric in TREND_METRICS:
        if metric in ("calls", "rows"):
            index = 0 if metric == "calls" else 1
            points = [TrendPoint(day=d, value=float(calls.get(d, (0, 0))[index])) for d in axis]
        else:
            points = [TrendPoint(day=d, value=found[metric].get(d)) for d in axis]
        if metric in PERCENT_METRICS:
            low, high = percent_axis(p.value for p in points)
            out.append(
                Trend(metric=metric, points=points, format="percent", axis_min=low, axis_max=high)
            )
        else:
            out.append(Trend(metric=metric, points=points, axis_min=0.0))
    return out


def _assessed_sentence(assessed: list[AssessedLevel]) -> tuple[str, str]:
    """The comparison's words on the self-assessed levels (latest closed round vs before)."""
    if not assessed:
        return "", ""
    if len(assessed) == 1:
        a = assessed[0]
        before_zh = f"，上轮 {a.previous_level} 级" if a.previous_level is not None else ""
        before_en = f", {a.previous_level} the round before" if a.previous_level is not None else ""
        return (
            f"数据管理能力自评估 {a.level} 级（{_num(a.score)}）{before_zh}。",
            f" Self-assessed data management level {a.level} ({_num(a.score)}){before_en}.",
        )
    up = sum(1 for a in assessed if a.trend == "up")
    down = sum(1 for a in assessed if a.trend == "down")
    best = assessed[0]
    return (
        f"数据管理能力自评估最高 {best.unit_name} {best.level} 级，较上轮提升 {up} 个单位、"
        f"下降 {down} 个。",
        f" Self-assessed data management: highest {best.unit_name} at level {best.level};"
        f" {up} units up and {down} down since the round before.",
    )


def _masterdata_box(ctx: Ctx) -> MasterdataFiguresOut | None:
    figures = masterdata.masterdata_figures(ctx)
    return figures if figures.libraries else None


def _answers(
    f: Figures,
    ranking: list[Figures],
    trends: list[Trend],
    days: int,
    assessed: list[AssessedLevel] | None = None,
) -> list[Answer]:
    aggregation = Answer(
        key="aggregation",
        zh=(
            f"编目完成率 {_pct(f.compile_rate)}（{f.compile_done}/{f.compile_tasks}），"
            f"未编目事项 {f.uncatalogued_matters} 个；已归集 {f.datasets} 个数据集、"
            f"{f.records:,} 条记录，{f.overdue} 个超期未更新、{f.never_loaded} 个尚未归集；"
            f"质量评分 {_quality(f, '未设置规则')}，待整改问题 {f.open_issues} 个。"
        ),
        en=(
            f"Compile rate {_pct(f.compile_rate)} ({f.compile_done}/{f.compile_tasks}), "
            f"{f.uncatalogued_matters} matters uncatalogued; {f.datasets} datasets with "
            f"{f.records:,} records aggregated, {f.overdue} overdue, {f.never_loaded} never "
            f"loaded; quality score {_quality(f, 'no rules')}, {f.open_issues} open issues."
        ),
    )
    rated = [r for r in ranking if r.score is not None]
    compile_trend = next(t for t in trends if t.metric == "compile_rate").points
    known = [p.value for p in compile_trend if p.value is not None]
    start, end = (known[0], known[-1]) if known else (None, None)
    levels_zh, levels_en = _assessed_sentence(assessed or [])
    if rated:
        best, worst = rated[0], rated[-1]
        low = sum(1 for r in ranking if r.compile_rate is not None and r.compile_rate < 0.8)
        comparison = Answer(
            key="comparison",
            zh=(
                f"综合得分第一 {best.unit_name}（{_num(best.score)}），末位 {worst.unit_name}"
                f"（{_num(worst.score)}）；{low} 个单位编目完成率低于 80%；"
                f"近 {days} 天编目完成率 {_pct(start)} → {_pct(end)}。{levels_zh}"
            ),
            en=(
                f"Top score {best.unit_name} ({_num(best.score)}), last {worst.unit_name} "
                f"({_num(worst.score)}); {low} units below 80% compile rate; compile rate over "
                f"{days} days {_pct(start)} → {_pct(end)}.{levels_en}"
            ),
        )
    else:
        comparison = Answer(
            key="comparison",
            zh=(
                f"本单位综合得分 {_num(f.score)}；"
                f"近 {days} 天编目完成率 {_pct(start)} → {_pct(end)}。{levels_zh}"
            ),
            en=(
                f"This unit scores {_num(f.score)}; compile rate over {days} days "
                f"{_pct(start)} → {_pct(end)}.{levels_en}"
            ),
        )
    scenario = Answer(
        key="scenarios",
        zh=(
            f"年度目标 {f.scenario_target} 个应用场景，已登记 {f.scenarios} 个，"
            f"已完成 {f.scenarios_delivered} 个，推进中 {f.scenarios_in_progress} 个；"
            f"{f.scenarios_overdue} 个逾期，{f.scenarios_at_risk} 个有风险。"
        ),
        en=(
            f"Annual target {f.scenario_target} scenarios: {f.scenarios} registered, "
            f"{f.scenarios_delivered} delivered, {f.scenarios_in_progress} in progress; "
            f"{f.scenarios_overdue} overdue, {f.scenarios_at_risk} at risk."
        ),
    )
    return [aggregation, comparison, scenario]


def cockpit_summary(
    ctx: Ctx, unit_code: str | None = None, days: int = 30, today: date | None = None
) -> CockpitSummary:
    """Every figure the cockpit shows, for the region or one unit (unit staff: their own)."""
    unit_id = _scope(ctx, unit_code)
    days = _days(days)
    today = today or utcnow().date()
    region, per_unit, listed = _figures(ctx, today, unit_id)
    units = {u.id: u for u in org.all_unit_briefs(ctx)}
    if unit_id is None:
        current = region
        ranking = sorted(
            (f for uid, f in per_unit.items() if units[uid].kind != "region"),
            key=lambda f: (f.score is None, -(f.score or 0), f.unit_code),
        )
    else:
        current, ranking = per_unit[unit_id], []
    trends = _trends(ctx, unit_id, today, days, current)
    assessed = [
        a
        for a in assess.assessed_levels(ctx)
        if unit_id is None or a.unit_code == current.unit_code
    ]
    sandbox_use = [
        u for u in sandbox.use_per_unit(ctx) if unit_id is None or u.unit_code == current.unit_code
    ]
    record(
        ctx,
        CockpitViewed(scope=current.unit_code if unit_id else "region", unit=unit_id, days=days),
    )
    return CockpitSummary(
        scope="region" if unit_id is None else current.unit_code,
        scope_name=current.unit_name,
        as_of=today,
        year=today.year,
        days=days,
        answers=_answers(current, ranking, trends, days, assessed),
        figures=current,
        ranking=ranking,
        assessed=assessed,
        sandbox=sandbox_use,
        market=market.market_figures(ctx, today) if unit_id is None else None,
        masterdata=_masterdata_box(ctx) if unit_id is None else None,
        trends=trends,
        scenarios=listed,
        indicators=indicators.list_indicators(ctx, unit_id, history=HISTORY_ON_PAGE),
        alerts=indicators.list_alerts(ctx, unit_id),
        security_alerts=secops.open_alerts_by_severity(ctx, unit_id),
        overdue_risk_assessments=secops.overdue_risk_assessments(ctx, unit_id),
    )


# ---------------------------------------------------------------- snapshots


def snapshot_rows(day: date, unit_id: int | None, f: Figures) -> Iterator[dict[str, object]]:
    for metric in SNAPSHOT_METRICS:
        value = getattr(f, metric)
        if value is not None:
            yield {"day": day, "unit_id": unit_id, "metric": metric, "value": float(value)}


def take_snapshot(ctx: Ctx, day: date | None = None) -> int:
    """Keep today's figures for the region and every unit (run daily); replaces the day's."""
    require(ctx, "take_snapshot")
    day = day or utcnow().date()
    region, per_unit, _ = _figures(ctx, day, None)
    rows = list(snapshot_rows(day, None, region))
    for unit_id, f in per_unit.items():
        rows.extend(snapshot_rows(day, unit_id, f))
    ctx.db.execute(delete(Snapshot).where(Snapshot.day == day))
    ctx.db.execute(insert(Snapshot), rows)
    record(ctx, SnapshotTaken(day=day.isoformat(), figures=len(rows)))
    return len(rows)


@dataclass(frozen=True)
class SnapshotPoint:
    unit_id: int | None
    metric: str
    value: float


def snapshot_points(ctx: Ctx, day: date) -> list[SnapshotPoint]:
    """The figures kept for one day (region and units)."""
    require(ctx, "snapshot_points")
    rows = ctx.db.execute(
        select(Snapshot.unit_id, Snapshot.metric, Snapshot.value).where(Snapshot.day == day)
    )
    return [SnapshotPoint(u, m, v) for u, m, v in rows]


def record_history(ctx: Ctx, rows: list[dict[str, object]]) -> int:
    """Write past figures in bulk (a migration from an older system, or the demo's year)."""
    require(ctx, "record_history")
    days = {r["day"] for r in rows if isinstance(r["day"], date)}
    for day in days:
        ctx.db.execute(delete(Snapshot).where(Snapshot.day == day))
    if rows:
        ctx.db.execute(insert(Snapshot), rows)
    record(ctx, SnapshotTaken(day=f"{min(days)}..{max(days)}" if days else "", figures=len(rows)))
    return len(rows)


# ---------------------------------------------------------------- exports

FIGURE_LABELS: list[tuple[str, str]] = [
    ("unit_name", "单位"),
    ("score", "综合得分"),
    ("compile_tasks", "编目任务"),
    ("compile_done", "已编目"),
    ("compile_rate", "编目完成率"),
    ("uncatalogued_matters", "未编目事项"),
    ("source_conflicts", "一数一源冲突"),
    ("entries_published", "已发布目录"),
    ("datasets", "已归集数据集"),
    ("records", "记录数"),
    ("fresh", "按时更新"),
    ("overdue", "超期未更新"),
    ("never_loaded", "尚未归集"),
    ("quality_score", "质量评分"),
    ("open_issues", "待整改问题"),
    ("classification_coverage", "分类分级覆盖率"),
    ("overdue_decisions", "超期未审批申请"),
    ("active_grants", "有效授权"),
    ("calls_30d", "近30天调用"),
    ("rows_30d", "近30天交付记录"),
    ("filings_pending", "待备案"),
    ("scenario_target", "场景目标"),
    ("scenarios", "已登记场景"),
    ("scenarios_delivered", "已完成场景"),
    ("scenarios_overdue", "逾期场景"),
    ("open_entries", "开放目录"),
    ("downloads", "下载次数"),
]


def _cell(value: object) -> object:
    return "—" if value is None else value


def export_cockpit(ctx: Ctx, unit_code: str | None = None, days: int = 30) -> bytes:
    """The cockpit as an Excel workbook for meetings: answers, figures, ranking, trends."""
    unit_id = _scope(ctx, unit_code, "export_cockpit")
    summary = cockpit_summary(ctx, unit_code, days)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "三问"
    sheet.append([f"{summary.scope_name} 数据工作驾驶舱", f"截至 {summary.as_of}"])
    sheet["A1"].font = Font(bold=True, size=14)
    for answer in summary.answers:
        sheet.append([answer.zh])
    figures = book.create_sheet("指标")
    figures.append(["指标", "数值"])
    for key, label in FIGURE_LABELS:
        figures.append([label, _cell(getattr(summary.figures, key))])
    if summary.ranking:
        ranking = book.create_sheet("单位排名")
        ranking.append(["名次", *(label for _, label in FIGURE_LABELS)])
        for i, f in enumerate(summary.ranking, start=1):
            ranking.append([i, *(_cell(getattr(f, key)) for key, _ in FIGURE_LABELS)])
    trends = book.create_sheet("趋势")
    trends.append(["日期", *(t.metric for t in summary.trends)])
    for i, point in enumerate(summary.trends[0].points):
        trends.append([point.day, *(_cell(t.points[i].value) for t in summary.trends)])
    scen = book.create_sheet("应用场景")
    scen.append(["单位", "场景", "负责人", "状态", "进度", "截止", "逾期", "风险"])
    for s in summary.scenarios:
        scen.append(
            [
                s.unit_name,
                s.name,
                s.owner,
                s.status.value,
                s.progress,
                s.due_on,
                s.overdue,
                s.at_risk,
            ]
        )
    inds = book.create_sheet("体征指标")
    inds.append(["编码", "名称", "单位", "最新值", "预警", "报警", "状态"])
    for ind in summary.indicators:
        inds.append(
            [
                ind.code,
                ind.name,
                ind.unit_name,
                _cell(ind.last_value),
                _cell(ind.warn_at),
                _cell(ind.alarm_at),
                ind.level.value,
            ]
        )
    if summary.market is not None:
        m = summary.market
        market = book.create_sheet("数据市场")
        market.append(["指标", "数值"])
        market.append(["已登记产品", m.products_registered])
        market.append(["已上架产品", m.products_listed])
        market.append(["本年成交产品", m.products_traded])
        market.append(["本年交易收入（元）", m.revenue])
        for d in m.disclosures:
            market.append([f"{d.year} 年度信息披露（{d.due_on} 前）", d.status])
        for a in m.agreements_expiring:
            market.append([f"协议 #{a.id} {a.title}（{a.operator_name}）到期", a.ends_on])
    for ws in book.worksheets:
        for cell in ws[1]:
            cell.font = Font(bold=True)
    buffer = io.BytesIO()
    seal_workbook(book)
    book.save(buffer)
    record(ctx, CockpitExported(scope=summary.scope, unit=unit_id, format="xlsx"))
    return buffer.getvalue()


CHARTS = ("trends", "ranking", "scenarios", "requests")


def chart_csv(ctx: Ctx, chart: str, unit_code: str | None = None, days: int = 30) -> str:
    """One chart's data as CSV (the fallback every chart offers)."""
    if chart not in CHARTS:
        raise Invalid.field("chart", f"没有名为 {chart} 的图表。", f"No chart named {chart!r}.")
    summary = cockpit_summary(ctx, unit_code, days)
    out = io.StringIO()
    writer = csv_writer(out)
    if chart == "trends":
        writer.writerow(["day", *(t.metric for t in summary.trends)])
        for i, point in enumerate(summary.trends[0].points):
            writer.writerow(
                [point.day.isoformat(), *(_csv(t.points[i].value) for t in summary.trends)]
            )
    elif chart == "ranking":
        writer.writerow(
            ["rank", "unit_code", "unit_name", "score", "compile_rate", "quality_score"]
        )
        for i, f in enumerate(summary.ranking, start=1):
            writer.writerow(
                [
                    i,
                    f.unit_code,
                    f.unit_name,
                    _csv(f.score),
                    _csv(f.compile_rate),
                    _csv(f.quality_score),
                ]
            )
    elif chart == "scenarios":
        writer.writerow(["unit_code", "name", "status", "progress", "due_on", "overdue", "at_risk"])
        for s in summary.scenarios:
            writer.writerow(
                [s.unit_code, s.name, s.status.value, s.progress, s.due_on, s.overdue, s.at_risk]
            )
    else:
        writer.writerow(["status", "requests"])
        for status, n in summary.figures.requests_by_state.items():
            writer.writerow([status, n])
    return out.getvalue()


def _csv(value: float | None) -> float | str:
    """A figure as a number cell (text would be guarded), without float noise."""
    if value is None:
        return ""
    value = round(float(value), 6)
    return int(value) if value.is_integer() else value


# The rest of the capability's operations, so callers need only ``cockpit.service``.
register_scenario = scenarios.register_scenario
list_scenarios = scenarios.list_scenarios
get_scenario = scenarios.get_scenario
reach_milestone = scenarios.reach_milestone
cancel_scenario = scenarios.cancel_scenario
define_indicator = indicators.define_indicator
update_indicator = indicators.update_indicator
evaluate_indicators = indicators.evaluate_indicators
list_indicators = indicators.list_indicators
get_indicator = indicators.get_indicator
list_alerts = indicators.list_alerts
acknowledge_alert = indicators.acknowledge_alert
