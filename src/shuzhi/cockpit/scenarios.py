"""Application scenarios (应用场景): a unit commits to deliver data-sharing scenarios each year
and reports progress by milestones. Status follows the milestones: none reached → planned,
some → in progress, all → delivered; cancelling is a decision with a reason.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require, scope_unit
from shuzhi.cockpit.events import MilestoneReached, ScenarioCancelled, ScenarioRegistered
from shuzhi.cockpit.figures import ScenarioCounts
from shuzhi.cockpit.models import Milestone, Scenario, ScenarioStatus
from shuzhi.cockpit.schemas import (
    MilestoneDone,
    MilestoneOut,
    ScenarioCancel,
    ScenarioCreate,
    ScenarioOut,
)
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import Conflict, ErrorCollector, Invalid, NotFound
from shuzhi.lake import service as lake
from shuzhi.org import service as org
from shuzhi.sharing import service as sharing

AT_RISK_DAYS = 14
CLOSED = (ScenarioStatus.DELIVERED, ScenarioStatus.CANCELLED)


def unit_of(ctx: Ctx, code: str | None, field: str = "unit_code") -> int:
    """The unit named by ``code``, or the actor's own unit when none is named."""
    if code:
        unit_id = org.unit_id_for_code(ctx, code)
        if unit_id is None:
            raise Invalid.field(field, f"单位 {code} 不存在。", f"Unit {code} does not exist.")
        return unit_id
    if ctx.actor.unit_id is None:
        raise Invalid.field(field, "请指定单位。", "Name the unit.")
    return ctx.actor.unit_id


def _flags(s: Scenario, milestones: list[Milestone], today: date) -> tuple[bool, bool]:
    if s.status in CLOSED:
        return False, False
    waiting = [m for m in milestones if m.done_on is None]
    overdue = any(m.due_on < today for m in waiting)
    soon = any(m.due_on <= today + timedelta(days=AT_RISK_DAYS) for m in waiting)
    return overdue, (not overdue and soon)


def _out(ctx: Ctx, s: Scenario, milestones: list[Milestone], today: date) -> ScenarioOut:
    unit = org.unit_brief(ctx, s.unit_id)
    overdue, at_risk = _flags(s, milestones, today)
    done = sum(1 for m in milestones if m.done_on is not None)
    return ScenarioOut(
        id=s.id,
        unit_code=unit.code if unit else "",
        unit_name=unit.name if unit else "",
        year=s.year,
        name=s.name,
        goal=s.goal,
        owner=s.owner,
        resource_codes=s.resource_codes,
        grant_ids=s.grant_ids,
        status=ScenarioStatus(s.status),
        milestones=[
            MilestoneOut(
                id=m.id,
                seq=m.seq,
                name=m.name,
                due_on=m.due_on,
                done_on=m.done_on,
                done_by=m.done_by,
                note=m.note,
            )
            for m in milestones
        ],
        progress=round(done / len(milestones), 4) if milestones else 0.0,
        due_on=max(m.due_on for m in milestones) if milestones else date(s.year, 12, 31),
        overdue=overdue,
        at_risk=at_risk,
        cancel_reason=s.cancel_reason,
    )


def _milestones(ctx: Ctx, ids: list[int]) -> dict[int, list[Milestone]]:
    out: dict[int, list[Milestone]] = {i: [] for i in ids}
    if ids:
        for m in ctx.db.scalars(
            select(Milestone).where(Milestone.scenario_id.in_(ids)).order_by(Milestone.seq)
        ):
            out[m.scenario_id].append(m)
    return out


def register_scenario(ctx: Ctx, data: ScenarioCreate) -> ScenarioOut:
    """A unit commits to a scenario: its goal, the data and grants it uses, its milestones."""
    unit_id = unit_of(ctx, data.unit_code)
    require(ctx, "register_scenario", unit_id, target=data.name)
    errors = ErrorCollector()
    for code in data.resource_codes:
        if lake.current_version(ctx, code) is None:
            errors.add(
                "resource_codes",
                f"目录 {code} 没有已归集的数据集。",
                f"Entry {code} has no aggregated dataset.",
            )
    unit_code = org.unit_brief(ctx, unit_id)
    held = {
        g.id
        for g in sharing.list_grants(ctx, include_ended=True)
        if unit_code is not None and unit_code.code in (g.consumer_unit_code, g.provider_unit_code)
    }
    for grant_id in data.grant_ids:
        if grant_id not in held:
            errors.add(
                "grant_ids",
                f"授权 {grant_id} 不属于该单位。",
                f"Grant {grant_id} does not involve this unit.",
            )
    days = [m.due_on for m in data.milestones]
    if days != sorted(days):
        errors.add("milestones", "里程碑日期应按先后排列。", "List milestones in date order.")
    if any(d.year < data.year for d in days):
        errors.add(
            "milestones", "里程碑不能早于场景所在年度。", "A milestone lies before the year."
        )
    errors.raise_if_any()
    scenario = Scenario(
        unit_id=unit_id,
        year=data.year,
        name=data.name,
        goal=data.goal,
        owner=data.owner,
        resource_codes=sorted(set(data.resource_codes)),
        grant_ids=sorted(set(data.grant_ids)),
        status=ScenarioStatus.PLANNED,
        created_by=ctx.actor.label,
    )
    ctx.db.add(scenario)
    ctx.db.flush()
    milestones = [
        Milestone(scenario_id=scenario.id, seq=i + 1, name=m.name, due_on=m.due_on)
        for i, m in enumerate(data.milestones)
    ]
    ctx.db.add_all(milestones)
    ctx.db.flush()
    record(
        ctx,
        ScenarioRegistered(
            scenario_id=scenario.id,
            unit=unit_id,
            name=scenario.name,
            year=scenario.year,
            milestones=len(milestones),
        ),
    )
    return _out(ctx, scenario, milestones, utcnow().date())


