"""Cross-unit review of the evidence, and the scores that follow from it: a unit's sheet
(every indicator with its answer), the round's results per unit and domain, and the gaps to
the next level. Results are a self-assessment (readiness), never a certification."""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from sqlalchemy import select

from shuzhi.assess.events import AnswerReviewed, AnswersViewed
from shuzhi.assess.models import (
    AnswerState,
    AssessAnswer,
    AssessDocument,
    AssessRound,
    AssessRoundUnit,
    RoundStatus,
)
from shuzhi.assess.schemas import (
    AnswerOut,
    AssessedLevel,
    DomainResult,
    DomainRow,
    GapOut,
    IndicatorOut,
    IndicatorRow,
    ItemRow,
    ReviewIn,
    RoundResults,
    UnitResult,
    UnitSheet,
)
from shuzhi.assess.scoring import MAX_LEVEL, UnitScore, band_level, score_unit
from shuzhi.assess.service.common import (
    answer_of,
    answer_out,
    answers_of,
    as_of,
    credits_of,
    get_round,
    indicator_of,
    is_reviewer,
    judged_of,
    open_round,
    require_see,
    round_out,
    round_unit,
    unit_of,
)
from shuzhi.assess.service.rounds import visible_units
from shuzhi.audit.service import record
from shuzhi.auth.permissions import allowed, deny, require
from shuzhi.context import Ctx, Role
from shuzhi.db.base import utcnow
from shuzhi.db.cas import compare_and_set
from shuzhi.errors import Conflict
from shuzhi.org import service as org
from shuzhi.validation import required_reason


def may_review(ctx: Ctx, ru: AssessRoundUnit) -> bool:
    """The bureau's executive, or the CDO of the unit assigned to review — never the
    assessed unit itself."""
    if ctx.actor.unit_id == ru.unit_id and ctx.actor.kind != "system":
        return False
    return (
        ctx.actor.role is Role.CDO_EXECUTIVE or ctx.actor.kind == "system" or is_reviewer(ctx, ru)
    )


def review_assessment_answer(
    ctx: Ctx, round_id: int, unit_code: str, indicator: str, data: ReviewIn
) -> AnswerOut:
    """Accept or return (with a reason) one submitted answer of another unit."""
    unit = unit_of(ctx, unit_code)
    target = f"{round_id}:{unit.code}:{indicator}"
    require(ctx, "review_answer", None, target)
    r = open_round(ctx, round_id)
    ru = round_unit(ctx, round_id, unit.id)
    if ctx.actor.unit_id == unit.id and ctx.actor.kind != "system":
        raise deny(
            "review_answer",
            target,
            "不能评审本单位的佐证。",
            "You cannot review your own unit's evidence.",
        )
    if not may_review(ctx, ru):
        raise deny(
            "review_answer",
            target,
            "本单位不是该单位的评审单位。",
            "Your unit is not assigned to review this unit.",
        )
    ind = indicator_of(r.snapshot, indicator)
    answer = answer_of(ctx, r.id, unit.id, indicator)
    if answer is None or answer.state is not AnswerState.SUBMITTED:
        raise Conflict(
            f"指标 {indicator} 没有待评审的填报。",
            f"Indicator {indicator} has no answer awaiting review.",
        )
    if answer.provided_by == ctx.actor.label:
        raise deny(
            "review_answer",
            target,
            "不能评审自己提供的佐证。",
            "You cannot review evidence you provided.",
        )
    reason = data.reason.strip()
    if data.decision == "return":
        reason = required_reason(reason, "退回佐证", "Returning evidence")
    # Two reviewers (the pair's CDO and the bureau) may decide at once: the first one wins.
    won = compare_and_set(
        ctx.db,
        answer,
        AssessAnswer.state == AnswerState.SUBMITTED,
        state=AnswerState.ACCEPTED if data.decision == "accept" else AnswerState.RETURNED,
        reviewed_by=ctx.actor.label,
        reviewed_at=utcnow(),
        review_reason=reason,
    )
    if not won:
        who = answer.reviewed_by or "?"
        raise Conflict(
            f"指标 {indicator} 的填报刚被 {who} 处理。",
            f"The answer to {indicator} was just handled by {who}.",
        )
    record(
        ctx,
        AnswerReviewed(
            round_id=r.id, unit=unit.id, indicator=indicator, decision=data.decision, reason=reason
        ),
    )
    docs = list(ctx.db.scalars(select(AssessDocument).where(AssessDocument.answer_id == answer.id)))
    return answer_out(answer, int(ind["window_days"]), utcnow(), docs)


