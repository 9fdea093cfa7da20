"""Demo cockpit: application scenarios in every state, a few indicators (one in alarm) and a
year of daily figures so the trends have a shape.

Scenarios and indicators go through the cockpit's services. The history is the one part
that cannot: the demo district is built in a minute, so its past is written as snapshots.
The compile rate's past is real (dated from the catalogue's publication dates); the other
figures follow a seeded year that ends at today's real value: counts grow in a dozen or so
compile batches (more in the spring drive, mid-year and autumn, few around the Spring
Festival and in August) and trickle in on working days, never at weekends; downloads follow
the working week; backlogs jump after a batch and are worked down; scores dip and recover.
Idempotent: once scenarios exist nothing is created again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from shuzhi.catalog import service as catalog
from shuzhi.cockpit import service as cockpit
from shuzhi.cockpit.schemas import (
    IndicatorCreate,
    MilestoneDone,
    MilestoneIn,
    ScenarioCancel,
    ScenarioCreate,
)
from shuzhi.context import Actor, Ctx, unit_of_work
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.lake import service as lake
from shuzhi.org import service as org
from shuzhi.sharing import service as sharing

SEED = 20261123
HISTORY_DAYS = 365
DAILY_UNIT_DAYS = 30  # units: daily for a month, weekly before (the region is daily)
# (unit, name, goal, plan) — plan: "delivered", "in_progress", "overdue", "at_risk",
# "planned", "cancelled".
SCENARIOS = [
    ("RSJ", "社保待遇资格静默认证", "比对死亡、服刑、出境数据，免申即认证", "delivered"),
    ("RSJ", "灵活就业人员参保提醒", "按户籍与就业登记数据主动推送参保提醒", "in_progress"),
    ("RSJ", "人社业务一网通办", "减少群众提交材料", "planned"),
    ("WJW", "出生一件事联办", "出生医学证明、户口登记、医保参保一次办", "overdue"),
    ("WJW", "预防接种到期提醒", "按接种档案向家长推送到期提醒", "at_risk"),
    ("WJW", "家庭医生签约数据分析", "签约覆盖率按社区分析", "cancelled"),
    ("SCJ", "企业开办一件事", "登记、刻章、社保、公积金一次办", "delivered"),
    ("SCJ", "信用分级分类监管", "融合纳税、社保、处罚数据评价企业信用", "delivered"),
    ("SCJ", "个体工商户年报提醒", "按登记信息推送年报提醒", "in_progress"),
    ("SJGL", "人口主题库治理", "户籍、社保、健康数据融合比对", "in_progress"),
    ("SJGL", "城市运行体征监测", "景区客流、交通、环境指标一屏统览", "planned"),
    ("JD-CX", "基层报表一表通", "共享数据回流街道，减少重复填报", "delivered"),
    ("JD-CX", "独居老人关爱", "融合户籍、医疗、水电数据识别独居老人", "in_progress"),
]
OWNERS = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊")


def _clamp(day: date, year: int, today: date) -> date:
    return min(max(day, date(year, 1, 1)), today) if day <= today else day


def _milestones(plan: str, today: date) -> tuple[list[MilestoneIn], int]:
    """The milestones for a plan and how many of them are already reached."""
    year = today.year
    offsets = {
        "delivered": ((-150, 3), (-90, 3), (-30, 3)),
        "in_progress": ((-60, 2), (45, 0), (120, 0)),
        "overdue": ((-80, 1), (-10, 0), (90, 0)),
        "at_risk": ((7, 0), (100, 0)),
        "planned": ((40, 0), (150, 0)),
        "cancelled": ((-40, 0), (60, 0)),
    }[plan]
    names = ("需求确认与数据对接", "系统开发与联调", "上线试运行")
    stones = []
    for (offset, _), name in zip(offsets, names, strict=False):
        due = _clamp(today + timedelta(days=offset), year, today)
        stones.append(MilestoneIn(name=name, due_on=due))
    reached = {"delivered": len(stones), "in_progress": 1, "overdue": 1}.get(plan, 0)
    return stones, reached


def _scenarios(ctx: Ctx, today: date) -> None:
    rng = random.Random(SEED)
    grants = sharing.list_grants(ctx)
    for unit, name, goal, plan in SCENARIOS:
        if org.unit_id_for_code(ctx, unit) is None:
            continue
        stones, reached = _milestones(plan, today)
        used = [g.id for g in grants if unit in (g.consumer_unit_code, g.provider_unit_code)][:2]
        out = cockpit.register_scenario(
            ctx,
            ScenarioCreate(
                unit_code=unit,
                year=today.year,
                name=name,
                goal=goal,
                owner=rng.choice(OWNERS),
                grant_ids=used,
                milestones=stones,
            ),
        )
        for m in out.milestones[:reached]:
            cockpit.reach_milestone(
                ctx, out.id, m.id, MilestoneDone(note="按期完成", done_on=min(m.due_on, today))
            )
        if plan == "cancelled":
            cockpit.cancel_scenario(ctx, out.id, ScenarioCancel(reason="并入区级统一建设项目"))


def _datasets(ctx: Ctx) -> dict[str, tuple[str, set[str], int]]:
    """Loaded datasets by name: (resource code, column names, rows)."""
    out: dict[str, tuple[str, set[str], int]] = {}
    for row in lake.freshness_report(ctx).rows:
        found = lake.current_version(ctx, row.resource_code)
        if found is not None:
            version = found[1]
            out[row.name] = (
                row.resource_code,
                {c.name for c in version.columns},
                version.row_count,
            )
    return out


def _indicators(ctx: Ctx) -> None:
    specs = [
        # The backlog of vaccination records still being processed: in alarm in the demo.
        ("VAX-BACKLOG", "预防接种档案在办积压", "预防接种档案信息", "count", None,
         "办理结果 eq 办理中", None, "above", 50.0, 100.0),
        # Counted as a whole: grouping by 性别 (personal information) is refused.
        ("HUJI-REFUSED", "户籍登记不予受理", "户籍人口登记信息", "count", None,
         "办理结果 eq 不予受理", None, "above", 1500.0, 2500.0),
        ("SB-RECORDS", "社保参保记录数", "社会保险参保统计信息", "count", None,
         "", None, "below", 1000.0, 500.0),
        ("QY-CAPITAL", "企业平均注册资本（万元）", "企业登记档案信息", "avg", "注册资本",
         "", None, "above", 50000.0, 100000.0),
    ]  # fmt: skip
    loaded = _datasets(ctx)
    for code, name, dataset, func, column, filters, group, direction, warn, alarm in specs:
        resource, columns, _ = loaded.get(dataset, ("", set(), 0))
        needed = {c for c in (column, group, filters.split(" ")[0] if filters else None) if c}
        if not resource or not needed <= columns:
            continue
        _define(ctx, code, name, resource, func, column, filters, group, direction, warn, alarm)
    if not any(
        i.level == "alarm" for i in (r for _, r in cockpit.evaluate_indicators(ctx).readings)
    ):
        # A smaller demo catalogue lacks those datasets: keep the promise of one alarm.
        name, (resource, _, rows) = max(loaded.items(), key=lambda kv: kv[1][2])
        _define(ctx, "DATA-VOLUME", f"{name}记录数", resource, "count", None, "", None,
                "above", rows / 4, rows / 2)  # fmt: skip
        cockpit.evaluate_indicators(ctx, ["DATA-VOLUME"])


def _define(
    ctx: Ctx,
    code: str,
    name: str,
    resource: str,
    func: str,
    column: str | None,
    filters: str,
    group: str | None,
    direction: str,
    warn: float,
    alarm: float,
) -> None:
    cockpit.define_indicator(
        ctx,
        IndicatorCreate.model_validate(
            {
                "code": code,
                "name": name,
                "resource_code": resource,
                "func": func,
                "column": column,
                "filters": filters,
                "group_by": group,
                "direction": direction,
                "warn_at": warn,
                "alarm_at": alarm,
            }
        ),
    )  # fmt: skip


def _history(ctx: Ctx, today: date) -> None:
    """A year of snapshots ending at today's real figures (see the module docstring)."""
    cockpit.take_snapshot(ctx, today)
    now = {(p.unit_id, p.metric): p.value for p in cockpit.snapshot_points(ctx, today)}
    units = {u.id: u.code for u in org.all_unit_briefs(ctx) if u.kind != "region"}
    compile_past: dict[int | None, dict[date, float | None]] = {
        None: {p.day: p.rate for p in catalog.compile_trend(ctx, HISTORY_DAYS, today=today)}
    }
    for unit, code in units.items():
        compile_past[unit] = {
            p.day: p.rate
            for p in catalog.compile_trend(ctx, HISTORY_DAYS, unit_code=code, today=today)
        }
    batches = batch_days(today)
    usage = _usage(today)
    paths: dict[int | None, _Path] = {
        None: _Path.of(today, batches, usage, random.Random(SEED), every_batch=True)
    }
    for unit in {u for u, _ in now if u is not None}:
        rng = random.Random(f"{SEED}:{units.get(unit, unit)}")
        paths[unit] = _Path.of(today, batches, usage, rng)
    rows: list[dict[str, object]] = []
    for back in range(1, HISTORY_DAYS):
        day = today - timedelta(days=back)
        for (unit_id, metric), value in now.items():
            if unit_id is not None and back > DAILY_UNIT_DAYS and back % 7:
                continue
            path = paths[unit_id]
            past = _past(metric, value, path, back, compile_past.get(unit_id, {}).get(day))
            if past is not None:
                rows.append({"day": day, "unit_id": unit_id, "metric": metric, "value": past})
    cockpit.record_history(ctx, rows)


