"""The risk register: assessments of datasets and units (``secops.risk`` scores them), the
questionnaire, confirmation by a person, overdue assessments, and re-assessment when a fact
changes (hook subscribers mark subjects stale; ``reassess_due`` re-assesses them off the
request path, from the server's background run or ``shuzhi secops risk-assess``)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from shuzhi import hooks
from shuzhi.audit.service import record
from shuzhi.auth.permissions import RULES, allowed, require, scope_unit
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import ErrorCollector, Invalid, NotFound
from shuzhi.lake import service as lake
from shuzhi.org import service as org
from shuzhi.secops import risk
from shuzhi.secops.risk_events import RiskAnswered, RiskAssessed, RiskConfirmed, RiskViewed
from shuzhi.secops.risk_models import (
    Answer,
    RiskAnswer,
    RiskAssessment,
    RiskQuestion,
    RiskSubject,
    SubjectKind,
)
from shuzhi.secops.risk_schemas import (
    AnswersIn,
    HistoryPoint,
    QuestionOut,
    ReasonOut,
    RiskChange,
    RiskDetail,
    RiskItem,
    RiskRegister,
    SweepOut,
)

IMPORTANT_DAYS = 365  # the Data Security Law's yearly assessment of important data
RECHECK = timedelta(days=1)  # facts no hook announces (quality, keys, roles) are re-read daily
SWEEP_BATCH = 200  # subjects assessed per background run at most
HISTORY = 50  # assessments shown per subject


def dataset_subject(resource_code: str) -> str:
    return f"dataset:{resource_code}"


def unit_subject(unit_id: int) -> str:
    return f"unit:{unit_id}"


def _row(ctx: Ctx, subject: str) -> RiskSubject:
    row = ctx.db.scalar(select(RiskSubject).where(RiskSubject.subject == subject))
    if row is None:
        raise NotFound("风险登记中没有该对象。", "No such subject in the risk register.")
    return row


def review_days(ctx: Ctx, row: RiskSubject) -> int:
    days = ctx.settings.secops_risk_review_days
    return min(days, IMPORTANT_DAYS) if row.important else days


def review_due(ctx: Ctx, row: RiskSubject) -> datetime:
    """When the next confirmation is due: a period after the last one (or after the subject
    entered the register, when nobody confirmed it yet)."""
    return (row.reviewed_at or row.created_at) + timedelta(days=review_days(ctx, row))


def _ensure(
    ctx: Ctx, kind: SubjectKind, unit_id: int, resource_code: str | None, now: datetime
) -> RiskSubject:
    subject = dataset_subject(resource_code or "") if resource_code else unit_subject(unit_id)
    row = ctx.db.scalar(select(RiskSubject).where(RiskSubject.subject == subject))
    if row is None:
        row = RiskSubject(
            subject=subject,
            kind=kind,
            unit_id=unit_id,
            resource_code=resource_code,
            name=resource_code or "",
            stale=True,
            stale_reason="new",
            stale_since=now,
            created_at=now,
        )
        ctx.db.add(row)
        ctx.db.flush()
    return row


# ---------------------------------------------------------------- questionnaire


def _questions(ctx: Ctx, kind: SubjectKind) -> list[RiskQuestion]:
    return list(
        ctx.db.scalars(
            select(RiskQuestion)
            .where(RiskQuestion.kind == kind, RiskQuestion.active.is_(True))
            .order_by(RiskQuestion.position, RiskQuestion.code)
        )
    )


def _answers(ctx: Ctx, subject: str) -> dict[str, RiskAnswer]:
    return {
        a.question: a
        for a in ctx.db.scalars(select(RiskAnswer).where(RiskAnswer.subject == subject))
    }


def question_list(ctx: Ctx, row: RiskSubject) -> list[QuestionOut]:
    answers = _answers(ctx, row.subject)
    out = []
    for q in _questions(ctx, row.kind):
        a = answers.get(q.code)
        out.append(
            QuestionOut(
                code=q.code,
                text_zh=q.text_zh,
                text_en=q.text_en,
                points=q.points,
                answer=Answer(a.answer).value if a else None,
                note=a.note if a else "",
                answered_by=a.answered_by if a else None,
                answered_at=a.answered_at if a else None,
            )
        )
    return out


def _states(questions: Iterable[QuestionOut]) -> list[risk.QuestionState]:
    return [risk.QuestionState(q.code, q.points, q.text_zh, q.text_en, q.answer) for q in questions]


# ---------------------------------------------------------------- assessing


def _unit_datasets(ctx: Ctx, unit_id: int) -> list[tuple[str, int, str]]:
    rows = ctx.db.scalars(
        select(RiskSubject).where(
            RiskSubject.kind == SubjectKind.DATASET, RiskSubject.unit_id == unit_id
        )
    )
    return [
        (r.resource_code or "", r.score, "important" if r.important else "")
        for r in rows
        if r.current_id is not None
    ]


def _assess(ctx: Ctx, row: RiskSubject, trigger: str, now: datetime) -> RiskAssessment:
    """Score the subject from fresh facts and its answers; store it as the current
    assessment (the previous ones stay as its history); audited. The daily re-read keeps
    the current assessment when nothing in it changed."""
    states = _states(question_list(ctx, row))
    if row.kind == SubjectKind.DATASET:
        facts = risk.dataset_facts(ctx, row.resource_code or "", row.unit_id, now)
        reasons = risk.assess_dataset(facts, states)
        counts = risk.dataset_counts(facts)
        important = facts.important
        row.name = facts.name
    else:
        brief = org.unit_brief(ctx, row.unit_id)
        code = brief.code if brief else ""
        ufacts = risk.unit_facts(ctx, row.unit_id, code, _unit_datasets(ctx, row.unit_id), now)
        reasons = risk.assess_unit(ufacts, states)
        counts = risk.unit_counts(ufacts)
        important = counts["important_datasets"] > 0
        row.name = brief.name if brief else code
    total, level = risk.score(reasons)
    held = ctx.db.get(RiskAssessment, row.current_id) if row.current_id else None
    if (
        trigger == "recheck"
        and held is not None
        and (held.score, list(held.reasons), dict(held.facts))
        == (total, [r.as_dict() for r in reasons], json_safe(counts))
    ):
        # the daily re-read found nothing new: no history line, no audit record
        row.assessed_at, row.stale, row.stale_reason, row.stale_since = now, False, "", None
        return held
    made = RiskAssessment(
        subject=row.subject,
        unit_id=row.unit_id,
        score=total,
        level=level,
        important=important,
        reasons=[r.as_dict() for r in reasons],
        facts=counts,
        trigger=trigger[:60],
        assessed_by=ctx.actor.label,
        assessed_at=now,
    )
    ctx.db.add(made)
    ctx.db.flush()
    previous = row.score if row.current_id is not None else None
    row.current_id, row.score, row.level, row.important = made.id, total, level, important
    row.assessed_at, row.stale, row.stale_reason, row.stale_since = now, False, "", None
    record(
        ctx,
        RiskAssessed(
            subject=row.subject,
            unit=row.unit_id,
            score=total,
            level=level,
            previous=previous,
            trigger=trigger[:60],
        ),
    )
    return made


def json_safe(counts: dict[str, Any]) -> dict[str, Any]:
    """The facts as they read back from their JSON column (for comparing)."""
    return dict(json.loads(json.dumps(counts, sort_keys=True)))


def reassess_risk(ctx: Ctx, subject: str) -> RiskDetail:
    """Assess one subject now (a person asked for it)."""
    row = _row(ctx, subject)
    require(ctx, "assess_risk", row.unit_id, subject)
    _assess(ctx, row, "manual", utcnow())
    if row.kind == SubjectKind.DATASET:
        _mark(ctx, [unit_subject(row.unit_id)], "dataset_assessed")
    return _detail(ctx, row)


def reassess_due(ctx: Ctx, now: datetime | None = None) -> SweepOut:
    """The background run: enter every loaded dataset and every unit in the register, then
    assess what is stale (a fact changed), new, or not re-read for a day — datasets first,
    so their units see their new scores. At most ``SWEEP_BATCH`` subjects per run."""
    require(ctx, "evaluate_secops")
    now = now or utcnow()
    known = {r.subject for r in ctx.db.scalars(select(RiskSubject))}
    for code, unit_id, _number, _score in lake.current_scores(risk.system(ctx)):
        if dataset_subject(code) not in known:
            _ensure(ctx, SubjectKind.DATASET, unit_id, code, now)
            known.add(dataset_subject(code))
    for unit in org.all_unit_briefs(ctx):
        if unit_subject(unit.id) not in known:
            _ensure(ctx, SubjectKind.UNIT, unit.id, None, now)
            known.add(unit_subject(unit.id))
    due = list(
        ctx.db.scalars(
            select(RiskSubject)
            .where(
                (RiskSubject.stale.is_(True))
                | (RiskSubject.assessed_at.is_(None))
                | (RiskSubject.assessed_at < now - RECHECK)
            )
            .order_by(RiskSubject.kind, RiskSubject.id)
            .limit(SWEEP_BATCH)
        )
    )
    done: list[str] = []
    touched_units: set[int] = set()
    for row in sorted(due, key=lambda r: r.kind != SubjectKind.DATASET):
        before = row.current_id
        made = _assess(ctx, row, row.stale_reason or "recheck", now)
        if row.kind == SubjectKind.DATASET and made.id != before:
            touched_units.add(row.unit_id)
        done.append(row.subject)
    for unit_id in sorted(touched_units):
        subject = unit_subject(unit_id)
        if subject not in done:
            _assess(ctx, _row(ctx, subject), "dataset_assessed", now)
            done.append(subject)
    return SweepOut(assessed=len(done), subjects=done)


# ---------------------------------------------------------------- answers and confirmation


def answer_risk_questions(ctx: Ctx, subject: str, data: AnswersIn) -> RiskDetail:
    """Store answers (all or nothing: every question must exist for the subject's kind and
    appear once), then re-assess the subject at once."""
    row = _row(ctx, subject)
    require(ctx, "assess_risk", row.unit_id, subject)
    known = {q.code for q in _questions(ctx, row.kind)}
    errors = ErrorCollector()
    seen: set[str] = set()
    for i, a in enumerate(data.answers):
        if a.question not in known:
            errors.add(
                f"answers.{i}.question", "没有这道问卷题目。", "No such question for this subject."
            )
        elif a.question in seen:
            errors.add(
                f"answers.{i}.question", "同一题目只能回答一次。", "A question is answered twice."
            )
        seen.add(a.question)
    errors.raise_if_any()
    now = utcnow()
    stored = _answers(ctx, subject)
    for a in data.answers:
        held = stored.get(a.question)
        if held is None:
            ctx.db.add(
                RiskAnswer(
                    subject=subject,
                    question=a.question,
                    answer=Answer(a.answer),
                    note=a.note,
                    answered_by=ctx.actor.label,
                    answered_at=now,
                )
            )
        else:
            held.answer, held.note = Answer(a.answer), a.note
            held.answered_by, held.answered_at = ctx.actor.label, now
    ctx.db.flush()
    record(
        ctx,
        RiskAnswered(
            subject=subject, unit=row.unit_id, answers={a.question: a.answer for a in data.answers}
        ),
    )
    _assess(ctx, row, "questionnaire", now)
    return _detail(ctx, row)


def confirm_risk_assessment(ctx: Ctx, subject: str) -> RiskDetail:
    """A person confirms the current assessment: the periodic review. Every question must be
    answered and the assessment current (not stale)."""
    row = _row(ctx, subject)
    require(ctx, "assess_risk", row.unit_id, subject)
    missing = [q.code for q in question_list(ctx, row) if q.answer is None]
    if missing:
        raise Invalid.field(
            "questions",
            f"问卷尚有 {len(missing)} 题未作答，不能确认。",
            f"{len(missing)} questions are not answered yet; the assessment cannot be confirmed.",
        )
    now = utcnow()
    if row.stale or row.current_id is None:
        _assess(ctx, row, row.stale_reason or "confirmation", now)
    row.reviewed_by, row.reviewed_at = ctx.actor.label, now
    record(ctx, RiskConfirmed(subject=subject, unit=row.unit_id, score=row.score, level=row.level))
    return _detail(ctx, row)


# ---------------------------------------------------------------- reading


def _units(ctx: Ctx) -> dict[int, tuple[str, str]]:
    return {u.id: (u.code, u.name) for u in org.all_unit_briefs(ctx)}


def _item(ctx: Ctx, row: RiskSubject, units: dict[int, tuple[str, str]], now: datetime) -> RiskItem:
    code, name = units.get(row.unit_id, ("", ""))
    due = review_due(ctx, row)
    return RiskItem(
        subject=row.subject,
        kind=row.kind.value,
        unit_id=row.unit_id,
        unit_code=code,
        unit_name=name,
        resource_code=row.resource_code,
        name=row.name,
        score=row.score,
        level=row.level,
        important=row.important,
        assessed_at=row.assessed_at,
        stale=row.stale,
        stale_reason=row.stale_reason,
        reviewed_by=row.reviewed_by,
        reviewed_at=row.reviewed_at,
        review_due=due,
        overdue=due < now,
    )


def risk_register(ctx: Ctx, *, level: str | None = None, overdue: bool = False) -> RiskRegister:
    """The register rows the actor may see (its own unit's for a unit CDO), riskiest first;
    audited as a data access."""
    scope = scope_unit(ctx, "view_risk_register")
    query = select(RiskSubject)
    if scope is not None:
        query = query.where(RiskSubject.unit_id == scope)
    now = utcnow()
    units = _units(ctx)
    items = [_item(ctx, r, units, now) for r in ctx.db.scalars(query)]
    by_level = Counter(i.level for i in items)
    late = sum(1 for i in items if i.overdue)
    if level:
        items = [i for i in items if i.level == level]
    if overdue:
        items = [i for i in items if i.overdue]
    items.sort(key=lambda i: (-i.score, i.unit_code, i.subject))
    record(ctx, RiskViewed(subject="register", unit=scope))
    return RiskRegister(
        items=items,
        overdue=late,
        by_level={lv: by_level.get(lv, 0) for _, lv in reversed(risk.LEVELS)},
    )


def _detail(ctx: Ctx, row: RiskSubject) -> RiskDetail:
    current = ctx.db.get(RiskAssessment, row.current_id) if row.current_id else None
    history = ctx.db.scalars(
        select(RiskAssessment)
        .where(RiskAssessment.subject == row.subject)
        .order_by(RiskAssessment.id.desc())
        .limit(HISTORY)
    )
    item = _item(ctx, row, _units(ctx), utcnow())
    return RiskDetail(
        **item.model_dump(),
        reasons=[ReasonOut.model_validate(r) for r in (current.reasons if current else [])],
        facts=dict(current.facts) if current else {},
        questions=question_list(ctx, row),
        history=[
            HistoryPoint(
                id=h.id,
                score=h.score,
                level=h.level,
                trigger=h.trigger,
                assessed_by=h.assessed_by,
                assessed_at=h.assessed_at,
            )
            for h in history
        ],
    )


def get_risk_subject(ctx: Ctx, subject: str) -> RiskDetail:
    row = _row(ctx, subject)
    require(ctx, "view_risk_register", row.unit_id, subject)
    record(ctx, RiskViewed(subject=subject, unit=row.unit_id))
    return _detail(ctx, row)


def overdue_risk_assessments(ctx: Ctx, unit_id: int | None) -> int | None:
    """For the cockpit: subjects whose confirmation is overdue (of ``unit_id``, or the
    region); None when the viewer may not see the register. A count only."""
    if not allowed(ctx, "view_risk_register", unit_id):
        return None
    role = ctx.actor.role
    regional = role is not None and role in RULES["view_risk_register"].region
    if unit_id is None and ctx.actor.kind != "system" and not regional:
        unit_id = ctx.actor.unit_id
    query = select(RiskSubject)
    if unit_id is not None:
        query = query.where(RiskSubject.unit_id == unit_id)
    now = utcnow()
    return sum(1 for r in ctx.db.scalars(query) if review_due(ctx, r) < now)


# ---------------------------------------------------------------- the seam


def _mark(ctx: Ctx, subjects: list[str], reason: str) -> None:
    """Mark subjects stale (those already in the register); the background run re-assesses
    them. One conditional update: cheap, inside the change that caused it."""
    ctx.db.execute(
        update(RiskSubject)
        .where(RiskSubject.subject.in_(subjects), RiskSubject.stale.is_(False))
        .values(stale=True, stale_reason=reason, stale_since=utcnow())
    )


def risk_on_grant_issued(ctx: Ctx, event: hooks.GrantIssued) -> None:
    _mark(
        ctx,
        [
            dataset_subject(event.resource_code),
            unit_subject(event.provider_unit_id),
            unit_subject(event.consumer_unit_id),
        ],
        "grant_issued",
    )


def risk_on_grant_revoked(ctx: Ctx, event: hooks.GrantRevoked) -> None:
    _mark(
        ctx,
        [
            dataset_subject(event.resource_code),
            unit_subject(event.provider_unit_id),
            unit_subject(event.consumer_unit_id),
        ],
        "grant_revoked",
    )


def risk_on_publication_changed(ctx: Ctx, event: hooks.PublicationChanged) -> None:
    reason = "publication_opened" if event.status == "open" else "publication_closed"
    _mark(ctx, [dataset_subject(event.resource_code), unit_subject(event.unit_id)], reason)


def risk_on_version_loaded(ctx: Ctx, event: hooks.VersionLoaded) -> None:
    """A new version: new classification, grade, volume and quality."""
    _mark(
        ctx, [dataset_subject(event.resource_code), unit_subject(event.unit_id)], "version_loaded"
    )


def risk_on_version_accepted(ctx: Ctx, event: hooks.VersionAccepted) -> None:
    _mark(
        ctx,
        [dataset_subject(event.resource_code), unit_subject(event.unit_id)],
        "version_accepted",
    )


def risk_on_classification_changed(ctx: Ctx, event: hooks.ClassificationChanged) -> None:
    _mark(
        ctx,
        [dataset_subject(event.resource_code), unit_subject(event.unit_id)],
        "classification_changed",
    )


def risk_on_entry_withdrawn(ctx: Ctx, event: hooks.EntryWithdrawn) -> None:
    _mark(
        ctx, [dataset_subject(event.resource_code), unit_subject(event.unit_id)], "entry_withdrawn"
    )


def risk_on_entry_republished(ctx: Ctx, event: hooks.EntryRepublished) -> None:
    _mark(
        ctx,
        [dataset_subject(event.resource_code), unit_subject(event.unit_id)],
        "entry_republished",
    )


def risk_on_agreement_ended(ctx: Ctx, event: hooks.AgreementEnded) -> None:
    _mark(ctx, [unit_subject(event.operator_unit_id)], "agreement_ended")


def risk_changes(ctx: Ctx, unit_id: int, start: datetime, end: datetime) -> list[RiskChange]:
    """The unit's assessments in [start, end) that moved a score or level (the monthly
    security report's "risk changes"); a subject's first assessment counts as a change."""
    rows = list(
        ctx.db.scalars(
            select(RiskAssessment)
            .where(
                RiskAssessment.unit_id == unit_id,
                RiskAssessment.assessed_at >= start,
                RiskAssessment.assessed_at < end,
            )
            .order_by(RiskAssessment.id)
        )
    )
    names: dict[str, str] = {
        subject: name
        for subject, name in ctx.db.execute(
            select(RiskSubject.subject, RiskSubject.name).where(
                RiskSubject.subject.in_({r.subject for r in rows})
            )
        )
    }
    changes: list[RiskChange] = []
    for row in rows:
        before = ctx.db.scalar(
            select(RiskAssessment)
            .where(RiskAssessment.subject == row.subject, RiskAssessment.id < row.id)
            .order_by(RiskAssessment.id.desc())
            .limit(1)
        )
        if before is None:
            change = f"{row.level} ({row.score})"
        elif (before.level, before.score) == (row.level, row.score):
            continue
        else:
            change = f"{before.level} ({before.score}) → {row.level} ({row.score})"
        changes.append(
            RiskChange(
                at=row.assessed_at, risk=names.get(row.subject) or row.subject, change=change
            )
        )
    return changes