def score_of(ctx: Ctx, r: AssessRound, unit_id: int) -> UnitScore:
    """A unit's score in a round (judged now, or as the round closed)."""
    return scores_of(ctx, r, [unit_id])[unit_id]


def scores_of(ctx: Ctx, r: AssessRound, unit_ids: Collection[int]) -> dict[int, UnitScore]:
    """Units' scores in a round, their answers read at once."""
    judged = judged_of(ctx, r.id, unit_ids)
    return {u: score_unit(r.snapshot, credits_of(r, answers)) for u, answers in judged.items()}


def unit_assessment_sheet(ctx: Ctx, round_id: int, unit_code: str) -> UnitSheet:
    """Every indicator of the round's model with the unit's answer, credit, item and domain
    levels: the page a unit answers on and its reviewer reviews on (reading is audited)."""
    unit = unit_of(ctx, unit_code)
    require(ctx, "view_assessment")
    r = get_round(ctx, round_id)
    ru = round_unit(ctx, round_id, unit.id)
    require_see(ctx, ru)
    answers = answers_of(ctx, r.id, unit.id)
    credits = credits_of(r, answers)
    scored = score_unit(r.snapshot, credits)
    moment = as_of(r)
    docs: dict[int, list[AssessDocument]] = {}
    if answers:
        for d in ctx.db.scalars(
            select(AssessDocument)
            .where(AssessDocument.answer_id.in_([a.id for a in answers.values()]))
            .order_by(AssessDocument.id)
        ):
            docs.setdefault(d.answer_id, []).append(d)
    domains = []
    for d, ds in zip(r.snapshot["domains"], scored.domains, strict=True):
        items = []
        for i, its in zip(d["items"], ds.items, strict=True):
            rows = []
            for ind in i["indicators"]:
                a = answers.get(ind["code"])
                rows.append(
                    IndicatorRow(
                        indicator=IndicatorOut.model_validate(ind),
                        answer=answer_out(a, int(ind["window_days"]), moment, docs.get(a.id, []))
                        if a
                        else None,
                        credit=credits[ind["code"]],
                    )
                )
            items.append(
                ItemRow(
                    code=i["code"],
                    name_zh=i["name_zh"],
                    name_en=i["name_en"],
                    level=its.level,
                    score=its.score,
                    gaps=its.gaps,
                    indicators=rows,
                )
            )
        domains.append(
            DomainRow(
                code=d["code"],
                name_zh=d["name_zh"],
                name_en=d["name_en"],
                level=ds.level,
                score=ds.score,
                items=items,
            )
        )
    record(ctx, AnswersViewed(round_id=r.id, unit=unit.id))
    is_open = r.status == "open"
    return UnitSheet(
        round=round_out(ctx, r),
        unit_id=unit.id,
        unit_code=unit.code,
        unit_name=unit.name,
        levels=r.snapshot["levels"],
        level=scored.level,
        score=scored.score,
        can_answer=is_open and allowed(ctx, "answer_indicator", unit.id),
        can_review=is_open and allowed(ctx, "review_answer") and may_review(ctx, ru),
        domains=domains,
    )


