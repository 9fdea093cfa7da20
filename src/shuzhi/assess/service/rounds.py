"""Assessment rounds: the bureau opens one for a model revision and a set of units, each
unit paired with a reviewing unit (never itself), and closes it."""

from __future__ import annotations

from sqlalchemy import select

from shuzhi.assess.events import RoundClosed, RoundOpened
from shuzhi.assess.models import AssessRound, AssessRoundUnit, RoundStatus
from shuzhi.assess.schemas import Overview, RoundIn, RoundOut, UnitChoice
from shuzhi.assess.service.common import get_round, may_see, open_round, round_out, today
from shuzhi.assess.service.modelling import list_assessment_models, model_snapshot
from shuzhi.audit.service import record
from shuzhi.auth.permissions import allowed, require, scope_unit
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import ErrorCollector, NotFound
from shuzhi.org import service as org


def open_assessment_round(ctx: Ctx, data: RoundIn) -> RoundOut:
    """Open a round; units not given a reviewing unit are paired in turn (each unit's
    evidence is reviewed by the next unit of the list; a lone unit by the bureau only)."""
    require(ctx, "open_assessment_round")
    errors = ErrorCollector()
    if data.period_end < data.period_start:
        errors.add(
            "period_end", "评估期末不能早于期初。", "The period cannot end before it starts."
        )
    if data.deadline < today():
        errors.add("deadline", "截止日期不能早于今天。", "The deadline cannot be in the past.")
    codes = [c.strip() for c in data.unit_codes]
    if len(set(codes)) != len(codes):
        errors.add("unit_codes", "参评单位有重复。", "A unit is listed twice.")
    ids: dict[str, int] = {}
    for code in dict.fromkeys([*codes, *data.reviewers.values()]):
        unit_id = org.unit_id_for_code(ctx, code)
        if unit_id is None:
            errors.add("unit_codes", f"单位 {code} 不存在。", f"Unit {code} does not exist.")
        else:
            ids[code] = unit_id
    for unit, reviewer in data.reviewers.items():
        if unit not in codes:
            errors.add(
                "reviewers",
                f"单位 {unit} 不在参评名单中。",
                f"Unit {unit} is not assessed in this round.",
            )
        if unit == reviewer:
            errors.add(
                "reviewers", f"单位 {unit} 不能评审自己。", f"Unit {unit} cannot review itself."
            )
    try:
        snapshot = model_snapshot(ctx, data.model_code)
    except NotFound as err:
        errors.add("model_code", err.message.zh, err.message.en)
        snapshot = {}
    errors.raise_if_any()
    r = AssessRound(
        title=data.title.strip(),
        model_code=data.model_code,
        model_revision=int(snapshot["revision"]),
        snapshot=snapshot,
        period_start=data.period_start,
        period_end=data.period_end,
        deadline=data.deadline,
        status=RoundStatus.OPEN,
        opened_by=ctx.actor.label,
    )
    ctx.db.add(r)
    ctx.db.flush()
    units = []
    for n, code in enumerate(codes):
        partner = data.reviewers.get(code) or (
            codes[(n + 1) % len(codes)] if len(codes) > 1 else None
        )
        units.append(
            AssessRoundUnit(
                round_id=r.id, unit_id=ids[code], reviewer_unit_id=ids[partner] if partner else None
            )
        )
    ctx.db.add_all(units)
    ctx.db.flush()
    record(
        ctx,
        RoundOpened(
            round_id=r.id,
            model=r.model_code,
            revision=r.model_revision,
            units=len(units),
            deadline=r.deadline.isoformat(),
        ),
    )
    return round_out(ctx, r, units)


def close_assessment_round(ctx: Ctx, round_id: int) -> RoundOut:
    """Close a round: answers and reviews stop; results are judged as of this moment."""
    require(ctx, "close_assessment_round")
    r = open_round(ctx, round_id)
    r.status = RoundStatus.CLOSED
    r.closed_at = utcnow()
    ctx.db.flush()
    record(ctx, RoundClosed(round_id=r.id))
    return round_out(ctx, r, _units(ctx, r.id))


def _units(ctx: Ctx, round_id: int) -> list[AssessRoundUnit]:
    return list(
        ctx.db.scalars(
            select(AssessRoundUnit)
            .where(AssessRoundUnit.round_id == round_id)
            .order_by(AssessRoundUnit.id)
        )
    )


def visible_units(ctx: Ctx, round_id: int) -> list[AssessRoundUnit]:
    """The round's units whose answers the actor may read (own unit, reviewed unit, or all)."""
    return [ru for ru in _units(ctx, round_id) if may_see(ctx, ru)]


def list_assessment_rounds(ctx: Ctx) -> list[RoundOut]:
    """Rounds the actor takes part in (the bureau: all), newest first, with the units it may
    see."""
    require(ctx, "view_assessment")
    out = []
    for r in ctx.db.scalars(select(AssessRound).order_by(AssessRound.id.desc())):
        units = visible_units(ctx, r.id)
        if units or ctx.actor.unit_id is None or require_region(ctx):
            out.append(round_out(ctx, r, units))
    return out


def require_region(ctx: Ctx) -> bool:
    """The actor sees every unit of every round (the bureau)."""
    return scope_unit(ctx, "view_assessment") is None


def get_assessment_round(ctx: Ctx, round_id: int) -> RoundOut:
    require(ctx, "view_assessment")
    r = get_round(ctx, round_id)
    units = visible_units(ctx, round_id)
    if not units and not require_region(ctx):
        raise NotFound(
            f"评估轮次 {round_id} 不存在。", f"Assessment round {round_id} does not exist."
        )
    return round_out(ctx, r, units)


def assess_overview(ctx: Ctx) -> Overview:
    """Rounds, models (without their indicators) and, for the bureau, the units to choose."""
    rounds = list_assessment_rounds(ctx)
    models = (
        [m.model_copy(update={"domains": []}) for m in list_assessment_models(ctx)]
        if allowed(ctx, "view_assessment_models")
        else []
    )
    can_open = allowed(ctx, "open_assessment_round")
    units = (
        [
            UnitChoice(code=u.code, name=u.name, kind=u.kind)
            for u in org.all_unit_briefs(ctx)
            if u.kind != "region"
        ]
        if can_open
        else []
    )
    return Overview(
        rounds=rounds,
        models=models,
        units=units,
        can_open=can_open,
        can_seed=allowed(ctx, "seed_assessment_models") and len(models) < 2,
    )
