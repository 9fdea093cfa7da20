"""Functional data lists (职能 → 事项 → 编目任务) and the compile rate (应编尽编).

A task is done while an entry that covers it has a published version and is not
withdrawn (a revision in progress still counts: its previous version stays published).

The trend is computed from dates rather than from stored daily snapshots: a task counts
from its ``created_on``; it is done from its entry's first publication until the entry's
withdrawal. The figures are therefore today's knowledge of the past (a task moved to another
entry counts from that entry's first publication), which is what the executive asks
("how did we get here"), and needs no scheduled job.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, case, func, select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require, scope_unit
from shuzhi.catalog import memo
from shuzhi.catalog.events import FunctionListChanged
from shuzhi.catalog.models import (
    CatalogEntry,
    CompileTask,
    Duty,
    EntryStatus,
    Matter,
)
from shuzhi.catalog.schemas import (
    CompileRate,
    DutyIn,
    DutyOut,
    MatterIn,
    MatterOut,
    TaskIn,
    TaskOut,
    TrendPoint,
    UnitRate,
)
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import Invalid, NotFound
from shuzhi.org import service as org

MAX_TREND_DAYS = 730


def _done_condition() -> ColumnElement[bool]:
    return and_(
        CatalogEntry.published_version.is_not(None),
        CatalogEntry.status != EntryStatus.WITHDRAWN,
    )


def _unit(ctx: Ctx, code: str | None) -> int:
    if code:
        unit_id = memo.unit_id(ctx, code)
        if unit_id is None:
            raise Invalid.field(
                "unit_code", f"单位 {code} 不存在。", f"Unit {code} does not exist."
            )
        return unit_id
    if ctx.actor.unit_id is None:
        raise Invalid.field("unit_code", "请指定单位。", "Name the unit.")
    return ctx.actor.unit_id


def create_duty(ctx: Ctx, data: DutyIn) -> DutyOut:
    """Add a duty (职能) to a unit's functional data list."""
    unit_id = _unit(ctx, data.unit_code)
    require(ctx, "manage_function_list", unit_id, target=f"duty:{data.code}")
    exists = ctx.db.scalar(select(Duty.id).where(Duty.unit_id == unit_id, Duty.code == data.code))
    if exists is not None:
        raise Invalid.field("code", f"职能编码 {data.code} 已存在。", "Duty code exists.")
    duty = Duty(unit_id=unit_id, code=data.code, name=data.name, sort_order=data.sort_order)
    ctx.db.add(duty)
    ctx.db.flush()
    record(ctx, FunctionListChanged(kind="duty", item_id=duty.id, unit=unit_id, name=duty.name))
    brief = memo.unit(ctx, unit_id)
    return DutyOut(id=duty.id, unit_code=brief.code, code=duty.code, name=duty.name, matters=0)


def create_matter(ctx: Ctx, data: MatterIn) -> MatterOut:
    """Add an administrative matter (事项) under a duty."""
    duty = ctx.db.get(Duty, data.duty_id)
    if duty is None:
        raise NotFound("职能不存在。", "No such duty.")
    require(ctx, "manage_function_list", duty.unit_id, target=f"matter:{data.code}")
    exists = ctx.db.scalar(
        select(Matter.id).where(Matter.unit_id == duty.unit_id, Matter.code == data.code)
    )
    if exists is not None:
        raise Invalid.field("code", f"事项编码 {data.code} 已存在。", "Matter code exists.")
    matter = Matter(duty_id=duty.id, unit_id=duty.unit_id, code=data.code, name=data.name)
    ctx.db.add(matter)
    ctx.db.flush()
    record(
        ctx,
        FunctionListChanged(kind="matter", item_id=matter.id, unit=duty.unit_id, name=matter.name),
    )
    brief = memo.unit(ctx, duty.unit_id)
    return MatterOut(
        id=matter.id,
        unit_code=brief.code,
        unit_name=brief.name,
        duty_name=duty.name,
        code=matter.code,
        name=matter.name,
        tasks=0,
        done=0,
    )