def round_results(ctx: Ctx, round_id: int) -> RoundResults:
    """Per unit the actor may see: overall score and level, and per-domain scores."""
    require(ctx, "view_assessment")
    r = get_round(ctx, round_id)
    units = visible_units(ctx, round_id)
    scored = scores_of(ctx, r, [ru.unit_id for ru in units])
    out = []
    for ru in units:
        brief = org.unit_brief(ctx, ru.unit_id)
        s = scored[ru.unit_id]
        out.append(
            UnitResult(
                unit_code=brief.code if brief else str(ru.unit_id),
                unit_name=brief.name if brief else "",
                level=s.level,
                score=s.score,
                domains=[
                    DomainResult(
                        code=d["code"],
                        name_zh=d["name_zh"],
                        name_en=d["name_en"],
                        level=ds.level,
                        score=ds.score,
                    )
                    for d, ds in zip(r.snapshot["domains"], s.domains, strict=True)
                ],
            )
        )
    means = []
    for n, d in enumerate(r.snapshot["domains"]):
        scores = [u.domains[n].score for u in out]
        mean = round(sum(scores) / len(scores), 3) if scores else 0.0
        means.append(
            DomainResult(
                code=d["code"],
                name_zh=d["name_zh"],
                name_en=d["name_en"],
                level=band_level(mean, r.snapshot["bands"]),
                score=mean,
            )
        )
    return RoundResults(
        round_id=r.id,
        model_code=r.model_code,
        model_revision=r.model_revision,
        levels=r.snapshot["levels"],
        units=out,
        distribution=[sum(1 for u in out if u.level == n) for n in range(MAX_LEVEL + 1)],
        domain_means=means,
    )


TREND_STEP = 0.005  # scores closer than this count as unchanged


def assessed_levels(ctx: Ctx) -> list[AssessedLevel]:
    """Per unit the actor may see: its overall level and score in the latest closed round
    that assessed it, with the previous closed round's and the trend between the two (the
    cockpit's comparison). Not audited: levels and scores only, as on the results page."""
    require(ctx, "view_assessment")
    closed = ctx.db.scalars(
        select(AssessRound)
        .where(AssessRound.status == RoundStatus.CLOSED)
        .order_by(AssessRound.closed_at.desc(), AssessRound.id.desc())
    ).all()
    found: dict[int, list[tuple[AssessRound, UnitScore]]] = {}
    for r in closed:
        wanted = [
            ru.unit_id for ru in visible_units(ctx, r.id) if len(found.get(ru.unit_id, ())) < 2
        ]
        for unit_id, score in scores_of(ctx, r, wanted).items():
            found.setdefault(unit_id, []).append((r, score))
    out = []
    for unit_id, got in found.items():
        brief = org.unit_brief(ctx, unit_id)
        (r, s), before = got[0], (got[1] if len(got) > 1 else None)
        trend: Literal["up", "down", "same"] | None = None
        if before is not None:
            change = s.score - before[1].score
            trend = "up" if change > TREND_STEP else "down" if change < -TREND_STEP else "same"
        out.append(
            AssessedLevel(
                unit_code=brief.code if brief else str(unit_id),
                unit_name=brief.name if brief else "",
                round_id=r.id,
                round_title=r.title,
                level=s.level,
                score=s.score,
                previous_round_id=before[0].id if before else None,
                previous_level=before[1].level if before else None,
                previous_score=before[1].score if before else None,
                trend=trend,
            )
        )
    return sorted(out, key=lambda a: (-a.score, a.unit_code))


def unit_gaps(ctx: Ctx, r: AssessRound, unit_id: int) -> list[GapOut]:
    """The indicators of each item's next level that are not met yet."""
    s = score_of(ctx, r, unit_id)
    gaps = []
    for d, ds in zip(r.snapshot["domains"], s.domains, strict=True):
        for i, its in zip(d["items"], ds.items, strict=True):
            for code in its.gaps:
                ind = indicator_of(r.snapshot, code)
                gaps.append(
                    GapOut(
                        domain_code=d["code"],
                        item_code=i["code"],
                        item_name_zh=i["name_zh"],
                        item_name_en=i["name_en"],
                        level=its.level,
                        next_level=its.level + 1,
                        indicator=code,
                        text_zh=ind["text_zh"],
                        text_en=ind["text_en"],
                    )
                )
    return gaps
