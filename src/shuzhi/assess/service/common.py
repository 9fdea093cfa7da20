"""Helpers shared by the assessment services: lookups, the round's snapshot, who may see or
review a unit's answers, and the indicator credits scores are computed from."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select

from shuzhi.assess.models import (
    AnswerState,
    AssessAnswer,
    AssessDocument,
    AssessRound,
    AssessRoundUnit,
    Evidence,
    RoundStatus,
    Verdict,
)
from shuzhi.assess.schemas import AnswerOut, DocumentOut, RoundOut, RoundUnitOut
from shuzhi.auth.permissions import allowed, require
from shuzhi.context import Ctx, Role
from shuzhi.db.base import utcnow
from shuzhi.errors import Conflict, NotFound
from shuzhi.org import service as org
from shuzhi.org.schemas import UnitBrief

CHINA = ZoneInfo("Asia/Shanghai")


def today() -> date:
    """Today in China (deadlines are calendar days there)."""
    return utcnow().astimezone(CHINA).date()


def get_round(ctx: Ctx, round_id: int) -> AssessRound:
    found = ctx.db.get(AssessRound, round_id)
    if found is None:
        raise NotFound(
            f"评估轮次 {round_id} 不存在。", f"Assessment round {round_id} does not exist."
        )
    return found


def open_round(ctx: Ctx, round_id: int) -> AssessRound:
    found = get_round(ctx, round_id)
    if found.status is not RoundStatus.OPEN:
        raise Conflict(f"评估轮次 {round_id} 已结束。", f"Assessment round {round_id} is closed.")
    return found


def unit_of(ctx: Ctx, unit_code: str) -> UnitBrief:
    unit_id = org.unit_id_for_code(ctx, unit_code)
    brief = org.unit_brief(ctx, unit_id) if unit_id is not None else None
    if brief is None:
        raise NotFound(f"单位 {unit_code} 不存在。", f"Unit {unit_code} does not exist.")
    return brief


def round_unit(ctx: Ctx, round_id: int, unit_id: int) -> AssessRoundUnit:
    found = ctx.db.scalar(
        select(AssessRoundUnit).where(
            AssessRoundUnit.round_id == round_id, AssessRoundUnit.unit_id == unit_id
        )
    )
    if found is None:
        raise NotFound("该单位不在本轮评估范围内。", "The unit is not assessed in this round.")
    return found


def is_reviewer(ctx: Ctx, ru: AssessRoundUnit) -> bool:
    """The actor is the CDO of the unit assigned to review ``ru``'s evidence."""
    a = ctx.actor
    return (
        a.role is Role.UNIT_CDO
        and ru.reviewer_unit_id is not None
        and a.unit_id == ru.reviewer_unit_id
    )


def may_see(ctx: Ctx, ru: AssessRoundUnit) -> bool:
    """The bureau, the unit's own staff, and its assigned reviewer may read its answers."""
    return allowed(ctx, "view_assessment", ru.unit_id) or is_reviewer(ctx, ru)


def require_see(ctx: Ctx, ru: AssessRoundUnit) -> None:
    """Refuse (audited) unless the actor may read the unit's answers."""
    if not is_reviewer(ctx, ru):
        require(ctx, "view_assessment", ru.unit_id, f"{ru.round_id}:{ru.unit_id}")