def _scenario(ctx: Ctx, scenario_id: int) -> Scenario:
    s = ctx.db.get(Scenario, scenario_id)
    if s is None:
        raise NotFound(
            f"应用场景 {scenario_id} 不存在。", f"Scenario {scenario_id} does not exist."
        )
    return s


def get_scenario(ctx: Ctx, scenario_id: int) -> ScenarioOut:
    s = _scenario(ctx, scenario_id)
    require(ctx, "view_scenarios", s.unit_id, target=f"scenario:{scenario_id}")
    return _out(ctx, s, _milestones(ctx, [s.id])[s.id], utcnow().date())


def list_scenarios(
    ctx: Ctx, unit_code: str | None = None, year: int | None = None, today: date | None = None
) -> list[ScenarioOut]:
    """Scenarios of the region, or of one unit (unit staff: their own)."""
    scope = scope_unit(ctx, "view_scenarios")
    query = select(Scenario).order_by(Scenario.unit_id, Scenario.year, Scenario.id)
    if unit_code:
        unit_id = unit_of(ctx, unit_code, "unit")
        require(ctx, "view_scenarios", unit_id, target=unit_code)
        query = query.where(Scenario.unit_id == unit_id)
    elif scope is not None:
        query = query.where(Scenario.unit_id == scope)
    if year is not None:
        query = query.where(Scenario.year == year)
    rows = list(ctx.db.scalars(query))
    stones = _milestones(ctx, [s.id for s in rows])
    day = today or utcnow().date()
    return [_out(ctx, s, stones[s.id], day) for s in rows]


def scenario_counts(
    scenarios: list[ScenarioOut], unit_ids: dict[str, int]
) -> dict[int, ScenarioCounts]:
    """Per unit: registered (not cancelled), delivered, in progress, overdue, at risk."""
    out: dict[int, ScenarioCounts] = {}
    for s in scenarios:
        if s.status == ScenarioStatus.CANCELLED or s.unit_code not in unit_ids:
            continue
        key = unit_ids[s.unit_code]
        c = out.get(key, ScenarioCounts())
        out[key] = ScenarioCounts(
            registered=c.registered + 1,
            delivered=c.delivered + (s.status == ScenarioStatus.DELIVERED),
            in_progress=c.in_progress + (s.status == ScenarioStatus.IN_PROGRESS),
            overdue=c.overdue + s.overdue,
            at_risk=c.at_risk + s.at_risk,
        )
    return out


def reach_milestone(
    ctx: Ctx, scenario_id: int, milestone_id: int, data: MilestoneDone
) -> ScenarioOut:
    """Record a milestone as reached; the scenario's status follows."""
    s = _scenario(ctx, scenario_id)
    require(ctx, "reach_milestone", s.unit_id, target=f"scenario:{scenario_id}")
    if s.status in CLOSED:
        raise Conflict(
            "该场景已完成或已取消，不能再更新里程碑。",
            "The scenario is delivered or cancelled; its milestones are closed.",
        )
    stones = _milestones(ctx, [s.id])[s.id]
    milestone = next((m for m in stones if m.id == milestone_id), None)
    if milestone is None:
        raise NotFound("里程碑不存在。", "No such milestone in this scenario.")
    if milestone.done_on is not None:
        raise Conflict("该里程碑已完成。", "The milestone is already reached.")
    today = utcnow().date()
    done_on = data.done_on or today
    if done_on > today:
        raise Invalid.field(
            "done_on", "完成日期不能晚于今天。", "The date cannot be in the future."
        )
    milestone.done_on, milestone.done_by, milestone.note = done_on, ctx.actor.label, data.note
    reached = sum(1 for m in stones if m.done_on is not None)
    if reached == len(stones):
        s.status, s.delivered_on = ScenarioStatus.DELIVERED, done_on
    else:
        s.status = ScenarioStatus.IN_PROGRESS
    ctx.db.flush()
    record(
        ctx,
        MilestoneReached(
            scenario_id=s.id,
            unit=s.unit_id,
            milestone_id=milestone.id,
            note=data.note,
            status=s.status,
        ),
    )
    return _out(ctx, s, stones, today)


def cancel_scenario(ctx: Ctx, scenario_id: int, data: ScenarioCancel) -> ScenarioOut:
    s = _scenario(ctx, scenario_id)
    require(ctx, "cancel_scenario", s.unit_id, target=f"scenario:{scenario_id}")
    if s.status in CLOSED:
        raise Conflict("该场景已完成或已取消。", "The scenario is already delivered or cancelled.")
    s.status, s.cancel_reason = ScenarioStatus.CANCELLED, data.reason
    ctx.db.flush()
    record(ctx, ScenarioCancelled(scenario_id=s.id, unit=s.unit_id, reason=data.reason))
    return _out(ctx, s, _milestones(ctx, [s.id])[s.id], utcnow().date())
