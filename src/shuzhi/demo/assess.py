"""Demo assessment: the DCMM models and three rounds.

- 2024, on the 2018 model, eight departments: closed, units at levels 1 and 2.
- 2025, on the 2025 model, every department and street: closed, levels 0 to 2 — some units
  answered little, a few answers were returned with a reason and never corrected, some
  evidence had expired by the close.
- This year's, on the 2025 model, every department and street: open and in progress, the
  platform's evidence collected, two units part-way through answering and cross-review
  (人社局 reviewed by 卫健委 and back): accepted answers, one returned with a reason, one gone
  stale (expired), an attached document and an improvement plan built from the gaps.

Idempotent: once a round exists nothing is created again.

Past years cannot be lived through in a minute. A past round is opened, measured and closed
through the services; its units' answers and the bureau's reviews (thousands of them) are
written in one go, as importing last year's records would, with one document stored through
the services and shared by content; then the round is moved back to its December, as the
cockpit's demo writes its history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select, update

from shuzhi.assess import service
from shuzhi.assess.models import (
    AnswerState,
    AssessAnswer,
    AssessDocument,
    AssessRound,
    Evidence,
)
from shuzhi.assess.schemas import AnswerIn, ReviewIn, RoundIn
from shuzhi.context import Actor, Role, unit_of_work
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.org import service as org
from shuzhi.org.schemas import UnitBrief

PAIRS = {"RSJ": "WJW", "WJW": "RSJ"}
# Items each answering unit has evidence for, at levels 1 and 2.
ANSWERED = {
    "RSJ": (
        "governance.organisation",
        "governance.policies",
        "quality.checking",
        "architecture.metadata",
    ),
    "WJW": ("governance.organisation", "security.protection", "quality.requirements"),
}
RETURNED = ("RSJ", "quality.checking.l2", "制度文件缺少发布日期和签发单位，请补充正式印发版本。")
STALE = ("WJW", "security.protection.l1", 120)  # (unit, indicator, days old)
PREVIOUS_UNITS = 8  # departments assessed two years ago
PDF = b"%PDF-1.4\n% demo evidence\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
# Last year's round: every ``RETURN_EVERY``-th answering unit had its first level-2 answer
# returned, every ``STALE_EVERY``-th had evidence older than its window at the close.
RETURN_EVERY, STALE_EVERY = 5, 6
HISTORY_RETURN = "制度文件为征求意见稿，未正式印发，请提供印发版本。"
STATEMENT = "已印发并执行本单位管理办法。"

# Whether unit n of a past round met item k at a level: (n, k, level) -> met.
Shape = Callable[[int, int, int], bool]


def _person(ctx_unit: int, name: str, role: Role) -> Actor:
    return Actor(kind="user", id=None, name=name, role=role, unit_id=ctx_unit)


def _shape_2024(n: int, k: int, level: int) -> bool:
    """Unit n meets level 1 on every item, level 2 on the first 4·n items and level 3 on
    the first 3·n − 9."""
    return level == 1 or (level == 2 and k < 4 * n) or (level == 3 and k < 3 * n - 9)


def _shape_2025(n: int, k: int, level: int) -> bool:
    """Every seventh unit answered only part of level 1 (level 0); the others meet level 1
    everywhere and levels 2 and 3 on a share of the items that grows along the list."""
    v = n % 7
    if level == 1:
        return v != 0 or k < 12
    return (level == 2 and k < 5 * v) or (level == 3 and k < 4 * v - 12)


def _history_round(
    database: Database,
    actor: Actor,
    *,
    year: int,
    model: str,
    units: list[UnitBrief],
    shape: Shape,
    today: date,
    troubles: bool,
) -> None:
    with unit_of_work(database, actor) as ctx:
        opened = service.open_assessment_round(
            ctx,
            RoundIn(
                title=f"{year} 年度数据管理能力自评估",
                model_code=model,
                unit_codes=[u.code for u in units],
                period_start=date(year, 1, 1),
                period_end=date(year, 12, 31),
                deadline=today + timedelta(days=1),
            ),
        )
        service.collect_platform_evidence(ctx, opened.id)
        snapshot = ctx.db.get(AssessRound, opened.id).snapshot  # type: ignore[union-attr]
    items = [i for d in snapshot["domains"] for i in d["items"]]
    # One document through the services (checked, stored by digest); the others share it.
    first = units[0]
    liaison = _person(first.id, f"{first.code.lower()}.liaison", Role.DATA_LIAISON)
    stored = f"{items[0]['code']}.l2"
    with unit_of_work(database, liaison) as ctx:
        service.save_assessment_answer(
            ctx, opened.id, first.code, stored, AnswerIn(met=True, statement=STATEMENT)
        )
        doc = service.attach_assessment_document(
            ctx, opened.id, first.code, stored, "管理办法.pdf", PDF
        )
    closed = datetime(year, 12, 20, 8, tzinfo=UTC)
    provided, reviewed = closed - timedelta(days=30), closed - timedelta(days=10)
    rows: list[dict[str, object]] = []
    for n, unit in enumerate(units):
        by = f"user:{unit.code.lower()}.liaison"
        returned = troubles and n % RETURN_EVERY == 1
        stale = troubles and n % STALE_EVERY == 2
        for k, item in enumerate(items):
            for level in (1, 2, 3):
                code = f"{item['code']}.l{level}"
                if not shape(n, k, level) or (unit.id, code) == (first.id, stored):
                    continue
                back = returned and level == 2 and k == 0
                rows.append(
                    {
                        "round_id": opened.id,
                        "unit_id": unit.id,
                        "indicator": code,
                        "evidence": Evidence.ATTESTATION if level == 1 else Evidence.DOCUMENT,
                        "state": AnswerState.RETURNED if back else AnswerState.ACCEPTED,
                        "met": True,
                        "statement": STATEMENT if level > 1 else "",
                        "details": {},
                        "provided_by": by,
                        "provided_at": closed - timedelta(days=200)
                        if stale and level == 1 and k == 0
                        else provided,
                        "reviewed_by": "user:executive",
                        "reviewed_at": reviewed,
                        "review_reason": HISTORY_RETURN if back else "",
                    }
                )
    with unit_of_work(database, actor) as ctx:
        stored_doc = ctx.db.get(AssessDocument, doc.id)
        assert stored_doc is not None
        digest, stored_answer = stored_doc.sha256, stored_doc.answer_id
        ctx.db.execute(insert(AssessAnswer), rows)
        ids = ctx.db.scalars(
            select(AssessAnswer.id).where(
                AssessAnswer.round_id == opened.id,
                AssessAnswer.evidence == Evidence.DOCUMENT,
                AssessAnswer.state == AnswerState.ACCEPTED,
            )
        ).all()
        ctx.db.execute(
            insert(AssessDocument),
            [
                {
                    "answer_id": i,
                    "filename": "管理办法.pdf",
                    "kind": doc.kind,
                    "size": doc.size,
                    "sha256": digest,
                    "uploaded_by": "user:liaison",
                    "uploaded_at": provided,
                }
                for i in ids
                if i != stored_answer
            ],
        )
        # The bureau accepted the platform's measurements and the one document's answer.
        ctx.db.execute(
            update(AssessAnswer)
            .where(
                AssessAnswer.round_id == opened.id,
                AssessAnswer.state.in_([AnswerState.SUBMITTED, AnswerState.DRAFT]),
            )
            .values(state=AnswerState.ACCEPTED, reviewed_by="user:executive", reviewed_at=reviewed)
        )
    with unit_of_work(database, actor) as ctx:
        service.close_assessment_round(ctx, opened.id)
        ctx.db.execute(
            update(AssessRound)
            .where(AssessRound.id == opened.id)
            .values(
                opened_at=datetime(year, 11, 1, 2, tzinfo=UTC),
                deadline=date(year, 12, 15),
                closed_at=closed,
            )
        )
        ctx.db.execute(
            update(AssessAnswer)
            .where(AssessAnswer.round_id == opened.id, AssessAnswer.provided_at > provided)
            .values(provided_at=provided)
        )
        ctx.db.execute(
            update(AssessDocument).where(AssessDocument.id == doc.id).values(uploaded_at=provided)
        )


def build_assessment(database: Database, actor: Actor) -> None:
    with unit_of_work(database, actor) as ctx:
        if service.list_assessment_rounds(ctx):
            return
        service.seed_assessment_models(ctx)
        units = [u for u in org.all_unit_briefs(ctx) if u.kind in ("department", "street")]
    today = utcnow().date()
    departments = [u for u in units if u.kind == "department"]
    _history_round(
        database,
        actor,
        year=today.year - 2,
        model="dcmm-2018",
        units=departments[:PREVIOUS_UNITS],
        shape=_shape_2024,
        today=today,
        troubles=False,
    )
    _history_round(
        database,
        actor,
        year=today.year - 1,
        model="dcmm-2025",
        units=units,
        shape=_shape_2025,
        today=today,
        troubles=True,
    )
    ids = {u.code: u.id for u in units}
    with unit_of_work(database, actor) as ctx:
        opened = service.open_assessment_round(
            ctx,
            RoundIn(
                title=f"{today.year} 年度数据管理能力自评估",
                model_code="dcmm-2025",
                unit_codes=[u.code for u in units],
                period_start=date(today.year, 1, 1),
                period_end=date(today.year, 12, 31),
                deadline=today + timedelta(days=30),
                reviewers={k: v for k, v in PAIRS.items() if k in ids and v in ids},
            ),
        )
        service.collect_platform_evidence(ctx, opened.id)
    round_id = opened.id
    for code, items in ANSWERED.items():
        if code not in ids:
            continue
        liaison = _person(ids[code], f"{code.lower()}.liaison", Role.DATA_LIAISON)
        with unit_of_work(database, liaison) as ctx:
            for item in items:
                service.save_assessment_answer(
                    ctx,
                    round_id,
                    code,
                    f"{item}.l1",
                    AnswerIn(met=True, statement="已在本单位业务中开展，负责人明确。"),
                )
                service.save_assessment_answer(
                    ctx,
                    round_id,
                    code,
                    f"{item}.l2",
                    AnswerIn(met=True, statement="已印发本单位管理办法。"),
                )
                service.attach_assessment_document(
                    ctx, round_id, code, f"{item}.l2", "管理办法.pdf", PDF
                )
            service.submit_assessment_answers(ctx, round_id, code)
    for code, reviewer in PAIRS.items():
        if code not in ids or reviewer not in ids:
            continue
        cdo = _person(ids[reviewer], f"{reviewer.lower()}.cdo", Role.UNIT_CDO)
        with unit_of_work(database, cdo) as ctx:
            for item in ANSWERED[code]:
                for level in (1, 2):
                    indicator = f"{item}.l{level}"
                    if (code, indicator) == RETURNED[:2]:
                        decision = ReviewIn(decision="return", reason=RETURNED[2])
                    else:
                        decision = ReviewIn(decision="accept")
                    service.review_assessment_answer(ctx, round_id, code, indicator, decision)
            sheet = service.unit_assessment_sheet(ctx, round_id, code)
            for row in (r for d in sheet.domains for i in d.items for r in i.indicators):
                a = row.answer
                if a is not None and a.evidence == "platform" and a.state == "submitted":
                    service.review_assessment_answer(
                        ctx, round_id, code, row.indicator.code, ReviewIn(decision="accept")
                    )
    if STALE[0] in ids:
        # Evidence given long ago and never renewed: it no longer counts.
        unit, indicator, days = STALE
        with unit_of_work(database, actor) as ctx:
            ctx.db.execute(
                update(AssessAnswer)
                .where(
                    AssessAnswer.round_id == round_id,
                    AssessAnswer.unit_id == ids[unit],
                    AssessAnswer.indicator == indicator,
                )
                .values(provided_at=utcnow() - timedelta(days=days))
            )
    if "RSJ" in ids:
        with unit_of_work(database, _person(ids["RSJ"], "rsj.cdo", Role.UNIT_CDO)) as ctx:
            service.plan_from_gaps(
                ctx, round_id, "RSJ", "人社局数据管理科", today + timedelta(days=180)
            )
