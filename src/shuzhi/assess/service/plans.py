"""Improvement plans: per unit and round, actions (usually closing a gap to the next
level) with an owner and a due date, tracked through the year."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from shuzhi.assess.events import ActionAdded, ActionUpdated
from shuzhi.assess.models import ActionStatus, AssessAction
from shuzhi.assess.schemas import ActionIn, ActionOut, UnitPlan
from shuzhi.assess.service.common import (
    get_round,
    indicator_of,
    require_see,
    round_unit,
    today,
    unit_of,
)
from shuzhi.assess.service.review import unit_gaps
from shuzhi.audit.service import record
from shuzhi.auth.permissions import allowed, require
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import ErrorCollector, NotFound
from shuzhi.org import service as org


def _out(ctx: Ctx, a: AssessAction, unit_code: str | None = None) -> ActionOut:
    if unit_code is None:
        brief = org.unit_brief(ctx, a.unit_id)
        unit_code = brief.code if brief else str(a.unit_id)
    return ActionOut(
        id=a.id,
        round_id=a.round_id,
        unit_code=unit_code,
        indicator=a.indicator,
        title=a.title,
        owner=a.owner,
        due_on=a.due_on,
        status=a.status,
        note=a.note,
        overdue=a.status is ActionStatus.OPEN and a.due_on < today(),
        updated_by=a.updated_by,
        updated_at=a.updated_at,
    )


def _validate(
    ctx: Ctx, snapshot: dict[str, object], data: ActionIn, previous_due: date | None
) -> None:
    errors = ErrorCollector()
    if not data.title.strip():
        errors.add("title", "请填写任务内容。", "Describe the action.")
    if not data.owner.strip():
        errors.add("owner", "请填写责任人。", "Name the owner.")
    if data.due_on < today() and data.due_on != previous_due:
        errors.add("due_on", "完成期限不能早于今天。", "The due date cannot be in the past.")
    if data.indicator:
        try:
            indicator_of(snapshot, data.indicator)
        except NotFound as err:
            errors.add("indicator", err.message.zh, err.message.en)
    errors.raise_if_any()


def unit_improvement_plan(ctx: Ctx, round_id: int, unit_code: str) -> UnitPlan:
    """The unit's gaps to the next level and its actions."""
    unit = unit_of(ctx, unit_code)
    require(ctx, "view_assessment")
    r = get_round(ctx, round_id)
    ru = round_unit(ctx, round_id, unit.id)
    require_see(ctx, ru)
    actions = ctx.db.scalars(
        select(AssessAction)
        .where(AssessAction.round_id == round_id, AssessAction.unit_id == unit.id)
        .order_by(AssessAction.due_on, AssessAction.id)
    )
    return UnitPlan(
        round_id=round_id,
        unit_code=unit.code,
        unit_name=unit.name,
        gaps=unit_gaps(ctx, r, unit.id),
        actions=[_out(ctx, a, unit.code) for a in actions],
        can_edit=allowed(ctx, "manage_improvement_plan", unit.id),
    )


def add_improvement_action(ctx: Ctx, round_id: int, unit_code: str, data: ActionIn) -> ActionOut:
    unit = unit_of(ctx, unit_code)
    require(ctx, "manage_improvement_plan", unit.id, f"{round_id}:{unit.code}")
    r = get_round(ctx, round_id)
    round_unit(ctx, round_id, unit.id)
    _validate(ctx, r.snapshot, data, None)
    a = AssessAction(
        round_id=round_id,
        unit_id=unit.id,
        indicator=data.indicator or None,
        title=data.title.strip(),
        owner=data.owner.strip(),
        due_on=data.due_on,
        status=data.status,
        note=data.note.strip(),
        updated_by=ctx.actor.label,
    )
    ctx.db.add(a)
    ctx.db.flush()
    record(ctx, ActionAdded(action_id=a.id, round_id=round_id, unit=unit.id, status=a.status))
    return _out(ctx, a, unit.code)


def update_improvement_action(ctx: Ctx, action_id: int, data: ActionIn) -> ActionOut:
    a = ctx.db.get(AssessAction, action_id)
    if a is None:
        raise NotFound(
            f"改进任务 {action_id} 不存在。", f"Improvement action {action_id} does not exist."
        )
    require(ctx, "manage_improvement_plan", a.unit_id, str(action_id))
    r = get_round(ctx, a.round_id)
    _validate(ctx, r.snapshot, data, a.due_on)
    a.indicator = data.indicator or None
    a.title = data.title.strip()
    a.owner = data.owner.strip()
    a.due_on = data.due_on
    a.status = data.status
    a.note = data.note.strip()
    a.updated_by = ctx.actor.label
    a.updated_at = utcnow()
    ctx.db.flush()
    record(ctx, ActionUpdated(action_id=a.id, round_id=a.round_id, unit=a.unit_id, status=a.status))
    return _out(ctx, a)


def plan_from_gaps(
    ctx: Ctx, round_id: int, unit_code: str, owner: str, due_on: date
) -> list[ActionOut]:
    """One action per gap that has none yet, titled after the indicator to meet."""
    unit = unit_of(ctx, unit_code)
    require(ctx, "manage_improvement_plan", unit.id, f"{round_id}:{unit.code}")
    r = get_round(ctx, round_id)
    round_unit(ctx, round_id, unit.id)
    planned = set(
        ctx.db.scalars(
            select(AssessAction.indicator).where(
                AssessAction.round_id == round_id, AssessAction.unit_id == unit.id
            )
        )
    )
    added = []
    for gap in unit_gaps(ctx, r, unit.id):
        if gap.indicator in planned:
            continue
        title = gap.text_zh if ctx.locale != "en" else gap.text_en
        added.append(
            add_improvement_action(
                ctx,
                round_id,
                unit.code,
                ActionIn(title=title[:300], owner=owner, due_on=due_on, indicator=gap.indicator),
            )
        )
    return added