def create_task(ctx: Ctx, data: TaskIn) -> TaskOut:
    """Add a compile task: a data resource the matter produces that must be catalogued."""
    found = ctx.db.execute(
        select(Matter, Duty.name)
        .join(Duty, Duty.id == Matter.duty_id)
        .where(Matter.id == data.matter_id)
    ).first()
    if found is None:
        raise NotFound("事项不存在。", "No such matter.")
    matter, duty_name = found
    require(ctx, "manage_function_list", matter.unit_id, target=f"task:{matter.code}")
    today = utcnow().date()
    if data.created_on is not None and data.created_on > today:
        raise Invalid.field(
            "created_on", "登记日期不能晚于今天。", "The registration date cannot be in the future."
        )
    task = CompileTask(
        matter_id=matter.id,
        unit_id=matter.unit_id,
        name=data.name,
        high_value=data.high_value,
        created_on=data.created_on or today,
    )
    ctx.db.add(task)
    ctx.db.flush()
    record(
        ctx, FunctionListChanged(kind="task", item_id=task.id, unit=matter.unit_id, name=task.name)
    )
    # Composed from what was written, as ``_tasks`` would read it (a new task has no entry).
    return TaskOut(
        id=task.id,
        unit_code=memo.unit(ctx, task.unit_id).code,
        duty_name=duty_name,
        matter_code=matter.code,
        matter_name=matter.name,
        name=task.name,
        high_value=task.high_value,
        resource_code=None,
        done=False,
    )


def _tasks(ctx: Ctx, where: list[object], limit: int = 1000, offset: int = 0) -> list[TaskOut]:
    query = (
        select(CompileTask, Matter, Duty, CatalogEntry)
        .join(Matter, Matter.id == CompileTask.matter_id)
        .join(Duty, Duty.id == Matter.duty_id)
        .outerjoin(CatalogEntry, CatalogEntry.id == CompileTask.entry_id)
        .where(*where)  # type: ignore[arg-type]
        .order_by(CompileTask.unit_id, Duty.sort_order, Matter.code, CompileTask.id)
        .limit(limit)
        .offset(offset)
    )
    out = []
    for task, matter, duty, entry in ctx.db.execute(query):
        done = (
            entry is not None
            and entry.published_version is not None
            and entry.status != EntryStatus.WITHDRAWN
        )
        out.append(
            TaskOut(
                id=task.id,
                unit_code=memo.unit(ctx, task.unit_id).code,
                duty_name=duty.name,
                matter_code=matter.code,
                matter_name=matter.name,
                name=task.name,
                high_value=task.high_value,
                resource_code=entry.resource_code if entry else None,
                done=done,
            )
        )
    return out


def list_tasks(
    ctx: Ctx,
    unit_code: str | None = None,
    *,
    open_only: bool = False,
    limit: int = 200,
    offset: int = 0,
) -> list[TaskOut]:
    """Compile tasks, optionally of one unit, optionally only those without any entry yet."""
    scope = scope_unit(ctx, "view_function_list")
    where: list[object] = []
    if unit_code:
        unit_id = _unit(ctx, unit_code)
        require(ctx, "view_function_list", unit_id, target=unit_code)
        where.append(CompileTask.unit_id == unit_id)
    elif scope is not None:
        where.append(CompileTask.unit_id == scope)
    if open_only:
        where.append(CompileTask.entry_id.is_(None))
    return _tasks(ctx, where, max(1, min(limit, 1000)), max(0, offset))


def list_duties(ctx: Ctx, unit_code: str) -> list[DutyOut]:
    unit_id = _unit(ctx, unit_code)
    require(ctx, "view_function_list", unit_id, target=unit_code)
    counts = Counter(ctx.db.scalars(select(Matter.duty_id).where(Matter.unit_id == unit_id)))
    return [
        DutyOut(id=d.id, unit_code=unit_code, code=d.code, name=d.name, matters=counts[d.id])
        for d in ctx.db.scalars(
            select(Duty).where(Duty.unit_id == unit_id).order_by(Duty.sort_order, Duty.code)
        )
    ]


def uncatalogued_matters(ctx: Ctx, unit_code: str | None = None) -> list[MatterOut]:
    """Matters with at least one compile task not yet covered by a published entry."""
    scope = scope_unit(ctx, "view_function_list")
    done = case((_done_condition(), 1), else_=0)
    query = (
        select(Matter, Duty, func.count(CompileTask.id), func.sum(done))
        .join(Duty, Duty.id == Matter.duty_id)
        .join(CompileTask, CompileTask.matter_id == Matter.id)
        .outerjoin(CatalogEntry, CatalogEntry.id == CompileTask.entry_id)
        .group_by(Matter.id, Duty.id)
        .order_by(Matter.unit_id, Duty.sort_order, Matter.code)
    )
    if unit_code:
        unit_id = _unit(ctx, unit_code)
        require(ctx, "view_function_list", unit_id, target=unit_code)
        query = query.where(Matter.unit_id == unit_id)
    elif scope is not None:
        query = query.where(Matter.unit_id == scope)
    out = []
    units: dict[int, tuple[str, str]] = {}
    for matter, duty, tasks, finished in ctx.db.execute(query):
        if int(finished or 0) >= int(tasks):
            continue
        if matter.unit_id not in units:
            brief = org.unit_brief(ctx, matter.unit_id)
            units[matter.unit_id] = (brief.code, brief.name) if brief else ("?", "?")
        code, name = units[matter.unit_id]
        out.append(
            MatterOut(
                id=matter.id,
                unit_code=code,
                unit_name=name,
                duty_name=duty.name,
                code=matter.code,
                name=matter.name,
                tasks=int(tasks),
                done=int(finished or 0),
            )
        )
    return out