def walk(
    snapshot: Mapping[str, Any],
) -> Iterator[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """Every (domain, item, indicator) of a snapshot, in order."""
    for d in snapshot["domains"]:
        for i in d["items"]:
            for ind in i["indicators"]:
                yield d, i, ind


def indicator_of(snapshot: Mapping[str, Any], code: str) -> dict[str, Any]:
    for _d, _i, ind in walk(snapshot):
        if ind["code"] == code:
            return ind
    raise NotFound(
        f"本轮评估模型中没有指标 {code}。", f"The round's model has no indicator {code}."
    )


def as_of(r: AssessRound) -> datetime:
    """The moment evidence freshness is judged at: now, or when the round closed."""
    return r.closed_at or utcnow()


class Judged(Protocol):
    """What an answer's credit is judged on (an ``AssessAnswer``, or a row of ``judged_of``)."""

    @property
    def state(self) -> AnswerState: ...
    @property
    def evidence(self) -> Evidence: ...
    @property
    def verdict(self) -> Verdict | None: ...
    @property
    def met(self) -> bool: ...
    @property
    def provided_at(self) -> datetime: ...


def expired(answer: Judged, window_days: int, moment: datetime) -> bool:
    return moment - answer.provided_at > timedelta(days=window_days)


def credit(
    answer: Judged | None, window_days: int, moment: datetime, partial_credit: float
) -> float:
    """An indicator's credit (see ``assess.scoring``): only accepted, unexpired evidence
    counts."""
    if answer is None or answer.state is not AnswerState.ACCEPTED:
        return 0.0
    if expired(answer, window_days, moment):
        return 0.0
    if answer.evidence is Evidence.PLATFORM:
        if answer.verdict is Verdict.PASS:
            return 1.0
        return partial_credit if answer.verdict is Verdict.PARTIAL else 0.0
    return 1.0 if answer.met else 0.0


def answers_of(ctx: Ctx, round_id: int, unit_id: int) -> dict[str, AssessAnswer]:
    rows = ctx.db.scalars(
        select(AssessAnswer).where(
            AssessAnswer.round_id == round_id, AssessAnswer.unit_id == unit_id
        )
    )
    return {a.indicator: a for a in rows}


_JUDGED = AssessAnswer.__table__.c


def judged_of(ctx: Ctx, round_id: int, unit_ids: Collection[int]) -> dict[int, dict[str, Judged]]:
    """Units' answers in a round as their credit is judged, per unit and indicator: the few
    columns scoring reads, as plain rows, in one query (scores are computed for every unit
    on the results page and the cockpit; whole answers carry statements and measurement
    details scoring does not read)."""
    out: dict[int, dict[str, Judged]] = {unit_id: {} for unit_id in unit_ids}
    if not out:
        return out
    rows = ctx.db.execute(
        select(
            _JUDGED.unit_id,
            _JUDGED.indicator,
            _JUDGED.state,
            _JUDGED.evidence,
            _JUDGED.verdict,
            _JUDGED.met,
            _JUDGED.provided_at,
        ).where(_JUDGED.round_id == round_id, _JUDGED.unit_id.in_(list(out)))
    )
    for row in rows:
        out[row.unit_id][row.indicator] = row
    return out


def answer_of(ctx: Ctx, round_id: int, unit_id: int, indicator: str) -> AssessAnswer | None:
    """One answer (reading every answer of the unit for one would make a round quadratic)."""
    return ctx.db.scalar(
        select(AssessAnswer).where(
            AssessAnswer.round_id == round_id,
            AssessAnswer.unit_id == unit_id,
            AssessAnswer.indicator == indicator,
        )
    )


def credits_of(r: AssessRound, answers: Mapping[str, Judged]) -> dict[str, float]:
    moment = as_of(r)
    partial = float(r.snapshot.get("partial_credit", 0.0))
    return {
        ind["code"]: credit(answers.get(ind["code"]), int(ind["window_days"]), moment, partial)
        for _d, _i, ind in walk(r.snapshot)
    }


def document_out(d: AssessDocument) -> DocumentOut:
    return DocumentOut(
        id=d.id,
        filename=d.filename,
        kind=d.kind,
        size=d.size,
        uploaded_by=d.uploaded_by,
        uploaded_at=d.uploaded_at,
    )


def answer_out(
    a: AssessAnswer, window_days: int, moment: datetime, documents: list[AssessDocument]
) -> AnswerOut:
    return AnswerOut(
        indicator=a.indicator,
        evidence=a.evidence,
        state=a.state,
        met=a.met,
        statement=a.statement,
        value=a.value,
        verdict=a.verdict,
        details=a.details,
        provided_by=a.provided_by,
        provided_at=a.provided_at,
        reviewed_by=a.reviewed_by,
        reviewed_at=a.reviewed_at,
        review_reason=a.review_reason,
        expired=expired(a, window_days, moment),
        documents=[document_out(d) for d in documents],
    )


def round_out(ctx: Ctx, r: AssessRound, units: list[AssessRoundUnit] | None = None) -> RoundOut:
    rows: list[RoundUnitOut] = []
    for ru in units or []:
        brief = org.unit_brief(ctx, ru.unit_id)
        reviewer = org.unit_brief(ctx, ru.reviewer_unit_id) if ru.reviewer_unit_id else None
        states = [a.state for a in answers_of(ctx, r.id, ru.unit_id).values()]
        rows.append(
            RoundUnitOut(
                unit_id=ru.unit_id,
                unit_code=brief.code if brief else str(ru.unit_id),
                unit_name=brief.name if brief else "",
                reviewer_unit_code=reviewer.code if reviewer else None,
                reviewer_unit_name=reviewer.name if reviewer else None,
                answers=len(states),
                submitted=states.count(AnswerState.SUBMITTED),
                accepted=states.count(AnswerState.ACCEPTED),
                returned=states.count(AnswerState.RETURNED),
            )
        )
    return RoundOut(
        id=r.id,
        title=r.title,
        model_code=r.model_code,
        model_revision=r.model_revision,
        model_name_zh=str(r.snapshot.get("name_zh", "")),
        model_name_en=str(r.snapshot.get("name_en", "")),
        period_start=r.period_start,
        period_end=r.period_end,
        deadline=r.deadline,
        status=r.status,
        opened_by=r.opened_by,
        opened_at=r.opened_at,
        closed_at=r.closed_at,
        units=rows,
    )