# How busy each month is for catalogue and data work: the spring drive after the Spring
# Festival, the mid-year review and the autumn assessment; quiet in February and August.
SEASON = {1: 0.5, 2: 0.1, 3: 1.6, 4: 1.8, 5: 1.0, 6: 1.5, 7: 0.6, 8: 0.15, 9: 1.3, 10: 0.8,
          11: 1.7, 12: 1.2}  # fmt: skip
BATCHES = 14  # batches of catalogues compiled and datasets loaded in the year
BATCH_SHARE = 0.8  # of a count's growth over the year; the rest trickles in on working days
UNIT_IN_BATCH = 0.45  # how likely one unit takes part in a district-wide batch


def _working(day: date) -> bool:
    return day.weekday() < 5


def batch_days(today: date) -> list[tuple[date, float]]:
    """The year's compile batches (working days, more of them in busy months) and sizes."""
    rng = random.Random(f"{SEED}:batches:{today.isoformat()}")
    days = [today - timedelta(days=b) for b in range(1, HISTORY_DAYS)]
    candidates = [d for d in days if _working(d)]
    weights = [SEASON[d.month] for d in candidates]
    chosen: set[date] = set()
    while len(chosen) < BATCHES:
        chosen.add(rng.choices(candidates, weights)[0])
    return [(d, round(rng.uniform(0.5, 2.0), 2)) for d in sorted(chosen)]