def _rate(done: int, tasks: int) -> float | None:
    return round(done / tasks, 4) if tasks else None


def compile_rate(ctx: Ctx) -> CompileRate:
    """Tasks and done tasks per unit and for the region; a unit without tasks has no rate."""
    require(ctx, "view_compile_rate")
    done = case((_done_condition(), 1), else_=0)
    high_done = case((and_(CompileTask.high_value.is_(True), _done_condition()), 1), else_=0)
    high = case((CompileTask.high_value.is_(True), 1), else_=0)
    rows = ctx.db.execute(
        select(
            CompileTask.unit_id,
            func.count(CompileTask.id),
            func.sum(done),
            func.sum(high),
            func.sum(high_done),
        )
        .outerjoin(CatalogEntry, CatalogEntry.id == CompileTask.entry_id)
        .group_by(CompileTask.unit_id)
    ).all()
    figures = {r[0]: tuple(int(v or 0) for v in r[1:]) for r in rows}
    units = []
    totals = [0, 0, 0, 0]
    for brief in org.all_unit_briefs(ctx):
        if brief.kind == "region":
            continue
        tasks, finished, high_tasks, high_finished = figures.get(brief.id, (0, 0, 0, 0))
        totals = [
            a + b for a, b in zip(totals, (tasks, finished, high_tasks, high_finished), strict=True)
        ]
        units.append(
            UnitRate(
                unit_code=brief.code,
                unit_name=brief.name,
                tasks=tasks,
                done=finished,
                rate=_rate(finished, tasks),
                high_value_tasks=high_tasks,
                high_value_done=high_finished,
            )
        )
    regions = [b for b in org.all_unit_briefs(ctx) if b.kind == "region"]
    region = UnitRate(
        unit_code=regions[0].code if regions else "region",
        unit_name=regions[0].name if regions else "",
        tasks=totals[0],
        done=totals[1],
        rate=_rate(totals[1], totals[0]),
        high_value_tasks=totals[2],
        high_value_done=totals[3],
    )
    return CompileRate(region=region, units=units)


def compile_trend(
    ctx: Ctx, days: int = 90, unit_code: str | None = None, today: date | None = None
) -> list[TrendPoint]:
    """Daily tasks/done figures for the last ``days`` days (see the module docstring)."""
    require(ctx, "view_compile_rate")
    days = max(1, min(days, MAX_TREND_DAYS))
    end = today or utcnow().date()
    start = end - timedelta(days=days - 1)
    query = select(
        CompileTask.created_on, CatalogEntry.first_published_on, CatalogEntry.withdrawn_at
    ).outerjoin(CatalogEntry, CatalogEntry.id == CompileTask.entry_id)
    if unit_code:
        query = query.where(CompileTask.unit_id == _unit(ctx, unit_code))
    # Changes per day, accumulated from before the window.
    task_delta: Counter[date] = Counter()
    done_delta: Counter[date] = Counter()
    for created, published, withdrawn in ctx.db.execute(query):
        task_delta[max(created, start)] += 1 if created <= end else 0
        if published is None:
            continue
        begin = max(created, published)
        stop = withdrawn.date() if withdrawn is not None else None
        if stop is not None and stop <= begin:
            continue
        if begin <= end:
            done_delta[max(begin, start)] += 1
        if stop is not None and start < stop <= end:
            done_delta[stop] -= 1
        elif stop is not None and stop <= start:
            done_delta[start] -= 1
    points, tasks, finished = [], 0, 0
    for offset in range(days):
        day = start + timedelta(days=offset)
        tasks += task_delta[day]
        finished += done_delta[day]
        points.append(TrendPoint(day=day, tasks=tasks, done=finished, rate=_rate(finished, tasks)))
    return points