def _usage(today: date) -> dict[date, float]:
    """Share of a year's downloads made by each day: working days, seasons, a little chance."""
    rng = random.Random(f"{SEED}:usage:{today.isoformat()}")
    days = [today - timedelta(days=b) for b in range(HISTORY_DAYS - 1, -1, -1)]
    daily = [
        SEASON[d.month] ** 0.5 * (1.0 if _working(d) else 0.3) * rng.uniform(0.7, 1.3) for d in days
    ]
    total, running, out = sum(daily), 0.0, {}
    for d, v in zip(days, daily, strict=True):
        running += v
        out[d] = running / total
    return out


@dataclass(frozen=True)
class _Path:
    """One unit's (or the region's) year, day by day, counted back from today."""

    growth: list[float]  # share of the year's growth reached (steps at batches), 1.0 today
    work: list[float]  # share of the year's working days passed, 1.0 today
    backlog: list[float]  # new work a batch brought that is still open (decays on workdays)
    usage: list[float]  # share of the year's downloads made

    @staticmethod
    def of(
        today: date,
        batches: list[tuple[date, float]],
        usage: dict[date, float],
        rng: random.Random,
        every_batch: bool = False,
    ) -> _Path:
        mine = {d: size * rng.uniform(0.6, 1.4) for d, size in batches}
        if not every_batch:  # a unit takes part in some batches only
            mine = {d: v for d, v in mine.items() if rng.random() < UNIT_IN_BATCH} or mine
        days = [today - timedelta(days=b) for b in range(HISTORY_DAYS - 1, -1, -1)]
        workdays = sum(1 for d in days if _working(d)) or 1
        batch_total = sum(mine.values()) or 1.0
        grown = passed = open_ = 0.0
        growth, work, backlog = [], [], []
        for d in days:
            if _working(d):
                passed += 1
                grown += (1 - BATCH_SHARE) / workdays
                open_ *= 0.9
            if d in mine:
                grown += BATCH_SHARE * mine[d] / batch_total
                open_ += mine[d]
            growth.append(grown)
            work.append(passed / workdays)
            backlog.append(open_)
        end = growth[-1] or 1.0
        # Index 0 is a year ago, the last is today: reverse so [back] reads naturally.
        return _Path(
            growth=[g / end for g in reversed(growth)],
            work=list(reversed(work)),
            backlog=list(reversed(backlog)),
            usage=[usage[d] for d in reversed(days)],
        )


GROWING = {
    "datasets",
    "records",
    "active_grants",
    "scenarios_delivered",
    "open_entries",
}
SHRINKING = {"overdue", "never_loaded", "open_issues", "overdue_decisions"}


def _past(
    metric: str, value: float, path: _Path, back: int, compiled: float | None
) -> float | None:
    """One past value ``back`` days ago: counts grow in batches on working days, downloads
    with the working week and the seasons; backlogs jump after a batch and are worked down;
    scores dip when a batch brings new data and recover."""
    grown, work, bump = path.growth[back], path.work[back], path.backlog[back]
    if metric == "compile_rate":
        return compiled
    if metric == "records":
        return float(round(value * (0.4 + 0.6 * grown)))
    if metric in GROWING:
        return float(round(value * (0.45 + 0.55 * grown)))
    if metric == "downloads":
        return float(round(value * (0.3 + 0.7 * path.usage[back])))
    if metric in SHRINKING:
        worked_down = (value + 2) * 0.6 * (1 - work)
        return float(max(0, round(value + worked_down + bump * (value + 2) * 0.25)))
    if metric == "quality_score":
        return round(min(100.0, value - 9 * (1 - work) - 1.2 * bump), 1)
    if metric in ("classification_coverage", "score"):
        return round(max(0.0, value * (0.7 + 0.3 * grown) - 0.01 * bump), 4)
    return None


def build_cockpit(database: Database, actor: Actor) -> bool:
    """Create the demo scenarios, indicators and history once; False when already there."""
    today = utcnow().date()
    with unit_of_work(database, actor) as ctx:
        if cockpit.list_scenarios(ctx):
            return False
        _scenarios(ctx, today)
    with unit_of_work(database, actor) as ctx:
        _indicators(ctx)
    with unit_of_work(database, actor) as ctx:
        _history(ctx, today)
    return True
